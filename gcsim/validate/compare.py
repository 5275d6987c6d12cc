"""Predicted vs measured: the figures ``gcsim validate`` compares, and their errors.

Each figure is computed the same way on both sides wherever the two sides
print the same thing, so rounding cannot pass for model error:

================  =====  ===================================================
figure            unit   gcsim (prediction) / Go (measurement)
================  =====  ===================================================
gc_count          --     gctrace lines of the run
heap_goal         MiB    gctrace ``G MB goal`` per cycle; cycles matched by
                         number (gc k vs gc k, forced ones left out). Value:
                         the median goal; error: the median of the per-cycle
                         relative errors (signed)
peak_heap         MiB    max gctrace H1 (heap when marking ended)
gc_cpu            %      summary ``gc_cpu_fraction`` / MemStats.GCCPUFraction
mark_wall         ms     median gctrace mark clock ``b`` (unforced cycles)
mark_cpu          ms     median gctrace mark CPU ``e + f + g`` (assist +
                         background + idle, unforced cycles): the mark's cost
                         apart from how the scheduler spread it over time
pause_p50         ms     per-cycle pause, PauseNs semantics: summary
pause_max         ms     ``pause_ns`` / the program's MemStats.PauseNs ring
stack_inuse       KiB    MemStats.StackInuse, when gcsim models stacks
pool_hit_rate     %      sync.Pool Gets served without New, when gcsim models
                         pools and the program reports ``pool.hit_rate``
run_time          s      the workload's wall time, the inverse of its
                         throughput: summary ``duration_s`` / the program's
                         ``elapsed_ns`` (its loop, setup excluded)
ref_mark          ns     not the twin: the calibration's reference graph
                         marked by Go around the twin's runs
                         (``speedprobe.py``) / the cost table's price of it,
                         per object; the machine's marking speed now
================  =====  ===================================================

The measurement of a figure is the median over repeats, with its min..max.
The relative error is ``(prediction - median) / median`` (for heap_goal the
median over repeats of the per-cycle median error); it is None when the
measurement is 0 or either side lacks the figure.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gcsim.errors import ValidationError
from gcsim.metrics.gctrace import GCTraceLine

__all__ = [
    "FIGURES",
    "FigureRow",
    "SideFigures",
    "compare",
    "check_thresholds",
    "probe_row",
    "go_side",
    "load_thresholds",
    "run_delta",
    "run_gc_cpu_fraction",
    "sim_side",
]

#: figure -> (label for tables, unit)
FIGURES: dict[str, tuple[str, str]] = {
    "gc_count": ("GC cycles", ""),
    "heap_goal": ("heap goal per cycle", "MiB"),
    "peak_heap": ("peak heap (max H1)", "MiB"),
    "gc_cpu": ("GC CPU fraction", "%"),
    "mark_wall": ("mark wall time (median)", "ms"),
    "mark_cpu": ("mark CPU per cycle (median)", "ms"),
    "pause_p50": ("pause p50", "ms"),
    "pause_max": ("pause max", "ms"),
    "stack_inuse": ("StackInuse", "KiB"),
    "pool_hit_rate": ("sync.Pool hit rate", "%"),
    "run_time": ("run time (wall)", "s"),
    "ref_mark": ("reference graph mark, per object", "ns"),
}
#: Figures that are not a run's: ``compare`` leaves them to their own row makers.
PROBE_FIGURES = ("ref_mark",)


@dataclass
class SideFigures:
    """One run's figures (one gcsim run or one Go run)."""

    lines: list[GCTraceLine]
    gc_cpu_fraction: float | None
    pause_ns: np.ndarray  # per cycle, ns
    stack_inuse_bytes: int | None = None  # None: not reported / not modelled
    pool_hit_rate: float | None = None  # fraction
    run_time_s: float | None = None  # the workload's wall time: throughput's inverse
    extra: dict[str, Any] = field(default_factory=dict)

    def scalar(self, name: str) -> float | None:
        """The figure ``name`` (not heap_goal) in its table unit, or None."""
        unforced = [ln for ln in self.lines if not ln.forced]
        if name == "gc_count":
            return float(len(self.lines))
        if name == "peak_heap":
            return float(max(ln.heap_end_mb for ln in self.lines)) if self.lines else None
        if name == "gc_cpu":
            return None if self.gc_cpu_fraction is None else 100.0 * self.gc_cpu_fraction
        if name == "mark_wall":
            return float(np.median([ln.mark_ms for ln in unforced])) if unforced else None
        if name == "mark_cpu":
            return float(np.median([ln.mark_cpu_ms for ln in unforced])) if unforced else None
        if name == "pause_p50":
            return float(np.median(self.pause_ns)) / 1e6 if self.pause_ns.size else None
        if name == "pause_max":
            return float(self.pause_ns.max()) / 1e6 if self.pause_ns.size else None
        if name == "stack_inuse":
            return None if self.stack_inuse_bytes is None else self.stack_inuse_bytes / 1024
        if name == "pool_hit_rate":
            return None if self.pool_hit_rate is None else 100.0 * self.pool_hit_rate
        if name == "run_time":
            return self.run_time_s
        raise KeyError(name)


