"""Side-by-side figures of one validation setting: gcsim against real Go.

One PNG with three panels, each overlaying gcsim (blue) and Go (vermillion):

1. heap per GC cycle over time (gctrace H0/H1/H2 and goal; gcsim's x is
   simulated time, Go's is wall time since start, the first repeat);
2. heap goal per cycle against the cycle number (every repeat of Go);
3. pause distribution (per-cycle pauses, all repeats of Go pooled).

Layout and names live here; drawing is ``gcsim.plot`` (STYLE.md §8).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gcsim import plot

_SIM, _GO = "#0072B2", "#D55E00"
_UNBOUNDED_GOAL_MB = (2**64 - 1) >> 20


def _goals(lines: Sequence[Any]) -> np.ndarray:
    return np.array([np.nan if ln.heap_goal_mb >= _UNBOUNDED_GOAL_MB else ln.heap_goal_mb
                     for ln in lines], dtype=np.float64)


def _heap(ax: Any, lines: Sequence[Any], label: str, color: str) -> None:
    plot.plot_heap_cycles(
        ax, [ln.start_s for ln in lines], [ln.heap_start_mb for ln in lines],
        [ln.heap_end_mb for ln in lines], [ln.heap_live_mb for ln in lines], _goals(lines),
        label=label, color=color, xlabel="time since start (s; gcsim: simulated)")


def setting_figure(sim: Any, go_runs: Sequence[Any], path_without_suffix: Path,
                   title: str) -> Path:
    """Draw and save the three panels for one setting; return the PNG path.

    Parameters
    ----------
    sim : compare.SideFigures
        gcsim's run.
    go_runs : sequence of compare.SideFigures
        The Go repeats (at least one).
    path_without_suffix : Path
        Target, ``.png`` is appended.
    title : str
        Figure title, e.g. "steady GOGC=100 GOMAXPROCS=1".
    """
    import gcsim

    fig, axes = plot.new_figure(1, 3, figsize=(16.0, 4.4))
    ax_heap, ax_goal, ax_pause = axes
    if sim.lines:
        _heap(ax_heap, sim.lines, "gcsim", _SIM)
    if go_runs and go_runs[0].lines:
        _heap(ax_heap, go_runs[0].lines, "Go", _GO)

    # Line colours by drawing order: gcsim first, then every Go repeat.
    ax_goal.set_prop_cycle(color=[_SIM] + [_GO] * max(1, len(go_runs)))
    ax_pause.set_prop_cycle(color=[_SIM, _GO])
    plot.plot_goal_per_cycle(ax_goal, [ln.gc_number for ln in sim.lines], _goals(sim.lines),
                             label="gcsim")
    for k, g in enumerate(go_runs):
        plot.plot_goal_per_cycle(ax_goal, [ln.gc_number for ln in g.lines], _goals(g.lines),
                                 label="Go" if k == 0 else None)
        if k:
            ax_goal.lines[-1].set_alpha(0.4)

    plot.plot_pause_distribution(ax_pause, sim.pause_ns, label="gcsim")
    go_pauses = np.concatenate([g.pause_ns for g in go_runs]) if go_runs else np.zeros(0)
    plot.plot_pause_distribution(ax_pause, go_pauses, label="Go")
    fig.suptitle(title)
    written = plot.save_figure(fig, path_without_suffix, {"title": title,
                                                          "gcsim": gcsim.__version__})
    return written[0]
