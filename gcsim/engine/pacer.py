"""The GC pacer's arithmetic: heap goal, trigger, GOMEMLIMIT, assists, CPU limiter.

What this models
================
The scalar arithmetic of Go's GC pacer, as of go1.27.3
(``src/runtime/mgcpacer.go``, ``src/runtime/mgclimit.go``, ``gcPaceSweeper`` in
``src/runtime/mgcsweep.go``), plus the pre-1.18 trigger-ratio pacer
("go1.5 pacer", the ``!goexperiment.PacerRedesign`` branch of Go 1.18's
``mgcpacer.go``) so the two can be compared. Every function here is a pure
kernel over scalars (and one float64[4] history array); the engine loop owns
all pacer state and calls these at the same moments the runtime calls the
functions they follow. Nothing here keeps state.

The current pacer, in the order the runtime uses it
---------------------------------------------------
1. **Commit** (``commit``; at init, at every mark termination, on
   SetGCPercent / SetMemoryLimit). Three numbers are fixed here:

   - GOGC goal (:func:`heap_goal_gogc`), integer arithmetic::

         G_gogc = H_m + (H_m + S_s + S_g) * GOGC // 100,  at least 4 MiB * GOGC // 100

     Worked: live 22 920 648, stacks 2 376, globals 158 154, GOGC=100 ->
     22 920 648 + 23 081 178 = 46 001 826 (real Go's ``/gc/heap/goal:bytes``
     printed exactly this). At start (H_m = 0) the goal is the floor:
     4 194 304 at GOGC=100, 8 388 608 at 200, 2 097 152 at 50.
   - Sweep-distance floor (:func:`sweep_dist_min_trigger`): heapLive + 1 MiB
     if sweeping is unfinished, else 0. Mark termination commits right after
     restarting the sweep, with heapLive = H_m, so goal and trigger are both
     >= H_m + 1 MiB after every GC. This is what paces GOGC=0: goal = trigger
     = H_m + 1 MiB.
   - Runway (:func:`compute_runway`)::

         runway = (c * 0.75 / 0.25) * (S_h + S_s + S_g)       (float, then uint64)

2. **Effective goal** (:func:`heap_goal_effective`, Go's ``heapGoalInternal``),
   recomputed whenever someone asks. The memory-limit goal
   (:func:`memory_limit_heap_goal`) wins if it is smaller; then the goal is
   exactly that and the trigger has no floor. Otherwise the goal is raised to
   the sweep-distance floor and, during a cycle, to ``triggered + 64 KiB``.

   Memory-limit goal, all in bytes::

       nonHeap = mappedReady - heapFree - heapAlloc
       overage = max(mappedReady - L, 0)
       nonHeap + overage >= L             ->  H_m
       g = L - nonHeap - overage
       headroom = max(g // 100 * 3, 1 MiB)
       g = headroom if g < 2 * headroom else g - headroom;   max(g, H_m)

   Worked: L = 64 MiB = 67 108 864 and nonHeap + overage = 4 657 600 give
   g = 62 451 264, headroom = 624 512 * 3 = 1 873 536, goal 60 577 728 (the
   value real Go reported in reference §3.3). With no limit Go still runs this
   formula with L = MaxInt64, which gives ~0.97 * 2^63: that is why gctrace
   prints a goal of ~8 532 210 231 515 MB under GOGC=off.

3. **Trigger** (:func:`compute_trigger`, Go's ``trigger``): with
   d = (goal - H_m) // 64::

       lo = max(minTrigger, H_m, H_m + 45 d)           ~70 % of the way
       hi = H_m + 61 d, or goal - 4 MiB if that is higher;  hi = max(hi, lo)
       trigger = clamp(goal - runway, lo, hi)          (lo if runway > goal)

   Worked: first cycle, goal 4 194 304, H_m = 0, c = 0 -> runway 0 ->
   trigger = hi = 65 536 * 61 = 3 997 696. Cycle 2 of reference §3.5:
   c = 6.7184 (as gcpacertrace printed it), S = 239 122, H_m = 4 250 576,
   goal 8 666 754 -> runway 4 819 551, goal - runway = 3 847 203 <
   lo = 4 250 576 + 69 002 * 45 = 7 355 666 -> trigger 7 355 666 (real Go
   started cycle 2 at the first heapLive past it, 7 377 760). The 4 MiB in ``hi`` is
   ``defaultHeapMinimum``, not scaled by GOGC.

4. **Cycle start** (``startCycle``): :func:`bg_workers` splits the 25 %
   background goal into dedicated workers and a fractional goal
   (P = 6: 1 dedicated + 0.0833 fractional; P = 5: 1 dedicated, only 20 %);
   :func:`max_idle_mark_workers` caps idle workers.

5. **During mark** (``revise``, each time heapLive or the goal changes):
   :func:`assist_ratio` turns remaining scan work over remaining heap distance
   into ``assistWorkPerByte`` and its reciprocal. Work past the expectation
   extrapolates the goal (capped at (1 + GOGC/100) x goal); a heap past even
   that aims at 1.1 x goal with the worst-case work.

6. **Mark termination** (``endCycle``): :func:`cons_mark_update` measures
   cons/mark for this cycle::

       u   = 0.25 + assistTime / (T * P),   u_idle = idleMarkTime / (T * P)
       c_n = (heapLive - triggered) * (u + u_idle) / (W * (1 - u))
       c   = max(c_n, previous four c_n)

   Worked: 1 000 000 B allocated during a mark with no assists or idle time
   and W = 250 000 units of work -> c_n = 1e6 * 0.25 / (250 000 * 0.75) = 4/3.

7. **CPU limiter** (``mgclimit.go``): a bucket of GOMAXPROCS x 1 s.
   :func:`limiter_window_times` splits a window into GC and mutator time
   (assists + 25 % of the window while marking; idle time removed);
   :func:`limiter_update` (Go's ``accumulate``) adds GC - mutator time,
   clamped to [0, capacity]; the limiter is on while the bucket is full. Since
   the bucket only fills when GC time exceeds mutator time, GC CPU is held
   near 50 %. A STW transition counts window x GOMAXPROCS as GC time
   (``finishGCTransition``): call ``limiter_update(fill, cap, w * P, 0)``.

8. **Sweep pacing** (:func:`sweep_pages_per_byte`, ``gcPaceSweeper``): the
   unswept pages must be swept in the heap growth from heapLive to
   trigger - 1 MiB (at least one page).

The pre-1.18 pacer (Go 1.5 - 1.17; Go 1.18 ``oldCommit`` / old ``endCycle``)
--------------------------------------------------------------------------
Goal H_m (1 + GOGC/100) with no stack or globals term
(:func:`heap_goal_go15`). Trigger = H_m (1 + h_T) with the ratio h_T clamped to
[0.6, 0.95] x GOGC/100, floored at 4 MiB x GOGC/100 and at heapLive + 1 MiB
while sweeping; a raised trigger pushes the goal up (:func:`trigger_go15`).
The runtime starts with h_T = 7/8 and a fake H_m = 4 MiB / 1.875 =
2 236 962, so the first trigger is 4 194 304 and the first goal 4 473 924.
At cycle start the goal is kept >= heapLive + 1 MiB
(:func:`cycle_start_goal_go15`). After each non-forced cycle the ratio moves
by half the error (:func:`trigger_ratio_update_go15`), with u_g = 0.30::

    e    = (h_g - h_T) - (u_a / 0.30) (h_a - h_T)       h_g = goal/H_m - 1, h_a = heapLive/H_m - 1
    h_T' = h_T + 0.5 e

Worked: H_m = 10 MiB, goal 20 MiB, h_T = 0.875, cycle ended at 19 MiB with
no assists: e = 0.125 - (0.25/0.3)(0.025) = 0.104167 -> h_T' = 0.927083.
Assists (:func:`assist_ratio_go15`) expect heapScan x 100/(100 + GOGC) work
and pace to 1.1 x goal once past the goal or the expectation.

Integers, floats and sentinels
------------------------------
Bytes are int64 and ratios float64; every integer division is on
non-negative values, so ``//`` is Go's truncating division. Go keeps most of
these in uint64; the model never comes near 2^63 except through sentinels:

- GOGC=off gives Go a GOGC goal of ^uint64(0); here ``GOGC_OFF_HEAP_GOAL`` =
  int64 max. The effective goal is unchanged, because the memory-limit goal
  (<= ~0.97 x 2^63) is always smaller.
- ``memory_limit < 0`` means "no limit" and is computed as Go computes its
  default, MaxInt64.
- A cycle that is not running needs no ``triggered`` value: pass
  ``cycle_running=False`` (Go's ^uint64(0)).
- Float-to-integer conversions follow Go on linux/amd64 (the reference
  platform). float->int64 of NaN or an out-of-range value gives math.MinInt64
  (CVTTSD2SQ's "integer indefinite"), see :func:`_f64_to_i64`. float->uint64
  of NaN, of a value >= 2^63 or of a value <= -1 gives a number >= 2^63, which
  is larger than every goal; :func:`_f64_to_u64_sat` returns int64 max
  instead, which keeps every comparison the runtime makes. int64 arithmetic
  in ``revise`` wraps as Go's does (:func:`_wrap_add`), so even its
  degenerate inputs (no expected scan work) give Go's answer.

What is left out
----------------
``GODEBUG=gcstoptheworld`` (all Ps dedicated), the ``heapminimum512kib``
experiment, Go 1.18's experimental PI-controller smoothing of cons/mark, and
scavenger pacing (``gcPaceScavenger``). Go throws when the legacy trigger
underflows; an empty marked heap (its only cause, impossible in a real
program) leaves the legacy ratio unchanged here instead.
"""

