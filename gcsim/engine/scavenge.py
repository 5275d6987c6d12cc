"""The scavenger: free heap pages returned to the OS (src/runtime/mgcscavenge.go, go1.27.3).

HeapReleased counts free pages whose memory went back to the OS; the address
space stays mapped. Freshly mapped heap starts out released (mheap.grow), so
the heap's footprint ("retained" = HeapSys - HeapReleased = heapInUse +
heapFree) grows only as pages are used, and shrinks only when the scavenger
releases free pages again. What gcsim models (reference §4.3):

1. Goals, at every pacer commit after mark termination (``pace_scavenger``,
   after ``gcPaceScavenger``):

   - GOGC goal: lastHeapInUse x (heapGoal / lastHeapGoal), plus 10 %
     (``retainExtraPercent``), rounded up to a 4 KiB physical page; none
     before the first GC ends and none while retained <= goal + one
     physical page. Worked number: 40 MiB in use at mark termination and an
     unchanged goal -> retain 44 MiB.
   - memory-limit goal: 95 % of GOMEMLIMIT (``reduceExtraPercent``), against
     mapped-ready memory: HeapSys - HeapReleased plus the runtime's own
     memory (rtmem.py).

2. The background scavenger goroutine (``bgscavenge``) releases free pages,
   highest addresses first, 64 KiB (``scavengeQuantum``, 8 pages) at a time,
   while a goal is unmet and sweeping has finished (it is woken when sweeping
   ends). Go paces it to ``scavengePercent`` = 1 % of GOMAXPROCS x wall time:
   it works >= 1 ms, then sleeps for ``worked x (100 / GOMAXPROCS - 1)`` as
   its controller converges. gcsim gives it that converged share as a credit
   of 0.01 x GOMAXPROCS x each quantum and releases a 64 KiB quantum whenever
   the credit covers it (``scavenge_background``): the same release rate
   without the 100 ms on/off ripple and the controller's first few
   iterations. Its CPU runs on the last P (idle in workloads with fewer
   mutator Ps than GOMAXPROCS, as Go's scheduler would place it there).

3. Allocation-time scavenging (``mheap.allocSpan``, ``scavenge_on_alloc``):
   after every span allocation from the page heap the allocating goroutine
   releases, at once and at its own cost, the larger of

   - the memory-limit excess: mapped-ready memory (retained heap plus the
     runtime's non-heap memory) over GOMEMLIMIT, unless the GC CPU limiter
     is on. When the live heap alone is over the limit this is every free
     page, so pages freed by sweeping go back to the OS at the next span
     allocation and a span taken from them faults again. The time counts
     as assist time for the limiter (``limiterEventScavengeAssist``);
   - on heap growth, when retained + growth exceeds the GOGC goal,
     min(growth, overage).

   Spans that ``cacheSpan`` reuses in place (its sweep keeps a span whose
   objects all died) never reach the page heap, so they neither fault nor
   trigger scavenging, as in Go.

Cost: ``scavenge_ns_per_page`` per 8 KiB page (madvise and bookkeeping).

Simplifications: the 4 MiB-chunk density filter (chunks more than 96.875 %
used in this or the last cycle are skipped unless forced) is not applied;
stack spans neither scavenge when they take pages nor pay for their faults;
physical pages are counted in 8 KiB runtime pages.
"""

from __future__ import annotations

from gcsim.engine._jit import kernel
from gcsim.engine.state import (
    B_LAST_HEAP_GOAL_BYTES,
    B_LAST_HEAP_INUSE_BYTES,
    B_SCAV_BG_CHUNKS,
    B_SCAV_BG_CYCLES,
    B_SCAV_BG_PAGES,
    B_SCAV_CREDIT_CYCLES,
    B_SCAV_LIMIT_GOAL_BYTES,
    B_SCAV_TICK,
    C_LIMITER_ON,
    C_PAGES_INUSE,
    C_PAGES_MAPPED,
    C_PAGES_RELEASED,
    C_SCAV_ASSIST_CYCLES,
    C_SCAV_ASSIST_PAGES,
    C_SCAV_GOAL_BYTES,
    C_SCAV_LIMIT_HEAP_BYTES,
    C_SCAV_PENDING_PAGES,
    C_SCAV_SEARCH_PAGE,
    C_STACK_PAGES,
    C_UNSWEPT_SPANS,
    NO_GOAL_BYTES,
)

