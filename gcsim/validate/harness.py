"""``gcsim validate``: run twin workloads on real Go and on gcsim, tabulate the errors.

For each twin (``validation/<name>/``, see ``twins.py``) and each setting
(GOGC x GOMAXPROCS; by default the twin config's own):

1. build the Go program once (cached by source hash);
2. write the parameters derived from the config to ``params.json`` and run
   the program ``--repeat`` times with GOGC, GOMAXPROCS and
   ``GODEBUG=gctrace=1`` set, keeping stderr and the JSON report; with the
   speed probe (the CLI's default), mark the calibration's reference graph
   before each run and after the last (``speedprobe.py``, row ``ref_mark``);
3. run gcsim on the same config with the same overrides (one run: gcsim is
   deterministic; ``--costs FILE`` gives it another cost table) into a
   results folder;
4. compare the figures (``compare.py``), check them against
   ``validation/thresholds.toml`` and draw heap, goal and pause figures.

The output folder gets ``validation.csv`` (one row per twin, setting and
figure), ``validation.md`` (the same as a Markdown table, with the date, Go
version, machine and gcsim commit), ``figures/<twin>-gogc<G>-p<P>.png`` and
``runs/`` (every raw output). ``gcsim validate`` exits 1 when a figure's
error exceeds its threshold, and 2 when there is no Go toolchain.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gcsim.errors import ValidationError

__all__ = [
    "Outcome",
    "SettingResult",
    "add_validate_parser",
    "cmd_validate",
    "format_readme_table",
    "update_readme",
    "validate",
]

README_START = "<!-- validation-table:start -->"
README_END = "<!-- validation-table:end -->"

GO_MISSING = ("no Go toolchain found (looked beside the Python executable and on PATH): "
              "install the validate extra: pip install 'gcsim[validate]'")


@dataclass
class SettingResult:
    """One twin at one GOGC and GOMAXPROCS."""

    twin: str
    gogc: int | None
    gomaxprocs: int
    rows: list[Any]  # compare.FigureRow
    failed: list[str]
    go_wall_s: list[float]
    sim_wall_s: float
    limits: dict[str, float] = field(default_factory=dict)  # figure -> max |error|
    notes: list[str] = field(default_factory=list)
    figure: Path | None = None
    matched_rows: list[Any] = field(default_factory=list)  # --match-speed: no thresholds

    def status(self, row: Any) -> str:
        """"FAIL", "ok", or "" when the figure has no threshold."""
        limit = self.limits.get(row.figure)
        if limit is None:
            return ""
        if row.rel_error is None:
            return "n/a"
        return "FAIL" if abs(row.rel_error) > limit else "ok"

    @property
    def label(self) -> str:
        g = "off" if self.gogc is None else self.gogc
        return f"{self.twin} GOGC={g} GOMAXPROCS={self.gomaxprocs}"


@dataclass
class Outcome:
    """Everything one ``gcsim validate`` produced."""

    results: list[SettingResult]
    out_dir: Path
    header: dict[str, str]

    @property
    def failed(self) -> list[str]:
        return [f"{r.label}: {f}" for r in self.results for f in r.failed]


# --------------------------------------------------------------------------
# Command line


def _gogc_list(text: str) -> list[int | None]:
    out: list[int | None] = []
    for item in text.split(","):
        item = item.strip()
        if item == "off":
            out.append(None)
        elif item.isdigit():
            out.append(int(item))
        else:
            raise argparse.ArgumentTypeError(f"{item!r}: expected integers >= 0 or 'off', "
                                             "comma-separated")
    return out


def _int_list(text: str) -> list[int]:
    try:
        out = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected integers, comma-separated") \
            from None
    if any(x < 1 for x in out):
        raise argparse.ArgumentTypeError(f"{text!r}: GOMAXPROCS values must be >= 1")
    return out


def add_validate_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``validate`` subcommand to ``sub`` (an argparse subparsers object)."""
    v = sub.add_parser("validate", help="run twin workloads on real Go and on gcsim, "
                                        "tabulate the errors")
    v.add_argument("names", nargs="*", help="twins to run (default: all in validation/)")
    v.add_argument("--gogc", type=_gogc_list, help="GOGC values, e.g. 50,100,off "
                                                   "(default: each twin config's)")
    v.add_argument("--gomaxprocs", type=_int_list,
                   help="GOMAXPROCS values, e.g. 1,2 (default: each twin config's)")
    v.add_argument("--repeat", type=int, default=3, help="Go runs per setting (default 3)")
    v.add_argument("--out", default="results/validate", help="output folder "
                                                             "(default: results/validate)")
    v.add_argument("--twins", help="folder of twins (default: validation/ of this checkout)")
    v.add_argument("--thresholds", help="thresholds file (default: <twins>/thresholds.toml)")
    v.add_argument("--no-plots", action="store_true", help="skip the figures")
    v.add_argument("--costs", metavar="FILE",
                   help="cost table for gcsim's side (a TOML file with a [costs] table, as "
                        "`gcsim calibrate` writes); default: the shipped table")
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a dotted config key on both sides, e.g. "
                        "run.max_allocs=30000000 (repeatable; the Go twin gets the "
                        "parameters derived from the overridden config)")
    v.add_argument("--no-speed-probe", action="store_true",
                   help="skip the reference-graph mark probe around the Go runs "
                        "(the ref_mark row: the machine's marking speed vs the cost table)")
    v.add_argument("--match-speed", action="store_true",
                   help="also run gcsim with its mark and mutator costs scaled to the speed "
                        "the Go runs showed, and add those rows (speed-matched: no threshold; "
                        "what still differs is the model, not the machine's weather)")
    v.add_argument("--readme", metavar="FILE",
                   help="also write the error table into FILE (e.g. README.md) between "
                        f"'{README_START}' and '{README_END}'")
    return v


