"""The engine's state: record dtypes, counter indices and NamedTuples of arrays.

Everything a kernel touches lives here, in flat or structured NumPy arrays
grouped into a few NamedTuples, so a run is a handful of arrays the driver can
grow, checkpoint and hand back (STYLE.md §2). Object identity is the heap
*slot*: slot ``i`` belongs to span record ``slot_span[i]`` for the whole run,
because span records (and the block of slots each owns) are recycled only
within their span class. A tiny block is one slot; every tiny allocation packed
into it shares its identity, which is exactly why a block lives while any of
its sub-objects is reachable (src/runtime/malloc.go ``mallocgcTiny``).

Units: ``_bytes`` are bytes, ``_cycles`` CPU cycles of the simulated clock,
pages are 8 KiB (``goruntime.sizeclasses.PAGE_BYTES``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gcsim.engine.poolstate import Pools, new_pools
from gcsim.engine.rtmem import RUNTIME_HEAP_OBJECTS
from gcsim.engine.stackstate import Stacks, empty_stacks

# --- span records -----------------------------------------------------------

SPAN_DTYPE = np.dtype(
    [
        ("base_page", np.int64),  # first page of the span in the arena
        ("npages", np.int64),  # length in pages
        ("spanclass", np.int64),  # sizeclass << 1 | noscan (src/runtime/mheap.go makeSpanClass)
        ("nelems", np.int64),  # slots in the span (Green Tea reservations applied)
        ("elemsize", np.int64),  # slot size, bytes; npages*8192 for a large span
        ("slot_base", np.int64),  # first slot id of this record's block of slots
        ("alloc_count", np.int64),  # slots allocated (incl. dead ones not yet swept)
        ("freeindex", np.int64),  # every slot below it is allocated (mspan.freeindex)
        ("sweepgen", np.int64),  # vs heap sweepgen: sg-2 unswept, sg swept (see gcsweeping)
        ("state", np.int64),  # SPAN_FREE / SPAN_INUSE
        ("list", np.int64),  # which mcentral list holds it (L_*), or L_NONE
        ("next", np.int64),  # intrusive doubly linked list links (span record ids)
        ("prev", np.int64),
        ("cached_by", np.int64),  # P holding it in its mcache, or -1
        # 1 if free slots may hold old data and mallocgc must clear them
        # (mspan.needzero); 0 for pages all fresh from the OS or scavenged
        ("needzero", np.int64),
        # Green Tea span scans (mgcmark_greenteagc.go scanSpan). The fewest marked
        # objects one scan of this span must find to take the packed path, which
        # counts each object's whole slot as scan work (NO_DENSE_SCAN: never).
        ("dense_scan_min", np.int64),
        # 1 if a marked object of this span waits in Green Tea's span queue (16-512 B
        # pointerful slots), 0 if in the object workbufs that drain first.
        ("span_queue", np.int64),
        # The span's queued, unscanned objects; the objects left in the scan under
        # way and whether it is packed (1) or object by object (0).
        ("scan_pending", np.int64),
        ("scan_batch", np.int64),
        ("scan_dense", np.int64),
    ]
)

# dense_scan_min of spans a Green Tea span scan never covers: large objects,
# slots under 16 or over 512 B, pointer-free spans, classic builds, and CPUs
# without the packed scan (compile.sizeclass_tables).
NO_DENSE_SCAN = 1 << 62

SPAN_FREE = 0
SPAN_INUSE = 1
SPAN_STACK = 2  # a stack span (mSpanManual): pages of the heap holding goroutine stacks

# mcentral lists per span class (src/runtime/mcentral.go partial/full x swept/unswept)
L_NONE = -1
L_PARTIAL_SWEPT = 0
L_PARTIAL_UNSWEPT = 1
L_FULL_SWEPT = 2
L_FULL_UNSWEPT = 3
L_FREE_RECORDS = 4  # span records whose span was freed, kept for reuse by this span class
N_LISTS = 5

# --- GC phases ----------------------------------------------------------------

PHASE_OFF = 0
PHASE_SWEEP_TERM = 1
PHASE_MARK = 2
PHASE_MARK_TERM = 3

# --- kernel status codes ----------------------------------------------------------

ST_OK = 0  # reached the requested cycle budget
ST_DONE = 1  # the run's end (duration or max_allocs) was reached
ST_GROW_SLOTS = 2  # slot arrays need more room; grow and call again
ST_GROW_SPANS = 3  # span records need more room
ST_GROW_PAGES = 4  # the page map needs more room
ST_RECORDS_FULL = 5  # cycle or timeline record buffers are full; drain and call again
ST_OUT_OF_MEMORY = 6  # the heap would exceed the configured arena limit
ST_GROW_RATES = 7  # the run outlived Workload.rate_table; extend it and call again
ST_GROW_POOL = 8  # a sync.Pool shared ring is full (poolstate.grow_pools)
ST_STACK_OVERFLOW = 9  # a goroutine's stack would exceed max_stack_bytes (fatal, as in Go)


# --- int64 counters (index with C_*) ------------------------------------------------

C_NOW_CYCLES = 0  # global clock: start of the current quantum
C_ALLOCS = 1  # user allocations made (every malloc, tiny ones included)
C_MUTATOR_CYCLES = 2  # cycles Ps spent running user code + allocation
C_IDLE_CYCLES = 3  # cycles Ps had nothing to run
C_NEXT_SAMPLE_CYCLES = 4  # when the next timeline row is due
C_HEAP_LIVE_BYTES = 5  # gcController.heapLive: marked + allocated since, per span refill
C_HEAP_ALLOC_BYTES = 6  # HeapAlloc: bytes in allocated slots, incl. unswept dead
C_TOTAL_ALLOC_BYTES = 7  # TotalAlloc
C_SLOT_ALLOCS = 8  # objects allocated in slots (a tiny block counts once)
C_SLOT_FREES = 9  # slots freed by sweeping
C_TINY_ALLOCS = 10  # allocations packed into an existing tiny block
C_PAGES_INUSE = 11  # pages in in-use heap spans
C_PAGES_MAPPED = 12  # pages of heap address space (grows in 512-page chunks)
C_PAGES_RELEASED = 13  # free pages returned to the OS (fresh growth counts as released)
C_HEAP_SCAN_BYTES = 14  # gcController.heapScan (§1.11)
C_PHASE = 15  # PHASE_*
C_SWEEPGEN = 16  # mheap.sweepgen, += 2 per cycle
C_NUM_GC = 17  # completed cycles
C_GC_PENDING = 18  # a trigger fired; the cycle starts at the quantum boundary
C_HEAP_MARKED_BYTES = 19  # bytes marked so far by the running (or last) cycle
C_HEAP_GOAL_BYTES = 20  # current heap goal
C_TRIGGER_BYTES = 21  # current trigger
C_LAST_HEAP_SCAN_BYTES = 22  # S_h: heap scan work of the last cycle
C_LAST_STACK_SCAN_BYTES = 23  # S_s
C_SWEEP_DIST_MIN_TRIGGER = 24  # heapLive + 1 MiB at commit while sweeping was unfinished
C_PAGES_SWEPT = 25  # pages swept this cycle (proportional sweep)
C_PAGES_SWEPT_BASIS = 26
C_HEAP_LIVE_BASIS = 27
C_SWEEP_CURSOR = 28  # span class the background sweeper looks at next
C_UNSWEPT_SPANS = 29  # in-use spans still to sweep this cycle
C_GC_CPU_CYCLES = 30  # GC CPU as Go's GCCPUFraction counts it (STW x P + workers + assists)
C_SWEEP_CYCLES = 31  # CPU spent sweeping (not in GCCPUFraction)
C_N_CYCLE_RECORDS = 32  # rows used in the cycle record buffer
C_N_TIMELINE_RECORDS = 33  # rows used in the timeline buffer
C_N_SPAN_RECORDS = 34  # span records ever created
C_N_SLOTS_USED = 35  # slot ids handed to span records
C_MAX_PAGES_MAPPED = 36  # largest C_PAGES_MAPPED seen (for HeapSys)
C_FREE_PAGE_HINT = 37  # no page below it is free (first-fit search start)
C_IN_QUANTUM = 38  # 1 while Ps are part way through a quantum (resume point)
C_QUANTUM_END_CYCLES = 39  # end of the quantum in progress
C_GRAY_LEN = 40  # entries in the gray stack's span-queue end (Gc.gray)
C_MARK_SCAN_WORK = 41  # heap scan work this cycle, bytes (Go's units, §2.6)
C_MARK_OBJECTS = 42  # objects marked this cycle (allocate-black excluded)
C_MARK_POINTERS = 43  # non-nil pointers followed this cycle
C_ALLOC_SITE_OBJECTS = 44  # objects made by sites (children included)
C_GLOBALS_WORK_LEFT = 45  # globals bytes still to scan this cycle
C_GLOBALS_SCAN_DONE = 46  # globals scan work done this cycle, bytes
C_BG_SCAN_CREDIT = 47  # gcController.bgScanCredit: background scan work assists may steal
C_CYC_START = 48  # the running cycle: sweep termination began, cycles
C_CYC_MARK_START = 49  # marking began (world restarted), cycles
C_CYC_HEAP_LIVE_START = 50  # H0, bytes
C_CYC_TRIGGER = 51  # trigger that started it, bytes
C_CYC_TRIGGERED = 52  # H_T: heapLive at startCycle, bytes
C_CYC_UNSWEPT = 53  # spans left unswept when it started
C_CYC_FORCED = 54  # 1 for runtime.GC()
C_CYC_ASSIST_CYCLES = 55  # assist CPU so far, cycles
C_CYC_BG_CYCLES = 56  # dedicated + fractional worker CPU so far, cycles
C_CYC_IDLE_CYCLES = 57  # idle worker CPU so far, cycles
C_CYC_STW1_CYCLES = 58  # sweep-termination pause, cycles
C_ASSIST_PARKED = 59  # times a goroutine parked on the assist queue
C_LAST_HEAP_MARKED_BYTES = 60  # H_m: bytes marked by the last completed cycle (the pacer's)
C_TOTAL_ASSIST_CYCLES = 61  # assist CPU since start, cycles
C_TOTAL_STW_CPU_CYCLES = 62  # STW pause wall x GOMAXPROCS since start, cycles
C_LIMITER_FILL = 63  # GC CPU limiter bucket level, cycles (mgclimit.go)
C_LIMITER_ON = 64  # 1 while the bucket is full: assists are skipped
C_LIMITER_T = 65  # time of the last limiter update, cycles
C_LIMITER_SNAP_ASSIST = 66  # C_TOTAL_ASSIST_CYCLES at the last update
C_LIMITER_SNAP_STW = 67  # C_TOTAL_STW_CPU_CYCLES at the last update
C_LIMITER_SNAP_IDLE = 68  # C_IDLE_CYCLES at the last update
C_LIMITER_MARKING = 69  # marking was on during the window being accounted
C_CYC_LIMITER_ON = 70  # the limiter was on at some point of the running cycle
C_LIMITER_TICK = 71  # last quantum boundary the limiter looked at, cycles
C_LIMITER_MARK_WALL = 72  # wall cycles with marking on in the current limiter window
C_RATE_STEP = 73  # rate_table row in force
C_COMPUTE_CYCLES = 74  # compute cycles per allocation in force (rate_table column 0)
C_STACK_PAGES = 75  # pages in stack spans (StackInuse / 8 KiB); stacks.py
C_STACK_WORK_LEFT = 76  # stack bytes (hi - sp) still to scan this cycle, bytes
C_STACK_SCAN_DONE = 77  # stack scan work done this cycle, bytes (Go's units, §2.6)
C_MAX_STACK_SCAN_BYTES = 78  # maxStackScan: allocated stack bytes of live goroutines
C_STACK_SHRINK_COPY_BYTES = 79  # bytes copied by this cycle's shrinks, charged to the stack scan
C_SCAV_GOAL_BYTES = 80  # scavenge.gcPercentGoal: retained-heap goal, NO_GOAL_BYTES = none
C_SCAV_SEARCH_PAGE = 81  # no free unreleased page at or above it (the scavenger searches down)
C_SCAV_PENDING_PAGES = 82  # pages heap growth asks the allocating goroutine to scavenge
C_SCAV_ASSIST_PAGES = 83  # pages released by allocation-time scavenging (growth, limit) since start
C_SCAV_ASSIST_CYCLES = 84  # allocation-time scavenging CPU since start
C_MARK_WORK_END_CYCLES = 85  # latest P clock a worker slice or assist ended at, this cycle
C_REVISE_PENDING = 86  # heapLive moved during mark since the last revise (gcController.update)
C_PAGES_FAULTED = 87  # runtime pages backed again by the OS on first touch, since start
C_GC_INITIATOR = 88  # 1 + the P whose allocation saw the trigger (it runs gcStart), 0 none
C_QUANTUM_PARKED = 89  # goroutines parked on the assist queue in the current quantum
# GOMEMLIMIT less the runtime's non-heap memory: retained heap above it makes
# every span allocation scavenge the excess (mheap.allocSpan); NO_GOAL_BYTES = no limit.
C_SCAV_LIMIT_HEAP_BYTES = 90
C_LIMITER_SNAP_SCAV = 91  # C_SCAV_ASSIST_CYCLES at the last limiter update
C_MARK_WORK_END_P = 92  # 1 + the P whose slice or assist ended at C_MARK_WORK_END_CYCLES; 0 none
C_MARK_FIXED_LEFT_CYCLES = 93  # the cycle's fixed mark CPU (mark_cycle) not yet charged
C_MARK_FIXED_EXPECT_WORK = 94  # scan work (bytes) it is spread over: S_h + S_s + S_g at mark start
C_BLACK_ALLOCS = 95  # slots allocated while marking (gcmarknewobject calls), since start
# The running step's start and when sysmon next preempts its goroutine (cycles), set by
# run_p_quantum for gc_assist (gcDrainN stops on gp.preempt); 1 + the P whose goroutine
# was preempted inside an assist in the running step, 0 none.
C_STEP_START_CYCLES = 96
C_STEP_PREEMPT_AT_CYCLES = 97
C_STEP_ASSIST_PREEMPTED = 98
C_ASSIST_PREEMPTS = 99  # assists cut short or put off by a sysmon preemption, since start
# 1 when the work that ended at C_MARK_WORK_END_CYCLES was an assist: its goroutine
# runs mark termination and carries on without going through schedule().
C_MARK_WORK_END_ASSIST = 100
# Gray entries drained before the span queue (Green Tea: gcw's object workbufs),
# kept at the top end of Gc.gray; C_GRAY_LEN counts the bottom end.
C_GRAY_OBJ_LEN = 101
N_COUNTERS = 102
COUNTER_NAMES = (
    "C_NOW_CYCLES",
    "C_ALLOCS",
    "C_MUTATOR_CYCLES",
    "C_IDLE_CYCLES",
    "C_NEXT_SAMPLE_CYCLES",
    "C_HEAP_LIVE_BYTES",
    "C_HEAP_ALLOC_BYTES",
    "C_TOTAL_ALLOC_BYTES",
    "C_SLOT_ALLOCS",
    "C_SLOT_FREES",
    "C_TINY_ALLOCS",
    "C_PAGES_INUSE",
    "C_PAGES_MAPPED",
    "C_PAGES_RELEASED",
    "C_HEAP_SCAN_BYTES",
    "C_PHASE",
    "C_SWEEPGEN",
    "C_NUM_GC",
    "C_GC_PENDING",
    "C_HEAP_MARKED_BYTES",
    "C_HEAP_GOAL_BYTES",
    "C_TRIGGER_BYTES",
    "C_LAST_HEAP_SCAN_BYTES",
    "C_LAST_STACK_SCAN_BYTES",
    "C_SWEEP_DIST_MIN_TRIGGER",
    "C_PAGES_SWEPT",
    "C_PAGES_SWEPT_BASIS",
    "C_HEAP_LIVE_BASIS",
    "C_SWEEP_CURSOR",
    "C_UNSWEPT_SPANS",
    "C_GC_CPU_CYCLES",
    "C_SWEEP_CYCLES",
    "C_N_CYCLE_RECORDS",
    "C_N_TIMELINE_RECORDS",
    "C_N_SPAN_RECORDS",
    "C_N_SLOTS_USED",
    "C_MAX_PAGES_MAPPED",
    "C_FREE_PAGE_HINT",
    "C_IN_QUANTUM",
    "C_QUANTUM_END_CYCLES",
    "C_GRAY_LEN",
    "C_MARK_SCAN_WORK",
    "C_MARK_OBJECTS",
    "C_MARK_POINTERS",
    "C_ALLOC_SITE_OBJECTS",
    "C_GLOBALS_WORK_LEFT",
    "C_GLOBALS_SCAN_DONE",
    "C_BG_SCAN_CREDIT",
    "C_CYC_START",
    "C_CYC_MARK_START",
    "C_CYC_HEAP_LIVE_START",
    "C_CYC_TRIGGER",
    "C_CYC_TRIGGERED",
    "C_CYC_UNSWEPT",
    "C_CYC_FORCED",
    "C_CYC_ASSIST_CYCLES",
    "C_CYC_BG_CYCLES",
    "C_CYC_IDLE_CYCLES",
    "C_CYC_STW1_CYCLES",
    "C_ASSIST_PARKED",
    "C_LAST_HEAP_MARKED_BYTES",
    "C_TOTAL_ASSIST_CYCLES",
    "C_TOTAL_STW_CPU_CYCLES",
    "C_LIMITER_FILL",
    "C_LIMITER_ON",
    "C_LIMITER_T",
    "C_LIMITER_SNAP_ASSIST",
    "C_LIMITER_SNAP_STW",
    "C_LIMITER_SNAP_IDLE",
    "C_LIMITER_MARKING",
    "C_CYC_LIMITER_ON",
    "C_LIMITER_TICK",
    "C_LIMITER_MARK_WALL",
    "C_RATE_STEP",
    "C_COMPUTE_CYCLES",
    "C_STACK_PAGES",
    "C_STACK_WORK_LEFT",
    "C_STACK_SCAN_DONE",
    "C_MAX_STACK_SCAN_BYTES",
    "C_STACK_SHRINK_COPY_BYTES",
    "C_SCAV_GOAL_BYTES",
    "C_SCAV_SEARCH_PAGE",
    "C_SCAV_PENDING_PAGES",
    "C_SCAV_ASSIST_PAGES",
    "C_SCAV_ASSIST_CYCLES",
    "C_MARK_WORK_END_CYCLES",
    "C_REVISE_PENDING",
    "C_PAGES_FAULTED",
    "C_GC_INITIATOR",
    "C_QUANTUM_PARKED",
    "C_SCAV_LIMIT_HEAP_BYTES",
    "C_LIMITER_SNAP_SCAV",
    "C_MARK_WORK_END_P",
    "C_MARK_FIXED_LEFT_CYCLES",
    "C_MARK_FIXED_EXPECT_WORK",
    "C_BLACK_ALLOCS",
    "C_STEP_START_CYCLES",
    "C_STEP_PREEMPT_AT_CYCLES",
    "C_STEP_ASSIST_PREEMPTED",
    "C_ASSIST_PREEMPTS",
    "C_MARK_WORK_END_ASSIST",
    "C_GRAY_OBJ_LEN",
)

# float64 pacer state (index with F_*)
F_CONS_MARK = 0
F_CONS_MARK_HIST0 = 1  # four entries: the last four cons/mark values (lastConsMark)
F_ASSIST_WORK_PER_BYTE = 5  # assistWorkPerByte (revise), scan work per byte allocated
F_ASSIST_BYTES_PER_WORK = 6  # its inverse
F_TRIGGER_RATIO = 7  # go1.5 pacer: trigger ratio h_T
N_FSTATE = 8

# --- record buffers ------------------------------------------------------------------

CYCLE_DTYPE = np.dtype(
    [
        ("gc_number", np.int64),
        ("forced", np.int64),
        ("start_cycles", np.int64),  # sweep termination begins (gctrace @T)
        ("mark_start_cycles", np.int64),  # world restarted, marking on
        ("mark_term_start_cycles", np.int64),  # mark termination begins
        ("end_cycles", np.int64),  # world restarted after mark termination
        ("sweep_term_pause_cycles", np.int64),  # STW 1, wall
        ("mark_term_pause_cycles", np.int64),  # STW 2, wall
        ("mark_pause_cycles", np.int64),  # wall of marking done with the world stopped
        ("assist_cycles", np.int64),  # CPU
        ("background_cycles", np.int64),  # CPU, dedicated + fractional workers
        ("idle_cycles", np.int64),  # CPU, idle-priority workers
        ("heap_live_start_bytes", np.int64),  # H0: heapLive at gcStart
        ("heap_live_end_bytes", np.int64),  # H1: heapLive at mark termination
        ("heap_marked_bytes", np.int64),  # H2
        ("heap_goal_bytes", np.int64),  # goal in force during the cycle
        ("trigger_bytes", np.int64),  # trigger that started the cycle
        ("next_goal_bytes", np.int64),  # goal committed at mark termination
        ("next_trigger_bytes", np.int64),
        ("heap_scan_work_bytes", np.int64),
        ("stack_scan_bytes", np.int64),
        ("globals_scan_bytes", np.int64),
        ("objects_marked", np.int64),
        ("pointers_followed", np.int64),
        ("unswept_spans_at_start", np.int64),
        ("heap_alloc_end_bytes", np.int64),
        ("heap_inuse_end_bytes", np.int64),
        ("cons_mark", np.float64),
        ("trigger_ratio", np.float64),  # go1.5 pacer's h_T for the next cycle (0 with go1.18)
        ("limiter_on", np.int64),  # the GC CPU limiter was on during the cycle
        ("stack_inuse_end_bytes", np.int64),  # StackInuse after freeStackSpans (stacks.py)
        ("allocs_end_objects", np.int64),  # objects allocated since the start, at mark termination
    ]
)

TIMELINE_DTYPE = np.dtype(
    [
        ("t_cycles", np.int64),
        ("heap_alloc_bytes", np.int64),
        ("heap_inuse_bytes", np.int64),
        ("heap_live_bytes", np.int64),
        ("heap_goal_bytes", np.int64),
        ("trigger_bytes", np.int64),
        ("heap_sys_bytes", np.int64),
        ("heap_released_bytes", np.int64),
        ("phase", np.int64),
        ("num_gc", np.int64),
        ("allocs", np.int64),
        ("mutator_cycles", np.int64),
        ("gc_cpu_cycles", np.int64),
        ("scavenge_goal_bytes", np.int64),  # retained-heap goal of the scavenger, -1 = none
        ("idle_mark_cycles", np.int64),  # idle-priority mark CPU since start
        ("bg_sweep_cycles", np.int64),  # background sweeper CPU since start
        ("scavenge_assist_cycles", np.int64),  # allocation-time scavenging CPU since start
    ]
)


class Heap(NamedTuple):
    """Spans, slots, pages and the per-P caches (mheap, mcentral, mcache)."""

    spans: np.ndarray  # SPAN_DTYPE[max_spans]
    list_head: np.ndarray  # int64[NUM_SPAN_CLASSES, N_LISTS], -1 = empty
    list_len: np.ndarray  # int64[NUM_SPAN_CLASSES, N_LISTS]
    page_span: np.ndarray  # int64[max_pages]: span record owning the page, -1 = free
    page_released: np.ndarray  # uint8[max_pages]: 1 = free and returned to the OS
    slot_span: np.ndarray  # int64[max_slots]: span record owning the slot (fixed)
    slot_alloc: np.ndarray  # uint8[max_slots]: 1 = allocated (allocBits)
    slot_mark: np.ndarray  # uint8[max_slots]: 1 = marked this cycle (gcmarkBits)
    slot_ptr_words: np.ndarray  # int64[max_slots]: pointer words (scan size / 8)
    slot_site: np.ndarray  # int64[max_slots]: allocation site, -1 = runtime-owned
    edges: np.ndarray  # int64[max_slots, max_edges]: modelled pointer slots, -1 = nil
    mcache: np.ndarray  # int64[gomaxprocs, NUM_SPAN_CLASSES]: cached span record, -1
    tiny_slot: np.ndarray  # int64[gomaxprocs]: the P's current tiny block, -1
    tiny_offset: np.ndarray  # int64[gomaxprocs]: bytes used in it
    scan_alloc: np.ndarray  # int64[gomaxprocs]: mcache.scanAlloc (scan bytes not in heapScan)
    alloc_by_class: np.ndarray  # int64[NUM_SIZE_CLASSES]: slot allocations (BySize Mallocs)
    free_by_class: np.ndarray  # int64[NUM_SIZE_CLASSES]: slot frees (BySize Frees)
    sweep_pages_per_byte: np.ndarray  # float64[1]: proportional sweep ratio (0 = done)


class Gc(NamedTuple):
    """Mark state: the gray queue and the roots."""

    # int64[max_slots]: marked, unscanned slots: the span queue's from the bottom
    # (C_GRAY_LEN), the object workbufs' from the top (C_GRAY_OBJ_LEN)
    gray: np.ndarray
    roots: np.ndarray  # int64[n_root_slots]: slot each root holds, -1 = nil
    root_table_slot: np.ndarray  # int64[n_sites]: heap slot of the site's root table, -1
    runtime_slots: np.ndarray  # int64[RUNTIME_HEAP_OBJECTS]: the runtime's own objects (rtmem)


class Records(NamedTuple):
    """Output buffers the driver drains between chunks."""

    cycles: np.ndarray  # CYCLE_DTYPE[cap]
    timeline: np.ndarray  # TIMELINE_DTYPE[cap]


# A scavenger goal that is met or disabled (Go's ^uint64(0)); counters stay >= 0.
NO_GOAL_BYTES = (1 << 63) - 1

# --- background runtime work (procs.py, scavenge.py): int64 counters, index with B_* -------
#
# Kept apart from ``counters`` so that other engine features can add their own
# counters without renumbering these (and the reverse).

B_IDLE_MARK_CYCLES = 0  # idle-priority mark worker CPU since start (not in GCCPUFraction)
B_IDLE_WORKERS = 1  # idle mark workers started in the current quantum (<= max_idle_mark_workers)
B_BG_SWEEP_CYCLES = 2  # background sweeper CPU since start (bgsweep on idle P time)
B_BG_SWEEP_SPANS = 3  # spans swept by the background sweeper since start
B_STOP_WAIT_CYCLES = 4  # STW time spent waiting for running Ps to stop, since start
B_LEFTOVER_SWEEP_CYCLES = 5  # gcStart's sweep of spans left unswept, since start
B_LAST_HEAP_INUSE_BYTES = 6  # memstats.lastHeapInUse: HeapInuse at the last mark termination
B_LAST_HEAP_GOAL_BYTES = 7  # gcController.lastHeapGoal: the goal in force as that cycle ended
B_SCAV_CREDIT_CYCLES = 8  # CPU the paced background scavenger may still spend
B_SCAV_LIMIT_GOAL_BYTES = 9  # scavenge.memoryLimitGoal: mapped-ready goal, NO_GOAL_BYTES = none
B_SCAV_TICK = 10  # last quantum end the background scavenger was paced for
B_SCAV_BG_PAGES = 11  # pages released by the background scavenger since start
B_SCAV_BG_CYCLES = 12  # background scavenger CPU since start
B_SCAV_BG_CHUNKS = 13  # 64 KiB scavenge quanta the background scavenger ran
N_B = 14
B_NAMES = (
    "B_IDLE_MARK_CYCLES",
    "B_IDLE_WORKERS",
    "B_BG_SWEEP_CYCLES",
    "B_BG_SWEEP_SPANS",
    "B_STOP_WAIT_CYCLES",
    "B_LEFTOVER_SWEEP_CYCLES",
    "B_LAST_HEAP_INUSE_BYTES",
    "B_LAST_HEAP_GOAL_BYTES",
    "B_SCAV_CREDIT_CYCLES",
    "B_SCAV_LIMIT_GOAL_BYTES",
    "B_SCAV_TICK",
    "B_SCAV_BG_PAGES",
    "B_SCAV_BG_CYCLES",
    "B_SCAV_BG_CHUNKS",
)


class State(NamedTuple):
    """The whole mutable state of a run."""

    heap: Heap
    gc: Gc
    rec: Records
    bg: np.ndarray  # int64[N_B]: background runtime work counters, index with B_*
    counters: np.ndarray  # int64[N_COUNTERS]
    fstate: np.ndarray  # float64[N_FSTATE]
    p_time: np.ndarray  # int64[gomaxprocs]: each P's clock within the quantum
    p_assist_bytes: np.ndarray  # int64[gomaxprocs]: gcAssistBytes of each P's goroutine
    p_worker_quantum: np.ndarray  # int64[gomaxprocs]: last quantum a mark worker ran on the P
    p_frac_cycles: np.ndarray  # int64[gomaxprocs]: fractional-worker cycles on the P this cycle
    p_sched_cycles: np.ndarray  # int64[gomaxprocs]: when the P last went through schedule()
    p_turn: np.ndarray  # int64[gomaxprocs]: 1 = the P schedules at its next step (world restart)
    p_frac_on: np.ndarray  # int64[gomaxprocs]: 1 = the fractional worker holds the P
    site_cursor: np.ndarray  # int64[n_sites]: next root slot (fifo) / filled count
    site_allocs: np.ndarray  # int64[n_sites]: allocations made by the site
    site_cdf: np.ndarray  # float64[n_sites]: cumulative weights of sites still allocating
    rng: np.ndarray  # uint64[1]
    scratch: np.ndarray  # int64[scratch_len]: work stack for child allocation
    pool: Pools  # every sync.Pool of the workload (engine/pool.py)
    stk: Stacks  # goroutines, their stacks, stack pools and caches (stackstate.py)


# --- read-only inputs ---------------------------------------------------------------------


class SizeClassTables(NamedTuple):
    """Go's size-class tables as the engine reads them (goruntime.sizeclasses)."""

    class_size: np.ndarray  # int64[68]: slot bytes of each size class
    class_npages: np.ndarray  # int64[68]: pages per span
    spanclass_nelems: np.ndarray  # int64[136]: slots per span, Green Tea or classic
    spanclass_dense_scan_min: np.ndarray  # int64[136]: SPAN_DTYPE dense_scan_min per class
    spanclass_span_queue: np.ndarray  # int64[136]: SPAN_DTYPE span_queue per class
    size_to_class8: np.ndarray  # int64[129]
    size_to_class128: np.ndarray  # int64[249]