from __future__ import annotations

import numpy as np

from gcsim.engine._jit import kernel

# --- constants (src/runtime/mgcpacer.go unless noted) -----------------------

INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)
_TWO63_F = 9223372036854775808.0  # 2^63 as a float64

GC_BACKGROUND_UTILIZATION = 0.25  # gcBackgroundUtilization
GC_GOAL_UTILIZATION = 0.25  # gcGoalUtilization (== background since 1.18)
DEFAULT_HEAP_MINIMUM_BYTES = 4 << 20  # defaultHeapMinimum: heapMinimum at GOGC=100
TRIGGER_RATIO_DEN = 64  # triggerRatioDen
MIN_TRIGGER_RATIO_NUM = 45  # minTriggerRatioNum, ~0.70
MAX_TRIGGER_RATIO_NUM = 61  # maxTriggerRatioNum, ~0.95
SWEEP_MIN_HEAP_DISTANCE_BYTES = 1 << 20  # sweepMinHeapDistance (src/runtime/mgc.go)
MIN_RUNWAY_BYTES = 64 << 10  # heapGoalInternal's minRunway past `triggered`
MEMORY_LIMIT_HEADROOM_PERCENT = 3  # memoryLimitHeapGoalHeadroomPercent
MEMORY_LIMIT_MIN_HEADROOM_BYTES = 1 << 20  # memoryLimitMinHeapGoalHeadroom
GC_OVER_ASSIST_WORK = 64 << 10  # gcOverAssistWork: minimum work per assist
GC_CREDIT_SLACK = 2000  # gcCreditSlack: local scan work before a flush
MAX_UTIL_ERROR = 0.3  # startCycle's maxUtilError
MAX_OVERSHOOT = 1.1  # revise's maxOvershoot
MIN_SCAN_WORK_REMAINING = 1000  # revise's floor on remaining work
GOGC_OFF_REVISE_PERCENT = 100000  # revise treats GOGC=off (forced GC) as this
GOGC_OFF_HEAP_GOAL = INT64_MAX  # stands for Go's ^uint64(0)
NO_MEMORY_LIMIT = INT64_MAX  # GOMEMLIMIT unset (readGOMEMLIMIT: MaxInt64)
LIMITER_CAPACITY_PER_PROC_NS = 1_000_000_000  # capacityPerProc (mgclimit.go)
LIMITER_UPDATE_PERIOD_NS = 10_000_000  # gcCPULimiterUpdatePeriod (mgclimit.go)
# gcAssistTimeSlack (mgcpacer.go): a P's assist time past this updates the limiter (gcAssistAlloc1).
LIMITER_ASSIST_SLACK_NS = 5_000
_PAGE_BYTES = 8192  # pageSize (src/runtime/malloc.go)

