"""``gcsim pool CONFIG --out DIR``: the workload with and without its sync.Pools.

Runs the config as given and again with every ``workload.pools[].enabled =
false`` (the same program allocating with New() every time and dropping what
it would have Put), and writes::

    DIR/with_pool/        a results folder (summary.json has the pool table)
    DIR/without_pool/     the same without the pool
    DIR/pool_comparison.json  GC count, peak heap, allocations, GC CPU side by side
    DIR/pool_heap.png     HeapInuse over time, both runs
    DIR/pool_gc_count.png GC cycles over time, both runs
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gcsim.errors import ConfigError


def add_pool_parser(sub: Any) -> None:
    """Add the ``pool`` subcommand to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("pool", help="run a config with and without its sync.Pools, compare")
    p.add_argument("config", help="experiment config (TOML) with [[workload.pools]]")
    p.add_argument("--out", help="output folder (default: results/<config name>-pool)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any dotted config key (repeatable)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def cmd_pool(args: argparse.Namespace) -> int:
    from gcsim import __version__
    from gcsim.config import config_hash, load_config
    from gcsim.metrics.pools import pool_comparison
    from gcsim.metrics.summary import summary
    from gcsim.plot import new_figure, save_figure
    from gcsim.poolplots import plot_gc_count_runs, plot_heap_runs
    from gcsim.results import write_run
    from gcsim.run import simulate
    from gcsim.workload.pools import without_pools

    cfg = load_config(args.config, args.overrides)
    if not cfg.workload.pools:
        raise ConfigError("workload.pools", [], "at least one pool for gcsim pool")
    out = Path(args.out) if args.out else Path("results") / f"{Path(args.config).stem}-pool"
    results = {}
    for label, c in (("with_pool", cfg), ("without_pool", without_pools(cfg))):
        if not args.quiet:
            print(f"  simulating {label} ...", file=sys.stderr, flush=True)
        r = simulate(c)
        write_run(r, out / label, plots=False, argv=["gcsim", "pool", *sys.argv[2:]])
        results[label] = r
    sums = {k: summary(r) for k, r in results.items()}
    cmp = pool_comparison(sums["with_pool"], sums["without_pool"])
    (out / "pool_comparison.json").write_text(json.dumps(cmp, indent=2) + "\n")
    meta = {"config_hash": config_hash(cfg), "gcsim": __version__}
    labels = {"with_pool": "with sync.Pool", "without_pool": "without"}
    hz = cfg.run.clock_hz
    fig, ax = new_figure()
    plot_heap_runs(
        ax,
        {
            labels[k]: (r.timeline["t_cycles"] / hz, r.timeline["heap_inuse_bytes"])
            for k, r in results.items()
        },
    )
    save_figure(fig, out / "pool_heap", meta)
    fig, ax = new_figure()
    plot_gc_count_runs(ax, {labels[k]: r.cycles["end_cycles"] / hz for k, r in results.items()})
    save_figure(fig, out / "pool_gc_count", meta)
    f = cmp["figures"]
    print(f"results: {out}")
    print(f"  hit rate: {100 * (cmp['pool_hit_rate'] or 0):.2f} %")
    for k in ("gc_count", "peak_heap_inuse_bytes", "allocs"):
        print(f"  {k}: {f[k]['with_pool']} with the pool, {f[k]['without_pool']} without")
    return 0