def cmd_validate(args: argparse.Namespace) -> int:
    """``gcsim validate``: 0 all within thresholds, 1 some exceeded, 2 cannot run."""
    if args.repeat < 1:
        raise ValidationError(f"--repeat must be >= 1, got {args.repeat}")
    outcome = validate(
        args.names, gogcs=args.gogc, procs=args.gomaxprocs, repeat=args.repeat,
        out_dir=Path(args.out), twins_root=Path(args.twins) if args.twins else None,
        thresholds_path=Path(args.thresholds) if args.thresholds else None,
        plots=not args.no_plots, costs_path=Path(args.costs) if args.costs else None,
        speed_probe=not args.no_speed_probe, match_speed=args.match_speed,
        overrides=args.overrides, log=lambda msg: print(msg, file=sys.stderr, flush=True))
    print(f"results: {outcome.out_dir}")
    print(format_table(outcome, markdown=False))
    if args.readme:
        update_readme(Path(args.readme), format_readme_table(outcome, sys.argv[1:]))
        print(f"error table written into {args.readme}")
    if outcome.failed:
        print(f"{len(outcome.failed)} figure(s) over threshold:")
        for f in outcome.failed:
            print(f"  FAIL {f}")
        return 1
    print("all figures within their thresholds")
    return 0


# --------------------------------------------------------------------------
# The run


