"""Figures and the numbers quoted in README.md, from the sweep's results only.

    .venv/bin/python experiments/gogc-x-pointer-density/make_figures.py \
        results/gogc-x-pointer-density [--out DIR]

Reads ``results.parquet`` and ``sweep.json`` of a finished (or partly
finished) sweep folder; never runs the model. Writes ``summary.png``/``.pdf``
(GC CPU and peak heap / live heap vs GOGC, one line per pointer density; the
GC CPU heatmap; MMU at 10 ms) into ``--out`` (default: ``figures/`` beside
this script) and prints the table the README's answer quotes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gcsim import plot
from gcsim.sweepplots import (
    aggregate,
    axis_label,
    derive_columns,
    load_sweep_table,
    plot_heatmap,
    plot_metric_vs,
)

GOGC = "runtime.gogc"
DENSITY = "workload.sites[0].pointer_density"
HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", help="the sweep's results folder (gcsim sweep --out)")
    ap.add_argument("--out", default=str(HERE / "figures"), help="where to write summary.*")
    args = ap.parse_args(argv)

    df, spec = load_sweep_table(args.results)
    d, _unit = derive_columns(df)
    cols = ["gc_cpu_percent", "peak_heap_inuse_mib", "peak_over_live", "mmu_10ms",
            "pause_p99", "allocs_per_s_m", "gc_count"]
    agg = aggregate(d, [GOGC, DENSITY], cols)
    densities = sorted(agg[DENSITY].unique())
    gogcs = sorted(agg[GOGC].unique())

    fig, axes = plot.new_figure(2, 2, figsize=(11.0, 7.5))
    colors = plot._PALETTE
    for i, dens in enumerate(densities):
        part = agg[agg[DENSITY] == dens]
        c = colors[i % len(colors)]
        plot_metric_vs(axes[0, 0], part[GOGC], part["gc_cpu_percent"],
                       part["gc_cpu_percent_ci"], label=f"{dens:g}", color=c, log_x=True)
        plot_metric_vs(axes[0, 1], part[GOGC], part["peak_over_live"],
                       part["peak_over_live_ci"], label=f"{dens:g}", color=c, log_x=True)
        plot_metric_vs(axes[1, 1], part[GOGC], part["mmu_10ms"], part["mmu_10ms_ci"],
                       label=f"{dens:g}", color=c, log_x=True)
    grid = (agg.pivot_table(index=DENSITY, columns=GOGC, values="gc_cpu_percent")
            .reindex(index=densities, columns=gogcs).to_numpy())
    plot_heatmap(axes[1, 0], gogcs, densities, grid, xlabel=axis_label(GOGC),
                 ylabel=axis_label(DENSITY), clabel="GC CPU (%)")
    with plot._styled():
        for ax, ylabel in ((axes[0, 0], "GC CPU (%)"),
                           (axes[0, 1], "peak heap / mean live heap (×)"),
                           (axes[1, 1], "MMU at 10 ms window")):
            ax.set_xlabel(axis_label(GOGC))
            ax.set_ylabel(ylabel)
        axes[1, 1].set_ylim(0.0, 1.02)
        axes[0, 1].legend(title="pointer density", loc="center left",
                          bbox_to_anchor=(1.02, 0.5))
        fig.suptitle(f"{len(df)} runs: mean of {spec['repeats']} repeats, 95 % CI",
                     fontsize=9)
    written = plot.save_figure(fig, Path(args.out) / "summary",
                               {"sweep": str(spec.get("identity", ""))[:16]}, pdf=True)

    show = agg[[GOGC, DENSITY, "gc_cpu_percent", "peak_heap_inuse_mib", "peak_over_live",
                "mmu_10ms", "pause_p99", "gc_count", "n"]]
    sys.stdout.write(show.to_string(index=False, float_format=lambda v: f"{v:.3g}") + "\n")
    for p in written:
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
