"""``gcsim trace FILE``: the summary figures of a real program's gctrace log.

A program run with ``GODEBUG=gctrace=1`` prints one line per GC cycle
(``metrics/gctrace.py`` parses both the current layout and the Go 1.6-1.17
one, mixed with any other output). This module turns those lines into the
figures ``gcsim run`` reports for its own runs, so a real program and a
simulation can be read side by side:

- GC count (and how many were forced);
- GC CPU fraction, two ways (see below);
- pause p50/p99/max, one pause per cycle: sweep-termination clock ``a`` plus
  mark-termination clock ``c``, Go's ``PauseNs`` semantics (with
  ``stw_mark``, for gcsim runs with ``gcstoptheworld = 1``, the mark clock
  ``b`` too, as gcsim's own summary counts it);
- MMU at 1/10/100 ms from ``metrics.mmu.gc_utilization_intervals``;
- peak heap (max H1), mean live heap (mean H2), mean goal, in whole MiB as
  printed.

Reconstructing the timeline
---------------------------
Each cycle gives ``@T`` (sweep-termination start, truncated to whole ms) and
its three phase clocks, so cycle i occupies ``[T_i, T_i + a + b + c)``. The
truncated ``@T`` can put a cycle's start before the previous cycle's end
(two cycles inside one millisecond both print ``@0.004s``); such a start is
moved to the previous end, so the intervals never overlap. The mark phase's
GC share is ``(e + f) / (P × b)``, assist plus dedicated/fractional worker
CPU over the mark's capacity; idle-worker CPU ``g`` is left out because it
only uses Ps the program left idle (Go leaves it out of GCCPUFraction too).

GC CPU fraction
---------------
*Reported*: the last line's ``U%``, Go's own ``GCCPUFraction`` at that
mark termination (cumulative since program start), truncated to a whole
percent.

*Recomputed*: ``Σ_i [(a_i + c_i)·P + e_i + f_i] / (P · t_end)`` with
``t_end`` the end of the last cycle, the same quantity with three more
digits and a per-cycle breakdown (``cycles.csv``). Go counts pause CPU from
the moment the world *has* stopped (``accumulateGCPauseTime(now -
stw.finishedStopping)``, mgc.go), while clock ``a`` runs from the start of
stopping; when stopping is slow the recomputed value is higher. In
tests/data/gctrace/go1.27.3_gomaxprocs2.txt sweep termination took 14 ms
and 7.5 ms in two cycles on a 2-CPU machine, and the recomputation gives
17.4 % against Go's 9 %; with GOMAXPROCS=1 the two agree (9.32 % vs 9 %).
It needs every cycle: it is computed over ``[0, t_end]`` when the lines run
from gc 1 without a gap, over ``[T_first, T_last)`` (whole GC periods) when
they start later without a gap, and not at all when cycles are missing; the
summary's ``gc_cpu_fraction`` then falls back to the reported value.

Several programs in one file
----------------------------
A log can hold several processes (``go test`` runs the compiler and the test
binary; logs get concatenated). A new *segment* starts where the cycle number
does not increase, ``@T`` goes back, or ``P`` changes. Counts, pauses and
heap figures cover all lines; the GC CPU fraction is the last segment's and
the MMU the worst over all segments.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gcsim.errors import GcsimError
from gcsim.metrics.gctrace import GCTraceLine, GCTraceParseError, parse_gctrace
from gcsim.metrics.mmu import gc_utilization_intervals, mmu
from gcsim.metrics.pauses import pause_percentiles

__all__ = [
    "MMU_WINDOWS_S",
    "TraceReport",
    "add_trace_parser",
    "analyse_gctrace",
    "cmd_trace",
    "cycle_intervals",
    "format_summary",
    "split_segments",
    "write_trace_report",
]

MMU_WINDOWS_S = (0.001, 0.010, 0.100)  # the windows gcsim's summary.json reports
UNBOUNDED_GOAL_MB = (2**64 - 1) >> 20  # GOGC=off / -1 prints "17592186044415 MB goal"


@dataclass(frozen=True)
class TraceReport:
    """What ``analyse_gctrace`` found: the summary and one table row per cycle."""

    summary: dict[str, Any]  # summary.json
    cycles: dict[str, list[Any]]  # cycles.csv, column -> values (None = empty cell)
    lines: list[GCTraceLine]
    segments: list[slice]  # index ranges into ``lines``
    intervals: dict[str, np.ndarray]  # per cycle, see cycle_intervals


def split_segments(lines: Sequence[GCTraceLine]) -> list[slice]:
    """Split gc lines into runs of one program (see the module docstring).

    A new segment starts where ``gc_number`` does not increase, ``@T`` goes
    back, or ``P`` changes. Gaps in the numbering (lines left out of a
    pasted log) stay inside a segment.

    Parameters
    ----------
    lines : sequence of GCTraceLine
        In file order.

    Returns
    -------
    list of slice
        Consecutive, non-empty index ranges covering ``lines``.
    """
    out: list[slice] = []
    lo = 0
    for i in range(1, len(lines)):
        prev, cur = lines[i - 1], lines[i]
        if (cur.gc_number <= prev.gc_number or cur.start_s < prev.start_s
                or cur.gomaxprocs != prev.gomaxprocs):
            out.append(slice(lo, i))
            lo = i
    if lines:
        out.append(slice(lo, len(lines)))
    return out


def cycle_intervals(
    lines: Sequence[GCTraceLine], gomaxprocs: int, *, stw_mark: bool = False
) -> dict[str, np.ndarray]:
    """Phase boundaries and GC CPU of consecutive cycles of one program.

    Parameters
    ----------
    lines : sequence of GCTraceLine
        One segment (``split_segments``), in order.
    gomaxprocs : int
        P used for the CPU capacity (the lines' own ``P P`` unless overridden).
    stw_mark : bool
        Count the mark phase as a stop-the-world pause (gcsim with
        ``gcstoptheworld = 1``): its CPU is then ``b × P``.

    Returns
    -------
    dict of str to float64[n]
        ``start_s, mark_start_s, mark_term_start_s, end_s`` (s since runtime
        init; starts moved past the previous end, see the module docstring),
        ``pause_ms`` (a + c, plus b with ``stw_mark``), ``mark_cpu_ms`` (GC
        CPU inside the mark phase: e + f, or b·P), ``gc_cpu_ms`` (pauses × P
        plus ``mark_cpu_ms``; what GCCPUFraction counts).
    """
    if gomaxprocs < 1:
        raise ValueError(f"gomaxprocs must be >= 1, got {gomaxprocs}")
    n = len(lines)
    start = np.empty(n)
    mark_start = np.empty(n)
    mark_term_start = np.empty(n)
    end = np.empty(n)
    prev_end = 0.0
    for i, ln in enumerate(lines):
        t0 = max(ln.start_s, prev_end)
        start[i] = t0
        mark_start[i] = t0 + ln.sweep_term_ms / 1e3
        mark_term_start[i] = mark_start[i] + ln.mark_ms / 1e3
        end[i] = mark_term_start[i] + ln.mark_term_ms / 1e3
        prev_end = end[i]
    a = np.array([ln.sweep_term_ms for ln in lines], dtype=np.float64)
    b = np.array([ln.mark_ms for ln in lines], dtype=np.float64)
    c = np.array([ln.mark_term_ms for ln in lines], dtype=np.float64)
    workers = np.array([ln.assist_cpu_ms + ln.background_cpu_ms for ln in lines],
                       dtype=np.float64)
    if stw_mark:
        pause = a + b + c
        mark_cpu = b * gomaxprocs
    else:
        pause = a + c
        mark_cpu = workers
    return {
        "start_s": start,
        "mark_start_s": mark_start,
        "mark_term_start_s": mark_term_start,
        "end_s": end,
        "pause_ms": pause,
        "mark_cpu_ms": mark_cpu,
        "gc_cpu_ms": (a + c) * gomaxprocs + mark_cpu,
    }


def _segment_cpu_fraction(
    seg: Sequence[GCTraceLine], iv: dict[str, np.ndarray], gomaxprocs: int
) -> tuple[float | None, str]:
    """Recomputed GC CPU fraction of one segment and the window it covers."""
    numbers = [ln.gc_number for ln in seg]
    contiguous = all(b == a + 1 for a, b in zip(numbers, numbers[1:], strict=False))
    if not contiguous:
        return None, f"gc {numbers[0]}..{numbers[-1]} has gaps: cycles are missing"
    if numbers[0] == 1:
        t_end = float(iv["end_s"][-1])
        if t_end <= 0:
            return None, "the cycles end at time 0"
        frac = float(iv["gc_cpu_ms"].sum()) / 1e3 / (gomaxprocs * t_end)
        return frac, f"since program start, gc 1..{numbers[-1]} (0 to {t_end:.3f} s)"
    span = float(iv["start_s"][-1] - iv["start_s"][0])
    if len(seg) < 2 or span <= 0:
        return None, f"gc {numbers[0]}..{numbers[-1]} does not start at gc 1 and spans no time"
    frac = float(iv["gc_cpu_ms"][:-1].sum()) / 1e3 / (gomaxprocs * span)
    return frac, (f"gc {numbers[0]}..{numbers[-2]} over whole GC periods "
                  f"({iv['start_s'][0]:.3f} to {iv['start_s'][-1]:.3f} s)")


def _segment_mmu(iv: dict[str, np.ndarray], gomaxprocs: int) -> np.ndarray:
    """MMU at MMU_WINDOWS_S over [0, end of the segment's last cycle]."""
    total_s = float(iv["end_s"][-1]) if iv["end_s"].size else 0.0
    if total_s <= 0:
        return np.ones(len(MMU_WINDOWS_S))
    start, end, frac = gc_utilization_intervals(
        iv["start_s"], iv["mark_start_s"], iv["mark_term_start_s"], iv["end_s"],
        iv["mark_cpu_ms"] / 1e3, gomaxprocs)
    return mmu(start, end, frac, total_s, np.array(MMU_WINDOWS_S))


def _mmu_dict(values: Sequence[float]) -> dict[str, float]:
    return {f"{w * 1e3:g}ms": float(v) for w, v in zip(MMU_WINDOWS_S, values, strict=True)}


def analyse_gctrace(
    lines: Sequence[GCTraceLine],
    *,
    gomaxprocs: int | None = None,
    stw_mark: bool = False,
    source: str = "",
) -> TraceReport:
    """The summary figures of parsed gctrace lines (see the module docstring).

    Parameters
    ----------
    lines : sequence of GCTraceLine
        From ``parse_gctrace``; at least one.
    gomaxprocs : int, optional
        Use this P for every cycle instead of each line's ``P P``.
    stw_mark : bool
        The mark phase is a pause (gcsim with ``gcstoptheworld = 1``).
    source : str
        Where the lines came from, for the summary.

    Returns
    -------
    TraceReport

    Raises
    ------
    GcsimError
        No gc lines, or ``gomaxprocs < 1``.
    """
    lines = list(lines)
    if not lines:
        raise GcsimError(f"{source or 'the input'}: no GODEBUG=gctrace=1 lines found "
                         "(run the program with GODEBUG=gctrace=1 and capture its stderr)")
    if gomaxprocs is not None and gomaxprocs < 1:
        raise GcsimError(f"--gomaxprocs must be >= 1, got {gomaxprocs}")
    segments = split_segments(lines)
    seg_info: list[dict[str, Any]] = []
    cols: dict[str, list[Any]] = {k: [] for k in (
        "segment", "start_s", "mark_start_s", "mark_term_start_s", "end_s",
        "pause_ms", "mark_cpu_ms", "gc_cpu_ms")}
    mmu_all: list[np.ndarray] = []
    all_iv: list[dict[str, np.ndarray]] = []
    last_frac: tuple[float | None, str] = (None, "")
    for k, sl in enumerate(segments):
        seg = lines[sl]
        P = gomaxprocs or seg[0].gomaxprocs
        iv = cycle_intervals(seg, P, stw_mark=stw_mark)
        all_iv.append(iv)
        frac, basis = _segment_cpu_fraction(seg, iv, P)
        m = _segment_mmu(iv, P)
        mmu_all.append(m)
        last_frac = (frac, basis)
        seg_info.append({
            "first_gc": seg[0].gc_number, "last_gc": seg[-1].gc_number, "lines": len(seg),
            "first_line": seg[0].line_number, "gomaxprocs": P,
            "start_s": float(iv["start_s"][0]), "end_s": float(iv["end_s"][-1]),
            "gc_cpu_fraction": frac, "gc_cpu_basis": basis,
            "gc_cpu_fraction_reported": seg[-1].gc_cpu_percent / 100.0,
            "mmu": _mmu_dict(m),
        })
        cols["segment"] += [k] * len(seg)
        for name in cols:
            if name != "segment":
                cols[name] += [float(x) for x in iv[name]]
    intervals = {name: np.concatenate([iv[name] for iv in all_iv]) for name in all_iv[0]}

    pauses_ns = intervals["pause_ms"] * 1e6
    pct = pause_percentiles(pauses_ns)
    h1 = np.array([ln.heap_end_mb for ln in lines])
    h2 = np.array([ln.heap_live_mb for ln in lines], dtype=np.float64)
    goals = np.array([ln.heap_goal_mb for ln in lines if ln.heap_goal_mb < UNBOUNDED_GOAL_MB],
                     dtype=np.float64)
    layouts = {ln.stacks_mb is not None for ln in lines}
    reported = lines[-1].gc_cpu_percent / 100.0
    frac, basis = last_frac
    summary: dict[str, Any] = {
        "source": source,
        "layout": ("mixed" if len(layouts) > 1 else
                   "go1.18+ (with stacks and globals)" if True in layouts else
                   "go1.6-1.17 (no stacks, globals)"),
        "segments": seg_info,
        "gomaxprocs": seg_info[-1]["gomaxprocs"],
        "gc_count": len(lines),
        "forced_gc_count": sum(ln.forced for ln in lines),
        "duration_s": seg_info[-1]["end_s"],
        "gc_cpu_fraction": frac if frac is not None else reported,
        "gc_cpu_percent": 100.0 * (frac if frac is not None else reported),
        "gc_cpu_fraction_source": "recomputed" if frac is not None else "reported (U%)",
        "gc_cpu_fraction_recomputed": frac,
        "gc_cpu_fraction_reported": reported,
        "gc_cpu_basis": basis,
        "pause_includes_mark": stw_mark,
        "pause_ns": pct,
        "pause_p50_ms": pct["p50"] / 1e6,
        "pause_p99_ms": pct["p99"] / 1e6,
        "pause_p999_ms": pct["p999"] / 1e6,
        "pause_max_ms": pct["max"] / 1e6,
        "mark_wall_p50_ms": float(np.median([ln.mark_ms for ln in lines])),
        "mmu": _mmu_dict(np.min(np.vstack(mmu_all), axis=0)),
        "peak_heap_mib": int(h1.max()),
        "mean_heap_live_mib": float(h2.mean()),
        "mean_heap_goal_mib": float(goals.mean()) if goals.size else None,
    }

    # cycles.csv: the parsed fields under their GCTraceLine names, then the timeline.
    table: dict[str, list[Any]] = {"segment": cols["segment"]}
    for field in _CSV_FIELDS:
        table[field] = [getattr(ln, field) for ln in lines]
    for name in ("start_s", "mark_start_s", "mark_term_start_s", "end_s", "pause_ms",
                 "mark_cpu_ms", "gc_cpu_ms"):
        table["t_" + name if name.endswith("_s") else name] = cols[name]
    return TraceReport(summary, table, lines, segments, intervals)


# Parsed fields written to cycles.csv, in order (GCTraceLine names).
_CSV_FIELDS = (
    "gc_number", "line_number", "start_s", "gc_cpu_percent", "sweep_term_ms", "mark_ms",
    "mark_term_ms", "sweep_term_cpu_ms", "assist_cpu_ms", "background_cpu_ms", "idle_cpu_ms",
    "mark_term_cpu_ms", "heap_start_mb", "heap_end_mb", "heap_live_mb", "heap_goal_mb",
    "stacks_mb", "globals_mb", "gomaxprocs", "forced", "gc_forced_line",
    "checking_goroutine_leaks",
)


# --------------------------------------------------------------------------
# Output


def _write_text_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _csv_text(table: dict[str, list[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    names = list(table)
    w.writerow(names)
    for row in zip(*(table[n] for n in names), strict=True):
        w.writerow(["" if v is None else int(v) if isinstance(v, bool) else
                    repr(v) if isinstance(v, float) else v for v in row])
    return buf.getvalue()


def _json_text(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n"


def write_trace_report(report: TraceReport, out_dir: str | os.PathLike[str], *,
                       plots: bool = True) -> list[Path]:
    """Write summary.json, cycles.csv and heap/pauses/mmu.png into ``out_dir``.

    Each file is written to a temp name and renamed into place. Returns the
    files written.
    """
    import gcsim

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("summary.json", _json_text(report.summary)),
                       ("cycles.csv", _csv_text(report.cycles))):
        _write_text_atomic(out / name, text)
        written.append(out / name)
    if plots:
        written += _figures(report, out, {"source": Path(report.summary["source"]).name or "-",
                                          "gcsim": gcsim.__version__})
    return written


def _figures(report: TraceReport, out: Path, metadata: dict[str, str]) -> list[Path]:
    from gcsim import plot
    from gcsim.metrics.mmu import mmu_curve

    lines = report.lines
    written: list[Path] = []
    one = len(report.segments) == 1
    x = report.intervals["start_s"] if one else np.arange(1, len(lines) + 1)
    goal = np.array([np.nan if ln.heap_goal_mb >= UNBOUNDED_GOAL_MB else ln.heap_goal_mb
                     for ln in lines])
    fig, ax = plot.new_figure()
    plot.plot_heap_cycles(ax, x, [ln.heap_start_mb for ln in lines],
                          [ln.heap_end_mb for ln in lines], [ln.heap_live_mb for ln in lines],
                          goal, xlabel="time since program start (s)" if one
                          else "GC cycle (file order; several programs)")
    written += plot.save_figure(fig, out / "heap", metadata)

    fig, ax = plot.new_figure()
    label = "per-cycle pause (a + b + c)" if report.summary["pause_includes_mark"] \
        else "per-cycle pause (a + c)"
    plot.plot_pause_distribution(ax, report.intervals["pause_ms"] * 1e6, label=label)
    written += plot.save_figure(fig, out / "pauses", metadata)

    fig, ax = plot.new_figure()
    for k, sl in enumerate(report.segments):
        seg = lines[sl]
        P = report.summary["segments"][k]["gomaxprocs"]
        iv = {name: arr[sl] for name, arr in report.intervals.items()}
        total_s = float(iv["end_s"][-1])
        if total_s <= 0:
            continue
        start, end, frac = gc_utilization_intervals(
            iv["start_s"], iv["mark_start_s"], iv["mark_term_start_s"], iv["end_s"],
            iv["mark_cpu_ms"] / 1e3, P)
        w, v = mmu_curve(start, end, frac, total_s, n=60)
        label = f"{P} P" if one else f"gc {seg[0].gc_number}..{seg[-1].gc_number}, {P} P"
        plot.plot_mmu(ax, w, v, label=label)
    written += plot.save_figure(fig, out / "mmu", metadata)
    return written


def format_summary(s: dict[str, Any]) -> list[str]:
    """The few lines ``gcsim trace`` prints, like ``gcsim run``'s."""
    out = [f"  {s['gc_count']} GC cycles ({s['forced_gc_count']} forced) over "
           f"{s['duration_s']:.3f} s, GOMAXPROCS={s['gomaxprocs']}, {s['layout']} layout"]
    if len(s["segments"]) > 1:
        out.append(f"  {len(s['segments'])} programs in one log (cycle numbers restart or P "
                   "changes): GC CPU is the last one's, MMU the worst of all")
    rep = 100 * s["gc_cpu_fraction_reported"]
    if s["gc_cpu_fraction_recomputed"] is not None:
        out.append(f"  GC CPU: {s['gc_cpu_percent']:.2f} % (recomputed from the clock and cpu "
                   f"fields; Go's own U%: {rep:.0f} %)")
        if abs(s["gc_cpu_percent"] - rep) > 1.0:
            out.append("    (they differ: clock 'a' includes the time to stop the world, "
                       "which GCCPUFraction leaves out)")
    else:
        out.append(f"  GC CPU: {rep:.0f} % (Go's own U%; not recomputed: {s['gc_cpu_basis']})")
    pause = "a + b + c (mark stops the world)" if s["pause_includes_mark"] else "a + c"
    out.append(f"  pause p50 / p99 / max: {s['pause_p50_ms']:.3f} / {s['pause_p99_ms']:.3f} / "
               f"{s['pause_max_ms']:.3f} ms   (per cycle: {pause})")
    m = s["mmu"]
    out.append(f"  MMU 1 / 10 / 100 ms: {m['1ms']:.3f} / {m['10ms']:.3f} / {m['100ms']:.3f}")
    goal = "n/a" if s["mean_heap_goal_mib"] is None else f"{s['mean_heap_goal_mib']:.1f} MiB"
    out.append(f"  peak heap (H1): {s['peak_heap_mib']} MiB   mean live (H2): "
               f"{s['mean_heap_live_mib']:.1f} MiB   mean goal: {goal}")
    return out


# --------------------------------------------------------------------------
# Command line


def add_trace_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``trace`` subcommand to ``sub`` (an argparse subparsers object)."""
    t = sub.add_parser("trace", help="summarise a real program's GODEBUG=gctrace=1 log")
    t.add_argument("file", help="program output holding gctrace lines (other lines are ignored)")
    t.add_argument("--out", help="report folder (default: results/trace-<file stem>)")
    t.add_argument("--gomaxprocs", type=int,
                   help="P for the CPU figures instead of each line's 'N P'")
    t.add_argument("--stw-mark", action=argparse.BooleanOptionalAction, default=None,
                   help="count the mark phase as a pause (gcsim runs with gcstoptheworld = 1; "
                        "default: on when a config.toml beside FILE says so)")
    t.add_argument("--no-plots", action="store_true", help="skip heap.png, pauses.png, mmu.png")
    return t


def _stw_mark_beside(path: Path) -> bool:
    """Whether ``path`` sits in a gcsim results folder of a gcstoptheworld=1 run."""
    cfg = path.parent / "config.toml"
    try:
        with open(cfg, "rb") as f:
            raw = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return False
    runtime = raw.get("runtime")
    return isinstance(runtime, dict) and runtime.get("gcstoptheworld") == 1


def cmd_trace(args: argparse.Namespace) -> int:
    """``gcsim trace``: parse, summarise, write the folder, print the summary."""
    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise GcsimError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        lines = parse_gctrace(text)
    except GCTraceParseError as e:
        raise GcsimError(
            f"{path}: {e} -- a gc line was cut by other output (the runtime's print lock does "
            "not cover writes through os.Stderr); fix or delete that line") from None
    stw = args.stw_mark if args.stw_mark is not None else _stw_mark_beside(path)
    report = analyse_gctrace(lines, gomaxprocs=args.gomaxprocs, stw_mark=stw,
                             source=str(path))
    out = Path(args.out) if args.out else Path("results") / f"trace-{path.stem}"
    write_trace_report(report, out, plots=not args.no_plots)
    print(f"results: {out}")
    if stw and args.stw_mark is None:
        print("  (config.toml beside the file has gcstoptheworld = 1: the mark phase counts "
              "as pause)")
    for line in format_summary(report.summary):
        print(line)
    return 0