# Pre-1.18 pacer (Go 1.18 mgcpacer.go, !goexperiment.PacerRedesign).
GO15_GOAL_UTILIZATION = 0.30  # gcGoalUtilization = background + 0.05
GO15_TRIGGER_GAIN = 0.5  # endCycle's triggerGain
GO15_INITIAL_TRIGGER_RATIO = 0.875  # init: 7/8
GO15_INITIAL_HEAP_MARKED_BYTES = int(DEFAULT_HEAP_MINIMUM_BYTES / 1.875)  # 2 236 962
GO15_MIN_TRIGGER_RATIO_FRAC = 0.6  # of GOGC/100
GO15_MAX_TRIGGER_RATIO_FRAC = 0.95  # of GOGC/100
GO15_MIN_GOAL_DISTANCE_BYTES = 1 << 20  # startCycle: goal >= heapLive + 1 MiB


# --- Go's integer and conversion semantics ----------------------------------


@kernel
def _f64_to_i64(x: float) -> int:
    """Go's ``int64(x)`` on amd64: truncate, NaN / out of range -> MinInt64.

    Parameters
    ----------
    x : float64

    Returns
    -------
    int64
    """
    if x >= -_TWO63_F and x < _TWO63_F:
        return np.int64(x)
    return INT64_MIN


@kernel
def _f64_to_u64_sat(x: float) -> int:
    """Go's ``uint64(x)`` on amd64, with results >= 2^63 reported as int64 max.

    Go gives a value >= 2^63 for NaN, for x >= 2^63 and for x <= -1 (a
    negative int64 reread as uint64); -1 < x < 1 truncates to 0.

    Parameters
    ----------
    x : float64

    Returns
    -------
    int64
        In [0, int64 max].
    """
    if x > -1.0 and x < _TWO63_F:
        if x <= 0.0:
            return 0
        return np.int64(x)
    return INT64_MAX


@kernel
def _wrap_add(a: int, b: int) -> int:
    """``a + b`` wrapping modulo 2^64 as Go's int64 addition does.

    Parameters
    ----------
    a, b : int64

    Returns
    -------
    int64
    """
    if b > 0 and a > INT64_MAX - b:
        return (a - INT64_MAX - 1) + (b - INT64_MAX - 1)
    if b < 0 and a < INT64_MIN - b:
        return (a + INT64_MAX + 1) + (b + INT64_MAX + 1)
    return a + b


@kernel
def _wrap_sub(a: int, b: int) -> int:
    """``a - b`` wrapping modulo 2^64 as Go's int64 subtraction does.

    Parameters
    ----------
    a, b : int64

    Returns
    -------
    int64
    """
    if b == INT64_MIN:
        # -b does not fit; a - MinInt64 = a + 2^63 (mod 2^64).
        if a >= 0:
            return a + INT64_MIN
        return a + INT64_MAX + 1
    return _wrap_add(a, -b)


