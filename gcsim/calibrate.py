"""``gcsim calibrate``: measure the cost table on this machine with real Go.

The Go program in ``calibration/`` (see its ``main.go``) runs one experiment
per invocation and prints JSON records; this module builds it, runs a plan
of experiments, fits the cost entries of ``goruntime.costs.COSTS`` from the
records and writes them as TOML::

    [costs]                      # same names as COSTS; a config's
    alloc_fast_ns = 12.3         # [costs] from_file = "this.toml" reads it
    ...
    [calibration]                # date, Go version, CPU, GOMAXPROCS, load
    ...
    [calibration.entries.alloc_fast_ns]
    raw = {...}                  # the measurements the entry comes from
    method = "..."               # how they map to the entry

1. Build three binaries, cached by a hash of the sources and the Go
   version: plain (Green Tea), ``GOEXPERIMENT=nogreenteagc`` (classic
   marking) and ``-tags bigglobals`` (32 MiB of pointer-typed BSS).
2. Run the plan ``passes`` times, interleaved, so a change in the machine's
   load during the run spreads over every experiment instead of biasing one;
   every fit takes medians over all repetitions of all passes.
3. Fit (``calibfit.fit_costs``), each entry from differences of CPU times
   that cancel what the entry does not cover (``calibfit.METHODS`` says how
   for each entry; the file repeats it beside the raw numbers).

Times are process or thread CPU time (clock_gettime), not wall time: on a
shared machine the program waits for a CPU and wall time stretches, but CPU
time only a little (caches and memory bandwidth are still shared). The load
average is recorded before and after. ``--quick`` runs a short plan (smaller
graphs, fewer sizes, one pass) for tests.

Linux only (the CPU clocks and /proc/cpuinfo).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from gcsim.errors import GcsimError
from gcsim.goruntime import hostcpu

__all__ = ["Calibration", "CalibrationError", "add_calibrate_parser", "calibrate",
           "cmd_calibrate", "read_calibration", "write_calibration"]

log = logging.getLogger(__name__)

BUILD_TIMEOUT_S = 600.0
RUN_TIMEOUT_S = 600.0
VARIANTS = {  # variant -> (GOEXPERIMENT, build tags)
    "greentea": ("", ""),
    "classic": ("nogreenteagc", ""),
    "bigglobals": ("", "bigglobals"),
}


class CalibrationError(GcsimError):
    """Go is missing, or a calibration build or run failed."""


@dataclass
class Calibration:
    """What one ``gcsim calibrate`` measured: entries in ns and their provenance."""

    costs: dict[str, float]
    info: dict[str, Any]
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> raw, method
    records: dict[str, Any] = field(default_factory=dict)  # what the Go program printed


# --------------------------------------------------------------------------
# TOML


def write_calibration(path: str | os.PathLike[str], cal: Calibration) -> None:
    """Write ``cal`` as TOML (``[costs]`` and ``[calibration]``), atomically."""
    doc = {"costs": {k: float(v) for k, v in cal.costs.items()},
           "calibration": {**cal.info, "entries": cal.entries}}
    text = tomli_w.dumps(_plain(doc))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600
    os.replace(tmp, path)


def read_calibration(path: str | os.PathLike[str]) -> Calibration:
    """Read a file ``write_calibration`` wrote (only ``[costs]`` is required)."""
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    info = dict(doc.get("calibration", {}))
    entries = info.pop("entries", {})
    return Calibration({k: float(v) for k, v in doc.get("costs", {}).items()}, info, entries)


def _plain(x: Any) -> Any:
    """A TOML-serialisable copy: tuples to lists, None dropped, numpy scalars to Python."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items() if v is not None}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x if v is not None]
    if hasattr(x, "item") and not isinstance(x, str):
        return x.item()
    return x


# --------------------------------------------------------------------------
# Building and running the Go program


def calibration_root() -> Path:
    """``calibration/`` of the gcsim checkout this code runs from, else ``./calibration``."""
    import gcsim

    beside = Path(gcsim.__file__).resolve().parent.parent / "calibration"
    return beside if beside.is_dir() else Path("calibration")


def _cache_dir() -> Path:
    from gcsim.goruntime import gotool

    env = os.environ.get("GCSIM_CACHE_DIR")
    return (Path(env) if env else gotool._user_cache_dir() / "gcsim") / "calibrate"


