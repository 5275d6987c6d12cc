"""Slow pure-Python twins of gcsim.engine.pacer (stumpy's naive.py pattern).

Each twin takes the kernel's arguments and returns the kernel's result, but
computes in Go's own types: uint64 values modulo 2^64 where the runtime uses
uint64, int64 with two's-complement wrap where it uses int64, and Go's
linux/amd64 float-to-integer conversions. Sentinels are translated only at
the boundary (Go's ^uint64(0) goal <-> int64 max, GOMEMLIMIT unset <->
MaxInt64). So a kernel/twin match checks both the formulas and the kernel's
claim that its int64 shortcuts give the answers Go's wider arithmetic gives.
"""

from __future__ import annotations

import math

import numpy as np

_U64 = 1 << 64
_I64_MAX = (1 << 63) - 1
_I64_MIN = -(1 << 63)
_MAX_U64 = _U64 - 1
MiB = 1 << 20


def u64(x: int) -> int:
    """Go uint64 wrap."""
    return x % _U64


def i64(x: int) -> int:
    """Go int64 wrap."""
    x %= _U64
    return x - _U64 if x > _I64_MAX else x


def go_f2i64(x: float) -> int:
    """int64(x) on amd64 (CVTTSD2SQ): NaN or out of range -> MinInt64."""
    if math.isnan(x) or not (-(2.0**63) <= x < 2.0**63):
        return _I64_MIN
    return int(x)


def go_f2u64(x: float) -> int:
    """uint64(x) on amd64 (ssagen floatToUint, converthash off)."""
    if x < 2.0**63:  # False for NaN
        return u64(go_f2i64(x))
    return u64(go_f2i64(x - 2.0**63)) | (1 << 63)


def fdiv(a: float, b: float) -> float:
    """IEEE division (Python raises on /0.0; Go and Numba do not)."""
    with np.errstate(all="ignore"):
        return float(np.float64(a) / np.float64(b))


def _goal_out(goal_u64: int) -> int:
    """Go goal (uint64) -> kernel int64; ^uint64(0) becomes int64 max."""
    return _I64_MAX if goal_u64 == _MAX_U64 else goal_u64


def _goal_in(goal: int) -> int:
    return _MAX_U64 if goal == _I64_MAX else goal


# --- current pacer ---------------------------------------------------------------


def heap_minimum(gogc: int) -> int:
    if gogc < 0:
        return 0  # Go's value wraps; it is never used when GOGC is off
    return u64(4 * MiB * gogc) // 100