PAGE_BYTES_ = 8192
PHYS_PAGE_BYTES = 4096  # physPageSize on linux/amd64
SCAVENGE_PERCENT = 1  # scavengePercent: the background scavenger's share of GOMAXPROCS
RETAIN_EXTRA_PERCENT = 10  # retainExtraPercent
REDUCE_EXTRA_PERCENT = 5  # reduceExtraPercent
SCAVENGE_QUANTUM_PAGES = (64 << 10) // PAGE_BYTES_  # scavengeQuantum = 64 KiB


@kernel
def retained_bytes(c):
    """heapRetained = heapInUse + heapFree = HeapSys - HeapReleased, bytes."""
    return (c[C_PAGES_MAPPED] - c[C_PAGES_RELEASED]) * PAGE_BYTES_


@kernel
def free_unreleased_pages(c):
    """heapFree in pages: free heap pages the OS still backs (neither in a span nor released)."""
    return c[C_PAGES_MAPPED] - c[C_PAGES_INUSE] - c[C_STACK_PAGES] - c[C_PAGES_RELEASED]


@kernel
def scavenge_goal(last_heap_inuse_bytes, heap_goal_bytes, last_heap_goal_bytes, retained):
    """gcPaceScavenger's GOGC goal in bytes, or NO_GOAL_BYTES when there is none (or it is met)."""
    if last_heap_goal_bytes <= 0:
        return NO_GOAL_BYTES
    ratio = heap_goal_bytes / last_heap_goal_bytes
    goal = int(last_heap_inuse_bytes * ratio)
    goal += goal // (100 // RETAIN_EXTRA_PERCENT)
    goal = (goal + PHYS_PAGE_BYTES - 1) // PHYS_PAGE_BYTES * PHYS_PAGE_BYTES
    if retained <= goal or retained - goal < PHYS_PAGE_BYTES:
        return NO_GOAL_BYTES
    return goal


@kernel
def pace_scavenger(c, bg, memory_limit_bytes, heap_goal_bytes, nonheap):
    """gcPaceScavenger, at the commit after mark termination (both goals).

    Go sets the memory-limit goal on all mapped-ready memory; gcsim keeps it
    as a goal for the heap's retained pages, the runtime's ``nonheap`` bytes
    (rtmem.py) taken off.
    """
    retained = retained_bytes(c)
    bg[B_SCAV_LIMIT_GOAL_BYTES] = NO_GOAL_BYTES
    if memory_limit_bytes >= 0:
        limit_goal = int(memory_limit_bytes * (1.0 - REDUCE_EXTRA_PERCENT / 100.0)) - nonheap
        if retained > limit_goal:
            bg[B_SCAV_LIMIT_GOAL_BYTES] = limit_goal
    c[C_SCAV_GOAL_BYTES] = scavenge_goal(
        bg[B_LAST_HEAP_INUSE_BYTES], heap_goal_bytes, bg[B_LAST_HEAP_GOAL_BYTES], retained
    )
    if c[C_SCAV_GOAL_BYTES] == NO_GOAL_BYTES and bg[B_SCAV_LIMIT_GOAL_BYTES] == NO_GOAL_BYTES:
        bg[B_SCAV_CREDIT_CYCLES] = 0  # both goals met: the scavenger parks


@kernel
def _excess_pages(c, bg):
    """Pages above the tighter of the two goals (0 when both are met)."""
    retained = retained_bytes(c)
    excess = 0
    goal = c[C_SCAV_GOAL_BYTES]
    if retained > goal:
        excess = retained - goal
    lim = bg[B_SCAV_LIMIT_GOAL_BYTES]
    if retained - lim > excess:
        excess = retained - lim
    return (excess + PAGE_BYTES_ - 1) // PAGE_BYTES_