def validate(
    names: Sequence[str] = (),
    *,
    gogcs: Sequence[int | None] | None = None,
    procs: Sequence[int] | None = None,
    repeat: int = 3,
    out_dir: Path = Path("results/validate"),
    twins_root: Path | None = None,
    thresholds_path: Path | None = None,
    plots: bool = True,
    costs_path: Path | None = None,
    speed_probe: bool = False,
    match_speed: bool = False,
    overrides: Sequence[str] = (),
    log: Callable[[str], None] = lambda msg: None,
) -> Outcome:
    """Run the twins and write the report; see the module docstring.

    ``costs_path`` gives gcsim's side a cost table file (``costs.from_file``;
    a twin config's own ``[costs]`` entries still win). ``speed_probe`` marks
    the reference graph before each Go run and after the last
    (``speedprobe.py``) and adds the ``ref_mark`` row. ``match_speed`` runs
    gcsim a second time at the speed the Go runs showed (``speedmatch.py``)
    and adds its rows beside the others, without thresholds. ``overrides``
    (``--set`` syntax) apply to every twin's config, and so to the parameters
    its Go program gets; a GOGC or GOMAXPROCS given here is replaced by the
    setting's own.

    Raises
    ------
    ValidationError
        No Go toolchain (the message names the install command), an unknown
        twin, a config the Go twins cannot run, or a Go build or run failure.
    """
    from gcsim.goruntime import gotool
    from gcsim.validate import compare as C
    from gcsim.validate import twins as T

    go = gotool.find_go()
    go_version = gotool.go_version() if go is not None else None
    if go is None or go_version is None:
        raise ValidationError(GO_MISSING)
    root = twins_root or T.default_twins_root()
    available = T.find_twins(root)
    chosen = list(names) or list(available)
    unknown = [n for n in chosen if n not in available]
    if unknown or not chosen:
        raise ValidationError(f"unknown twin(s) {', '.join(unknown) or '(none found)'}; "
                              f"twins in {root}: {', '.join(available) or 'none'}")
    limits = C.load_thresholds(thresholds_path or root / "thresholds.toml")
    extra = list(overrides)
    if costs_path is not None:
        if not costs_path.is_file():
            raise ValidationError(f"--costs {costs_path}: no such file")
        extra.append(f"costs.from_file={costs_path.resolve()}")
    out_dir.mkdir(parents=True, exist_ok=True)

    results: list[SettingResult] = []
    commit = None
    built_probes: dict[bool, Any] = {}  # greentea -> SpeedProbe or None, built once
    for name in chosen:
        twin = available[name]
        base = T.load_twin_config(twin, extra)
        T.twin_params(base, name)  # refuse an unsupported config before building
        greentea = base.runtime.greentea
        if speed_probe and greentea not in built_probes:
            built_probes[greentea] = _speed_probe(go, go_version, greentea, log)
        probe = built_probes.get(greentea)
        t0 = time.perf_counter()
        exe, built = T.build_twin(twin, go, go_version)
        log(f"{name}: {'built' if built else 'cached build'} {exe} "
            f"({time.perf_counter() - t0:.1f} s)")
        for gogc in (gogcs if gogcs is not None else [base.runtime.gogc]):
            for P in (procs if procs is not None else [base.run.gomaxprocs]):
                res, commit = _run_setting(twin, exe, gogc, P, repeat, out_dir,
                                           limits.get(name, {}), plots, log, extra, probe,
                                           match_speed)
                results.append(res)
    header = _header(go, go_version, commit, repeat, costs_path, overrides)
    outcome = Outcome(results, out_dir, header)
    _write_text_atomic(out_dir / "validation.csv", format_csv(outcome))
    _write_text_atomic(out_dir / "validation.md", format_markdown(outcome))
    return outcome


def _speed_probe(go: Path, go_version: str, greentea: bool,
                 log: Callable[[str], None]) -> Any:
    """The built speed probe (``speedprobe.SpeedProbe``), or None when this checkout has
    no calibration program (an installed package), which the log says."""
    from gcsim import calibrate
    from gcsim.validate.speedprobe import SpeedProbe

    if not (calibrate.calibration_root() / "main.go").is_file():
        log(f"speed probe skipped: no calibration program in {calibrate.calibration_root()}")
        return None
    return SpeedProbe.build(go, go_version, greentea)