def sim_side(result: Any) -> SideFigures:
    """gcsim's figures from a ``run.RunResult``.

    The gctrace lines are the ones ``gcsim run`` writes (so H1 and the goal
    carry Go's MiB truncation, as the measured ones do); pauses are the
    per-cycle pause records (PauseNs semantics), GC CPU the summary's.
    StackInuse 0 means stacks are not modelled yet and the figure is left out.
    """
    from gcsim.metrics import summary as M
    from gcsim.metrics.gctrace import parse_gctrace

    hz = result.config.run.clock_hz
    P = result.config.run.gomaxprocs
    lines = parse_gctrace("\n".join(M.gctrace_lines(result.cycles, hz, P)))
    s = M.summary(result)
    stack = int(M.memstats(result).get("StackInuse", 0))
    return SideFigures(
        lines=lines,
        gc_cpu_fraction=float(s["gc_cpu_fraction"]),
        pause_ns=M.pauses_cycles(result.cycles) * (1e9 / hz),
        stack_inuse_bytes=stack if stack > 0 else None,
        pool_hit_rate=s.get("pool_hit_rate"),
        run_time_s=float(s["duration_s"]),
        extra={"summary": s},
    )


GC_TOTAL_METRIC = "/cpu/classes/gc/total:cpu-seconds"
GC_IDLE_METRIC = "/cpu/classes/gc/mark/idle:cpu-seconds"


def run_delta(report: dict[str, Any], metric: str) -> float | None:
    """A runtime/metrics value's change over the workload alone: its value at the end
    less the one goreport.Start took as the workload began (0 without that snapshot's
    value would overstate it, so None then)."""
    start = report.get("metrics_at_start")
    end = report.get("metrics", {}).get(metric)
    if not isinstance(start, dict) or end is None or start.get(metric) is None:
        return None
    return float(end) - float(start[metric])


def run_gc_cpu_fraction(report: dict[str, Any]) -> float | None:
    """GCCPUFraction over the workload alone: GC CPU less idle marking (as
    memstats.gc_cpu_fraction counts it, mgc.go) over the workload's wall time x
    GOMAXPROCS; None for a report without the start snapshot.

    Go's own GCCPUFraction counts from process start, and a twin spends 0.1 s or
    more before its workload (timing its loop in a child, building its tables),
    which dilutes it by 5-10 % on a 1-2 s run; gcsim's run is the workload alone.
    """
    gc, idle = run_delta(report, GC_TOTAL_METRIC), run_delta(report, GC_IDLE_METRIC)
    elapsed_ns = report.get("elapsed_ns") or 0
    procs = report.get("gomaxprocs") or 0
    if gc is None or idle is None or elapsed_ns <= 0 or procs <= 0:
        return None
    return (gc - idle) / (elapsed_ns / 1e9 * procs)


def go_side(lines: list[GCTraceLine], report: dict[str, Any]) -> SideFigures:
    """A Go run's figures from its gctrace lines and final JSON report.

    Pauses come from the report's ``pause_ns`` (MemStats.PauseNs, exact); a
    report without it falls back to gctrace ``a + c`` (truncated by Go's
    printing). The GC CPU fraction is the workload's (``run_gc_cpu_fraction``)
    where the twin marked its start, else MemStats.GCCPUFraction.
    """
    ms = report.get("memstats", {})
    if report.get("pause_ns"):
        pauses = np.asarray(report["pause_ns"], dtype=np.float64)
    else:
        pauses = np.array([(ln.sweep_term_ms + ln.mark_term_ms) * 1e6 for ln in lines])
    frac = run_gc_cpu_fraction(report)
    if frac is None:
        frac = ms.get("GCCPUFraction")
    pool = report.get("pool") or {}
    elapsed_ns = report.get("elapsed_ns")
    return SideFigures(
        lines=lines,
        gc_cpu_fraction=None if frac is None else float(frac),
        pause_ns=pauses,
        stack_inuse_bytes=ms.get("StackInuse"),
        pool_hit_rate=pool.get("hit_rate"),
        run_time_s=None if elapsed_ns is None else elapsed_ns / 1e9,
        extra={"metrics": report.get("metrics", {}), "elapsed_ns": elapsed_ns},
    )