@kernel
def release_pages(heap, c, max_pages):
    """Release up to ``max_pages`` free, unreleased pages, highest address first.

    Returns the pages released. ``C_SCAV_SEARCH_PAGE`` bounds the search from
    above (freeing a span raises it; see mspan.free_span), so repeated calls
    walk down the arena once, not once per call; the walk also stops at the
    last free, unreleased page, so a call with none left costs nothing.
    """
    max_pages = min(max_pages, free_unreleased_pages(c))
    if max_pages <= 0:
        return 0
    q = min(c[C_SCAV_SEARCH_PAGE], c[C_PAGES_MAPPED]) - 1
    n = 0
    while q >= 0 and n < max_pages:
        if heap.page_span[q] < 0 and heap.page_released[q] == 0:
            heap.page_released[q] = 1
            n += 1
        q -= 1
    c[C_SCAV_SEARCH_PAGE] = q + 1
    c[C_PAGES_RELEASED] += n
    return n


@kernel
def scavenge_on_alloc(heap, c, costs, out_cost):
    """mheap.allocSpan's scavenge, after the span took its pages (module docstring, 3).

    Releases the larger of what ``note_growth`` asked for and the retained
    heap over ``C_SCAV_LIMIT_HEAP_BYTES`` (skipped while the GC CPU limiter is
    on), charging ``scavenge_page`` per page to the allocating goroutine.
    """
    want = c[C_SCAV_PENDING_PAGES]
    c[C_SCAV_PENDING_PAGES] = 0
    limit = c[C_SCAV_LIMIT_HEAP_BYTES]
    if limit != NO_GOAL_BYTES and c[C_LIMITER_ON] == 0:
        over = retained_bytes(c) - limit
        if over > 0:
            want = max(want, (over + PAGE_BYTES_ - 1) // PAGE_BYTES_)
    if want <= 0:
        return
    n = release_pages(heap, c, want)
    cost = n * costs.scavenge_page
    out_cost[0] += cost
    c[C_SCAV_ASSIST_PAGES] += n
    c[C_SCAV_ASSIST_CYCLES] += int(cost + 0.5)


@kernel
def note_growth(c, grow_pages):
    """Heap growth by ``grow_pages``: ask for min(growth, overage) pages to be scavenged.

    Called by mheap's page allocator right after it mapped the new pages
    (still released) and before it takes the span's pages, which is where
    allocSpan tests retained + growth > goal.
    """
    goal = c[C_SCAV_GOAL_BYTES]
    if goal == NO_GOAL_BYTES:
        return
    over = retained_bytes(c) + grow_pages * PAGE_BYTES_ - goal
    if over <= 0:
        return
    c[C_SCAV_PENDING_PAGES] += min(grow_pages, (over + PAGE_BYTES_ - 1) // PAGE_BYTES_)


@kernel
def scavenge_background(heap, c, bg, costs, gomaxprocs, q_end, quantum_cycles):
    """The background scavenger's share of one quantum; returns the cycles it ran.

    Called once per quantum (``B_SCAV_TICK`` guards re-entry after a grow
    status). Credit accrues only while a goal is unmet and sweeping is done,
    so a met goal does not bank CPU for later.
    """
    if bg[B_SCAV_TICK] == q_end:
        return 0
    bg[B_SCAV_TICK] = q_end
    if c[C_UNSWEPT_SPANS] > 0 or _excess_pages(c, bg) <= 0:
        bg[B_SCAV_CREDIT_CYCLES] = 0
        return 0
    bg[B_SCAV_CREDIT_CYCLES] += int(SCAVENGE_PERCENT / 100.0 * gomaxprocs * quantum_cycles)
    chunk_cost = SCAVENGE_QUANTUM_PAGES * costs.scavenge_page
    used = 0.0
    while bg[B_SCAV_CREDIT_CYCLES] >= chunk_cost:
        want = min(SCAVENGE_QUANTUM_PAGES, _excess_pages(c, bg))
        if want <= 0:
            break
        n = release_pages(heap, c, want)
        if n == 0:
            bg[B_SCAV_CREDIT_CYCLES] = 0  # nothing free to release: park
            break
        cost = n * costs.scavenge_page
        bg[B_SCAV_CREDIT_CYCLES] -= int(cost + 0.5)
        bg[B_SCAV_BG_PAGES] += n
        bg[B_SCAV_BG_CHUNKS] += 1
        used += cost
    used_cycles = int(used + 0.5)
    bg[B_SCAV_BG_CYCLES] += used_cycles
    return used_cycles
