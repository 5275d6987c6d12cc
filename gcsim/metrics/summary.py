"""A run's records -> Go's figures: gctrace lines, MemStats, cycle and timeline tables, summary.

Everything here is vectorised NumPy over the per-cycle and timeline records
(``engine.state.CYCLE_DTYPE``/``TIMELINE_DTYPE``); cycles become seconds and
nanoseconds only here, with ``run.clock_hz``.

GC CPU, as Go counts it for GCCPUFraction (src/runtime/mstats.go, reference
§8.1): STW pause wall time x GOMAXPROCS, plus assist, dedicated and fractional
worker time; idle-worker time is excluded. While marking runs with the world
stopped the whole mark phase is pause, so its CPU is the pause x GOMAXPROCS
and the worker time inside it is not added twice.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gcsim.engine import rtmem
from gcsim.engine.state import (
    C_MAX_PAGES_MAPPED,
    C_N_SPAN_RECORDS,
    C_PAGES_FAULTED,
    C_PAGES_RELEASED,
    C_SCAV_ASSIST_CYCLES,
    C_SCAV_ASSIST_PAGES,
    C_SLOT_ALLOCS,
    C_SLOT_FREES,
    C_SWEEP_CYCLES,
    C_TINY_ALLOCS,
    C_TOTAL_ALLOC_BYTES,
    NO_GOAL_BYTES,
)
from gcsim.goruntime import sizeclasses as scl
from gcsim.metrics.fragmentation import class_occupancy, fragmentation_summary
from gcsim.metrics.gctrace import format_gctrace_line
from gcsim.metrics.mmu import gc_utilization_intervals, mmu
from gcsim.metrics.pauses import pause_percentiles
from gcsim.metrics.pools import pool_summary

MMU_WINDOWS_S = (0.001, 0.010, 0.100)
GOAL_UNBOUNDED_BYTES = 1 << 62  # goals above this are "no goal" (GOGC=off, no limit)
BYSIZE_CLASSES = 61  # MemStats.BySize covers classes 0..60 (reference §8.1)
PAUSE_RING = 256


def _ns(cycles: np.ndarray | int, clock_hz: float) -> np.ndarray:
    return np.asarray(cycles, dtype=np.float64) * (1e9 / clock_hz)


def pauses_cycles(cyc: np.ndarray) -> np.ndarray:
    """Per-cycle stop-the-world time (PauseNs semantics), cycles."""
    return (cyc["sweep_term_pause_cycles"] + cyc["mark_pause_cycles"]
            + cyc["mark_term_pause_cycles"]).astype(np.int64)


def gc_cpu_cycles(cyc: np.ndarray, gomaxprocs: int) -> np.ndarray:
    """Per-cycle GC CPU as GCCPUFraction counts it, cycles (see module doc)."""
    stw_mark = cyc["mark_pause_cycles"] > 0
    workers = cyc["assist_cycles"] + np.where(stw_mark, 0, cyc["background_cycles"])
    return pauses_cycles(cyc) * gomaxprocs + workers


def gctrace_lines(cyc: np.ndarray, clock_hz: float, gomaxprocs: int) -> list[str]:
    """One ``GODEBUG=gctrace=1`` line per cycle, exactly as Go prints them.

    U% is the cumulative GC CPU fraction at the cycle's mark termination.
    """
    cum_cpu = np.cumsum(gc_cpu_cycles(cyc, gomaxprocs))
    lines = []
    for i, r in enumerate(cyc):
        elapsed = float(r["end_cycles"]) * gomaxprocs
        frac = float(cum_cpu[i]) / elapsed if elapsed > 0 else 0.0
        k = 1e9 / clock_hz

        def ns(x: Any) -> int:
            return int(float(x) * k)  # noqa: B023 - k is loop-invariant

        mark_ns = ns(r["mark_term_start_cycles"] - r["mark_start_cycles"])
        lines.append(format_gctrace_line(
            gc_number=int(r["gc_number"]),
            start_ns=ns(r["start_cycles"]),
            gc_cpu_fraction=frac,
            sweep_term_ns=ns(r["sweep_term_pause_cycles"]),
            mark_ns=mark_ns,
            mark_term_ns=ns(r["mark_term_pause_cycles"]),
            sweep_term_cpu_ns=ns(r["sweep_term_pause_cycles"]) * gomaxprocs,
            assist_cpu_ns=ns(r["assist_cycles"]),
            background_cpu_ns=ns(r["background_cycles"]),
            idle_cpu_ns=ns(r["idle_cycles"]),
            mark_term_cpu_ns=ns(r["mark_term_pause_cycles"]) * gomaxprocs,
            heap_start_bytes=int(r["heap_live_start_bytes"]),
            heap_end_bytes=int(r["heap_live_end_bytes"]),
            heap_live_bytes=int(r["heap_marked_bytes"]),
            heap_goal_bytes=int(r["heap_goal_bytes"]),
            stacks_bytes=int(r["stack_scan_bytes"]),
            globals_bytes=int(r["globals_scan_bytes"]),
            gomaxprocs=gomaxprocs,
            forced=bool(r["forced"]),
        ))
    return lines


def cycle_table(cyc: np.ndarray, clock_hz: float, gomaxprocs: int) -> dict[str, np.ndarray]:
    """One tidy row per GC cycle: times in s/ns, CPU split, heap figures in bytes."""
    s = 1.0 / clock_hz
    return {
        "gc": cyc["gc_number"],
        "forced": cyc["forced"],
        "start_s": cyc["start_cycles"] * s,
        "mark_start_s": cyc["mark_start_cycles"] * s,
        "mark_term_start_s": cyc["mark_term_start_cycles"] * s,
        "end_s": cyc["end_cycles"] * s,
        "sweep_term_pause_ns": _ns(cyc["sweep_term_pause_cycles"], clock_hz),
        "mark_pause_ns": _ns(cyc["mark_pause_cycles"], clock_hz),
        "mark_term_pause_ns": _ns(cyc["mark_term_pause_cycles"], clock_hz),
        "pause_ns": _ns(pauses_cycles(cyc), clock_hz),
        "mark_wall_ns": _ns(cyc["mark_term_start_cycles"] - cyc["mark_start_cycles"], clock_hz),
        "assist_cpu_ns": _ns(cyc["assist_cycles"], clock_hz),
        "background_cpu_ns": _ns(cyc["background_cycles"], clock_hz),
        "idle_cpu_ns": _ns(cyc["idle_cycles"], clock_hz),
        "gc_cpu_ns": _ns(gc_cpu_cycles(cyc, gomaxprocs), clock_hz),
        "heap_live_start_bytes": cyc["heap_live_start_bytes"],
        "heap_live_end_bytes": cyc["heap_live_end_bytes"],
        "heap_marked_bytes": cyc["heap_marked_bytes"],
        "heap_goal_bytes": cyc["heap_goal_bytes"],
        "trigger_bytes": cyc["trigger_bytes"],
        "next_goal_bytes": cyc["next_goal_bytes"],
        "next_trigger_bytes": cyc["next_trigger_bytes"],
        "heap_scan_work_bytes": cyc["heap_scan_work_bytes"],
        "stack_scan_bytes": cyc["stack_scan_bytes"],
        "globals_scan_bytes": cyc["globals_scan_bytes"],
        "objects_marked": cyc["objects_marked"],
        "pointers_followed": cyc["pointers_followed"],
        "unswept_spans_at_start": cyc["unswept_spans_at_start"],
        "heap_alloc_end_bytes": cyc["heap_alloc_end_bytes"],
        "heap_inuse_end_bytes": cyc["heap_inuse_end_bytes"],
        "cons_mark": cyc["cons_mark"],
        "trigger_ratio": cyc["trigger_ratio"],
        "limiter_on": cyc["limiter_on"],
        "stack_inuse_end_bytes": cyc["stack_inuse_end_bytes"],
        "allocs_end_objects": cyc["allocs_end_objects"],
    }


PHASE_NAMES = np.array(["off", "sweep_term", "mark", "mark_term"])


def timeline_table(tl: np.ndarray, clock_hz: float) -> dict[str, np.ndarray]:
    """Sampled heap and GC state over simulated time."""
    return {
        "t_s": tl["t_cycles"] / clock_hz,
        "heap_alloc_bytes": tl["heap_alloc_bytes"],
        "heap_inuse_bytes": tl["heap_inuse_bytes"],
        "heap_live_bytes": tl["heap_live_bytes"],
        "heap_goal_bytes": tl["heap_goal_bytes"],
        "trigger_bytes": tl["trigger_bytes"],
        "heap_sys_bytes": tl["heap_sys_bytes"],
        "heap_released_bytes": tl["heap_released_bytes"],
        # -1: no goal (met, or before the first GC); the engine's NO_GOAL_BYTES.
        "scavenge_goal_bytes": np.where(tl["scavenge_goal_bytes"] == NO_GOAL_BYTES, -1,
                                        tl["scavenge_goal_bytes"]),
        "phase": PHASE_NAMES[tl["phase"]],
        "num_gc": tl["num_gc"],
        "allocs": tl["allocs"],
        # CPU of allocation-time scavenging since the start (Go's
        # /cpu/classes/scavenge/assist:cpu-seconds).
        "scavenge_assist_s": tl["scavenge_assist_cycles"] / clock_hz,
    }


def memstats(result: Any) -> dict[str, Any]:
    """runtime.MemStats at the end of the run, with Go's field names and meanings.

    Sys = HeapSys + StackSys + the runtime's own memory (gcsim.engine.rtmem:
    MSpanSys from the span records, the fixed part split into MCacheSys,
    BuckHashSys and GCSys + OtherSys as Go's runtime/metrics showed them at
    start, GCSys growing with the span records and arenas). StackSys =
    StackInuse (no cgo); stacks are the workload's goroutines' only
    (stacks.py). LastGC and PauseEnd are simulated nanoseconds since program
    start, not Unix time.
    """
    c = result.counters
    hz = result.config.run.clock_hz
    P = result.config.run.gomaxprocs
    cyc = result.cycles
    last = result.timeline[-1]
    tiny = int(c[C_TINY_ALLOCS])
    mallocs = int(c[C_SLOT_ALLOCS]) + tiny
    frees = int(c[C_SLOT_FREES]) + tiny
    heap_sys = int(last["heap_sys_bytes"])
    heap_inuse = int(last["heap_inuse_bytes"])
    stacks: Any = getattr(result, "extra", {}).get("stacks", {})
    stack_inuse = int(stacks.get("stack_inuse_bytes", 0))
    mspan_sys = int(rtmem.mspan_sys_bytes(int(c[C_N_SPAN_RECORDS]), P))
    records, pages = int(c[C_N_SPAN_RECORDS]), int(c[C_MAX_PAGES_MAPPED])
    nonheap = int(rtmem.nonheap_bytes(records, pages, P))
    pauses = _ns(pauses_cycles(cyc), hz).astype(np.int64)
    ends = _ns(cyc["end_cycles"], hz).astype(np.int64)
    ring = np.zeros(PAUSE_RING, dtype=np.int64)
    ring_end = np.zeros(PAUSE_RING, dtype=np.int64)
    for k in range(max(0, len(cyc) - PAUSE_RING), len(cyc)):
        ring[k % PAUSE_RING] = pauses[k]
        ring_end[k % PAUSE_RING] = ends[k]
    elapsed = float(result.end_cycles) * P
    gc_cpu = float(gc_cpu_cycles(cyc, P).sum())
    # Class 0 is the dummy class: Go counts large objects apart and leaves it at 0.
    by_size = [
        {"Size": int(scl.CLASS_TO_SIZE_BYTES[i]),
         "Mallocs": int(result.alloc_by_class[i]) if i else 0,
         "Frees": int(result.free_by_class[i]) if i else 0}
        for i in range(BYSIZE_CLASSES)
    ]
    return {
        "Alloc": int(last["heap_alloc_bytes"]),
        "TotalAlloc": int(c[C_TOTAL_ALLOC_BYTES]),
        "Sys": heap_sys + stack_inuse + nonheap,
        "Mallocs": mallocs,
        "Frees": frees,
        "HeapAlloc": int(last["heap_alloc_bytes"]),
        "HeapSys": heap_sys,
        "HeapIdle": heap_sys - heap_inuse,
        "HeapInuse": heap_inuse,
        "HeapReleased": int(last["heap_released_bytes"]),
        "HeapObjects": mallocs - frees,
        "StackInuse": stack_inuse,
        "StackSys": stack_inuse,
        "MSpanSys": mspan_sys,
        "MCacheSys": rtmem.MCACHE_BYTES,
        "BuckHashSys": rtmem.BUCKHASH_BYTES,
        "GCSys": int(rtmem.gc_sys_bytes(records, pages, P)),
        "OtherSys": int(rtmem.other_sys_bytes(P)),
        "NextGC": int(last["heap_goal_bytes"]),
        "LastGC": int(ends[-1]) if len(ends) else 0,
        "PauseTotalNs": int(pauses.sum()),
        "PauseNs": ring.tolist(),
        "PauseEnd": ring_end.tolist(),
        "NumGC": len(cyc),
        "NumForcedGC": int(cyc["forced"].sum()),
        "GCCPUFraction": gc_cpu / elapsed if elapsed > 0 else 0.0,
        "EnableGC": True,
        "BySize": by_size,
    }


def summary(result: Any) -> dict[str, Any]:
    """The headline numbers of a run (summary.json)."""
    cfg = result.config
    hz = cfg.run.clock_hz
    P = cfg.run.gomaxprocs
    cyc = result.cycles
    tl = result.timeline
    total_s = result.end_cycles / hz
    pauses_ns = _ns(pauses_cycles(cyc), hz)
    gc_cpu_s = float(gc_cpu_cycles(cyc, P).sum()) / hz
    frac = gc_cpu_s / (total_s * P) if total_s > 0 else 0.0
    s = 1.0 / hz
    stw_mark = cyc["mark_pause_cycles"] > 0
    mark_cpu_s = np.where(stw_mark, cyc["mark_pause_cycles"] * P,
                          cyc["assist_cycles"] + cyc["background_cycles"]) * s
    start, end, gfrac = gc_utilization_intervals(
        cyc["start_cycles"] * s, cyc["mark_start_cycles"] * s,
        cyc["mark_term_start_cycles"] * s, cyc["end_cycles"] * s, mark_cpu_s, P)
    windows = np.array([w for w in MMU_WINDOWS_S], dtype=np.float64)
    mmu_vals = mmu(start, end, gfrac, total_s, windows) if total_s > 0 else np.ones(3)
    allocs = int(result.counter("C_ALLOCS"))
    pct = pause_percentiles(pauses_ns)
    goal = cyc["next_goal_bytes"]
    return {
        "duration_s": total_s,
        "gomaxprocs": P,
        "gogc": "off" if cfg.runtime.gogc is None else cfg.runtime.gogc,
        "gomemlimit_bytes": cfg.runtime.gomemlimit,
        "gc_count": int(len(cyc)),
        "gc_cpu_fraction": frac,
        "gc_cpu_percent": 100.0 * frac,
        "mutator_utilization": 1.0 - frac,
        "allocs": allocs,
        "allocs_per_s": allocs / total_s if total_s > 0 else 0.0,
        "alloc_bytes": int(result.counter("C_TOTAL_ALLOC_BYTES")),
        # Slots allocated while marking: each allocated black (gcmarknewobject).
        "black_allocs": int(result.counter("C_BLACK_ALLOCS")),
        "alloc_bytes_per_s": result.counter("C_TOTAL_ALLOC_BYTES") / total_s if total_s else 0.0,
        "pause_ns": pct,
        "pause_p50_ms": pct["p50"] / 1e6,
        "pause_p99_ms": pct["p99"] / 1e6,
        "pause_p999_ms": pct["p999"] / 1e6,
        "pause_max_ms": pct["max"] / 1e6,
        "mmu": {f"{w * 1e3:g}ms": float(v) for w, v in zip(MMU_WINDOWS_S, mmu_vals, strict=True)},
        "peak_heap_inuse_bytes": int(max(tl["heap_inuse_bytes"].max(initial=0),
                                         cyc["heap_inuse_end_bytes"].max(initial=0))),
        "peak_heap_alloc_bytes": int(max(tl["heap_alloc_bytes"].max(initial=0),
                                         cyc["heap_live_end_bytes"].max(initial=0))),
        "peak_heap_live_bytes": int(cyc["heap_live_end_bytes"].max(initial=0)),
        "mean_heap_marked_bytes": float(cyc["heap_marked_bytes"].mean()) if len(cyc) else 0.0,
        "mean_heap_goal_bytes": float(goal[goal < GOAL_UNBOUNDED_BYTES].mean())
        if np.any(goal < GOAL_UNBOUNDED_BYTES) else None,
        "heap_sys_bytes": int(tl["heap_sys_bytes"][-1]) if len(tl) else 0,
        "pacer": cfg.runtime.pacer,
        "assist_cpu_fraction": float(cyc["assist_cycles"].sum()) / (result.end_cycles * P)
        if result.end_cycles else 0.0,
        "limiter_cycles": int(cyc["limiter_on"].sum()),
        "last_limiter_gc": int(cyc["gc_number"][cyc["limiter_on"] > 0].max(initial=0)),
        "mean_cons_mark": float(cyc["cons_mark"].mean()) if len(cyc) else 0.0,
        **pool_summary(result),
        **_stacks_part(result),
        "idle_mark_cpu_fraction": float(cyc["idle_cycles"].sum()) / (result.end_cycles * P)
        if result.end_cycles else 0.0,
        "background": _background(result),
        "fragmentation": fragmentation_summary(class_occupancy(result.spans)),
    }


def _background(result: Any) -> dict[str, Any]:
    """Background runtime work over the run: sweeping, scavenging, stopping the world."""
    hz = result.config.run.clock_hz
    c = result.counters
    page = scl.PAGE_BYTES

    def s(name: str) -> float:
        return result.bg_counter(name) / hz

    return {
        "bg_sweep_cpu_s": s("B_BG_SWEEP_CYCLES"),
        "bg_sweep_spans": result.bg_counter("B_BG_SWEEP_SPANS"),
        "sweep_cpu_s": int(c[C_SWEEP_CYCLES]) / hz,
        "leftover_sweep_cpu_s": s("B_LEFTOVER_SWEEP_CYCLES"),
        "stw_stop_wait_s": s("B_STOP_WAIT_CYCLES"),
        "scavenge_bg_released_bytes": result.bg_counter("B_SCAV_BG_PAGES") * page,
        "scavenge_bg_cpu_s": s("B_SCAV_BG_CYCLES"),
        "scavenge_assist_released_bytes": int(c[C_SCAV_ASSIST_PAGES]) * page,
        "scavenge_assist_cpu_s": int(c[C_SCAV_ASSIST_CYCLES]) / hz,
        "heap_released_bytes": int(c[C_PAGES_RELEASED]) * page,
        # pages the OS backed on first touch (heap growth, reuse after scavenging)
        "page_faulted_bytes": int(c[C_PAGES_FAULTED]) * page,
    }


def _stacks_part(result: Any) -> dict[str, Any]:
    """``stacks`` (when the workload has goroutines) and ``fatal_error`` (when it died)."""
    out: dict[str, Any] = {}
    stacks = getattr(result, "extra", {}).get("stacks")
    if stacks and stacks.get("goroutines"):
        out["stacks"] = stacks
    fatal = getattr(result, "fatal", None)
    if fatal:
        out["fatal_error"] = fatal
    return out