# --- current pacer: goal ------------------------------------------------------


@kernel
def heap_minimum(gogc: int) -> int:
    """``heapMinimum`` = 4 MiB x GOGC / 100 (``setGCPercent``).

    Parameters
    ----------
    gogc : int64
        GOGC percent; < 0 means off (then unused: the goal is unbounded).

    Returns
    -------
    int64
        Bytes. 4 194 304 at GOGC=100, 0 at GOGC=0, 0 when off.
    """
    if gogc < 0:
        return 0
    return DEFAULT_HEAP_MINIMUM_BYTES * gogc // 100


@kernel
def heap_goal_gogc(heap_marked: int, stack_scan: int, globals_scan: int, gogc: int) -> int:
    """GOGC heap goal, ``gcPercentHeapGoal`` as computed by ``commit``.

    Parameters
    ----------
    heap_marked : int64
        H_m, bytes marked by the last cycle.
    stack_scan : int64
        ``lastStackScan``: stack bytes scanned by the last cycle (not the
        allocated stack size).
    globals_scan : int64
        ``globalsScan``: scannable data + BSS bytes.
    gogc : int64
        GOGC percent; < 0 means off.

    Returns
    -------
    int64
        Bytes; ``GOGC_OFF_HEAP_GOAL`` when GOGC is off.
    """
    if gogc < 0:
        return GOGC_OFF_HEAP_GOAL
    goal = heap_marked + (heap_marked + stack_scan + globals_scan) * gogc // 100
    floor = heap_minimum(gogc)
    if goal < floor:
        goal = floor
    return goal


@kernel
def sweep_dist_min_trigger(heap_live: int, sweep_done: bool) -> int:
    """``sweepDistMinTrigger`` as ``commit`` stores it.

    Parameters
    ----------
    heap_live : int64
        heapLive at commit time, bytes (H_m at mark termination).
    sweep_done : bool
        ``isSweepDone()`` at commit time (False at mark termination).

    Returns
    -------
    int64
        heapLive + 1 MiB while sweeping, else 0.
    """
    if sweep_done:
        return 0
    return heap_live + SWEEP_MIN_HEAP_DISTANCE_BYTES


@kernel
def compute_runway(
    cons_mark: float, last_heap_scan: int, last_stack_scan: int, globals_scan: int
) -> int:
    """The runway ``commit`` stores: bytes of allocation the next mark phase needs.

    Parameters
    ----------
    cons_mark : float64
        c, the cons/mark estimate from :func:`cons_mark_update`.
    last_heap_scan, last_stack_scan, globals_scan : int64
        Scan work of the last cycle (heap, stacks) and globals, bytes.

    Returns
    -------
    int64
        Bytes; int64 max when Go's uint64 result would be >= 2^63.
    """
    scan = float(last_heap_scan + last_stack_scan + globals_scan)
    x = (cons_mark * (1.0 - GC_GOAL_UTILIZATION) / GC_GOAL_UTILIZATION) * scan
    return _f64_to_u64_sat(x)


@kernel
def memory_limit_heap_goal(
    memory_limit: int, mapped_ready: int, heap_free: int, heap_alloc: int, heap_marked: int
) -> int:
    """Heap goal derived from GOMEMLIMIT (``memoryLimitHeapGoal``).

    Parameters
    ----------
    memory_limit : int64
        L, bytes; < 0 means no limit and is computed as Go's default,
        int64 max (``NO_MEMORY_LIMIT``).
    mapped_ready : int64
        Runtime-mapped memory not released to the OS (heap, stacks, metadata),
        bytes.
    heap_free : int64
        Free, unreleased heap pages, bytes.
    heap_alloc : int64
        Bytes in allocated heap slots (totalAlloc - totalFree).
    heap_marked : int64
        H_m, bytes: the goal's floor.

    Returns
    -------
    int64
        Bytes. ~0.97 x 2^63 with no limit.
    """
    if memory_limit < 0:
        memory_limit = NO_MEMORY_LIMIT
    # Go retries until heapFree + heapAlloc <= mappedReady; the model's
    # counters are consistent, so the clamp only guards bad input.
    non_heap = mapped_ready - heap_free - heap_alloc
    if non_heap < 0:
        non_heap = 0
    overage = 0
    if mapped_ready > memory_limit:
        overage = mapped_ready - memory_limit
    if non_heap + overage >= memory_limit:
        return heap_marked
    goal = memory_limit - (non_heap + overage)
    headroom = goal // 100 * MEMORY_LIMIT_HEADROOM_PERCENT
    if headroom < MEMORY_LIMIT_MIN_HEADROOM_BYTES:
        headroom = MEMORY_LIMIT_MIN_HEADROOM_BYTES
    goal = headroom if goal < headroom or goal - headroom < headroom else goal - headroom
    if goal < heap_marked:
        goal = heap_marked
    return goal


