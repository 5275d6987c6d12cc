"""Issue 7: goroutine stacks: growth, shrinking, the overflow limit, stack memory, escape.

Exact sizes come from Go's rules written out independently here (the amd64
prologue check, newstack's doubling, shrinkstack's quarter rule,
gcComputeStartingStackSize), not from the engine's helpers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gcsim.config import config_from_dict
from gcsim.engine.stacks import grown_size, needs_growth, starting_stack_size
from gcsim.errors import ConfigError
from gcsim.metrics.summary import memstats, summary
from gcsim.run import simulate
from gcsim.validate.stacktwins import overflow_config

ENTRY = 32  # newproc1's totalSize above the first frame (amd64)
GOLDEN_LIMIT = 1_000_000_000


def go_needs_growth(used: int, size: int, frame: int) -> bool:
    """The amd64 prologue: SP at entry = hi - used - 8; framesize = frame - 8;
    morestack when SP - max(framesize - 128, 0) <= lo + 928."""
    sp_entry = size - used - 8
    return sp_entry - max(frame - 8 - 128, 0) <= 928


def go_grown_size(used: int, size: int, frame: int) -> int:
    newsize = 2 * size
    while newsize - (used + 8) < (frame - 8) + 928:
        newsize *= 2
    return newsize


def overflow_depth(frame: int, limit: int = GOLDEN_LIMIT) -> int:
    """Frames on the stack when the call that cannot fit is made (closed form by search)."""
    size = 2048
    used = ENTRY
    depth = 0
    while True:
        if go_needs_growth(used, size, frame):
            new = go_grown_size(used, size, frame)
            if new > limit or new > 2_000_000_000:
                return depth
            size = new
            continue
        # Jump ahead: every call fits until used reaches the threshold.
        room = size - 800 - max(frame, 136) - used
        k = max(1, -(-room // frame))
        depth += k
        used += k * frame


def _cfg(groups: list[dict], sites: list[dict] | None = None, **run: object) -> dict:
    return {
        "run": {"gomaxprocs": 1, "duration_s": "off", "max_allocs": 200, **run},
        "workload": {"sites": sites or [{"name": "tick", "size": 8}], "goroutines": groups},
    }


@pytest.mark.parametrize("frame", [8, 64, 136, 200, 1016, 16376, 100_000])
def test_growth_check_matches_the_prologue(frame: int) -> None:
    for size in (2048, 4096, 1 << 20):
        for used in range(ENTRY, size, 37):
            assert needs_growth(used, size, frame) == go_needs_growth(used, size, frame)
            if go_needs_growth(used, size, frame):
                assert grown_size(used, size, frame) == go_grown_size(used, size, frame)


def test_growth_thresholds_exact() -> None:
    # 64-byte frames on a 2 KiB stack: a call at used >= 1112 grows it (1112 + 136 + 800).
    assert not needs_growth(1111, 2048, 64) and needs_growth(1112, 2048, 64)
    # 1016-byte frames: the frame itself plus 800 B of nosplit room.
    assert not needs_growth(231, 2048, 1016) and needs_growth(232, 2048, 1016)
    # A 16 KiB frame on a fresh stack skips straight to 32 KiB.
    assert grown_size(ENTRY, 2048, 16376) == 32768


def test_starting_stack_size_is_gos_rule() -> None:
    assert starting_stack_size(0, 0, GOLDEN_LIMIT) == 2048
    assert starting_stack_size(100 * 10_000, 100, GOLDEN_LIMIT) == 16384  # 10 928 -> 2^14
    assert starting_stack_size(100 * 100, 100, GOLDEN_LIMIT) == 2048  # 1 028 -> 2 KiB floor
    assert starting_stack_size(3 << 29, 1, GOLDEN_LIMIT) == 1 << 30  # clamped to 1e9, rounded


@pytest.mark.parametrize("frame", [64, 1016, 16376])
def test_overflow_depth_and_sizes_at_the_default_limit(frame: int) -> None:
    fatal = simulate(overflow_config(frame)).fatal
    assert fatal is not None
    assert fatal["depth"] == overflow_depth(frame)
    assert fatal["stack_bytes"] == 1 << 29  # the largest stack that ever exists: 512 MiB
    assert fatal["requested_stack_bytes"] == 1 << 30
    assert fatal["message"][0] == "runtime: goroutine stack exceeds 1000000000-byte limit"
    assert fatal["message"][-1] == "fatal error: stack overflow"


def test_overflow_at_a_smaller_limit() -> None:
    limit = 3 << 20  # like debug.SetMaxStack(3 MiB): the largest stack is 2 MiB
    fatal = simulate(overflow_config(1016, limit)).fatal
    assert fatal is not None
    assert fatal["depth"] == overflow_depth(1016, limit)
    assert fatal["stack_bytes"] == 2 << 20
    assert fatal["message"][0] == f"runtime: goroutine stack exceeds {limit}-byte limit"


def _sizes_after_shrinks(used: int, size: int, n: int) -> list[int]:
    out = []
    for _ in range(n):
        if size // 2 >= 2048 and used + 800 < size // 4:
            size //= 2
        out.append(size)
    return out


def test_shrink_sequence_and_stack_memory() -> None:
    frame, depth, park = 1016, 1500, 4
    cfg = config_from_dict(_cfg([{"name": "w", "count": 20, "frame": frame, "depth": depth,
                                  "calls_per_step": 1e9, "excursions": 1, "after": "block",
                                  "block_depth": park}], final_gc=True))
    res = simulate(cfg, extra_forced_gcs=9)
    # Grown to hold 1500 frames: the first size with room for the deepest call.
    peak = 2048
    while ENTRY + (depth - 1) * frame + frame + 800 >= peak:
        peak *= 2
    assert peak == 2 << 20
    sizes = _sizes_after_shrinks(ENTRY + park * frame, peak, 10)
    assert sizes[:8] == [1 << 20, 1 << 19, 1 << 18, 1 << 17, 1 << 16, 1 << 15, 1 << 14, 1 << 14]
    got = res.cycles["stack_inuse_end_bytes"][-10:].tolist()
    # Stacks >= 32 KiB have spans of their own; 16 KiB ones share 32 KiB pool spans.
    want = [20 * s if s >= 32768 else -(-20 * s // 32768) * 32768 for s in sizes]
    assert got == want
    st = res.extra["stacks"]
    assert st["shrinks"] == 20 * 7
    ms = memstats(res)
    assert ms["StackInuse"] == want[-1] == ms["StackSys"]
    runtime_own = sum(ms[k] for k in ("MSpanSys", "MCacheSys", "BuckHashSys", "GCSys", "OtherSys"))
    assert ms["Sys"] == ms["HeapSys"] + ms["StackSys"] + runtime_own


def test_shrink_off_keeps_stacks() -> None:
    cfg = config_from_dict({**_cfg([{"name": "w", "count": 4, "frame": 1016, "depth": 100,
                                     "calls_per_step": 1e9, "excursions": 1, "after": "block"}],
                                   final_gc=True),
                            "runtime": {"shrink_stacks": False}})
    res = simulate(cfg, extra_forced_gcs=3)
    assert set(res.cycles["stack_inuse_end_bytes"].tolist()) == {4 * 131072}
    assert res.extra["stacks"]["shrinks"] == 0


def test_small_stacks_come_from_pool_spans() -> None:
    # 100 goroutines that never grow: 2 KiB stacks, 16 to a 32 KiB span.
    cfg = config_from_dict(_cfg([{"name": "w", "count": 100, "frame": 64, "depth": 2,
                                  "excursions": 1, "after": "block", "block_depth": 2}]))
    res = simulate(cfg)
    assert memstats(res)["StackInuse"] == 7 * 32768
    assert res.extra["stacks"]["allocated_stack_bytes"] == 100 * 2048


def test_exiting_goroutines_free_their_stacks_and_stay_deterministic() -> None:
    raw = _cfg([{"name": "w", "count": 8, "frame": {"dist": "uniform", "min_bytes": 64,
                                                   "max_bytes": 2048},
                 "depth": {"dist": "loguniform", "min": 1, "max": 300}, "calls_per_step": 50,
                 "excursions": 3}],
               sites=[{"name": "n", "size": 64, "pointer_words": 1,
                       "lifetime": {"kind": "fifo", "live_objects": 5000}}],
               max_allocs=300_000)
    a = simulate(config_from_dict(raw))
    b = simulate(config_from_dict(raw))
    sa, sb = summary(a), summary(b)
    assert sa == sb
    st = sa["stacks"]
    assert st["goroutine_exits"] > 100 and st["grows"] > 0
    assert st["allocated_stack_bytes"] <= st["stack_inuse_bytes"]
    assert a.cycles["stack_scan_bytes"].min() > 0  # stacks are roots every cycle
    assert a.counter("C_LAST_STACK_SCAN_BYTES") == int(a.cycles["stack_scan_bytes"][-1])


def test_escape_keeps_values_off_the_heap() -> None:
    def run(escape: float) -> dict:
        raw = {"run": {"gomaxprocs": 1, "duration_s": 0.05},
               "workload": {"compute_ns_per_alloc": 100,
                            "sites": [{"name": "v", "size": 256, "escape": escape}],
                            "goroutines": [{"name": "h", "count": 4, "frame": 128, "depth": 5,
                                            "calls_per_step": 2}]}}
        return summary(simulate(config_from_dict(raw)))

    heap, stack = run(1.0), run(0.0)
    assert heap["gc_count"] > 0 and heap["allocs"] > 0
    assert stack["allocs"] == 0 and stack["gc_count"] == 0
    assert stack["stacks"]["stack_values"] > heap["allocs"] / 2


def test_config_errors_name_the_key() -> None:
    base = _cfg([{"name": "w", "frame": 64, "depth": 3}])
    bad = [
        ({"frame": 4}, "workload.goroutines[0].frame"),
        ({"after": "block"}, "workload.goroutines[0].after"),
        ({"block_depth": 2}, "workload.goroutines[0].block_depth"),
        ({"depth": {"dist": "normal", "min": 1, "max": 2}}, "workload.goroutines[0].depth.dist"),
        ({"cals_per_step": 1}, "workload.goroutines[0].cals_per_step"),
    ]
    for change, key in bad:
        raw = _cfg([{"name": "w", "frame": 64, "depth": 3, **change}])
        with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
            config_from_dict(raw)
    raw = dict(base, workload={"sites": [{"name": "v", "size": 8, "escape": 0.5}]})
    with pytest.raises(ConfigError, match=r"workload.sites\[0\].escape"):
        config_from_dict(raw)
    with pytest.raises(ConfigError, match="runtime.max_stack_bytes"):
        config_from_dict({**base, "runtime": {"max_stack_bytes": 1024}})


def test_overflow_through_the_cli(tmp_path: Path) -> None:
    cfg = tmp_path / "deep.toml"
    cfg.write_text("""