def _run_setting(twin: Any, exe: Path, gogc: int | None, P: int, repeat: int, out_dir: Path,
                 limits: dict[str, float], plots: bool, log: Callable[[str], None],
                 extra: Sequence[str] = (), probe: Any = None,
                 match_speed: bool = False) -> tuple[SettingResult, str | None]:
    from gcsim.results import write_run
    from gcsim.run import simulate
    from gcsim.validate import compare as C
    from gcsim.validate import twins as T

    tag = f"{twin.name}-gogc{'off' if gogc is None else gogc}-p{P}"
    run_dir = out_dir / "runs" / tag
    run_dir.mkdir(parents=True, exist_ok=True)
    overrides = [*extra, f"runtime.gogc={'off' if gogc is None else gogc}",
                 f"run.gomaxprocs={P}"]
    cfg = T.load_twin_config(twin, overrides)
    params = T.twin_params(cfg, twin.name)
    params_path = run_dir / "params.json"
    _write_text_atomic(params_path, json.dumps(params, indent=2) + "\n")

    env = T.run_env(cfg.runtime.gogc, P, cfg.runtime.gomemlimit)
    go_runs = []
    probes: list[float] = []
    for r in range(repeat):
        if probe is not None:
            probes.append(probe.measure_ns())
        run = T.run_twin(exe, params_path, env)
        _write_text_atomic(run_dir / f"go-{r + 1}.stderr.txt", run.stderr)
        _write_text_atomic(run_dir / f"go-{r + 1}.json", json.dumps(run.report, indent=2) + "\n")
        log(f"{tag}: Go run {r + 1}/{repeat}: {len(run.lines)} GC cycles, {run.wall_s:.1f} s")
        go_runs.append(run)
    if probe is not None:
        probes.append(probe.measure_ns())
        log(f"{tag}: reference graph marked at {', '.join(f'{x:.1f}' for x in probes)} ns "
            f"per object (cost table: {probe.model_ns(cfg.costs):.1f})")

    result = simulate(cfg)
    folder = write_run(result, run_dir / "gcsim", plots=False,
                       argv=["gcsim", "validate", twin.name, *overrides])
    log(f"{tag}: gcsim: {len(result.cycles)} GC cycles, {result.wall_s:.1f} s")
    commit = json.loads((folder / "provenance.json").read_text()).get("git_commit")

    sim = C.sim_side(result)
    gos = [C.go_side(run.lines, run.report) for run in go_runs]
    rows = C.compare(sim, gos)
    if probes:
        rows.append(C.probe_row(probe.model_ns(cfg.costs), probes))
    res = SettingResult(twin.name, cfg.runtime.gogc, P, rows, C.check_thresholds(rows, limits),
                        [run.wall_s for run in go_runs], result.wall_s, limits=dict(limits))
    res.notes += _run_notes(cfg, go_runs)
    host_costs = T.host_costs_file()
    if host_costs is not None and not any(x.startswith("costs.from_file=") for x in extra):
        res.notes.append(f"costs: {host_costs.name}, this machine's calibration (the built-in "
                         f"table was measured on a machine without AVX-512)")
    note = _mark_speed_note(sim.lines, [side.lines for side in gos])
    if note:
        res.notes.append(note)
    if match_speed:
        _speed_matched(res, result, sim, gos, go_runs, twin, overrides, run_dir, tag, log)
    if plots:
        from gcsim.validate.figures import setting_figure

        res.figure = setting_figure(sim, gos, out_dir / "figures" / tag, res.label)
    return res, commit


def _speed_matched(res: SettingResult, result: Any, sim: Any, gos: Sequence[Any],
                   go_runs: Sequence[Any], twin: Any, overrides: Sequence[str], run_dir: Path,
                   tag: str, log: Callable[[str], None]) -> None:
    """gcsim at the Go runs' speed (speedmatch.py): its rows and a note go into ``res``."""
    from gcsim.results import write_run
    from gcsim.run import simulate
    from gcsim.validate import compare as C
    from gcsim.validate import speedmatch as SM
    from gcsim.validate import twins as T

    f = SM.speed_factors(result, sim.lines, [g.lines for g in gos],
                         [run.report for run in go_runs])
    if f is None:
        res.notes.append("speed matching skipped: a side has no unforced cycle after the "
                         "warm-up, or the Go report has no CPU time or GC CPU metric")
        return
    scaled = SM.matched_overrides(result.config, f)
    cfg = T.load_twin_config(twin, [*overrides, *scaled])
    matched = simulate(cfg)
    write_run(matched, run_dir / "gcsim-matched", plots=False,
              argv=["gcsim", "validate", twin.name, *overrides, "--match-speed"])
    log(f"{tag}: gcsim speed-matched (mark x {f.mark:.2f}, mutator x {f.mutator:.2f}): "
        f"{len(matched.cycles)} GC cycles")
    res.matched_rows = C.compare(C.sim_side(matched), gos)
    res.notes.append(f.note())