@kernel
def heap_goal_effective(
    gogc_goal: int,
    mem_goal: int,
    sweep_dist_min_trigger: int,
    cycle_running: bool,
    triggered: int,
) -> tuple[int, int]:
    """The heap goal and the trigger floor (``heapGoalInternal``).

    Parameters
    ----------
    gogc_goal : int64
        From :func:`heap_goal_gogc` (at the last commit), bytes.
    mem_goal : int64
        From :func:`memory_limit_heap_goal` (now), bytes.
    sweep_dist_min_trigger : int64
        From :func:`sweep_dist_min_trigger` (at the last commit), bytes.
    cycle_running : bool
        True between startCycle and mark termination (Go: triggered valid).
    triggered : int64
        heapLive when the running cycle started, bytes; ignored otherwise.

    Returns
    -------
    goal : int64
        Bytes.
    min_trigger : int64
        Bytes; 0 in the memory-limited regime.
    """
    if mem_goal < gogc_goal:
        return mem_goal, 0
    goal = gogc_goal
    if sweep_dist_min_trigger > goal:
        goal = sweep_dist_min_trigger
    if cycle_running and goal < triggered + MIN_RUNWAY_BYTES:
        goal = triggered + MIN_RUNWAY_BYTES
    return goal, sweep_dist_min_trigger


@kernel
def compute_trigger(
    goal: int,
    min_trigger: int,
    heap_marked: int,
    cons_mark: float,
    last_heap_scan: int,
    last_stack_scan: int,
    globals_scan: int,
) -> int:
    """heapLive at which the next cycle starts (``trigger``).

    Parameters
    ----------
    goal, min_trigger : int64
        From :func:`heap_goal_effective`, bytes.
    heap_marked : int64
        H_m, bytes.
    cons_mark : float64
        c; with the scan figures it gives the runway (:func:`compute_runway`).
    last_heap_scan, last_stack_scan, globals_scan : int64
        Bytes.

    Returns
    -------
    int64
        Bytes, in [min_trigger-ish lower bound, goal].
    """
    runway = compute_runway(cons_mark, last_heap_scan, last_stack_scan, globals_scan)
    return trigger_from_runway(goal, min_trigger, heap_marked, runway)


@kernel
def trigger_from_runway(goal: int, min_trigger: int, heap_marked: int, runway: int) -> int:
    """``trigger`` given the runway ``commit`` stored (see :func:`compute_trigger`).

    Parameters
    ----------
    goal, min_trigger, heap_marked : int64
        As for :func:`compute_trigger`, bytes.
    runway : int64
        From :func:`compute_runway`, bytes (int64 max for Go's >= 2^63).

    Returns
    -------
    int64
        Bytes.
    """
    if heap_marked >= goal:
        return goal
    if min_trigger < heap_marked:
        min_trigger = heap_marked
    step = (goal - heap_marked) // TRIGGER_RATIO_DEN
    lower = step * MIN_TRIGGER_RATIO_NUM + heap_marked
    if min_trigger < lower:
        min_trigger = lower
    max_trigger = step * MAX_TRIGGER_RATIO_NUM + heap_marked
    if goal > DEFAULT_HEAP_MINIMUM_BYTES and goal - DEFAULT_HEAP_MINIMUM_BYTES > max_trigger:
        max_trigger = goal - DEFAULT_HEAP_MINIMUM_BYTES
    if max_trigger < min_trigger:
        max_trigger = min_trigger
    # int64 max stands for Go's ">= 2^63", more than any goal (no float is 2^63 - 1).
    trigger = min_trigger if runway == INT64_MAX or runway > goal else goal - runway
    if trigger < min_trigger:
        trigger = min_trigger
    if trigger > max_trigger:
        trigger = max_trigger
    return trigger


# --- current pacer: mark phase -----------------------------------------------


@kernel
def bg_workers(gomaxprocs: int) -> tuple[int, float]:
    """Background mark workers for a cycle (``startCycle``).

    Parameters
    ----------
    gomaxprocs : int64
        P >= 1.

    Returns
    -------
    dedicated : int64
        Dedicated mark workers: round(0.25 P), one fewer if that overshoots by
        more than 30 %.
    fractional_goal : float64
        Fraction of each P's time for the fractional worker (0 if none).
    """
    total = float(gomaxprocs) * GC_BACKGROUND_UTILIZATION
    dedicated = np.int64(total + 0.5)
    util_error = float(dedicated) / total - 1.0
    fractional = 0.0
    if util_error < -MAX_UTIL_ERROR or util_error > MAX_UTIL_ERROR:
        if float(dedicated) > total:
            dedicated -= 1
        fractional = (total - float(dedicated)) / float(gomaxprocs)
    return dedicated, fractional


@kernel
def max_idle_mark_workers(gomaxprocs: int, dedicated: int, periodic: bool) -> int:
    """Cap on concurrent idle mark workers (``startCycle``).

    Parameters
    ----------
    gomaxprocs, dedicated : int64
    periodic : bool
        The cycle was started by the 2-minute timer (``gcTriggerTime``).

    Returns
    -------
    int64
        P - dedicated; for a periodic cycle 0, or 1 if there is no dedicated
        worker.
    """
    if periodic:
        if dedicated > 0:
            return 0
        return 1
    return gomaxprocs - dedicated


