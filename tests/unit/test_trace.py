"""``gcsim trace`` (gcsim/tracecmd.py) on real captures, checked against hand computations.

The expected numbers below are worked out from the printed lines by hand
(the fields are transcribed here, not parsed), so the parser, the timeline
reconstruction and the summary are all checked at once.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from gcsim.cli import main
from gcsim.metrics.gctrace import parse_gctrace, parse_gctrace_file
from gcsim.tracecmd import analyse_gctrace, cycle_intervals, split_segments

DATA = Path(__file__).resolve().parents[1] / "data" / "gctrace"
P1 = DATA / "go1.27.3_gomaxprocs1.txt"
P2 = DATA / "go1.27.3_gomaxprocs2.txt"
OLD = DATA / "go1.16_format.txt"

# go1.27.3_gomaxprocs1.txt: (@T s, a, b, c, e, f) per cycle, ms, as printed.
P1_CYCLES = [
    (0.031, 0.013, 2.2, 0.008, 1.8, 0.0),
    (0.035, 0.012, 1.6, 0.003, 1.4, 0.0),
    (0.044, 0.020, 2.3, 0.003, 1.7, 0.0),
    (0.071, 0.032, 11.0, 0.005, 2.2, 0.0),
    (0.096, 0.031, 4.6, 0.004, 2.4, 0.29),
    (0.108, 0.028, 5.5, 0.004, 1.6, 0.94),
    (0.134, 0.033, 5.2, 0.005, 0.0, 0.024),
    (0.140, 0.016, 5.9, 0.005, 0.0, 0.98),
    (0.173, 0.028, 8.9, 0.004, 0.0, 0.99),
    (0.188, 0.027, 4.2, 0.004, 3.3, 0.0),
]
# go1.27.3_gomaxprocs2.txt, same columns.
P2_CYCLES = [
    (0.035, 1.7, 4.1, 0.097, 0.0, 1.0),
    (0.057, 14.0, 12.0, 0.005, 0.93, 20.0),
    (0.099, 1.0, 2.0, 0.005, 0.005, 1.0),
    (0.129, 7.5, 5.5, 1.0, 1.8, 3.1),
    (0.161, 1.3, 5.1, 0.004, 0.005, 1.2),
    (0.176, 1.2, 3.3, 0.005, 0.0, 0.62),
    (0.202, 0.080, 6.3, 0.004, 0.0, 3.3),
    (0.222, 0.11, 9.3, 0.004, 0.0, 2.8),
    (0.257, 0.084, 3.1, 0.004, 0.0, 1.3),
    (0.273, 1.2, 3.1, 0.004, 0.007, 0.64),
]


def _hand(cycles: list[tuple[float, ...]], P: int) -> dict[str, float]:
    """GC CPU fraction and pause percentiles by the module docstring's formulas."""
    pauses = sorted(a + c for _, a, _, c, _, _ in cycles)
    gc_cpu_ms = sum((a + c) * P + e + f for _, a, _, c, e, f in cycles)
    t, a, b, c, _, _ = cycles[-1]
    end_s = t + (a + b + c) / 1e3
    n = len(pauses)
    pos = 0.99 * (n - 1)
    lo = int(pos)
    return {
        "frac": gc_cpu_ms / 1e3 / (P * end_s),
        "p50": (pauses[n // 2 - 1] + pauses[n // 2]) / 2,  # n even
        "p99": pauses[lo] + (pos - lo) * (pauses[lo + 1] - pauses[lo]),
        "max": pauses[-1],
        "end_s": end_s,
    }


def _brute_mmu(cycles: list[tuple[float, ...]], P: int, window_s: float) -> float:
    """MMU by sliding a window over a 1 µs grid of the GC share (no mmu module)."""
    step = 1e-6
    t, a, b, c, _, _ = cycles[-1]
    n = int(round((t + (a + b + c) / 1e3) / step)) + 1
    g = np.zeros(n)
    for t, a, b, c, e, f in cycles:
        i0 = int(round(t / step))
        ia = i0 + int(round(a / 1e3 / step))
        ib = ia + int(round(b / 1e3 / step))
        ic = ib + int(round(c / 1e3 / step))
        g[i0:ia] = 1.0
        g[ia:ib] = min(1.0, (e + f) / (P * b)) if b > 0 else 0.0
        g[ib:ic] = 1.0
    cum = np.concatenate(([0.0], np.cumsum(g)))
    w = int(round(window_s / step))
    return 1.0 - float(np.max(cum[w:] - cum[:-w])) / w


@pytest.mark.parametrize(("path", "cycles", "P", "reported"), [
    (P1, P1_CYCLES, 1, 0.09),
    (P2, P2_CYCLES, 2, 0.09),
])
def test_real_captures_match_hand_computation(path: Path, cycles: list[tuple[float, ...]],
                                              P: int, reported: float) -> None:
    s = analyse_gctrace(parse_gctrace_file(path), source=str(path)).summary
    hand = _hand(cycles, P)
    assert s["gc_count"] == 10
    assert s["forced_gc_count"] == 3
    assert s["gomaxprocs"] == P
    assert s["gc_cpu_fraction_reported"] == pytest.approx(reported)
    assert s["gc_cpu_fraction_recomputed"] == pytest.approx(hand["frac"], rel=1e-9)
    assert s["gc_cpu_fraction"] == s["gc_cpu_fraction_recomputed"]
    assert s["duration_s"] == pytest.approx(hand["end_s"], abs=1e-12)
    assert s["pause_p50_ms"] == pytest.approx(hand["p50"], rel=1e-9)
    assert s["pause_p99_ms"] == pytest.approx(hand["p99"], rel=1e-9)
    assert s["pause_max_ms"] == pytest.approx(hand["max"], rel=1e-9)
    for key, w in (("1ms", 0.001), ("10ms", 0.010), ("100ms", 0.100)):
        assert s["mmu"][key] == pytest.approx(_brute_mmu(cycles, P, w), abs=1e-3), key


def test_gomaxprocs1_worked_numbers() -> None:
    """The numbers quoted in the module docstring and the report."""
    s = analyse_gctrace(parse_gctrace_file(P1)).summary
    # Σ(a + c) = 0.285 ms, Σ(e + f) = 17.624 ms, over 0.192231 s on 1 P.
    assert s["gc_cpu_fraction"] == pytest.approx(17.909 / 192.231, rel=1e-9)
    assert 100 * s["gc_cpu_fraction"] == pytest.approx(9.32, abs=0.005)
    assert s["pause_p50_ms"] == pytest.approx(0.0315)
    assert s["pause_max_ms"] == pytest.approx(0.038)
    # Worst 1 ms window: gc 2's 0.012 ms sweep termination, then 0.988 ms of
    # its mark at (1.4 ms assist) / (1 P x 1.6 ms) = 0.875.
    assert s["mmu"]["1ms"] == pytest.approx(1 - 0.012 - 0.988 * 0.875, abs=1e-9)
    assert s["peak_heap_mib"] == 36  # gc 6: 27->36->18 MB
    assert s["mean_heap_live_mib"] == pytest.approx((2 + 3 + 5 + 9 + 13 + 18 + 12 + 12 + 12
                                                    + 16) / 10)
    assert s["mean_heap_goal_mib"] == pytest.approx((4 + 10 + 13 + 16 + 25 + 33 + 43 + 32 + 32
                                                    + 32) / 10)
    assert s["mark_wall_p50_ms"] == pytest.approx((4.6 + 5.2) / 2)  # 1.6 2.2 2.3 4.2 [4.6 5.2]


def test_gomaxprocs2_slow_stop_makes_recomputed_fraction_higher() -> None:
    """Clock 'a' counts stopping the world (14 ms in gc 2); GCCPUFraction does not."""
    s = analyse_gctrace(parse_gctrace_file(P2)).summary
    assert s["gc_cpu_fraction"] == pytest.approx(96.319 / 554.608, rel=1e-4)
    assert s["gc_cpu_fraction_reported"] == pytest.approx(0.09)
    assert s["pause_max_ms"] == pytest.approx(14.005)
    assert s["mmu"]["1ms"] == 0.0 and s["mmu"]["10ms"] == 0.0  # a 14 ms pause
    assert s["peak_heap_mib"] == 34


def test_gomaxprocs_override_changes_only_the_cpu_figures() -> None:
    lines = parse_gctrace_file(P1)
    s = analyse_gctrace(lines, gomaxprocs=2).summary
    assert s["gomaxprocs"] == 2
    assert s["gc_cpu_fraction"] == pytest.approx((0.285 * 2 + 17.624) / (2 * 192.231), rel=1e-9)
    assert s["pause_max_ms"] == pytest.approx(0.038)


def test_old_layout_file_splits_into_programs() -> None:
    lines = parse_gctrace_file(OLD)
    segs = split_segments(lines)
    # [A] gc 1-12 on 40 P; [B] gc 138-145 on 8 P; [C] gc 1-9, then a second
    # program whose numbers restart at 6; [D] gc 280.. with time going back.
    assert [s.stop - s.start for s in segs] == [12, 8, 9, 3, 4]
    rep = analyse_gctrace(lines)
    s = rep.summary
    assert s["gc_count"] == 36
    assert s["forced_gc_count"] == 9
    assert s["layout"].startswith("go1.6-1.17")
    assert s["peak_heap_mib"] == 3662  # [A] gc 12: 3655->3662->3197 MB
    # Three GOGC=-1 lines print 17592186044415 MB goal: no goal, left out.
    goals = [ln.heap_goal_mb for ln in lines if ln.heap_goal_mb < 17592186044415]
    assert len(goals) == 33
    assert s["mean_heap_goal_mib"] == pytest.approx(sum(goals) / 33)
    # The last program's lines have gaps (280, 283, 287, 293): no recomputation.
    assert s["gc_cpu_fraction_recomputed"] is None
    assert "gaps" in s["gc_cpu_basis"]
    assert s["gc_cpu_fraction"] == 0.0 and s["gc_cpu_fraction_source"].startswith("reported")
    a, b = s["segments"][0], s["segments"][1]
    # [A], complete from gc 1, 40 P: Σ(a + c)·40 + Σ(e + f) over 40 × 8.66745 s.
    ac = [(.13, .24), (.076, .28), (.088, .28), (2.1, .33), (.15, .33), (.094, .30), (.13, .31),
          (.096, .36), (.12, .37), (.062, .38), (.066, .33), (.11, .34)]
    ef = [(16, 1.4), (14, 9.4), (.032, 25), (16, 40), (.93, 30), (4.1, 65), (9.2, 128),
          (1.7, 250), (3.3, 417), (0, 701), (.28, 1052), (7.0, 1781)]
    cpu_ms = sum((x + y) * 40 for x, y in ac) + sum(x + y for x, y in ef)
    assert a["end_s"] == pytest.approx(8.371 + (0.11 + 296 + 0.34) / 1e3)
    assert a["gc_cpu_fraction"] == pytest.approx(cpu_ms / 1e3 / (40 * a["end_s"]), rel=1e-9)
    assert a["gc_cpu_fraction_reported"] == pytest.approx(0.01)
    # [B] starts at gc 138: whole GC periods gc 138..144 between the starts of 138 and 145.
    assert b["gomaxprocs"] == 8 and b["first_gc"] == 138 and b["last_gc"] == 145
    assert "138..144" in b["gc_cpu_basis"]
    # MMU is the worst over the programs.
    for key in ("1ms", "10ms", "100ms"):
        assert s["mmu"][key] == pytest.approx(min(seg["mmu"][key] for seg in s["segments"]))


def test_starts_truncated_to_the_same_ms_do_not_overlap() -> None:
    text = "\n".join([
        "gc 1 @0.004s 1%: 0.010+0.30+0.010 ms clock, 0.010+0.10/0.10/0+0.010 ms cpu, "
        "4->4->1 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 1 P",
        "gc 2 @0.004s 2%: 0.010+0.30+0.010 ms clock, 0.010+0.10/0.10/0+0.010 ms cpu, "
        "4->4->1 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 1 P",
    ])
    iv = cycle_intervals(parse_gctrace(text), 1)
    assert iv["start_s"][1] == pytest.approx(iv["end_s"][0])
    assert iv["end_s"][1] == pytest.approx(0.004 + 2 * 0.32e-3)
    analyse_gctrace(parse_gctrace(text))  # MMU accepts the intervals


def test_stw_mark_counts_the_mark_as_pause() -> None:
    lines = parse_gctrace_file(P1)
    s = analyse_gctrace(lines, stw_mark=True).summary
    assert s["pause_max_ms"] == pytest.approx(0.032 + 11 + 0.005)
    # CPU: every phase x P, the workers' fields are inside the pause.
    total = sum(a + b + c for _, a, b, c, _, _ in P1_CYCLES)
    assert s["gc_cpu_fraction"] == pytest.approx(total / 1e3 / 0.192231, rel=1e-9)


def test_cli_writes_the_report_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rep"
    assert main(["trace", str(P1), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "10 GC cycles (3 forced)" in printed
    assert "GC CPU: 9.32 %" in printed and "U%: 9 %" in printed
    assert "pause p50 / p99 / max: 0.032 / 0.038 / 0.038 ms" in printed
    assert sorted(p.name for p in out.iterdir()) == [
        "cycles.csv", "heap.png", "mmu.png", "pauses.png", "summary.json"]
    s = json.loads((out / "summary.json").read_text())
    assert s["gc_count"] == 10 and s["peak_heap_mib"] == 36
    with open(out / "cycles.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 10
    assert rows[3]["gc_number"] == "4" and rows[3]["mark_ms"] == "11.0"
    assert rows[6]["forced"] == "1" and rows[8]["checking_goroutine_leaks"] == "1"
    assert rows[0]["stacks_mb"] == "4"
    assert float(rows[0]["pause_ms"]) == pytest.approx(0.021)
    # The old layout has no stacks/globals: empty cells.
    assert main(["trace", str(OLD), "--out", str(tmp_path / "old"), "--no-plots"]) == 0
    with open(tmp_path / "old" / "cycles.csv", newline="") as f:
        old = list(csv.DictReader(f))
    assert len(old) == 36 and old[0]["stacks_mb"] == "" and old[0]["gomaxprocs"] == "40"


def test_default_out_is_results_trace_stem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["trace", str(P2), "--no-plots"]) == 0
    assert (tmp_path / "results" / "trace-go1.27.3_gomaxprocs2" / "summary.json").is_file()


def test_cli_errors_are_one_paragraph(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("hello\nno gc lines here\n")
    assert main(["trace", str(empty), "--out", str(tmp_path / "o")]) == 2
    assert "no GODEBUG=gctrace=1 lines" in capsys.readouterr().err
    cut = tmp_path / "cut.txt"
    cut.write_text("gc 8 @0.039s 8%: 0.017+3.0+0.005 ms clock, 0.034+0/1.4/1.7+0.010 ms cpu, "
                   "13->13->12 MB, 32 MB goal, 4 MB stacks, 2 MB globals, gen: writing\n2 P\n")
    assert main(["trace", str(cut), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "line 1" in err and "Traceback" not in err
    assert main(["trace", str(tmp_path / "missing.txt")]) == 2


def test_stw_mark_is_detected_beside_a_gcstoptheworld_config(tmp_path: Path) -> None:
    shutil.copy(P1, tmp_path / "gctrace.txt")
    (tmp_path / "config.toml").write_text("[runtime]\ngcstoptheworld = 1\n")
    assert main(["trace", str(tmp_path / "gctrace.txt"), "--out", str(tmp_path / "a"),
                 "--no-plots"]) == 0
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["pause_includes_mark"]
    assert main(["trace", str(tmp_path / "gctrace.txt"), "--out", str(tmp_path / "b"),
                 "--no-plots", "--no-stw-mark"]) == 0
    assert not json.loads((tmp_path / "b" / "summary.json").read_text())["pause_includes_mark"]


TINY_RUN = """
[run]
gomaxprocs = 2
duration_s = 0.05
[workload]
compute_ns_per_alloc = 50.0
[[workload.sites]]
name = "buf"
size = { dist = "uniform", min_bytes = 8, max_bytes = 2048 }
[[workload.sites]]
name = "node"
weight = 0.5
size = 64
pointer_words = 2
lifetime = { kind = "fifo", live_objects = 20000 }
refs = [{ to = "random", site = "node" }]
"""


def test_gcsim_run_folder_gives_its_own_summary_back(tmp_path: Path, warm_engine: None) -> None:
    """gcsim trace on a gcsim run's gctrace.txt: same GC count and pauses as summary.json."""
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY_RUN)
    run = tmp_path / "x"
    assert main(["run", str(cfg), "--out", str(run), "--quiet", "--no-plots"]) == 0
    assert main(["trace", str(run / "gctrace.txt"), "--out", str(tmp_path / "t"),
                 "--no-plots"]) == 0
    sim = json.loads((run / "summary.json").read_text())
    tr = json.loads((tmp_path / "t" / "summary.json").read_text())
    assert sim["gc_count"] > 5
    assert tr["gc_count"] == sim["gc_count"]
    assert tr["gomaxprocs"] == sim["gomaxprocs"]
    # Each printed clock is truncated to 1 µs below 0.1 ms, else to 2 significant
    # digits (10 µs steps from 0.1 ms, so up to 10 % low): a pause a + c is low
    # by at most 2 µs plus 10 % (at GOMAXPROCS=2 a sweep termination waits
    # for a running P, ~0.1 ms, stw_stop_running_ns).
    for key in ("pause_p50_ms", "pause_p99_ms", "pause_max_ms"):
        assert tr[key] <= sim[key] + 1e-6, key
        assert tr[key] >= 0.9 * sim[key] - 0.002, key
    # Peak heap: gctrace's max H1 is gcsim's peak heapLive at mark end, in whole MiB.
    assert tr["peak_heap_mib"] == sim["peak_heap_live_bytes"] >> 20