class Costs(NamedTuple):
    """The cost table in cycles of the simulated clock (float64, so per-byte costs keep
    their fractions; a step's total is rounded once). See goruntime/costs.py."""

    alloc_fast: float
    alloc_fast_scan: float
    alloc_small: float
    alloc_small_scan: float
    alloc_tiny: float
    alloc_black: float
    alloc_zero_per_byte: float
    alloc_scan_per_byte: float
    mcache_refill: float
    span_alloc: float
    large_alloc: float
    large_alloc_per_byte: float
    mark_object: float
    mark_noscan_object: float
    mark_header_object: float
    mark_header_page: float
    mark_pointer: float
    mark_scan_word: float
    mark_root_word: float
    mark_cycle: float
    sweep_span: float
    sweep_free_span: float
    scavenge_page: float
    page_fault: float
    stw_sweep_term: float
    stw_mark_term: float
    stw_per_p: float
    stw_stop_running: float
    pointer_write: float
    write_barrier: float
    stack_copy_per_byte: float


class RunParams(NamedTuple):
    """Scalars fixed for the whole run."""

    gomaxprocs: int
    quantum_cycles: int
    timeline_interval_cycles: int
    end_cycles: int  # run ends at this simulated time (int64 max = no limit)
    max_allocs: int  # run ends after this many allocations (int64 max = no limit)
    gogc: int  # GOGC percent, -1 = off
    memory_limit_bytes: int  # GOMEMLIMIT, -1 = no limit
    globals_bytes: int  # data + BSS scanned as roots (S_g)
    max_step_objects: int  # most objects one mutator step allocates (site + children)
    max_request_pages: int  # pages of the largest possible request
    stw_mark: int  # 1 = GODEBUG=gcstoptheworld=1: mark with the world stopped
    write_barrier: int  # 0 = barrier off while marking (unsafe; demonstration only)
    dedicated_workers: int  # background mark workers that own a P for the mark phase
    fractional_goal: float  # per-P share of time a fractional worker marks
    pacer: int  # PACER_GO118 or PACER_GO15
    limiter_capacity_cycles: int  # GC CPU limiter bucket: GOMAXPROCS x 1 s
    limiter_period_cycles: int  # longest wait between limiter updates (10 ms, findRunnableGCWorker)
    limiter_assist_slack_cycles: int  # assist time that updates the limiter (gcAssistTimeSlack)
    rate_step_cycles: int  # simulated time per rate_table row; 0 = rates constant
    mutator_procs: int  # Ps with a runnable allocating goroutine; the others are idle
    max_idle_mark_workers: int  # idle-priority mark workers at once (P - dedicated)
    preempt_cycles: int  # forcePreemptNS: when sysmon preempts a goroutine; 0 = never waits


