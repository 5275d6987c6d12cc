"""The ``gcsim`` command: parse, call, exit.

Subcommands:

- ``gcsim run CONFIG [--out DIR] [--seed N] [--set KEY=VALUE ...]``: one run,
  one results folder, a short summary on stdout.
- ``gcsim sizeclasses [--format table|csv] [--classic]``: Go's size-class
  table with the objects per span the runtime really uses.
- ``gcsim trace FILE [--out DIR]``: the summary figures of a real program's
  GODEBUG=gctrace=1 log (gcsim/tracecmd.py).
- ``gcsim validate [NAMES] [--gogc LIST] [--gomaxprocs LIST] [--repeat N]``:
  run twin workloads on real Go and on gcsim, tabulate the errors
  (gcsim/validate/harness.py).
- ``gcsim calibrate [--out FILE] [--quick]``: measure the cost table on this
  machine with real Go, write it as TOML for ``[costs] from_file``
  (gcsim/calibrate.py).
- ``gcsim sweep SWEEP --out DIR [--jobs N] [--scheduler ADDRESS]``, ``gcsim plot
  DIR``, ``gcsim report DIR``: resumable parameter sweeps, their figures and
  report (gcsim/sweepcmd.py).
- ``gcsim pacer-scenarios [NAMES] [--go] [--out DIR]``: the runtime's own
  TestGcPacer scenarios on gcsim's pacer, optionally against Go's log
  (gcsim/pacercmd.py).
- ``gcsim pool CONFIG [--out DIR]``: a workload with and without its
  sync.Pools, compared (gcsim/poolcmd.py).
- ``gcsim fragmentation DIR [--top N]``: HeapInuse - HeapAlloc per size class
  of a results folder (its fragmentation.csv), worst classes first.
- ``gcsim cache clear``: drop Numba's compiled-kernel cache (after editing a
  kernel that another file calls, see STYLE.md §2).

A ``GcsimError`` is printed as one paragraph and exits 2; ``--debug`` shows
the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from gcsim import __version__
from gcsim.errors import GcsimError

log = logging.getLogger("gcsim")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gcsim", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"gcsim {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("run", help="run one experiment config")
    r.add_argument("config", help="experiment config (TOML)")
    r.add_argument("--out", help="results folder (default: results/<config name>)")
    r.add_argument("--seed", type=int, help="override run.seed")
    r.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override any dotted config key, e.g. runtime.gogc=200 (repeatable)")
    r.add_argument("--no-plots", action="store_true", help="skip heap.png, mmu.png, pauses.png")
    r.add_argument("--quiet", action="store_true", help="no progress on stderr")

    sc = sub.add_parser("sizeclasses", help="print Go's size-class table")
    sc.add_argument("--format", default="table", help="table (Go's layout) or csv")
    sc.add_argument("--classic", action="store_true",
                    help="objects per span of a GOEXPERIMENT=nogreenteagc build")

    fr = sub.add_parser("fragmentation",
                        help="per-size-class fragmentation (HeapInuse - HeapAlloc) of a run")
    fr.add_argument("results", help="a results folder written by gcsim run")
    fr.add_argument("--top", type=int, default=None, help="only the N worst classes")

    c = sub.add_parser("cache", help="manage the compiled-kernel cache")
    c.add_argument("action", choices=["clear"])

    from gcsim.tracecmd import add_trace_parser
    from gcsim.validate.harness import add_validate_parser

    add_trace_parser(sub)
    add_validate_parser(sub)

    from gcsim.calibrate import add_calibrate_parser

    add_calibrate_parser(sub)

    from gcsim.sweepcmd import add_sweep_parsers

    add_sweep_parsers(sub)

    from gcsim.pacercmd import add_pacer_parser

    add_pacer_parser(sub)
    from gcsim.poolcmd import add_pool_parser

    add_pool_parser(sub)
    return p


def cmd_run(args: argparse.Namespace) -> int:
    from gcsim.config import load_config
    from gcsim.results import write_run
    from gcsim.run import simulate

    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"run.seed={args.seed}")
    cfg = load_config(args.config, overrides)
    out = Path(args.out) if args.out else Path("results") / Path(args.config).stem

    def progress(frac: float) -> None:
        if not args.quiet:
            print(f"\r  simulating: {100 * frac:5.1f} %", end="", file=sys.stderr, flush=True)

    result = simulate(cfg, progress=progress)
    if not args.quiet:
        print(file=sys.stderr)
    folder = write_run(result, out, plots=not args.no_plots,
                       argv=["gcsim", "run", *sys.argv[2:]])
    from gcsim.metrics.summary import summary

    s = summary(result)
    print(f"results: {folder}")
    print(f"  simulated {s['duration_s']:.3f} s at GOGC={s['gogc']}, GOMAXPROCS={s['gomaxprocs']}"
          f" in {result.wall_s:.1f} s wall ({s['allocs']:,} allocations)")
    print(f"  GC cycles: {s['gc_count']}   GC CPU: {s['gc_cpu_percent']:.2f} %")
    print(f"  pause p50 / p99 / max: {s['pause_p50_ms']:.3f} / {s['pause_p99_ms']:.3f} / "
          f"{s['pause_max_ms']:.3f} ms")
    print(f"  peak heap in use: {s['peak_heap_inuse_bytes'] / 2**20:.1f} MiB   "
          f"peak live: {s['peak_heap_live_bytes'] / 2**20:.1f} MiB")
    if s.get("pool_hit_rate") is not None:
        t = s["pool"]["total"]
        print(f"  sync.Pool: {t['gets']:,} Gets, hit rate {100 * s['pool_hit_rate']:.2f} %, "
              f"{t['new_calls']:,} New() calls, {t['dropped_per_gc']:.1f} dropped per GC")
    fr = s["fragmentation"]
    print(f"  at the end: HeapInuse - HeapAlloc = {fr['frag_bytes'] / 2**20:.2f} MiB "
          f"({100 * fr['frag_fraction']:.1f} %), HeapReleased "
          f"{s['background']['heap_released_bytes'] / 2**20:.2f} MiB "
          f"(gcsim fragmentation {folder} for the per-class table)")
    if result.fatal:
        # The run died as Go would: print Go's lines and exit with Go's status.
        f = result.fatal
        print("\n".join(f["message"]), file=sys.stderr)
        print(f"goroutine {f['goroutine']} (group {f['group']!r}) at depth {f['depth']}; "
              f"see {folder / 'fatal_error.txt'}", file=sys.stderr)
        return int(f["exit_status"])
    return 0


def cmd_fragmentation(args: argparse.Namespace) -> int:
    import csv

    import numpy as np

    from gcsim.metrics.fragmentation import COLUMNS, format_fragmentation

    path = Path(args.results) / "fragmentation.csv"
    if not path.is_file():
        raise GcsimError(f"{path}: no such file (is {args.results} a gcsim run's results "
                         "folder, written by this version?)")
    if args.top is not None and args.top < 1:
        raise GcsimError(f"--top: {args.top} is not a positive number of rows")
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    t = {k: np.array([float(r[k]) if k == "frag_fraction" else int(r[k]) for r in rows])
         for k in COLUMNS}
    sys.stdout.write(format_fragmentation(t, args.top))
    return 0


def cmd_sizeclasses(args: argparse.Namespace) -> int:
    from gcsim.tables import format_sizeclasses

    try:
        text = format_sizeclasses(args.format, greentea=not args.classic)
    except ValueError as e:
        raise GcsimError(f"--format: {e}") from None
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    import gcsim.engine

    root = Path(gcsim.engine.__file__).parent
    removed = 0
    for d in root.rglob("__pycache__"):
        for f in list(d.glob("*.nbi")) + list(d.glob("*.nbc")):
            f.unlink()
            removed += 1
    print(f"removed {removed} cached kernel files under {root}")
    return 0


def cmd_trace(args: argparse.Namespace) -> int:
    from gcsim.tracecmd import cmd_trace as run_trace

    return run_trace(args)


def cmd_validate(args: argparse.Namespace) -> int:
    from gcsim.validate.harness import cmd_validate as run_validate

    return run_validate(args)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from gcsim.calibrate import cmd_calibrate as run_calibrate

    return run_calibrate(args)


def cmd_sweep(args: argparse.Namespace) -> int:
    from gcsim.sweepcmd import cmd_sweep as run_sweep_cmd

    return run_sweep_cmd(args)


def cmd_plot(args: argparse.Namespace) -> int:
    from gcsim.sweepcmd import cmd_plot as run_plot

    return run_plot(args)


def cmd_report(args: argparse.Namespace) -> int:
    from gcsim.sweepcmd import cmd_report as run_report

    return run_report(args)


def cmd_pacer_scenarios(args: argparse.Namespace) -> int:
    from gcsim.pacercmd import cmd_pacer

    return cmd_pacer(args)
def cmd_pool(args: argparse.Namespace) -> int:
    from gcsim.poolcmd import cmd_pool as run_pool_cmd

    return run_pool_cmd(args)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    handlers = {"run": cmd_run, "sizeclasses": cmd_sizeclasses, "cache": cmd_cache,
                "trace": cmd_trace, "validate": cmd_validate, "calibrate": cmd_calibrate,
                "sweep": cmd_sweep, "plot": cmd_plot, "report": cmd_report,
                "pacer-scenarios": cmd_pacer_scenarios, "pool": cmd_pool,
                "fragmentation": cmd_fragmentation}
    try:
        return handlers[args.cmd](args)
    except GcsimError as e:
        if args.debug:
            raise
        print(f"gcsim: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ngcsim: interrupted; no results folder was written for this run",
              file=sys.stderr)
        return 130



