"""Figures of ``gcsim pool``: heap and GC count over time, with and without the pool.

Drawing only (tidy arrays in, an Axes out; STYLE.md §8), in gcsim.plot's style
and palette; ``gcsim/poolcmd.py`` owns layout and file names.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

from gcsim import plot
from gcsim.units import MiB


def plot_heap_runs(ax: Axes, runs: Mapping[str, tuple[ArrayLike, ArrayLike]]) -> Axes:
    """HeapInuse over time, one line per run.

    Parameters
    ----------
    ax : Axes
    runs : mapping label -> (t_s float64[n], heap_inuse_bytes int64[n])
        Simulated seconds and MemStats.HeapInuse at each timeline sample.

    Returns
    -------
    Axes
        ``ax``, x "simulated time (s)", y "HeapInuse (MiB)".
    """
    with plot._styled():
        for i, (label, (t, heap)) in enumerate(runs.items()):
            ax.plot(
                np.asarray(t, dtype=float),
                np.asarray(heap, dtype=float) / MiB,
                color=plot._PALETTE[i % len(plot._PALETTE)],
                label=label,
            )
        ax.set_xlabel("simulated time (s)")
        ax.set_ylabel("HeapInuse (MiB)")
        ax.set_ylim(bottom=0.0)
        ax.legend(loc="lower right")
    return ax


def plot_gc_count_runs(ax: Axes, runs: Mapping[str, ArrayLike]) -> Axes:
    """Completed GC cycles over time (a step per cycle), one line per run.

    Parameters
    ----------
    ax : Axes
    runs : mapping label -> end_s float64[k]
        End of each GC cycle, simulated seconds, in order.

    Returns
    -------
    Axes
        ``ax``, x "simulated time (s)", y "GC cycles".
    """
    with plot._styled():
        for i, (label, ends) in enumerate(runs.items()):
            t = np.asarray(ends, dtype=float)
            ax.step(
                np.concatenate([[0.0], t]),
                np.arange(t.size + 1),
                where="post",
                color=plot._PALETTE[i % len(plot._PALETTE)],
                label=f"{label} ({t.size})",
            )
        ax.set_xlabel("simulated time (s)")
        ax.set_ylabel("GC cycles")
        ax.set_ylim(bottom=0.0)
        ax.legend(loc="upper left")
    return ax