class Workload(NamedTuple):
    """Allocation sites as flat arrays (built by gcsim.workload.compile).

    Per-site integers live in one table, ``site_tab[site, W_*]``, so the hot
    loop takes one array instead of a dozen (see loop.py on why that matters).
    """

    site_tab: np.ndarray  # int64[n_sites, N_W]: columns W_*
    site_ptr_density: np.ndarray  # float64[n_sites]: used when W_PTR_WORDS is -1
    site_writes: np.ndarray  # float64[n_sites]: pointer writes per allocation of the site
    choice_bytes: np.ndarray  # int64[n_choices]: sizes of "choice" distributions
    choice_cdf: np.ndarray  # float64[n_choices]: cumulative weights, per site ending at 1
    ref_kind: np.ndarray  # int64[n_refs]: REF_*
    ref_site: np.ndarray  # int64[n_refs]: target site (child/random), -1 for nil
    # float64[n_steps, 1 + n_sites] per rate-stream step: compute cycles per allocation
    # (column 0) and site weights (1 + site); one row when nothing varies.
    rate_table: np.ndarray


# site_tab columns
W_SIZE_DIST = 0  # DIST_*
W_SIZE_MIN = 1  # bytes
W_SIZE_MAX = 2  # bytes
W_CHOICE_OFF = 3  # first entry in choice_* (choice distributions)
W_CHOICE_N = 4
W_PTR_WORDS = 5  # pointer words per object, -1 = from the density
W_LIFE_KIND = 6  # LIFE_*
W_ROOT_BASE = 7  # first root slot of the site
W_ROOT_LEN = 8  # root slots (0 for transient)
W_MAX_ALLOCS = 9  # -1 = unlimited
W_REF_OFF = 10  # first ref in ref_*
W_REF_N = 11
W_POOL = 12  # the site's sync.Pool (workload.pools), -1 = none
N_W = 13


