"""Figures of sweep and run results folders, read back from their files.

Plots read results and never run the model (STYLE §8). Two kinds of folder:

- a **run** folder (``summary.json`` + ``cycles.csv`` + ``timeline.csv``, as
  ``gcsim run`` or a sweep point writes it): the heap timeline, the pause
  CDF and the MMU curve, re-drawn from the CSVs (:func:`run_folder_figures`);
- a **sweep** folder (``sweep.json`` + ``results.parquet``): metric-vs-GOGC
  figures and GOGC × pointer-density heatmaps (:func:`sweep_figures`).

Sweep figures, each as PNG and PDF in ``DIR/figures/``:

=================  ==========================================================
``throughput``     mutator utilization (%) and allocation rate (M allocs/s)
``gc_cpu``         GC CPU (% of GOMAXPROCS × wall time)
``peak_heap``      peak HeapInuse (MiB), and as a multiple of the mean live
                   heap (the heap marked at each GC), the measure of Hertz &
                   Berger, "Quantifying the performance of garbage collection
                   vs. explicit memory management", OOPSLA 2005
``pauses``         p99 and max stop-the-world pause
``mmu``            minimum mutator utilization at 1, 10 and 100 ms windows
``mmu_curves``     full MMU curves, one per GOGC value (repeat 0)
``pause_cdf``      pause CDFs, one per GOGC value (repeat 0)
``heatmap_*``      GOGC × pointer density of GC CPU, peak heap, p99 pause
=================  ==========================================================

The x axis is ``runtime.gogc`` when it is swept (log scale), else the first
numeric axis. The series (one line each) are the values of the pointer-density
axis (a key ending in ``pointer_density``) if there is one, else of the next
axis. Any further axes are pooled. Points are means over repeats; error bars
are 95 % confidence intervals of the mean (Student t, n - 1 degrees of
freedom), drawn only with two or more repeats. Rows whose x value is not a
number (GOGC "off") are left out of line plots and heatmaps.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullLocator

import gcsim
from gcsim import plot
from gcsim.errors import GcsimError
from gcsim.metrics.mmu import gc_utilization_intervals, mmu_curve
from gcsim.units import MiB

log = logging.getLogger(__name__)

GOGC_KEY = "runtime.gogc"
CI_LEVEL = 0.95
_MAX_VALUE_TICKS = 12  # up to this many swept x values get a tick each
GOAL_UNBOUNDED_BYTES = 1 << 62  # as gcsim.metrics.summary: goals above are "no goal"

# (figure name, panels); a panel is (derived column, y label). Pause labels get
# their unit when the figure is drawn.
VS_FIGURES: dict[str, list[tuple[str, str]]] = {
    "throughput": [("mutator_utilization_pct", "mutator utilization (%)"),
                   ("allocs_per_s_m", "allocation rate (M allocs/s)")],
    "gc_cpu": [("gc_cpu_percent", "GC CPU (% of GOMAXPROCS × wall)")],
    "peak_heap": [("peak_heap_inuse_mib", "peak heap in use (MiB)"),
                  ("peak_over_live", "peak heap / mean live heap (×)")],
    "pauses": [("pause_p99", "p99 pause"), ("pause_max", "max pause")],
    "mmu": [("mmu_1ms", "MMU at 1 ms window"), ("mmu_10ms", "MMU at 10 ms window"),
            ("mmu_100ms", "MMU at 100 ms window")],
}
HEATMAPS: dict[str, tuple[str, str]] = {
    "heatmap_gc_cpu": ("gc_cpu_percent", "GC CPU (%)"),
    "heatmap_peak_heap": ("peak_heap_inuse_mib", "peak heap in use (MiB)"),
    "heatmap_pause_p99": ("pause_p99", "p99 pause"),
}
AXIS_LABELS = {
    GOGC_KEY: "GOGC (%)",
    "pointer_density": "pointer density (pointer words / words)",
    "runtime.gomemlimit": "GOMEMLIMIT (bytes)",
    "run.gomaxprocs": "GOMAXPROCS",
}


def axis_label(key: str) -> str:
    """A readable label, with unit, for a swept dotted key."""
    if key in AXIS_LABELS:
        return AXIS_LABELS[key]
    if key.endswith("pointer_density"):
        return AXIS_LABELS["pointer_density"]
    return key


# --------------------------------------------------------------------------
# Tidy data
# --------------------------------------------------------------------------


def derive_columns(df: Any) -> tuple[Any, str]:
    """Add the plotted columns to a results table; returns (table, pause unit).

    Pauses are shown in µs when the largest is under 2 ms, else in ms.
    """
    d = df.copy()
    d["mutator_utilization_pct"] = 100.0 * d["mutator_utilization"]
    d["allocs_per_s_m"] = d["allocs_per_s"] / 1e6
    d["peak_heap_inuse_mib"] = d["peak_heap_inuse_bytes"] / MiB
    live = d["mean_heap_marked_bytes"].astype(float)
    d["peak_over_live"] = d["peak_heap_inuse_bytes"] / live.where(live > 0)
    pmax = float(np.nanmax(d["pause_ns_max"].to_numpy(dtype=float), initial=0.0))
    unit, scale = ("µs", 1e3) if pmax < 2e6 else ("ms", 1e6)
    d["pause_p99"] = d["pause_ns_p99"] / scale
    d["pause_max"] = d["pause_ns_max"] / scale
    return d, unit


def numeric_values(series: Any) -> Any:
    """The column as float64, non-numbers ("off") as NaN."""
    import pandas as pd

    return pd.to_numeric(series, errors="coerce")


def choose_axes(keys: Sequence[str], df: Any) -> tuple[str | None, str | None]:
    """(x axis key, series axis key) for the line plots; see the module doc."""
    numeric = [k for k in keys if numeric_values(df[k]).notna().any()]
    if not numeric:
        return None, None
    x = GOGC_KEY if GOGC_KEY in numeric else numeric[0]
    rest = [k for k in keys if k != x]
    dens = [k for k in rest if k.endswith("pointer_density")]
    series = dens[0] if dens else (rest[0] if rest else None)
    return x, series


def aggregate(df: Any, by: Sequence[str], columns: Sequence[str]) -> Any:
    """Mean, 95 % CI half-width and count of ``columns`` per group of ``by``.

    Returns a table with the ``by`` columns, ``n`` and for each column ``c``
    the columns ``c`` (mean) and ``c_ci`` (0 when n < 2).
    """
    from scipy import stats

    g = df.groupby(list(by), dropna=False, sort=True)
    mean = g[list(columns)].mean()
    std = g[list(columns)].std(ddof=1)
    n = g.size()
    tq = np.array([stats.t.ppf(0.5 + CI_LEVEL / 2, k - 1) if k > 1 else 0.0 for k in n])
    half = std.mul(tq / np.sqrt(n.to_numpy(dtype=float)), axis=0).fillna(0.0)
    out = mean.copy()
    for c in columns:
        out[f"{c}_ci"] = half[c]
    out["n"] = n
    return out.reset_index()


# --------------------------------------------------------------------------
# Plot functions: tidy arrays + Axes in, Axes out
# --------------------------------------------------------------------------


def plot_metric_vs(ax: Axes, x: Any, mean: Any, ci: Any | None = None, *,
                   label: str | None = None, color: Any = None,
                   log_x: bool = False) -> Axes:
    """One series of a metric against a swept parameter, with error bars.

    Parameters
    ----------
    ax : Axes
        Target axes.
    x : float64[n]
        Parameter values (e.g. GOGC, %), > 0 when ``log_x``.
    mean : float64[n]
        Mean of the metric at each x (any unit; the caller labels the axes).
    ci : float64[n], optional
        Half-width of the error bar at each x; None or all zero draws none.
    label : str, optional
        Legend entry.
    color : colour, optional
        Line colour (default: the style's cycle).
    log_x : bool
        Log-scale x, ticks printed as plain numbers: at the x values
        themselves when there are at most 12, else at 1, 2, 5 × 10^k.

    Returns
    -------
    Axes
        ``ax``; each call adds one ``ErrorbarContainer`` to ``ax.containers``.
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(mean, dtype=np.float64)
    err = None if ci is None else np.asarray(ci, dtype=np.float64)
    if err is not None and not np.any(err > 0):
        err = None
    order = np.argsort(xs)
    with plot._styled():
        ax.errorbar(xs[order], ys[order], yerr=None if err is None else err[order],
                    marker="o", markersize=3.5, capsize=2.5, label=label, color=color)
        if log_x:
            ax.set_xscale("log")
            ticks = np.unique(xs[np.isfinite(xs) & (xs > 0)])
            if 0 < ticks.size <= _MAX_VALUE_TICKS:  # label the swept values themselves
                ax.xaxis.set_major_locator(FixedLocator(ticks))
            else:
                ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    return ax


def plot_heatmap(ax: Axes, x_values: Sequence[Any], y_values: Sequence[Any], grid: Any, *,
                 xlabel: str, ylabel: str, clabel: str) -> Axes:
    """A parameter × parameter heatmap with the value written in each cell.

    Parameters
    ----------
    ax : Axes
        Target axes (a colorbar is added beside it).
    x_values, y_values : sequence
        Column and row parameter values, in display order.
    grid : float64[len(y_values), len(x_values)]
        Cell values (NaN = no data).
    xlabel, ylabel, clabel : str
        Axis and colorbar labels, with units.

    Returns
    -------
    Axes
        ``ax``, with one ``AxesImage`` in ``ax.images``.
    """
    z = np.asarray(grid, dtype=np.float64)
    if z.shape != (len(y_values), len(x_values)):
        raise ValueError(f"grid has shape {z.shape}, expected {(len(y_values), len(x_values))}")
    with plot._styled():
        im = ax.imshow(z, origin="lower", aspect="auto", cmap="viridis",
                       interpolation="nearest")
        ax.set_xticks(range(len(x_values)), [_fmt(v) for v in x_values])
        ax.set_yticks(range(len(y_values)), [_fmt(v) for v in y_values])
        ax.grid(False)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        cb = ax.figure.colorbar(im, ax=ax)
        cb.set_label(clabel)
        finite = z[np.isfinite(z)]
        mid = (finite.min() + finite.max()) / 2 if finite.size else 0.0
        small = len(x_values) * len(y_values) > 64
        for i in range(z.shape[0]):
            for j in range(z.shape[1]):
                if np.isfinite(z[i, j]):
                    ax.text(j, i, f"{z[i, j]:.3g}", ha="center", va="center",
                            fontsize=6 if small else 8,
                            color="black" if z[i, j] > mid else "white")
    return ax


def _fmt(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return f"{float(v):.3g}"
    return str(v)


# --------------------------------------------------------------------------
# Sweep figures
# --------------------------------------------------------------------------


def load_sweep_table(out: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    """The results table and sweep.json of a sweep folder."""
    import pandas as pd

    from gcsim.sweep import read_sweep_spec

    d = Path(out)
    spec = read_sweep_spec(d)
    if (d / "results.parquet").exists():
        df = pd.read_parquet(d / "results.parquet")
    elif (d / "results.csv").exists():
        df = pd.read_csv(d / "results.csv")
    else:
        raise GcsimError(f"{d} has no results table yet; run gcsim sweep first")
    if df.empty:
        raise GcsimError(f"{d}: no finished runs to plot")
    return df, spec


def make_sweep_figures(df: Any, keys: Sequence[str], *, n_repeats: int | None = None,
                       run_dirs: dict[str, Path] | None = None) -> dict[str, Figure]:
    """Every sweep figure for a results table (see the module doc).

    Parameters
    ----------
    df : pandas.DataFrame
        ``results.parquet`` as read.
    keys : sequence of str
        The axis keys (columns of ``df``), in sweep order.
    n_repeats : int, optional
        For the figure titles.
    run_dirs : dict, optional
        ``id -> run folder``; when given, ``mmu_curves`` and ``pause_cdf``
        are drawn from the runs' ``cycles.csv``.

    Returns
    -------
    dict of str -> Figure
        Figure name -> figure; names as in the module doc.
    """
    d, pause_unit = derive_columns(df)
    x, series = choose_axes(keys, d)
    figs: dict[str, Figure] = {}
    if x is None:
        log.warning("no numeric sweep axis: no line plots or heatmaps")
        return figs
    d = d.assign(_x=numeric_values(d[x]))
    d = d[d["_x"].notna()]
    log_x = x == GOGC_KEY or bool((d["_x"] > 0).all() and d["_x"].max() / d["_x"].min() >= 20)
    by = ["_x"] + ([series] if series else [])
    cols = sorted({c for panels in VS_FIGURES.values() for c, _ in panels}
                  | {c for c, _ in HEATMAPS.values()})
    agg = aggregate(d, by, cols)
    reps = f"mean of {n_repeats} repeats, 95 % CI" if n_repeats and n_repeats > 1 else ""
    svals = list(agg[series].drop_duplicates()) if series else [None]
    colors = _series_colors(len(svals))
    for name, panels in VS_FIGURES.items():
        n = len(panels)
        fig, axes = plot.new_figure(1, n, figsize=(4.2 * n + 1.4, 3.6), squeeze=False)
        for ax, (col, ylabel) in zip(axes[0], panels, strict=True):
            for sv, color in zip(svals, colors, strict=True):
                part = agg if series is None else agg[agg[series] == sv]
                plot_metric_vs(ax, part["_x"], part[col], part[f"{col}_ci"],
                               label=None if series is None else _fmt(sv), color=color,
                               log_x=log_x)
            with plot._styled():
                ax.set_xlabel(axis_label(x))
                ax.set_ylabel(f"{ylabel} ({pause_unit})" if col.startswith("pause") else ylabel)
                if col.startswith("mmu"):
                    ax.set_ylim(0.0, 1.02)
        with plot._styled():
            if series is not None:
                axes[0][-1].legend(title=axis_label(series), loc="center left",
                                   bbox_to_anchor=(1.02, 0.5))
            if reps:
                fig.suptitle(reps, fontsize=9)
        figs[name] = fig
    if series is not None and numeric_values(d[series]).notna().all():
        xs = sorted(agg["_x"].unique())
        ys = sorted(agg[series].unique())
        for name, (col, clabel) in HEATMAPS.items():
            grid = (agg.pivot_table(index=series, columns="_x", values=col, aggfunc="mean")
                    .reindex(index=ys, columns=xs).to_numpy())
            fig, ax = plot.new_figure(figsize=(max(5.0, 0.62 * len(xs) + 2.5),
                                               max(3.6, 0.42 * len(ys) + 1.6)))
            plot_heatmap(ax, xs, ys, grid, xlabel=axis_label(x), ylabel=axis_label(series),
                         clabel=f"{clabel} ({pause_unit})" if col.startswith("pause")
                         else clabel)
            if n_repeats and n_repeats > 1:
                with plot._styled():
                    fig.suptitle(f"mean of {n_repeats} repeats", fontsize=9)
            figs[name] = fig
    if run_dirs:
        figs.update(_per_run_figures(d, x, series, keys, run_dirs))
    return figs


def _series_colors(n: int) -> list[Any]:
    if n <= 1:
        return [plot._PALETTE[0]]
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    return [cmap(0.9 * i / (n - 1)) for i in range(n)]


def _per_run_figures(d: Any, x: str, series: str | None, keys: Sequence[str],
                     run_dirs: dict[str, Path]) -> dict[str, Figure]:
    """MMU curves and pause CDFs of repeat 0, one per x value, the other axes fixed."""
    sel = d[d["repeat"] == 0]
    fixed = []
    for k in keys:
        if k == x:
            continue
        vals = list(sel[k].drop_duplicates())
        pick = vals[len(vals) // 2] if k == series else vals[0]
        sel = sel[sel[k] == pick]
        fixed.append(f"{k.rsplit('.', 1)[-1].replace('_', ' ')} = {_fmt(pick)}")
    sel = sel.sort_values("_x")
    if sel.empty:
        return {}
    colors = _series_colors(len(sel))
    fig_m, ax_m = plot.new_figure()
    fig_p, ax_p = plot.new_figure()
    xname = "GOGC" if x == GOGC_KEY else x
    for (_, row), color in zip(sel.iterrows(), colors, strict=True):
        folder = run_dirs.get(row["id"])
        if folder is None or not (folder / "cycles.csv").exists():
            continue
        cyc, summ = _read_run(folder)
        label = f"{xname}={_fmt(row[x])}"
        w, v = _mmu_from_cycles(cyc, summ)
        if w.size:
            plot.plot_mmu(ax_m, w, v, label=label)
            ax_m.lines[-1].set_color(color)
        plot.plot_pause_distribution(ax_p, cyc["pause_ns"].to_numpy(dtype=float), label=label)
        if ax_p.lines:
            ax_p.lines[-1].set_color(color)
    with plot._styled():
        for fig, ax in ((fig_m, ax_m), (fig_p, ax_p)):
            if fixed:
                fig.suptitle("repeat 0; " + ", ".join(fixed), fontsize=9)
            if ax.get_legend() is not None:
                ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))
    return {"mmu_curves": fig_m, "pause_cdf": fig_p}


def sweep_figures(out: str | os.PathLike[str],
                  fig_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Draw and save every sweep figure of a sweep folder (PNG + PDF).

    Returns
    -------
    list of Path
        Files written, in ``fig_dir`` (default ``out/figures``).
    """
    d = Path(out)
    df, spec = load_sweep_table(d)
    keys = [a["key"] for a in spec["axes"]]
    run_dirs = {i: d / "points" / i for i in df["id"]}
    figs = make_sweep_figures(df, keys, n_repeats=spec.get("repeats"), run_dirs=run_dirs)
    target = Path(fig_dir) if fig_dir is not None else d / "figures"
    meta = {"gcsim": gcsim.__version__, "sweep": spec.get("identity", "")[:16],
            "base_config_hash": spec.get("base_config_hash", "")}
    written: list[Path] = []
    for name, fig in figs.items():
        written += plot.save_figure(fig, target / name, meta, pdf=True)
    return written


# --------------------------------------------------------------------------
# Run-folder figures
# --------------------------------------------------------------------------


def _read_run(folder: Path) -> tuple[Any, dict[str, Any]]:
    import pandas as pd

    cyc = pd.read_csv(folder / "cycles.csv")
    summ = json.loads((folder / "summary.json").read_text())
    return cyc, summ


def _mmu_from_cycles(cyc: Any, summ: dict[str, Any], n: int = 60) -> tuple[Any, Any]:
    """The MMU curve of a run from its cycles.csv, as ``gcsim.plotting`` computes it."""
    P = int(summ["gomaxprocs"])
    total_s = float(summ["duration_s"])
    if total_s <= 0:
        return np.zeros(0), np.zeros(0)
    stw_mark = cyc["mark_pause_ns"].to_numpy(dtype=float) > 0
    mark_cpu_s = np.where(stw_mark, cyc["mark_pause_ns"].to_numpy(dtype=float) * P,
                          cyc["assist_cpu_ns"].to_numpy(dtype=float)
                          + cyc["background_cpu_ns"].to_numpy(dtype=float)) / 1e9
    start, end, frac = gc_utilization_intervals(
        cyc["start_s"].to_numpy(dtype=float), cyc["mark_start_s"].to_numpy(dtype=float),
        cyc["mark_term_start_s"].to_numpy(dtype=float), cyc["end_s"].to_numpy(dtype=float),
        mark_cpu_s, P)
    return mmu_curve(start, end, frac, total_s, n=n)


def run_folder_figures(folder: str | os.PathLike[str],
                       fig_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Re-draw a run folder's heap timeline, pause CDF and MMU curve from its CSVs.

    Returns
    -------
    list of Path
        ``heap``, ``pauses``, ``mmu`` as PNG + PDF in ``fig_dir`` (default:
        the run folder, replacing the figures ``gcsim run`` drew).
    """
    import pandas as pd

    d = Path(folder)
    cyc, summ = _read_run(d)
    tl = pd.read_csv(d / "timeline.csv")
    target = Path(fig_dir) if fig_dir is not None else d
    prov = d / "provenance.json"
    meta = {"gcsim": gcsim.__version__}
    if prov.exists():
        meta["config_hash"] = str(json.loads(prov.read_text()).get("config_hash", ""))
    label = f"GOGC={summ.get('gogc')}, GOMAXPROCS={summ.get('gomaxprocs')}"
    written: list[Path] = []

    goal = tl["heap_goal_bytes"].to_numpy(dtype=float)
    goal[goal >= GOAL_UNBOUNDED_BYTES] = np.nan
    fig, ax = plot.new_figure()
    plot.plot_heap_timeline(ax, tl["t_s"], tl["heap_inuse_bytes"], tl["heap_alloc_bytes"],
                            goal, cyc["start_s"])
    written += plot.save_figure(fig, target / "heap", meta, pdf=True)

    fig, ax = plot.new_figure()
    plot.plot_pause_distribution(ax, cyc["pause_ns"].to_numpy(dtype=float), label=label)
    written += plot.save_figure(fig, target / "pauses", meta, pdf=True)

    fig, ax = plot.new_figure()
    w, v = _mmu_from_cycles(cyc, summ)
    if w.size:
        plot.plot_mmu(ax, w, v, label=label)
    written += plot.save_figure(fig, target / "mmu", meta, pdf=True)
    return written


def folder_figures(folder: str | os.PathLike[str],
                   fig_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """``gcsim plot DIR``: sweep figures for a sweep folder, run figures for a run folder."""
    d = Path(folder)
    if (d / "sweep.json").exists():
        return sweep_figures(d, fig_dir)
    if (d / "summary.json").exists() and (d / "cycles.csv").exists():
        return run_folder_figures(d, fig_dir)
    raise GcsimError(f"{d} is neither a sweep folder (sweep.json) nor a run folder "
                     "(summary.json + cycles.csv)")