@kernel
def assist_ratio(
    gogc: int,
    heap_live: int,
    heap_scan: int,
    scan_work_done: int,
    heap_goal: int,
    triggered: int,
    last_heap_scan: int,
    last_stack_scan: int,
    globals_scan: int,
    max_stack_scan: int,
) -> tuple[float, float]:
    """Mutator assist ratio (``revise``).

    Parameters
    ----------
    gogc : int64
        GOGC percent; < 0 (a forced GC under GOGC=off) acts as 100 000.
    heap_live : int64
        heapLive now, bytes.
    heap_scan : int64
        heapScan frozen at cycle start, bytes.
    scan_work_done : int64
        Heap + stack + globals scan work done so far this cycle.
    heap_goal : int64
        The effective goal (:func:`heap_goal_effective`, first element), bytes.
    triggered : int64
        heapLive at cycle start, bytes.
    last_heap_scan, last_stack_scan, globals_scan : int64
        Expected work: last cycle's heap and stack scan work, plus globals.
    max_stack_scan : int64
        Allocated stack bytes of live goroutines (``maxStackScan``).

    Returns
    -------
    assist_work_per_byte : float64
        Scan work owed per byte allocated.
    assist_bytes_per_work : float64
        Bytes of allocation credit per unit of scan work.
    """
    if gogc < 0:
        gogc = GOGC_OFF_REVISE_PERCENT
    work = scan_work_done
    goal = heap_goal
    expected = last_heap_scan + last_stack_scan + globals_scan
    max_work = heap_scan + max_stack_scan + globals_scan
    if work > expected:
        # Heap growing: stretch the runway to the worst-case work, capped.
        # expected == 0 gives inf or nan here, as in Go (np.float64: also without JIT).
        stretch = np.float64(goal - triggered) / np.float64(expected) * float(max_work)
        ext = _wrap_add(_f64_to_i64(stretch), triggered)
        expected = max_work
        hard = _f64_to_i64((1.0 + float(gogc) / 100.0) * float(goal))
        if ext > hard:
            ext = hard
        goal = ext
    if heap_live > goal:
        goal = _f64_to_i64(float(goal) * MAX_OVERSHOOT)
        expected = max_work
    remaining = expected - work
    if remaining < MIN_SCAN_WORK_REMAINING:
        remaining = MIN_SCAN_WORK_REMAINING
    distance = _wrap_sub(goal, heap_live)
    if distance <= 0:
        distance = 1
    return float(remaining) / float(distance), float(distance) / float(remaining)


@kernel
def cons_mark_update(
    heap_live: int,
    triggered: int,
    scan_work: int,
    assist_time_ns: int,
    idle_mark_time_ns: int,
    mark_duration_ns: int,
    gomaxprocs: int,
    cons_mark: float,
    last_cons_mark: np.ndarray,
) -> tuple[float, float, bool]:
    """New cons/mark estimate at mark termination (``endCycle``).

    Parameters
    ----------
    heap_live : int64
        heapLive at mark termination (before ``resetLive``), bytes.
    triggered : int64
        heapLive when the cycle started, bytes.
    scan_work : int64
        Heap + stack + globals scan work done this cycle.
    assist_time_ns, idle_mark_time_ns : int64
        CPU ns spent in assists and idle mark workers this cycle.
    mark_duration_ns : int64
        Wall ns from mark start (``markStartTime``) to now.
    gomaxprocs : int64
    cons_mark : float64
        The current estimate c.
    last_cons_mark : float64[4]
        The last four measured values, oldest first; updated in place
        (shifted left, newest appended) unless nothing is updated.

    Returns
    -------
    cons_mark : float64
        max(this cycle's value, the four before it); the input if not updated.
    utilization : float64
        0.25 + assist utilization (what gcpacertrace prints).
    updated : bool
        False when heapLive <= triggered: Go then changes nothing.
    """
    cpu = mark_duration_ns * gomaxprocs
    utilization = GC_BACKGROUND_UTILIZATION
    if mark_duration_ns > 0:
        utilization += float(assist_time_ns) / float(cpu)
    if heap_live <= triggered:
        return cons_mark, utilization, False
    idle_utilization = 0.0
    if mark_duration_ns > 0:
        idle_utilization = float(idle_mark_time_ns) / float(cpu)
    # np.float64 keeps IEEE x/0 (inf, nan) also under NUMBA_DISABLE_JIT=1.
    current = np.float64(float(heap_live - triggered) * (utilization + idle_utilization)) / (
        np.float64(float(scan_work) * (1.0 - utilization))
    )
    new = current
    n = last_cons_mark.shape[0]
    for i in range(n):
        if last_cons_mark[i] > new:
            new = last_cons_mark[i]
    for i in range(n - 1):
        last_cons_mark[i] = last_cons_mark[i + 1]
    last_cons_mark[n - 1] = current
    return new, utilization, True