PACER_GO118 = 0
PACER_GO15 = 1

DIST_FIXED = 0
DIST_UNIFORM = 1
DIST_LOGUNIFORM = 2
DIST_CHOICE = 3

LIFE_TRANSIENT = 0
LIFE_FIFO = 1
LIFE_EXPONENTIAL = 2
LIFE_IMMORTAL = 3

REF_NIL = 0
REF_CHILD = 1
REF_RANDOM = 2


# --- construction and growth (plain NumPy, called by the driver) -------------------------


def new_state(*, gomaxprocs: int, n_sites: int, n_root_slots: int, max_edges: int,
              seed_state: np.ndarray, site_weight: np.ndarray, max_slots: int = 1 << 16,
              max_spans: int = 1 << 12, max_pages: int = 1 << 14, cycle_rows: int = 1024,
              timeline_rows: int = 4096, scratch_len: int = 4096,
              pools: Pools | None = None, stk: Stacks | None = None) -> State:
    """Allocate a fresh run state with the given capacities (growable later)."""
    from gcsim.goruntime.sizeclasses import NUM_SIZE_CLASSES, NUM_SPAN_CLASSES

    heap = Heap(
        spans=np.zeros(max_spans, dtype=SPAN_DTYPE),
        list_head=np.full((NUM_SPAN_CLASSES, N_LISTS), -1, dtype=np.int64),
        list_len=np.zeros((NUM_SPAN_CLASSES, N_LISTS), dtype=np.int64),
        page_span=np.full(max_pages, -1, dtype=np.int64),
        page_released=np.zeros(max_pages, dtype=np.uint8),
        slot_span=np.full(max_slots, -1, dtype=np.int64),
        slot_alloc=np.zeros(max_slots, dtype=np.uint8),
        slot_mark=np.zeros(max_slots, dtype=np.uint8),
        slot_ptr_words=np.zeros(max_slots, dtype=np.int64),
        slot_site=np.full(max_slots, -1, dtype=np.int64),
        edges=np.full((max_slots, max_edges), -1, dtype=np.int64),
        mcache=np.full((gomaxprocs, NUM_SPAN_CLASSES), -1, dtype=np.int64),
        tiny_slot=np.full(gomaxprocs, -1, dtype=np.int64),
        tiny_offset=np.zeros(gomaxprocs, dtype=np.int64),
        scan_alloc=np.zeros(gomaxprocs, dtype=np.int64),
        alloc_by_class=np.zeros(NUM_SIZE_CLASSES, dtype=np.int64),
        free_by_class=np.zeros(NUM_SIZE_CLASSES, dtype=np.int64),
        sweep_pages_per_byte=np.zeros(1, dtype=np.float64),
    )
    gc = Gc(
        gray=np.zeros(max_slots, dtype=np.int64),
        roots=np.full(max(n_root_slots, 1), -1, dtype=np.int64),
        root_table_slot=np.full(n_sites, -1, dtype=np.int64),
        runtime_slots=np.full(RUNTIME_HEAP_OBJECTS, -1, dtype=np.int64),
    )
    rec = Records(
        cycles=np.zeros(cycle_rows, dtype=CYCLE_DTYPE),
        timeline=np.zeros(timeline_rows, dtype=TIMELINE_DTYPE),
    )
    return State(
        heap=heap,
        gc=gc,
        rec=rec,
        bg=_new_bg(),
        counters=_new_counters(),
        fstate=np.zeros(N_FSTATE, dtype=np.float64),
        p_time=np.zeros(gomaxprocs, dtype=np.int64),
        p_assist_bytes=np.zeros(gomaxprocs, dtype=np.int64),
        p_worker_quantum=np.full(gomaxprocs, -1, dtype=np.int64),
        p_frac_cycles=np.zeros(gomaxprocs, dtype=np.int64),
        p_sched_cycles=np.zeros(gomaxprocs, dtype=np.int64),
        p_turn=np.zeros(gomaxprocs, dtype=np.int64),
        p_frac_on=np.zeros(gomaxprocs, dtype=np.int64),
        site_cursor=np.zeros(n_sites, dtype=np.int64),
        site_allocs=np.zeros(n_sites, dtype=np.int64),
        site_cdf=np.cumsum(site_weight).astype(np.float64),
        rng=seed_state.copy(),
        scratch=np.zeros(scratch_len, dtype=np.int64),
        pool=new_pools(0, gomaxprocs) if pools is None else pools,
        stk=stk if stk is not None else empty_stacks(gomaxprocs, n_sites),
    )