[run]
duration_s = 1.0
[[workload.sites]]
name = "n"
size = 4096
[[workload.goroutines]]
name = "deep"
count = 2
frame = 4096
depth = 1_000_000
calls_per_step = 2
""")
    out = tmp_path / "res"
    proc = subprocess.run([sys.executable, "-m", "gcsim", "run", str(cfg), "--out", str(out),
                           "--no-plots", "--quiet"], capture_output=True, text=True, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "runtime: goroutine stack exceeds 1000000000-byte limit" in proc.stderr
    assert "fatal error: stack overflow" in proc.stderr
    for name in ("config.toml", "gctrace.txt", "cycles.csv", "timeline.csv", "memstats.json",
                 "summary.json", "provenance.json", "fatal_error.txt"):
        assert (out / name).is_file(), name
    s = json.loads((out / "summary.json").read_text())
    f = s["fatal_error"]
    assert f["group"] == "deep" and f["goroutine"] in (1, 2)
    assert f["depth"] == overflow_depth(4096)
    assert s["gc_count"] > 0 and s["allocs"] > 0  # the run up to the crash is all there
    lines = (out / "fatal_error.txt").read_text().splitlines()
    assert lines[0] == "runtime: goroutine stack exceeds 1000000000-byte limit"
    assert lines[2] == "fatal error: stack overflow"
    assert (out / "gctrace.txt").read_text().count("\n") == s["gc_count"]


@pytest.mark.parametrize("adaptive", [True, False])
def test_adaptive_starting_size_after_a_gc(adaptive: bool) -> None:
    # 10 goroutines parked at depth 10 of 1016 B: used 32 + 10 160 = 10 192 B each; the
    # GC's mean + 928 = 11 120 rounds up to 16 KiB (gcComputeStartingStackSize).
    raw = _cfg([{"name": "w", "count": 10, "frame": 1016, "depth": 10, "calls_per_step": 100,
                 "excursions": 1, "after": "block", "block_depth": 10}], final_gc=True)
    raw["runtime"] = {"adaptive_stack_start": adaptive}
    res = simulate(config_from_dict(raw))
    assert res.extra["stacks"]["starting_stack_bytes"] == (16384 if adaptive else 2048)
    assert int(res.cycles["stack_scan_bytes"][-1]) == 10 * 10_192


def test_stack_spans_are_consistent_with_the_page_map() -> None:
    """Invariants after a run with growth, shrinking and exits: the stack pages counted
    are the pages of stack spans, every goroutine's stack lies in a stack span of its
    size, no two goroutines share a stack, and stack spans never overlap heap spans."""
    import numpy as np

    from gcsim.engine import state as S
    from gcsim.engine.loop import run_quanta
    from gcsim.engine.stackstate import K_GROWS, K_SHRINKS
    from gcsim.run import ensure_stack_room, prepare

    raw = _cfg([{"name": "w", "count": 40, "frame": {"dist": "loguniform", "min_bytes": 64,
                                                    "max_bytes": 4096},
                 "depth": {"dist": "uniform", "min": 1, "max": 200}, "calls_per_step": 30,
                 "excursions": 4}],
               sites=[{"name": "n", "size": 512, "pointer_words": 1,
                       "lifetime": {"kind": "fifo", "live_objects": 4000}}],
               max_allocs=200_000)
    st, wl, rp, tab, costs = prepare(config_from_dict(raw))
    until = rp.quantum_cycles * 1000
    while (status := run_quanta(st, wl, rp, tab, costs, until)) != S.ST_DONE:
        if status == S.ST_OK:
            until += rp.quantum_cycles * 1000
        elif status == S.ST_RECORDS_FULL:
            st.counters[S.C_N_CYCLE_RECORDS] = st.counters[S.C_N_TIMELINE_RECORDS] = 0
        else:
            st = S.grow_state(st, status)
        st = ensure_stack_room(st)
    c, spans, stk = st.counters, st.heap.spans, st.stk
    assert c[S.C_NUM_GC] > 0 and stk.k[K_GROWS] > 0 and stk.k[K_SHRINKS] > 0
    n = int(c[S.C_N_SPAN_RECORDS])
    stack = spans[:n][spans[:n]["state"] == S.SPAN_STACK]
    assert int(stack["npages"].sum()) == int(c[S.C_STACK_PAGES])
    page_span = st.heap.page_span
    for rec in np.flatnonzero(spans[:n]["state"] != S.SPAN_FREE):
        base, npages = spans[rec]["base_page"], spans[rec]["npages"]
        assert (page_span[base:base + npages] == rec).all()
    assert len(set(stk.g_lo.tolist())) == stk.g_lo.shape[0]
    for lo, size in zip(stk.g_lo, stk.g_size, strict=True):
        rec = page_span[lo >> 13]
        assert spans[rec]["state"] == S.SPAN_STACK and spans[rec]["elemsize"] == size
        assert page_span[(lo + size - 1) >> 13] == rec
    assert int(c[S.C_MAX_STACK_SCAN_BYTES]) == int(stk.g_size.sum())