# How far the Go twin's measured loop may exceed compute_ns_per_alloc before
# the notes say so: the loop's timing moves by a few ns between runs.
LOOP_SLACK_NS = 2.0
# A Go run whose mark CPU per marked byte is this much off gcsim's is noted,
# since mark wall and GC CPU move with it. On the calibration VM Go's speed
# takes one of two values per graph (README, known gaps: ~12 and ~19 ms a
# cycle on the steady twin), and the twins' heaps mark slower per byte than
# the calibration graphs (1.2-1.8x in gcsim's figure, 2026-11-26).
MARK_SPEED_NOTE_RATIO = 1.15
MARK_SPEED_SKIP_CYCLES = 3  # warm-up cycles left out


def _marks_after_warmup(lines: Sequence[Any]) -> list[Any]:
    """The unforced cycles after the first ``MARK_SPEED_SKIP_CYCLES``."""
    return [ln for ln in lines if ln.gc_number > MARK_SPEED_SKIP_CYCLES and not ln.forced]


def mark_ms_per_mib(lines: Sequence[Any]) -> float | None:
    """Median over cycles after the warm-up of mark CPU (gctrace's assist +
    background + idle) per MiB marked (H2), ms; None without such cycles."""
    vals = [ln.mark_cpu_ms / ln.heap_live_mb
            for ln in _marks_after_warmup(lines) if ln.heap_live_mb > 0]
    return statistics.median(vals) if vals else None


def mark_cpu_ms_per_cycle(lines: Sequence[Any]) -> float | None:
    """Median mark CPU (assist + background + idle) over the unforced cycles after the
    warm-up, ms; None without such cycles (``--match-speed``'s marking speed)."""
    vals = [ln.mark_cpu_ms for ln in _marks_after_warmup(lines)]
    return statistics.median(vals) if vals else None


def _mark_speed_note(sim_lines: Sequence[Any], go_runs: Sequence[Sequence[Any]]) -> str | None:
    """A note when Go's runs marked a MiB at another speed than gcsim did."""
    sim = mark_ms_per_mib(sim_lines)
    go = [v for v in (mark_ms_per_mib(lines) for lines in go_runs) if v is not None]
    if sim is None or not go or sim <= 0:
        return None
    if all(1 / MARK_SPEED_NOTE_RATIO <= v / sim <= MARK_SPEED_NOTE_RATIO for v in go):
        return None
    text = ", ".join(f"{v:.3f}" for v in go)
    return (f"mark CPU per MiB marked (median over cycles after the first "
            f"{MARK_SPEED_SKIP_CYCLES}): Go {text} ms, gcsim {sim:.3f} ms; mark wall time and "
            f"GC CPU follow this ratio (on this VM Go's marking speed also takes one of two "
            f"values per graph: README, known gaps; the reference graph row measures it)")


def _run_notes(cfg: Any, go_runs: Sequence[Any]) -> list[str]:
    """What the reader of the table should know about the Go runs.

    - the CPU share the program got: user + sys time over wall time times
      min(GOMAXPROCS, CPUs). Below ~90 % the machine was busy, and the
      wall-clock figures (mark time, pauses, and through them GC CPU) are
      stretched by the time the program waited for a CPU;
    - model inputs measured differently from the config (globals, and the
      twin's own loop: the Go program spins compute_ns_per_alloc minus what
      its loop costs without mallocgc, so a loop dearer than the config
      means Go did more work per object than gcsim charged).
    """
    notes = []
    P = min(cfg.run.gomaxprocs, os.cpu_count() or 1)
    shares = [run.report["cpu_ns"] / 1e9 / (run.wall_s * P) for run in go_runs
              if run.report.get("cpu_ns", -1) > 0 and run.wall_s > 0]
    if shares:
        text = ", ".join(f"{100 * x:.0f}" for x in shares)
        busy = " (a busy machine: wall-clock figures are stretched)" if min(shares) < 0.9 else ""
        notes.append(f"Go got {text} % of {P} CPU(s) over its wall time{busy}")
    report = go_runs[0].report
    loops = [run.report["loop_ns_per_alloc"] for run in go_runs
             if run.report.get("loop_ns_per_alloc") is not None]
    compute = cfg.workload.compute_ns_per_alloc
    if loops and max(loops) > compute + LOOP_SLACK_NS:
        text = ", ".join(f"{x:.1f}" for x in loops)
        notes.append(f"the Go program's own loop took {text} ns per object, more than "
                     f"workload.compute_ns_per_alloc = {compute:g}: Go did up to "
                     f"{max(loops) - compute:.1f} ns more work per object than gcsim charged")
    globals_go = report.get("metrics", {}).get("/gc/scan/globals:bytes")
    globals_cfg = cfg.workload.globals_bytes
    if globals_go and abs(globals_go - globals_cfg) > 0.1 * globals_go:
        notes.append(f"workload.globals_bytes = {globals_cfg} but the Go program scans "
                     f"{globals_go} B of globals")
    return notes