def _new_counters() -> np.ndarray:
    c = np.zeros(N_COUNTERS, dtype=np.int64)
    c[C_SCAV_GOAL_BYTES] = NO_GOAL_BYTES  # disabled until the first GC ends (gcPaceScavenger)
    c[C_SCAV_LIMIT_HEAP_BYTES] = NO_GOAL_BYTES  # set by commit_pacer when there is a limit
    return c


def _new_bg() -> np.ndarray:
    bg = np.zeros(N_B, dtype=np.int64)
    bg[B_SCAV_LIMIT_GOAL_BYTES] = NO_GOAL_BYTES
    return bg


def _grown(a: np.ndarray, n: int, fill: int | float) -> np.ndarray:
    out = np.full((n,) + a.shape[1:], fill, dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


def grow_state(st: State, status: int) -> State:
    """Double whichever arrays ``status`` (an ``ST_GROW_*``) says are short of room."""
    h = st.heap
    if status == ST_GROW_SLOTS:
        n = 2 * h.slot_span.shape[0]
        h = h._replace(
            slot_span=_grown(h.slot_span, n, -1),
            slot_alloc=_grown(h.slot_alloc, n, 0),
            slot_mark=_grown(h.slot_mark, n, 0),
            slot_ptr_words=_grown(h.slot_ptr_words, n, 0),
            slot_site=_grown(h.slot_site, n, -1),
            edges=_grown(h.edges, n, -1),
        )
        gray = _grown(st.gc.gray, n, 0)
        top = int(st.counters[C_GRAY_OBJ_LEN])
        if top:  # the object stack lives at the end: move it there
            gray[n - top:] = st.gc.gray[st.gc.gray.shape[0] - top:]
        return st._replace(heap=h, gc=st.gc._replace(gray=gray))
    if status == ST_GROW_SPANS:
        out = np.zeros(2 * h.spans.shape[0], dtype=SPAN_DTYPE)
        out[: h.spans.shape[0]] = h.spans
        return st._replace(heap=h._replace(spans=out))
    if status == ST_GROW_PAGES:
        n = 2 * h.page_span.shape[0]
        return st._replace(heap=h._replace(page_span=_grown(h.page_span, n, -1),
                                           page_released=_grown(h.page_released, n, 0)))
    raise ValueError(f"not a grow status: {status}")
