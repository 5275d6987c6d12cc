"""The standard figures of one run: heap.png, mmu.png, pauses.png.

Layout and file names live here; the drawing is in gcsim.plot, which only
takes tidy arrays and an Axes (STYLE.md §8).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gcsim import plot
from gcsim.metrics import summary as M
from gcsim.metrics.mmu import gc_utilization_intervals, mmu_curve


def run_figures(result: Any, out_dir: Path, metadata: dict[str, str]) -> list[Path]:
    """Draw and save the heap timeline, the MMU curve and the pause distribution."""
    cfg = result.config
    hz = cfg.run.clock_hz
    P = cfg.run.gomaxprocs
    cyc = result.cycles
    tl = result.timeline
    s = 1.0 / hz
    written: list[Path] = []

    goal = tl["heap_goal_bytes"].astype(np.float64)
    goal[goal >= M.GOAL_UNBOUNDED_BYTES] = np.nan
    fig, ax = plot.new_figure()
    plot.plot_heap_timeline(ax, tl["t_cycles"] * s, tl["heap_inuse_bytes"],
                            tl["heap_alloc_bytes"], goal, cyc["start_cycles"] * s)

    written += plot.save_figure(fig, out_dir / "heap", metadata)

    total_s = result.end_cycles * s
    stw_mark = cyc["mark_pause_cycles"] > 0
    mark_cpu_s = np.where(stw_mark, cyc["mark_pause_cycles"] * P,
                          cyc["assist_cycles"] + cyc["background_cycles"]) * s
    start, end, frac = gc_utilization_intervals(
        cyc["start_cycles"] * s, cyc["mark_start_cycles"] * s,
        cyc["mark_term_start_cycles"] * s, cyc["end_cycles"] * s, mark_cpu_s, P)
    fig, ax = plot.new_figure()
    if total_s > 0:
        w, v = mmu_curve(start, end, frac, total_s, n=60)
        plot.plot_mmu(ax, w, v, label=_title(cfg))
    written += plot.save_figure(fig, out_dir / "mmu", metadata)

    fig, ax = plot.new_figure()
    plot.plot_pause_distribution(ax, M.pauses_cycles(cyc) * (1e9 / hz), label=_title(cfg))
    written += plot.save_figure(fig, out_dir / "pauses", metadata)
    return written


def _title(cfg: Any) -> str:
    gogc = "off" if cfg.runtime.gogc is None else cfg.runtime.gogc
    return f"GOGC={gogc}, GOMAXPROCS={cfg.run.gomaxprocs}"