def _machine() -> str:
    model = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model or platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}"


def _load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def _header(go: Path, go_version: str, commit: str | None, repeat: int,
            costs_path: Path | None = None, overrides: Sequence[str] = ()) -> dict[str, str]:
    import gcsim

    return {
        **({"overrides": " ".join(overrides)} if overrides else {}),
        "costs": str(costs_path) if costs_path else "the shipped table (goruntime/costs.py)",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "go": f"{go_version} ({go})",
        "machine": _machine(),
        "gcsim": f"{gcsim.__version__}, commit {commit or 'unknown'}",
        "repeats": str(repeat),
        "load": _load(),
    }


# --------------------------------------------------------------------------
# Tables


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "":
        return f"{value:.0f}"
    if unit == "ms":
        return f"{value:.3f}"
    if unit == "KiB":
        return f"{value:.0f}"
    return f"{value:.1f}" if unit == "MiB" else f"{value:.2f}"


def _rows(outcome: Outcome) -> list[dict[str, Any]]:
    out = []
    for res in outcome.results:
        for row, matched in [(r, False) for r in res.rows] + [(r, True) for r in res.matched_rows]:
            meas = row.measured
            out.append({
                "twin": res.twin,
                "gogc": "off" if res.gogc is None else res.gogc,
                "gomaxprocs": res.gomaxprocs,
                "figure": f"matched_{row.figure}" if matched else row.figure,
                "label": f"{row.label}, speed-matched" if matched else row.label,
                "unit": row.unit,
                "predicted": row.predicted,
                "measured_median": row.measured_median,
                "measured_min": min(meas) if meas else None,
                "measured_max": max(meas) if meas else None,
                "repeats": len(meas),
                "rel_error": row.rel_error,
                "threshold": None if matched else res.limits.get(row.figure),
                "status": "" if matched else res.status(row),
                "note": row.note,
            })
    return out


def format_csv(outcome: Outcome) -> str:
    """validation.csv: one row per twin, setting and figure."""
    rows = _rows(outcome)
    buf = io.StringIO()
    names = ["twin", "gogc", "gomaxprocs", "figure", "unit", "predicted", "measured_median",
             "measured_min", "measured_max", "repeats", "rel_error", "threshold", "status",
             "note"]
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(names)
    for r in rows:
        w.writerow(["" if r[n] is None else repr(r[n]) if isinstance(r[n], float) else r[n]
                    for n in names])
    return buf.getvalue()


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:+.1f} %"


def format_table(outcome: Outcome, *, markdown: bool) -> str:
    """The validation table, as Markdown or as aligned text for the terminal."""
    head = ["twin", "GOGC", "P", "figure", "gcsim", "Go median [min..max]", "error",
            "threshold", ""]
    body = []
    for r in _rows(outcome):
        unit = f" {r['unit']}" if r["unit"] else ""
        meas = _fmt(r["measured_median"], r["unit"])
        if r["repeats"] > 1:
            meas += f" [{_fmt(r['measured_min'], r['unit'])}..{_fmt(r['measured_max'], r['unit'])}]"
        thr = "" if r["threshold"] is None else f"{100 * r['threshold']:.0f} %"
        body.append([r["twin"], str(r["gogc"]), str(r["gomaxprocs"]), r["label"],
                     _fmt(r["predicted"], r["unit"]) + unit, meas + unit, _pct(r["rel_error"]),
                     thr, r["status"]])
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    return "\n".join("  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)).rstrip()
                     for row in [head, *body])