def _source_hash(root: Path, go_version: str, variant: str) -> str:
    h = hashlib.sha256(f"{go_version}\0{variant}\0{platform.machine()}\0".encode())
    for p in sorted(root.iterdir()):
        if p.is_file() and (p.suffix == ".go" or p.name in ("go.mod", "go.sum")):
            h.update(p.name.encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()[:16]


def build(root: Path, go: Path, go_version: str, variant: str) -> Path:
    """Build one variant of the calibration program (cached); return the executable."""
    from gcsim.goruntime import gotool

    experiment, tags = VARIANTS[variant]
    folder = _cache_dir() / f"{variant}-{_source_hash(root, go_version, variant)}"
    exe = folder / "calibrate"
    if exe.is_file() and os.access(exe, os.X_OK):
        return exe
    folder.mkdir(parents=True, exist_ok=True)
    env = gotool.go_env()
    # GODEBUG would make the compiler write its own gc lines into the build cache.
    for name in ("GODEBUG", "GOGC", "GOMEMLIMIT", "GOMAXPROCS", "GOEXPERIMENT", "GOFLAGS"):
        env.pop(name, None)
    if experiment:
        env["GOEXPERIMENT"] = experiment
    cmd = [str(go), "build", "-trimpath", "-o", str(folder / ".calibrate.tmp")]
    if tags:
        cmd += ["-tags", tags]
    try:
        proc = subprocess.run([*cmd, "."], cwd=root, env=env, capture_output=True, text=True,
                              timeout=BUILD_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise CalibrationError(f"go build ({variant}) took over {BUILD_TIMEOUT_S:.0f} s") \
            from None
    if proc.returncode != 0:
        raise CalibrationError(f"go build ({variant}) of {root} failed:\n{proc.stderr.strip()}")
    os.replace(folder / ".calibrate.tmp", exe)
    return exe


def run_experiment(exe: Path, exp: str, args: Sequence[str], gomaxprocs: int = 1,
                   gctrace: bool = False) -> tuple[list[dict[str, Any]], str]:
    """Run one experiment; return its JSON records and its stderr."""
    from gcsim.goruntime import gotool

    env = gotool.go_env()
    for name in ("GOGC", "GOMEMLIMIT", "GODEBUG", "GOEXPERIMENT"):
        env.pop(name, None)
    env["GOMAXPROCS"] = str(gomaxprocs)
    if gctrace:
        env["GODEBUG"] = "gctrace=1"
    cmd = [str(exe), exp, *args]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise CalibrationError(f"{' '.join(cmd[1:])} ran over {RUN_TIMEOUT_S:.0f} s") from None
    if proc.returncode != 0:
        raise CalibrationError(f"{' '.join(cmd[1:])} failed ({proc.returncode}):\n"
                               f"{proc.stderr.strip()[-2000:]}")
    recs = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if not recs:
        raise CalibrationError(f"{' '.join(cmd[1:])} printed no records")
    return recs, proc.stderr


# --------------------------------------------------------------------------
# The plan


@dataclass(frozen=True)
class Step:
    """One invocation of the calibration program."""

    variant: str
    exp: str
    args: tuple[str, ...]
    gomaxprocs: int = 1
    gctrace: bool = False


def _join(xs: Sequence[int]) -> str:
    return ",".join(str(x) for x in xs)


def plan(quick: bool) -> list[Step]:
    """The experiments of one pass (see calibration/main.go for each)."""
    MiB = 1 << 20
    reps = "3" if quick else "5"
    budget = str(16 * MiB if quick else 64 * MiB)
    scale = 2 if quick else 1
    noscan = [16, 64, 128, 256, 1024, 4096, 16384, 32760] if quick else \
        [16, 32, 48, 64, 96, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32760]
    scan = [16, 64, 128, 512, 2048] if quick else \
        [8, 16, 32, 48, 64, 96, 128, 256, 512, 1024, 2048, 4096, 8192, 16384]
    large = [36864, 131072, 1048576] if quick else [36864, 65536, 131072, 262144, 524288,
                                                    1048576]
    steps = [
        Step("greentea", "alloc", ("-kind", "noscan", "-sizes", _join(noscan), "-reps", reps,
                                   "-budget", budget)),
        Step("greentea", "alloc", ("-kind", "scan", "-sizes", _join(scan), "-reps", reps,
                                   "-budget", budget)),
        Step("greentea", "alloc", ("-kind", "tiny", "-sizes", "1,2,4,8", "-reps", reps,
                                   "-budget", budget)),
        Step("greentea", "refill", ("-kind", "noscan", "-sizes", "16,512", "-reps", reps,
                                    "-budget", str(8 * MiB if quick else 32 * MiB))),
        Step("greentea", "refill", ("-kind", "scan", "-sizes", "64,256", "-reps", reps,
                                    "-budget", str(8 * MiB if quick else 32 * MiB))),
        Step("greentea", "large", ("-kind", "noscan", "-sizes", _join(large), "-reps", reps,
                                   "-budget", budget)),
    ]
    ks = (0, 8) if quick else (0, 2, 4, 8)
    graphs: list[tuple[str, str, int, int]] = [("empty", "seq", 0, 0), ("nil", "seq", 8 * MiB, 0)]
    for order in ("seq", "rand"):
        graphs += [("noscan", order, 2 * MiB, 0), ("noscan2", order, 2 * MiB, 0)]
        graphs += [("scan8", order, MiB, k) for k in ks]
    graphs += [("scan2", "seq", MiB, 0)]
    spec = ",".join(f"{kind}:{order}:{n // scale}:{k}" for kind, order, n, k in graphs)
    steps += [Step(variant, "mark", ("-graphs", spec, "-reps", reps))
              for variant in ("greentea", "classic")]
    steps += [
        Step("bigglobals", "mark", ("-graphs", "empty:seq:0:0", "-reps", "7" if quick else "9")),
        Step("greentea", "mark", ("-graphs", "empty:seq:0:0", "-reps", "7" if quick else "9")),
        Step("greentea", "sweep", ("-n", str(2 * MiB // scale), "-reps", reps)),
        Step("greentea", "sched", ("-n", str(200_000 // scale), "-reps", reps)),
        Step("greentea", "wb", ("-n", str(MiB // scale), "-chunk", str(MiB // scale),
                                "-reps", reps), gomaxprocs=2),
        Step("greentea", "stack", ("-frames", "128,256,1024",
                                   "-depth", str(256 << 10 if quick else 1 << 20),
                                   "-reps", reps)),
    ]
    stw_reps = "20" if quick else "100"
    steps += [Step("greentea", "stw", ("-reps", stw_reps, "-k", "0"), P, True)
              for P in (1, 2, 4, 8)]
    steps += [Step("greentea", "stw", ("-reps", stw_reps, "-k", "1"), 2, True),
              Step("greentea", "stw", ("-reps", "15" if quick else "40", "-k", "0",
                                       "-n", str(400_000 // scale)), 1, True)]
    # Allocation-triggered cycles over a one-object ring: the empty heap's mark CPU.
    steps += [Step("greentea", "stw", ("-reps", stw_reps, "-k", "0", "-n", "1"), P, True)
              for P in (1, 2)]
    return steps


# --------------------------------------------------------------------------
# The command


def _trace_label(step: Step) -> str:
    """How ``calibfit`` finds a stw run's gctrace: spinners "0"/"1", "live", or
    "churn" (allocation over a one-object ring)."""
    a = step.args
    n = int(a[a.index("-n") + 1]) if "-n" in a else 0
    if n == 1:
        return "churn"
    if n > 1:
        return "live"
    return a[a.index("-k") + 1]


def machine_info() -> dict[str, Any]:
    """CPU model, AVX-512 and packed span scan flags (/proc/cpuinfo), CPU count, platform."""
    flags = hostcpu.cpu_flags()
    return {"cpu_model": hostcpu.cpu_model(), "cpus": os.cpu_count() or 1,
            "platform": platform.platform(),
            "avx512": any(x.startswith("avx512") for x in flags),
            "packed_span_scan": hostcpu.packed_span_scan()}


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def calibrate(quick: bool = False, passes: int | None = None,
              progress: Callable[[str], None] = lambda msg: None) -> Calibration:
    """Build, run and fit; see the module docstring.

    Raises
    ------
    CalibrationError
        No Go toolchain, or a build or run failed.
    """
    from gcsim.calibfit import fit_costs
    from gcsim.goruntime import gotool

    go = gotool.find_go()
    go_version = gotool.go_version() if go is not None else None
    if go is None or go_version is None:
        raise CalibrationError("no Go toolchain found (looked beside the Python executable and "
                               "on PATH): install the validate extra: "
                               "pip install 'gcsim[validate]'")
    root = calibration_root()
    if not (root / "main.go").is_file():
        raise CalibrationError(f"no calibration program in {root} (expected main.go)")
    t0 = time.perf_counter()
    exes = {}
    for variant in VARIANTS:
        t = time.perf_counter()
        exes[variant] = build(root, go, go_version, variant)
        progress(f"build {variant}: {time.perf_counter() - t:.1f} s")
    passes = passes or (1 if quick else 3)
    load_before = load_average()
    records: dict[tuple[str, str], list[dict[str, Any]]] = {}
    traces: dict[tuple[int, str], list[str]] = {}
    steps = plan(quick)
    for p in range(passes):
        for i, step in enumerate(steps):
            t = time.perf_counter()
            recs, stderr = run_experiment(exes[step.variant], step.exp, step.args,
                                          step.gomaxprocs, step.gctrace)
            for r in recs:
                r["variant"] = step.variant
                r["pass"] = p
            records.setdefault((step.variant, step.exp), []).extend(recs)
            if step.gctrace:
                traces.setdefault((step.gomaxprocs, _trace_label(step)), []).append(stderr)
            progress(f"pass {p + 1}/{passes} step {i + 1}/{len(steps)}: {step.variant} "
                     f"{step.exp} {' '.join(step.args)} ({time.perf_counter() - t:.1f} s, "
                     f"load {load_average()[:1]})")
    costs, entries = fit_costs(records, traces)
    raw_records = {"records": [r for recs in records.values() for r in recs],
                   "traces": [{"gomaxprocs": P, "k": k, "stderr": text}
                              for (P, k), texts in traces.items() for text in texts]}
    info = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "go_version": go_version,
        **machine_info(),
        "gomaxprocs": "1 (write_barrier_ns: 2; stw_per_p_ns: 1, 2, 4, 8)",
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "quick": quick,
        "passes": passes,
        "duration_s": round(time.perf_counter() - t0, 1),
        "gcsim_version": _gcsim_version(),
    }
    return Calibration(costs, info, entries, raw_records)


def refit(raw_records: dict[str, Any], info: dict[str, Any]) -> Calibration:
    """Fit again from the records a previous run saved (``<out>.records.json``)."""
    from gcsim.calibfit import fit_costs

    records: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in raw_records["records"]:
        records.setdefault((r["variant"], r["exp"]), []).append(r)
    traces: dict[tuple[int, str], list[str]] = {}
    for t in raw_records["traces"]:
        traces.setdefault((t["gomaxprocs"], t["k"]), []).append(t["stderr"])
    costs, entries = fit_costs(records, traces)
    return Calibration(costs, info, entries, raw_records)


def _gcsim_version() -> str:
    import gcsim

    return str(getattr(gcsim, "__version__", "unknown"))


def add_calibrate_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``calibrate`` subcommand to ``sub`` (an argparse subparsers object)."""
    c = sub.add_parser("calibrate", help="measure the cost table on this machine with real Go")
    c.add_argument("--out", default="calibration.toml",
                   help="TOML file to write (default: calibration.toml); the Go program's "
                        "records go beside it as <name>.records.json")
    c.add_argument("--quick", action="store_true", help="short runs (under a minute), for tests")
    c.add_argument("--passes", type=int, help="interleaved passes over the plan "
                                              "(default 3, --quick 1)")
    c.add_argument("--refit", action="store_true",
                   help="fit FILE again from FILE's .records.json instead of measuring")
    return c


def cmd_calibrate(args: argparse.Namespace) -> int:
    """``gcsim calibrate``: 0 written, 2 cannot run."""
    from gcsim.goruntime.costs import COSTS

    if args.passes is not None and args.passes < 1:
        raise CalibrationError(f"--passes must be >= 1, got {args.passes}")
    out = Path(args.out)
    records_path = out.with_name(out.stem + ".records.json")
    if args.refit:
        if not out.is_file() or not records_path.is_file():
            raise CalibrationError(f"--refit needs {out} and {records_path} from an earlier run")
        old = read_calibration(out)
        cal = refit(json.loads(records_path.read_text()), old.info)
    else:
        cal = calibrate(quick=args.quick, passes=args.passes,
                        progress=lambda msg: print(msg, file=sys.stderr, flush=True))
        records_path.parent.mkdir(parents=True, exist_ok=True)
        records_path.write_text(json.dumps(cal.records) + "\n")
    write_calibration(out, cal)
    print(f"wrote {args.out} ({len(cal.costs)} entries, {cal.info['duration_s']} s)")
    print(f"{'entry':28} {'default':>10} {'measured':>10}")
    for name, value in cal.costs.items():
        print(f"{name:28} {COSTS[name].default_ns:10.4g} {value:10.4g}")
    missing = [n for n in COSTS if n not in cal.costs]
    if missing:
        print(f"not measured (defaults stay): {', '.join(missing)}")
    return 0
