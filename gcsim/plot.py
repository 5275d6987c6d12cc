"""Figures from gcsim results: heap timelines, MMU curves, pause CDFs.

Plot functions take tidy arrays and a matplotlib ``Axes``, draw on it and
return it (STYLE §8); they never run the model and never choose the layout,
file names or figure size -- the CLI and ``experiments/*/make_figures.py``
own those. All sizes are shown in binary units (MiB = 2^20 B, ``units.MiB``)
and every axis label names its unit.

One shared look lives in :data:`STYLE`, a dict of rcParams applied with
``matplotlib.rc_context``: :func:`new_figure` creates figures and axes under
it, each plot function draws its artists under it, and :func:`save_figure`
renders under it. The module never touches pyplot or the global backend:
:func:`new_figure` attaches an Agg canvas to a bare ``Figure``, so figures
are not kept alive by pyplot's registry and work headless.

:func:`save_figure` writes PNG (and PDF on request) atomically, temp name
then ``os.replace``, with caller metadata (config hash, gcsim version...)
in the PNG text chunks and the PDF Keywords entry.

Typical use::

    fig, ax = new_figure()
    plot_mmu(ax, windows_s, mmu_values, label="GOGC=100")
    save_figure(fig, out_dir / "mmu", {"config_hash": h}, pdf=True)
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, cast

import matplotlib
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from numpy.typing import ArrayLike, NDArray

from gcsim.units import MiB

__all__ = [
    "STYLE",
    "new_figure",
    "plot_goal_per_cycle",
    "plot_heap_cycles",
    "plot_heap_timeline",
    "plot_mmu",
    "plot_pause_distribution",
    "save_figure",
]

# Okabe & Ito colour-blind-safe palette (blue, vermillion, bluish green,
# orange, reddish purple, sky blue, yellow, black).
_PALETTE = ["#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]

#: The one gcsim plot style (matplotlib rcParams).
STYLE: dict[str, Any] = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.05,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.grid": True,
    "axes.grid.which": "major",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=_PALETTE),
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.4,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "pdf.fonttype": 42,  # embed TrueType, so text stays editable and searchable
    "svg.fonttype": "none",
}

# Colours for the heap timeline, fixed so every timeline reads the same.
_C_INUSE, _C_ALLOC, _C_GOAL, _C_GC = _PALETTE[0], _PALETTE[1], _PALETTE[2], "0.55"

# Auto log scale for the pause CDF above this max/min ratio (two decades).
_LOG_RANGE_RATIO = 100.0


def _styled() -> AbstractContextManager[None]:
    """``matplotlib.rc_context(STYLE)`` (cast: matplotlib types keys as literals)."""
    return matplotlib.rc_context(cast("dict[Any, Any]", STYLE))


def _as_1d(name: str, values: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    return arr


def new_figure(nrows: int = 1, ncols: int = 1, **subplots_kw: Any) -> tuple[Figure, Any]:
    """Create a figure and axes in the gcsim style, with an Agg canvas.

    Parameters
    ----------
    nrows, ncols : int
        Subplot grid, as ``Figure.subplots``.
    **subplots_kw
        Passed to ``Figure.subplots`` (``sharex``, ``squeeze``...);
        ``figsize`` (inches) is taken out and given to ``Figure``.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : Axes or ndarray of Axes
        As ``Figure.subplots`` returns them (a single ``Axes`` for 1 × 1).
    """
    figsize = subplots_kw.pop("figsize", None)
    with _styled():
        fig = Figure(figsize=figsize)
        FigureCanvasAgg(fig)
        axes = fig.subplots(nrows, ncols, **subplots_kw)
    return fig, axes


def plot_heap_timeline(
    ax: Axes,
    t_s: ArrayLike,
    heap_inuse_bytes: ArrayLike,
    heap_alloc_bytes: ArrayLike,
    heap_goal_bytes: ArrayLike,
    gc_start_s: ArrayLike,
) -> Axes:
    """Heap sawtooth: HeapInuse and HeapAlloc, the heap goal, GC starts.

    Draws three lines (HeapInuse, HeapAlloc, the goal as a post-step line,
    since the goal holds until the next sample) and one ``LineCollection``
    of dashed vertical markers at GC starts, plus a legend.

    Parameters
    ----------
    ax : Axes
        Target axes.
    t_s : float64[n]
        Sample times, simulated seconds, non-decreasing.
    heap_inuse_bytes : int64 or float64 [n]
        MemStats.HeapInuse at each sample, bytes.
    heap_alloc_bytes : int64 or float64 [n]
        MemStats.HeapAlloc at each sample, bytes.
    heap_goal_bytes : int64 or float64 [n]
        Heap goal (NextGC) at each sample, bytes; non-finite values (no goal,
        e.g. GOGC=off) leave a gap.
    gc_start_s : float64[k]
        Start of each GC cycle (sweep termination), simulated seconds.

    Returns
    -------
    Axes
        ``ax``, with x "simulated time (s)" and y "heap (MiB)".
    """
    t = _as_1d("t_s", t_s)
    series = {
        "heap_inuse_bytes": _as_1d("heap_inuse_bytes", heap_inuse_bytes),
        "heap_alloc_bytes": _as_1d("heap_alloc_bytes", heap_alloc_bytes),
        "heap_goal_bytes": _as_1d("heap_goal_bytes", heap_goal_bytes),
    }
    for name, arr in series.items():
        if arr.shape != t.shape:
            raise ValueError(f"{name} has shape {arr.shape}, t_s has {t.shape}")
    gc_t = _as_1d("gc_start_s", gc_start_s)
    inuse, alloc, goal = (arr / MiB for arr in series.values())
    goal = np.where(np.isfinite(goal), goal, np.nan)

    with _styled():
        ax.plot(t, inuse, color=_C_INUSE, label="HeapInuse")
        ax.plot(t, alloc, color=_C_ALLOC, label="HeapAlloc")
        ax.step(t, goal, where="post", color=_C_GOAL, linestyle="--", label="heap goal")
        ax.vlines(
            gc_t,
            0.0,
            1.0,
            transform=ax.get_xaxis_transform(),
            colors=_C_GC,
            linestyles=":",
            linewidth=0.8,
            label="GC start",
            zorder=0,
        )
        ax.set_xlabel("simulated time (s)")
        ax.set_ylabel("heap (MiB)")
        ax.set_ylim(bottom=0.0)
        if t.size:
            ax.set_xlim(float(t.min()), float(t.max()))
        # Above the axes: a sawtooth fills the whole plot area.
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=4, borderaxespad=0.2)
    return ax


def plot_mmu(
    ax: Axes,
    windows_s: ArrayLike,
    mmu_values: ArrayLike,
    *,
    label: str | None = None,
) -> Axes:
    """Minimum mutator utilization against window length (log x).

    Call it once per run to overlay curves (e.g. one per GOGC); give each a
    ``label`` and a legend is drawn.

    Parameters
    ----------
    ax : Axes
        Target axes.
    windows_s : float64[m]
        Window lengths, seconds (> 0), e.g. from ``metrics.mmu.mmu_curve``.
    mmu_values : float64[m]
        MMU at each window, in [0, 1].
    label : str, optional
        Legend entry for this curve.

    Returns
    -------
    Axes
        ``ax``, with x "window (s)" (log) and y "minimum mutator utilization"
        fixed to [0, 1].
    """
    w = _as_1d("windows_s", windows_s)
    m = _as_1d("mmu_values", mmu_values)
    if w.shape != m.shape:
        raise ValueError(f"windows_s has shape {w.shape}, mmu_values has {m.shape}")
    if np.any(w <= 0):
        raise ValueError("windows_s must be > 0 on a log axis")
    with _styled():
        ax.plot(w, m, label=label)
        ax.set_xscale("log")
        ax.set_ylim(0.0, 1.0)
        ax.set_xlabel("window (s)")
        ax.set_ylabel("minimum mutator utilization")
        ax.grid(True, which="major")
        if label is not None:
            ax.legend(loc="lower right")
    return ax


def plot_pause_distribution(
    ax: Axes,
    pauses_ns: ArrayLike,
    *,
    label: str | None = None,
    log_x: bool | None = None,
) -> Axes:
    """Empirical CDF of pause lengths, in microseconds.

    One post-step line from ``(min, 0)`` to ``(max, 1)``: the height at x is
    the fraction of pauses ≤ x. Call once per run to overlay distributions.

    Parameters
    ----------
    ax : Axes
        Target axes.
    pauses_ns : int64 or float64 [n]
        Pause lengths, nanoseconds (>= 0). Empty input draws no line, labels
        the axes and writes "no pauses" on an otherwise empty plot.
    label : str, optional
        Legend entry; when given a legend is drawn.
    log_x : bool, optional
        Log-scale x. Default (None): log when all pauses are > 0 and
        max/min > 100 (more than two decades).

    Returns
    -------
    Axes
        ``ax``, with x "pause (µs)" and y "fraction of pauses ≤ x".
    """
    x = np.sort(_as_1d("pauses_ns", pauses_ns)) / 1e3
    if np.any(~np.isfinite(x)) or np.any(x < 0):
        raise ValueError("pauses_ns must be finite and >= 0")
    with _styled():
        if x.size:
            xs = np.concatenate((x[:1], x))
            ys = np.arange(x.size + 1, dtype=np.float64) / x.size
            ax.step(xs, ys, where="post", label=label)
            if log_x is None:
                log_x = bool(x[0] > 0 and x[-1] / x[0] > _LOG_RANGE_RATIO)
        elif not ax.lines:
            ax.text(0.5, 0.5, "no pauses", transform=ax.transAxes, ha="center", va="center")
        if log_x:
            ax.set_xscale("log")
            # Plain numbers (5, 10, 100 µs) read better than 10^1 here.
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.set_ylim(0.0, 1.02)
        ax.set_xlabel("pause (µs)")
        ax.set_ylabel("fraction of pauses ≤ x")
        if label is not None and x.size:
            ax.legend(loc="lower right")
    return ax


def plot_heap_cycles(
    ax: Axes,
    start_s: ArrayLike,
    heap_start_mib: ArrayLike,
    heap_end_mib: ArrayLike,
    heap_live_mib: ArrayLike,
    heap_goal_mib: ArrayLike,
    *,
    label: str | None = None,
    color: str | None = None,
    xlabel: str = "time since program start (s)",
) -> Axes:
    """Heap per GC cycle, as gctrace prints it: H0, H1, H2 and the goal over time.

    One point per cycle at its start (``@T``): H0 (heap at GC start), H1 (heap
    when marking ended, the cycle's peak), H2 (bytes marked, the live heap)
    and the heap goal (dashed). Sizes are the MiB gctrace prints (whole MiB,
    truncated). Call once per source to overlay, e.g. gcsim and real Go.

    Parameters
    ----------
    ax : Axes
        Target axes.
    start_s : float64[n]
        Cycle start (gctrace ``@T``), s; or any x such as the cycle number.
    heap_start_mib, heap_end_mib, heap_live_mib : float64[n]
        H0, H1 and H2 of each cycle, MiB.
    heap_goal_mib : float64[n]
        Heap goal of each cycle, MiB; non-finite values (GOGC=off) leave a gap.
    label : str, optional
        Prefix of the legend entries ("gcsim", "Go"); without it the entries
        name the series only.
    color : str, optional
        One colour for all four series (overlaying sources); by default each
        series has its own.
    xlabel : str
        x-axis label.

    Returns
    -------
    Axes
        ``ax``, with y "heap (MiB)".
    """
    t = _as_1d("start_s", start_s)
    series = {
        "heap_start_mib": _as_1d("heap_start_mib", heap_start_mib),
        "heap_end_mib": _as_1d("heap_end_mib", heap_end_mib),
        "heap_live_mib": _as_1d("heap_live_mib", heap_live_mib),
        "heap_goal_mib": _as_1d("heap_goal_mib", heap_goal_mib),
    }
    for name, arr in series.items():
        if arr.shape != t.shape:
            raise ValueError(f"{name} has shape {arr.shape}, start_s has {t.shape}")
    h0, h1, h2, goal = series.values()
    goal = np.where(np.isfinite(goal), goal, np.nan)
    prefix = f"{label}: " if label else ""
    colors = [color] * 4 if color else [_C_ALLOC, _C_INUSE, _PALETTE[3], _C_GOAL]
    with _styled():
        ax.plot(t, h1, color=colors[0], marker="^", markersize=3, label=f"{prefix}H1 (mark end)")
        ax.plot(t, h0, color=colors[1], marker="o", markersize=2, linewidth=0.8,
                linestyle=(0, (1, 1)), label=f"{prefix}H0 (GC start)")
        ax.plot(t, h2, color=colors[2], marker="v", markersize=3, linewidth=0.8,
                label=f"{prefix}H2 (marked)")
        ax.step(t, goal, where="post", color=colors[3], linestyle="--", label=f"{prefix}goal")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("heap (MiB)")
        ax.set_ylim(bottom=0.0)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=4, borderaxespad=0.2,
                  fontsize=7)
    return ax


def plot_goal_per_cycle(
    ax: Axes,
    gc_number: ArrayLike,
    heap_goal_mib: ArrayLike,
    *,
    label: str | None = None,
) -> Axes:
    """Heap goal of each GC cycle against the cycle number (gctrace ``G MB goal``).

    Call once per source to overlay (gcsim vs Go); a ``label`` draws a legend.

    Parameters
    ----------
    ax : Axes
        Target axes.
    gc_number : int64[n]
        Cycle numbers (gctrace ``gc N``).
    heap_goal_mib : float64[n]
        Goal of each cycle, MiB; non-finite values leave a gap.
    label : str, optional
        Legend entry.

    Returns
    -------
    Axes
        ``ax``, with x "GC cycle" and y "heap goal (MiB)".
    """
    n = _as_1d("gc_number", gc_number)
    g = _as_1d("heap_goal_mib", heap_goal_mib)
    if n.shape != g.shape:
        raise ValueError(f"gc_number has shape {n.shape}, heap_goal_mib has {g.shape}")
    with _styled():
        ax.plot(n, np.where(np.isfinite(g), g, np.nan), marker=".", markersize=4, label=label)
        ax.set_xlabel("GC cycle")
        ax.set_ylabel("heap goal (MiB)")
        ax.set_ylim(bottom=0.0)
        if label is not None:
            ax.legend(loc="lower right")
    return ax


def _write_atomic(path: Path, fig: Figure, fmt: str, metadata: Mapping[str, str | None]) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; figures are for sharing
        with os.fdopen(fd, "wb") as fh:
            fig.savefig(fh, format=fmt, metadata=dict(metadata))
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def save_figure(
    fig: Figure,
    path_without_suffix: str | os.PathLike[str],
    metadata: Mapping[str, str],
    *,
    pdf: bool = False,
) -> list[Path]:
    """Write ``fig`` as PNG (and PDF) atomically, with provenance metadata.

    Each file is rendered to a temp file in the target folder and renamed
    into place with ``os.replace``, so an interrupted run never leaves a
    half-written figure. Parent folders are created.

    Parameters
    ----------
    fig : Figure
        The figure to save.
    path_without_suffix : str or PathLike
        Target path; ``.png`` / ``.pdf`` are appended to the name as given
        (``"out/mmu.gogc100"`` → ``out/mmu.gogc100.png``).
    metadata : Mapping[str, str]
        Provenance, e.g. ``{"config_hash": "…", "gcsim_version": "0.1.0"}``.
        PNG: one text chunk per key (keys 1–79 Latin-1 characters), next to
        matplotlib's ``Software``. PDF: all pairs as ``key=value`` joined by
        ``"; "`` in the Keywords entry; the creation date is omitted so that
        equal figures give equal files.
    pdf : bool, default False
        Also write a PDF.

    Returns
    -------
    list of Path
        The files written: ``[png]`` or ``[png, pdf]``.

    Raises
    ------
    ValueError
        If a metadata key or value is not a string, or a key is not a valid
        PNG keyword.
    """
    meta = dict(metadata)
    for key, value in meta.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValueError(f"metadata keys and values must be str, got {key!r}: {value!r}")
        if not 1 <= len(key) <= 79 or not key.isascii():
            raise ValueError(f"metadata key {key!r} must be 1-79 ASCII characters (PNG keyword)")
    base = Path(path_without_suffix)
    base.parent.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with _styled():
        png = base.with_name(base.name + ".png")
        _write_atomic(png, fig, "png", meta)
        written.append(png)
        if pdf:
            pdf_path = base.with_name(base.name + ".pdf")
            keywords = "; ".join(f"{k}={v}" for k, v in meta.items())
            pdf_meta: dict[str, str | None] = {"Keywords": keywords, "CreationDate": None}
            _write_atomic(pdf_path, fig, "pdf", pdf_meta)
            written.append(pdf_path)
    return written