# --- GC CPU limiter (mgclimit.go) ---------------------------------------------


@kernel
def limiter_window_times(
    window_ns: int, gomaxprocs: int, assist_ns: int, idle_ns: int, gc_enabled: bool
) -> tuple[int, int]:
    """Split one limiter window into GC and mutator CPU time (``updateLocked``).

    Parameters
    ----------
    window_ns : int64
        Wall ns since the last update.
    gomaxprocs : int64
    assist_ns : int64
        Assist (and scavenge-assist) CPU ns in the window.
    idle_ns : int64
        CPU ns of Ps on the idle list plus idle mark workers in the window.
    gc_enabled : bool
        Marking (``gcBlackenEnabled``) during the window: adds 25 % of the
        window's full CPU time as background GC time.

    Returns
    -------
    gc_time : int64
        CPU ns.
    mutator_time : int64
        CPU ns: total minus idle minus GC time.
    """
    total = window_ns * gomaxprocs
    gc_time = assist_ns
    if gc_enabled:
        gc_time += _f64_to_i64(float(total) * GC_BACKGROUND_UTILIZATION)
    total -= idle_ns
    return gc_time, total - gc_time


@kernel
def limiter_update(fill: int, capacity: int, gc_time: int, mutator_time: int) -> tuple[int, bool]:
    """Pour one window into the limiter's bucket (``accumulate``).

    Parameters
    ----------
    fill : int64
        Bucket level, CPU ns, in [0, capacity].
    capacity : int64
        GOMAXPROCS x ``LIMITER_CAPACITY_PER_PROC_NS``.
    gc_time, mutator_time : int64
        From :func:`limiter_window_times`; a STW transition passes
        (window x GOMAXPROCS, 0).

    Returns
    -------
    fill : int64
        New level.
    enabled : bool
        The limiter is on (assists are skipped) until the next update.
    """
    headroom = capacity - fill
    was_full = headroom == 0
    change = gc_time - mutator_time
    if change > 0 and headroom <= change:
        return capacity, True
    fill = 0 if change < 0 and fill <= -change else fill + change
    # Any change switches a full bucket off; no change leaves the state alone.
    return fill, was_full and change == 0


# --- sweep pacing (mgcsweep.go) -----------------------------------------------


@kernel
def sweep_pages_per_byte(
    trigger: int, heap_live: int, pages_in_use: int, pages_swept: int, sweep_done: bool
) -> float:
    """Proportional-sweep rate (``gcPaceSweeper``).

    Parameters
    ----------
    trigger : int64
        The next trigger, bytes.
    heap_live : int64
        heapLive now (the basis), bytes.
    pages_in_use, pages_swept : int64
        ``pagesInUse`` and ``pagesSwept`` now, pages.
    sweep_done : bool

    Returns
    -------
    float64
        Pages to sweep per byte allocated; 0 when nothing is left to sweep.
        The caller keeps heap_live and pages_swept as the bases.
    """
    if sweep_done:
        return 0.0
    distance = trigger - heap_live - SWEEP_MIN_HEAP_DISTANCE_BYTES
    if distance < _PAGE_BYTES:
        distance = _PAGE_BYTES
    pages = pages_in_use - pages_swept
    if pages <= 0:
        return 0.0
    return float(pages) / float(distance)


# --- the pre-1.18 pacer ---------------------------------------------------------


@kernel
def heap_goal_go15(heap_marked: int, gogc: int) -> int:
    """Legacy GOGC goal H_m (1 + GOGC/100), before the trigger can push it up.

    Parameters
    ----------
    heap_marked : int64
        Bytes.
    gogc : int64
        < 0 means off.

    Returns
    -------
    int64
        Bytes; ``GOGC_OFF_HEAP_GOAL`` when off.
    """
    if gogc < 0:
        return GOGC_OFF_HEAP_GOAL
    return heap_marked + heap_marked * gogc // 100


@kernel
def trigger_go15(
    heap_marked: int, heap_live: int, trigger_ratio: float, gogc: int, sweep_done: bool
) -> tuple[int, int, float]:
    """Legacy trigger and goal (Go 1.18 ``oldCommit``, Go <= 1.17 ``commit``).

    Parameters
    ----------
    heap_marked : int64
        H_m, bytes (``GO15_INITIAL_HEAP_MARKED_BYTES`` before the first GC).
    heap_live : int64
        heapLive at commit time, bytes.
    trigger_ratio : float64
        h_T proposed by :func:`trigger_ratio_update_go15`
        (``GO15_INITIAL_TRIGGER_RATIO`` at start).
    gogc : int64
        < 0 means off.
    sweep_done : bool
        ``isSweepDone()`` at commit time.

    Returns
    -------
    trigger : int64
        Bytes; ``GOGC_OFF_HEAP_GOAL`` when off.
    goal : int64
        Bytes, pushed up to the trigger if a floor raised it.
    trigger_ratio : float64
        h_T after clamping to [0.6, 0.95] x GOGC/100: the state to keep.
    """
    goal = heap_goal_go15(heap_marked, gogc)
    if gogc < 0:
        if trigger_ratio < 0.0:
            trigger_ratio = 0.0
        return GOGC_OFF_HEAP_GOAL, goal, trigger_ratio
    scaling = float(gogc) / 100.0
    upper = GO15_MAX_TRIGGER_RATIO_FRAC * scaling
    if trigger_ratio > upper:
        trigger_ratio = upper
    lower = GO15_MIN_TRIGGER_RATIO_FRAC * scaling
    if trigger_ratio < lower:
        trigger_ratio = lower
    trigger = _f64_to_u64_sat(float(heap_marked) * (1.0 + trigger_ratio))
    min_trigger = heap_minimum(gogc)
    if not sweep_done and heap_live + SWEEP_MIN_HEAP_DISTANCE_BYTES > min_trigger:
        min_trigger = heap_live + SWEEP_MIN_HEAP_DISTANCE_BYTES
    if trigger < min_trigger:
        trigger = min_trigger
    if trigger > goal:
        goal = trigger
    return trigger, goal, trigger_ratio