def format_markdown(outcome: Outcome) -> str:
    """validation.md: header, the table, figures and notes."""
    h = outcome.header
    out = [
        "# gcsim validation",
        "",
        f"- date: {h['date']}",
        f"- Go: {h['go']}",
        f"- machine: {h['machine']}",
        f"- load average when the run ended: {h['load']}",
        f"- gcsim: {h['gcsim']}; cost table: {h['costs']}",
        *([f"- config overrides (both sides): {h['overrides']}"] if "overrides" in h else []),
        f"- Go runs per setting: {h['repeats']}; error = (gcsim - Go median) / Go median "
        "(heap goal: median of per-cycle errors over cycles matched by number)",
        "",
        format_table(outcome, markdown=True),
        "",
    ]
    for res in outcome.results:
        walls = ", ".join(f"{w:.1f}" for w in res.go_wall_s)
        out.append(f"- {res.label}: Go wall {walls} s; gcsim wall {res.sim_wall_s:.1f} s")
        for note in res.notes:
            out.append(f"  - note: {note}")
        for f in res.failed:
            out.append(f"  - FAIL {f}")
        if res.figure is not None:
            rel = os.path.relpath(res.figure, outcome.out_dir)
            out.append(f"  - ![{res.label}]({rel})")
    return "\n".join(out) + "\n"


def format_readme_table(outcome: Outcome, argv: Sequence[str] = ()) -> str:
    """The README's error table: one row per twin and setting, one column per figure.

    Each cell is the signed relative error (gcsim - Go median) / Go median,
    marked "**" when over its threshold; above the table, the date, Go
    version, machine, load and the command that made it.
    """
    from gcsim.validate.compare import FIGURES

    h = outcome.header
    shown = [f for f in FIGURES if any(r.figure == f for res in outcome.results
                                       for r in res.rows)]
    shown_argv, skip = [], False
    for a in argv:  # where the output went is not part of what was measured
        if skip:
            skip = False
        elif a in ("--out", "--readme"):
            skip = True
        elif not a.startswith(("--out=", "--readme=")):
            shown_argv.append(a)
    cmd = "gcsim " + " ".join(shown_argv) if shown_argv else "gcsim validate"
    lines = [
        f"Generated by `{cmd}` on {h['date']}: Go {h['go'].split(' ')[0]}, "
        f"{h['machine']}; load average {h['load']}; {h['repeats']} Go run(s) per setting; "
        f"gcsim {h['gcsim']}.",
        "Each cell is (gcsim - Go median) / Go median; ** marks an error over its threshold "
        "in validation/thresholds.toml. Wall-clock figures (mark wall, pauses) of the Go runs "
        "stretch on a busy machine.",
        "",
        "| twin | GOGC | P | " + " | ".join(FIGURES[f][0] for f in shown) + " |",
        "|---|---|---|" + "---|" * len(shown),
    ]
    for res in outcome.results:
        by_fig = {r.figure: r for r in res.rows}
        cells = []
        for f in shown:
            r = by_fig.get(f)
            if r is None or r.rel_error is None:
                cells.append("n/a")
                continue
            mark = "**" if res.status(r) == "FAIL" else ""
            cells.append(f"{mark}{100 * r.rel_error:+.1f} %{mark}")
        g = "off" if res.gogc is None else str(res.gogc)
        lines.append(f"| {res.twin} | {g} | {res.gomaxprocs} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def update_readme(path: Path, table: str) -> None:
    """Replace the text between the validation-table markers of ``path`` with ``table``.

    Raises
    ------
    ValidationError
        The file is missing or lacks the two markers (in order).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ValidationError(f"cannot read {path}: {e}") from None
    a, b = text.find(README_START), text.find(README_END)
    if a < 0 or b < a:
        raise ValidationError(f"{path} has no '{README_START}' ... '{README_END}' markers; add "
                              "them where the table goes")
    new = text[: a + len(README_START)] + "\n" + table.strip() + "\n" + text[b:]
    _write_text_atomic(path, new)


def _write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
