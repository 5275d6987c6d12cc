"""The ``gcsim sweep``, ``gcsim plot`` and ``gcsim report`` subcommands.

Parsing and printing only; the work is in ``gcsim.sweep``,
``gcsim.sweepplots`` and ``gcsim.report``, imported when a command runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_sweep_parsers(sub: Any) -> None:
    """Add ``sweep``, ``plot`` and ``report`` to the ``gcsim`` subparsers."""
    s = sub.add_parser("sweep", help="run a grid of configs (resumable, parallel)",
                       description="Run every point of a sweep file; rerun the same command "
                                   "to resume an interrupted sweep.")
    s.add_argument("sweep", help="sweep file (TOML: base, repeats, [axes])")
    s.add_argument("--out", required=True, help="results folder of the sweep")
    s.add_argument("--jobs", type=int, default=None,
                   help="worker processes (default: os.cpu_count(); 1 = in this process)")
    s.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a Dask distributed cluster, e.g. tcp://host:8786")
    s.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key of the base config before the axes, e.g. "
                        "run.duration_s=0.25 (repeatable)")
    s.add_argument("--repeats", type=int, help="replace the sweep file's repeats")
    s.add_argument("--no-plots", action="store_true", help="skip the sweep figures")
    s.add_argument("--point-plots", action="store_true",
                   help="also draw each run's heap/MMU/pause figures")
    s.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("plot", help="draw the figures of a run or sweep results folder")
    p.add_argument("dir", help="a run folder (summary.json + cycles.csv) or a sweep folder")
    p.add_argument("--out", help="where to write the figures (default: the run folder, "
                                 "or DIR/figures for a sweep)")

    r = sub.add_parser("report", help="write report.md and report.html for a results folder")
    r.add_argument("dir", help="a sweep (or run) results folder")


def cmd_sweep(args: argparse.Namespace) -> int:
    from gcsim.errors import GcsimError
    from gcsim.sweep import load_sweep, run_sweep

    if args.jobs is not None and args.jobs < 1:
        raise GcsimError(f"--jobs = {args.jobs} is not allowed: expected an integer >= 1")
    sweep = load_sweep(args.sweep, args.overrides, repeats=args.repeats)
    n = sweep.n_points * sweep.repeats
    print(f"sweep: {sweep.n_points} points x {sweep.repeats} repeats = {n} runs -> {args.out}",
          file=sys.stderr)
    try:
        outcome = run_sweep(sweep, args.out, jobs=args.jobs, scheduler=args.scheduler,
                            plots=not args.no_plots, point_plots=args.point_plots,
                            progress=not args.quiet, argv=["gcsim", *sys.argv[1:]])
    except KeyboardInterrupt:
        print(f"\ngcsim: sweep interrupted; finished runs are kept in {args.out}; "
              "rerun the same command to resume", file=sys.stderr)
        return 130
    print(f"results: {outcome.out}")
    if outcome.n_done_before:
        print(f"  resumed: {outcome.n_done_before} of {outcome.n_runs} runs were already done")
    print(f"  ran {outcome.n_run_now} runs; table: {outcome.out / 'results.csv'} "
          f"(and results.parquet)")
    if outcome.figures:
        print(f"  figures: {len(outcome.figures)} files in {outcome.out / 'figures'}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from gcsim.sweepplots import folder_figures

    written = folder_figures(args.dir, args.out)
    for p in written:
        print(p)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from gcsim.report import write_report

    md, html = write_report(args.dir)
    print(md)
    print(html)
    return 0