def _goal_pairs(sim: list[GCTraceLine], go: list[GCTraceLine]) -> tuple[np.ndarray, np.ndarray]:
    """Goals (MiB) of cycles numbered alike on both sides, neither forced."""
    by_n = {ln.gc_number: ln for ln in go}
    pairs = [(s.heap_goal_mb, by_n[s.gc_number].heap_goal_mb) for s in sim
             if s.gc_number in by_n and not s.forced and not by_n[s.gc_number].forced]
    if not pairs:
        return np.zeros(0), np.zeros(0)
    a = np.array(pairs, dtype=np.float64)
    return a[:, 0], a[:, 1]


@dataclass(frozen=True)
class FigureRow:
    """One line of the validation table."""

    figure: str
    predicted: float | None
    measured: list[float]  # one per repeat that reports the figure
    rel_error: float | None
    note: str = ""

    @property
    def label(self) -> str:
        return FIGURES[self.figure][0]

    @property
    def unit(self) -> str:
        return FIGURES[self.figure][1]

    @property
    def measured_median(self) -> float | None:
        return float(np.median(self.measured)) if self.measured else None


def _rel(pred: float | None, meas: float | None) -> float | None:
    if pred is None or meas is None or meas == 0:
        return None
    return (pred - meas) / meas


def compare(sim: SideFigures, go_runs: Sequence[SideFigures]) -> list[FigureRow]:
    """The table rows for one setting: gcsim against every repeat of Go.

    stack_inuse, pool_hit_rate and run_time rows appear only when both sides
    report the figure.
    """
    rows: list[FigureRow] = []
    for name in FIGURES:
        if name in PROBE_FIGURES:
            continue
        if name == "heap_goal":
            errs, goals, n_pairs = [], [], []
            pred_goal: float | None = None
            for g in go_runs:
                s_goal, g_goal = _goal_pairs(sim.lines, g.lines)
                if s_goal.size:
                    errs.append(float(np.median((s_goal - g_goal) / g_goal)))
                    goals.append(float(np.median(g_goal)))
                    n_pairs.append(s_goal.size)
                    pred_goal = float(np.median(s_goal)) if pred_goal is None else pred_goal
            note = (f"{min(n_pairs)}-{max(n_pairs)} matched cycles" if n_pairs
                    else "no cycles to match")
            rows.append(FigureRow(name, pred_goal, goals,
                                  float(np.median(errs)) if errs else None, note))
            continue
        pred = sim.scalar(name)
        meas = [v for v in (g.scalar(name) for g in go_runs) if v is not None]
        if name in ("stack_inuse", "pool_hit_rate", "run_time") and (pred is None or not meas):
            continue
        med = float(np.median(meas)) if meas else None
        rows.append(FigureRow(name, pred, meas, _rel(pred, med)))
    return rows


def probe_row(model_ns: float, probes_ns: Sequence[float]) -> FigureRow:
    """The ``ref_mark`` row: the cost table's price of the reference graph against the
    speed probes' measurements (``speedprobe.py``), ns per object."""
    med = float(np.median(probes_ns)) if probes_ns else None
    return FigureRow("ref_mark", model_ns, list(probes_ns), _rel(model_ns, med),
                     f"{len(probes_ns)} probes around the Go runs")


def load_thresholds(path: Path) -> dict[str, dict[str, float]]:
    """validation/thresholds.toml: ``[twin] figure = max relative error``.

    Raises
    ------
    ValidationError
        Unreadable file, a figure name that does not exist, or a value that
        is not a number >= 0.
    """
    if not path.is_file():
        return {}
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ValidationError(f"{path}: not valid TOML: {e}") from None
    out: dict[str, dict[str, float]] = {}
    for twin, table in raw.items():
        if not isinstance(table, dict):
            raise ValidationError(f"{path}: [{twin}] must be a table of figure = max error")
        out[twin] = {}
        for fig, value in table.items():
            if fig not in FIGURES:
                raise ValidationError(f"{path}: [{twin}] {fig}: not a figure; known: "
                                      + ", ".join(FIGURES))
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValidationError(f"{path}: [{twin}] {fig} = {value!r}: expected a number "
                                      ">= 0 (a relative error, 0.1 = 10 %)")
            out[twin][fig] = float(value)
    return out


def check_thresholds(rows: Sequence[FigureRow], limits: dict[str, float]) -> list[str]:
    """The figures of ``rows`` whose |error| exceeds their threshold, described."""
    failed = []
    for r in rows:
        limit = limits.get(r.figure)
        if limit is not None and r.rel_error is not None and abs(r.rel_error) > limit:
            failed.append(f"{r.label}: error {100 * r.rel_error:+.1f} % exceeds "
                          f"{100 * limit:.0f} %")
    return failed