@kernel
def cycle_start_goal_go15(heap_goal: int, heap_live: int) -> int:
    """Legacy ``startCycle``: keep the goal >= heapLive + 1 MiB.

    Parameters
    ----------
    heap_goal, heap_live : int64
        Bytes.

    Returns
    -------
    int64
        The goal for this cycle (also what :func:`trigger_ratio_update_go15`
        must see as ``heap_goal``).
    """
    floor = heap_live + GO15_MIN_GOAL_DISTANCE_BYTES
    if heap_goal < floor:
        return floor
    return heap_goal


@kernel
def trigger_ratio_update_go15(
    trigger_ratio: float,
    heap_goal: int,
    heap_marked: int,
    heap_live: int,
    assist_time_ns: int,
    mark_duration_ns: int,
    gomaxprocs: int,
    user_forced: bool,
) -> float:
    """Legacy trigger-ratio feedback at mark termination (old ``endCycle``).

    Parameters
    ----------
    trigger_ratio : float64
        h_T used for this cycle.
    heap_goal : int64
        This cycle's goal (after :func:`cycle_start_goal_go15`), bytes.
    heap_marked : int64
        H_m of the *previous* cycle (endCycle runs before resetLive), bytes.
    heap_live : int64
        heapLive at mark termination, bytes.
    assist_time_ns, mark_duration_ns : int64
    gomaxprocs : int64
    user_forced : bool
        runtime.GC(): the ratio is left alone.

    Returns
    -------
    float64
        The proposed next h_T (unclamped; :func:`trigger_go15` clamps it).
    """
    if user_forced or heap_marked <= 0:
        return trigger_ratio
    utilization = GC_BACKGROUND_UTILIZATION
    if mark_duration_ns > 0:
        utilization += float(assist_time_ns) / float(mark_duration_ns * gomaxprocs)
    growth = float(heap_goal - heap_marked)
    if heap_goal < heap_marked:
        growth += 18446744073709551616.0  # Go subtracts in uint64 (cannot happen)
    goal_growth = growth / float(heap_marked)
    if goal_growth < 0.0:
        goal_growth = 0.0
    actual_growth = float(heap_live) / float(heap_marked) - 1.0
    error = (
        goal_growth
        - trigger_ratio
        - utilization / GO15_GOAL_UTILIZATION * (actual_growth - trigger_ratio)
    )
    return trigger_ratio + GO15_TRIGGER_GAIN * error


@kernel
def assist_ratio_go15(
    gogc: int, heap_live: int, heap_scan: int, scan_work_done: int, heap_goal: int
) -> tuple[float, float]:
    """Legacy mutator assist ratio (old ``revise``).

    Parameters
    ----------
    gogc : int64
        < 0 (forced GC under GOGC=off) acts as 100 000.
    heap_live : int64
        Bytes.
    heap_scan : int64
        heapScan now (not frozen in the legacy pacer), bytes.
    scan_work_done : int64
        Heap scan work done this cycle (stack and globals work did not count).
    heap_goal : int64
        This cycle's goal, bytes; ``GOGC_OFF_HEAP_GOAL`` is read as Go's
        int64(^uint64(0)) = -1.

    Returns
    -------
    assist_work_per_byte, assist_bytes_per_work : float64
    """
    if gogc < 0:
        gogc = GOGC_OFF_REVISE_PERCENT
    goal = heap_goal
    if goal == GOGC_OFF_HEAP_GOAL:
        goal = -1
    expected = _f64_to_i64(float(heap_scan) * 100.0 / float(100 + gogc))
    if heap_live > goal or scan_work_done > expected:
        goal = _f64_to_i64(float(goal) * MAX_OVERSHOOT)
        expected = heap_scan
    remaining = expected - scan_work_done
    if remaining < MIN_SCAN_WORK_REMAINING:
        remaining = MIN_SCAN_WORK_REMAINING
    distance = _wrap_sub(goal, heap_live)
    if distance <= 0:
        distance = 1
    return float(remaining) / float(distance), float(distance) / float(remaining)