def heap_goal_gogc(heap_marked: int, stack_scan: int, globals_scan: int, gogc: int) -> int:
    goal = _MAX_U64
    if gogc >= 0:
        goal = u64(heap_marked + u64((heap_marked + stack_scan + globals_scan) * gogc) // 100)
    goal = max(goal, heap_minimum(gogc))
    return _goal_out(goal)


def sweep_dist_min_trigger(heap_live: int, sweep_done: bool) -> int:
    return 0 if sweep_done else heap_live + MiB


def _runway_u64(cons_mark: float, hs: int, ss: int, gs: int) -> int:
    return go_f2u64((cons_mark * (1 - 0.25) / 0.25) * float(u64(hs + ss + gs)))


def compute_runway(
    cons_mark: float, last_heap_scan: int, last_stack_scan: int, globals_scan: int
) -> int:
    r = _runway_u64(cons_mark, last_heap_scan, last_stack_scan, globals_scan)
    return min(r, _I64_MAX)


def memory_limit_heap_goal(
    memory_limit: int, mapped_ready: int, heap_free: int, heap_alloc: int, heap_marked: int
) -> int:
    limit = _I64_MAX if memory_limit < 0 else memory_limit
    non_heap = max(mapped_ready - heap_free - heap_alloc, 0)
    overage = mapped_ready - limit if mapped_ready > limit else 0
    if non_heap + overage >= limit:
        return heap_marked
    goal = limit - (non_heap + overage)
    headroom = max(goal // 100 * 3, MiB)
    goal = headroom if (goal < headroom or goal - headroom < headroom) else goal - headroom
    return max(goal, heap_marked)


def heap_goal_effective(
    gogc_goal: int, mem_goal: int, sweep_min: int, cycle_running: bool, triggered: int
) -> tuple[int, int]:
    goal = _goal_in(gogc_goal)
    triggered_u = triggered if cycle_running else _MAX_U64
    if mem_goal < goal:
        return mem_goal, 0
    if sweep_min > goal:
        goal = sweep_min
    if triggered_u != _MAX_U64 and goal < triggered_u + (64 << 10):
        goal = triggered_u + (64 << 10)
    return _goal_out(goal), sweep_min


def compute_trigger(goal, min_trigger, heap_marked, cons_mark, hs, ss, gs) -> int:
    g = goal  # the effective goal is always below 2^63 (memory-limit goal <= ~0.97 x 2^63)
    if heap_marked >= g:
        return goal
    mt = max(min_trigger, heap_marked)
    mt = max(mt, (g - heap_marked) // 64 * 45 + heap_marked)
    hi = (g - heap_marked) // 64 * 61 + heap_marked
    if g > 4 * MiB and g - 4 * MiB > hi:
        hi = g - 4 * MiB
    hi = max(hi, mt)
    runway = _runway_u64(cons_mark, hs, ss, gs)
    trig = mt if runway > g else g - runway
    trig = min(max(trig, mt), hi)
    assert trig <= g
    return _goal_out(trig)


def bg_workers(gomaxprocs: int) -> tuple[int, float]:
    total = float(gomaxprocs) * 0.25
    d = int(total + 0.5)
    err = float(d) / total - 1
    f = 0.0
    if err < -0.3 or err > 0.3:
        if float(d) > total:
            d -= 1
        f = (total - float(d)) / float(gomaxprocs)
    return d, f


def max_idle_mark_workers(gomaxprocs: int, dedicated: int, periodic: bool) -> int:
    if periodic:
        return 0 if dedicated > 0 else 1
    return gomaxprocs - dedicated


def assist_ratio(
    gogc, live, scan, work, heap_goal, triggered, hs, ss, gs, max_stack
) -> tuple[float, float]:
    pct = 100000 if gogc < 0 else gogc
    goal = i64(heap_goal)
    expected = i64(hs + ss + gs)
    max_work = i64(scan + max_stack + gs)
    if work > expected:
        ext = i64(
            go_f2i64(fdiv(float(i64(goal - triggered)), float(expected)) * float(max_work))
            + triggered
        )
        expected = max_work
        hard = go_f2i64((1.0 + float(pct) / 100.0) * float(goal))
        goal = min(ext, hard)
    if live > goal:
        goal = go_f2i64(float(goal) * 1.1)
        expected = max_work
    remaining = max(expected - work, 1000)
    distance = i64(goal - live)
    if distance <= 0:
        distance = 1
    return float(remaining) / float(distance), float(distance) / float(remaining)


def cons_mark_update(
    live, triggered, scan_work, assist_ns, idle_ns, dur_ns, procs, cons_mark, last
):
    """Returns (cons_mark, utilization, updated, new_history)."""
    last = list(last)
    util = 0.25
    if dur_ns > 0:
        util += float(assist_ns) / float(dur_ns * procs)
    if live <= triggered:
        return cons_mark, util, False, last
    idle = 0.0
    if dur_ns > 0:
        idle = float(idle_ns) / float(dur_ns * procs)
    current = fdiv(float(live - triggered) * (util + idle), float(scan_work) * (1 - util))
    new = current
    for v in last:
        if v > new:
            new = v
    last = last[1:] + [current]
    return new, util, True, last


def limiter_window_times(window_ns, procs, assist_ns, idle_ns, gc_enabled) -> tuple[int, int]:
    total = window_ns * procs
    gc = assist_ns
    if gc_enabled:
        gc += go_f2i64(float(total) * 0.25)
    total -= idle_ns
    return gc, total - gc


def limiter_update(fill, capacity, gc_time, mutator_time) -> tuple[int, bool]:
    # Go's fields are uint64, the state bit is a separate atomic; start it
    # from the invariant "enabled iff full".
    headroom = u64(capacity - fill)
    enabled_before = headroom == 0
    stored = enabled_before
    change = i64(gc_time - mutator_time)
    if change > 0 and headroom <= u64(change):
        return capacity, True
    fill = 0 if change < 0 and fill <= u64(-change) else u64(fill - u64(-change))
    if change != 0 and enabled_before:
        stored = False
    return fill, stored


def sweep_pages_per_byte(trigger, live, in_use, swept, sweep_done) -> float:
    if sweep_done:
        return 0.0
    dist = i64(trigger - live) - MiB
    if dist < 8192:
        dist = 8192
    pages = in_use - swept
    if pages <= 0:
        return 0.0
    return float(pages) / float(dist)


# --- legacy pacer -----------------------------------------------------------------


def heap_goal_go15(heap_marked: int, gogc: int) -> int:
    if gogc < 0:
        return _I64_MAX
    return u64(heap_marked + u64(heap_marked * gogc) // 100)


def trigger_go15(heap_marked, live, ratio, gogc, sweep_done) -> tuple[int, int, float]:
    goal = _MAX_U64 if gogc < 0 else heap_goal_go15(heap_marked, gogc)
    if gogc >= 0:
        s = float(gogc) / 100
        if ratio > 0.95 * s:
            ratio = 0.95 * s
        if ratio < 0.6 * s:
            ratio = 0.6 * s
    elif ratio < 0:
        ratio = 0.0
    trig = _MAX_U64
    if gogc >= 0:
        trig = go_f2u64(float(heap_marked) * (1 + ratio))
        mt = heap_minimum(gogc)
        if not sweep_done:
            mt = max(mt, live + MiB)
        trig = max(trig, mt)
        if trig > goal:
            goal = trig
    return min(_goal_out(trig), _I64_MAX), min(_goal_out(goal), _I64_MAX), ratio


def cycle_start_goal_go15(goal: int, live: int) -> int:
    g = _goal_in(goal)
    if g < live + MiB:
        g = live + MiB
    return _goal_out(g)


def trigger_ratio_update_go15(ratio, goal, marked, live, assist_ns, dur_ns, procs, forced) -> float:
    if forced or marked <= 0:
        return ratio
    util = 0.25
    if dur_ns > 0:
        util += float(assist_ns) / float(dur_ns * procs)
    # goal is passed through as is: Go never runs this with an unbounded goal
    # (GOGC=off cycles are all user-forced).
    goal_growth = float(u64(goal - marked)) / float(marked)
    goal_growth = max(goal_growth, 0.0)
    actual = float(live) / float(marked) - 1
    err = goal_growth - ratio - util / 0.3 * (actual - ratio)
    return ratio + 0.5 * err


def assist_ratio_go15(gogc, live, scan, work, heap_goal) -> tuple[float, float]:
    pct = 100000 if gogc < 0 else gogc
    goal = i64(_goal_in(heap_goal))
    expected = go_f2i64(float(scan) * 100 / float(100 + pct))
    if live > goal or work > expected:
        goal = go_f2i64(float(goal) * 1.1)
        expected = scan
    remaining = max(expected - work, 1000)
    distance = i64(goal - live)
    if distance <= 0:
        distance = 1
    return float(remaining) / float(distance), float(distance) / float(remaining)
