"""The size-class heap: mheap pages, mcentral span lists, per-P mcache, tiny blocks.

What it models (go1.27.3; reference/go-runtime.md §1, §4.1)
-------------------------------------------------------------
1. ``mallocgc`` picks a path by size and pointerfulness (src/runtime/malloc.go):
   noscan requests under 16 B go to the P's tiny block; requests up to
   32 760 B take a slot of their size class (pointerful ones over 512 B are
   looked up at size + 8 for the malloc header); anything larger gets a span
   of its own (span class 0 or 1).
2. A small allocation takes the next free slot of the span the P's mcache
   holds for that span class (``nextFreeFast``/``nextFree``). When the span is
   full, ``refill`` hands it back to its mcentral and asks ``cacheSpan`` for
   another: a partial swept span, else one found by sweeping up to 100
   unswept spans of the class, else a fresh span from mheap.
3. mheap hands out page runs address-ordered first fit and grows the arena
   in 512-page (4 MiB) steps; freshly mapped pages count as released
   (HeapReleased) until a span uses them (src/runtime/mheap.go ``grow``).
   A growth past the scavenger's goal, or any span taken while mapped
   memory is over GOMEMLIMIT, makes the allocating goroutine release free
   pages at once (gcsim.engine.scavenge).
4. heapLive follows the runtime's lumpy accounting (§1.11): a refill adds the
   whole span minus the slots already in use, a large allocation adds its
   pages, and flushing an mcache takes back the slots never handed out.
   The GC trigger is tested after every refill and large allocation, as in
   Go, and nowhere else.

Simplifications
---------------
- Page runs are found by a first-fit walk that hops over in-use spans,
  starting at the lowest page that may be free, instead of Go's radix tree;
  the chosen run is the same (lowest address that fits).
- The per-P page cache is not modelled: it changes which P takes the heap
  lock, not which pages a span gets at this level of detail.
- ``needzero`` (mheap.initSpan, go1.27 on Linux): a span whose pages all
  come fresh from the OS or back from the scavenger needs no clearing, since
  the kernel hands them out zeroed; its slots skip the zeroing part of the
  allocation cost (``alloc_zero_ns_per_byte`` noscan, the same share of
  ``alloc_scan_ns_per_byte``, ``large_alloc_ns_per_byte``) until a sweep
  frees one of them. The page faults are charged when the span takes the
  pages: gcsim assumes the program writes what it allocates.
"""

from __future__ import annotations

import numpy as np

from gcsim.engine._jit import hot_kernel, kernel
from gcsim.engine.gcsweeping import deduct_sweep_credit, sweep_span
from gcsim.engine.mspan import list_pop, list_push, list_remove
from gcsim.engine.scavenge import note_growth, scavenge_on_alloc
from gcsim.engine.state import (
    C_BLACK_ALLOCS,
    C_FREE_PAGE_HINT,
    C_GC_PENDING,
    C_HEAP_ALLOC_BYTES,
    C_HEAP_LIVE_BYTES,
    C_HEAP_MARKED_BYTES,
    C_HEAP_SCAN_BYTES,
    C_MAX_PAGES_MAPPED,
    C_N_SLOTS_USED,
    C_N_SPAN_RECORDS,
    C_PAGES_FAULTED,
    C_PAGES_INUSE,
    C_PAGES_MAPPED,
    C_PAGES_RELEASED,
    C_PHASE,
    C_REVISE_PENDING,
    C_SCAV_LIMIT_HEAP_BYTES,
    C_SCAV_PENDING_PAGES,
    C_SLOT_ALLOCS,
    C_SWEEPGEN,
    C_TINY_ALLOCS,
    C_TOTAL_ALLOC_BYTES,
    C_TRIGGER_BYTES,
    L_FREE_RECORDS,
    L_FULL_SWEPT,
    L_FULL_UNSWEPT,
    L_NONE,
    L_PARTIAL_SWEPT,
    L_PARTIAL_UNSWEPT,
    NO_GOAL_BYTES,
    PHASE_MARK,
    PHASE_OFF,
    SPAN_INUSE,
)
from gcsim.goruntime.costs import SIZE_SPECIALISED_MAX_BYTES
from gcsim.goruntime.sizeclasses import (
    CLASS_TO_SIZE_BYTES,
    MALLOC_HEADER_BYTES,
    MAX_SMALL_ALLOC_BYTES,
    MIN_SIZE_FOR_MALLOC_HEADER_BYTES,
    PAGE_BYTES,
    SIZE_TO_CLASS8,
    SIZE_TO_CLASS128,
    SMALL_SIZE_MAX,
    TINY_SIZE_BYTES,
    TINY_SIZE_CLASS,
)

HEAP_GROW_PAGES = 512  # palloc chunk: the arena grows 4 MiB at a time (mpagealloc.go)
CACHESPAN_SWEEP_LIMIT = 100  # spans cacheSpan may sweep before growing (mcentral.go)
NEED_LARGE = -1  # try_malloc: the request is a large object


# --- size classes -------------------------------------------------------------------------


@hot_kernel
def size_to_class(size_bytes, has_pointers):
    """Return ``(sizeclass, slot_bytes)`` for a request; sizeclass 0 = large object.

    Reads Go's tables as compile-time constants (goruntime.sizeclasses).

    Parameters
    ----------
    size_bytes : int
        Requested bytes, >= 1.
    has_pointers : bool
        Whether the type has pointers (selects the malloc header rule).
    """
    if size_bytes > MAX_SMALL_ALLOC_BYTES:
        npages = (size_bytes + PAGE_BYTES - 1) // PAGE_BYTES
        return 0, npages * PAGE_BYTES
    size = size_bytes
    if has_pointers and size > MIN_SIZE_FOR_MALLOC_HEADER_BYTES:
        size += MALLOC_HEADER_BYTES
    if size <= SMALL_SIZE_MAX - 8:
        sc = SIZE_TO_CLASS8[(size + 7) >> 3]
    else:
        sc = SIZE_TO_CLASS128[(size - SMALL_SIZE_MAX + 127) >> 7]
    return sc, CLASS_TO_SIZE_BYTES[sc]


# --- mheap: pages --------------------------------------------------------------------------------


@kernel
def _find_free_run(heap, c, npages):
    """Lowest page index starting ``npages`` free pages inside the mapped arena, or -1."""
    mapped = c[C_PAGES_MAPPED]
    page_span = heap.page_span
    spans = heap.spans
    p = c[C_FREE_PAGE_HINT]
    while p + npages <= mapped:
        s = page_span[p]
        if s >= 0:
            p = spans[s]["base_page"] + spans[s]["npages"]
            continue
        run = 0
        while run < npages and page_span[p + run] < 0:
            run += 1
        if run == npages:
            return p
        p += run
    return -1


@kernel
def alloc_pages(heap, c, npages):
    """Take ``npages`` contiguous pages (mheap.allocSpan's page part).

    Grows the arena in 512-page steps when no free run fits; the caller has
    checked ``page_span`` has room. Released pages that get used stop counting
    as released; the OS backs each again on its first touch (a page fault,
    ``C_PAGES_FAULTED``). Returns the first page and how many of the pages
    were released, which the caller charges ``page_fault`` each.
    """
    base = _find_free_run(heap, c, npages)
    if base < 0:
        # Grow just enough past the free tail of the arena, in whole chunks.
        mapped = c[C_PAGES_MAPPED]
        tail = 0
        while tail < mapped and heap.page_span[mapped - 1 - tail] < 0:
            tail += 1
        need = npages - tail
        grow = ((need + HEAP_GROW_PAGES - 1) // HEAP_GROW_PAGES) * HEAP_GROW_PAGES
        for q in range(mapped, mapped + grow):
            heap.page_released[q] = 1
        c[C_PAGES_RELEASED] += grow
        c[C_PAGES_MAPPED] = mapped + grow
        if c[C_PAGES_MAPPED] > c[C_MAX_PAGES_MAPPED]:
            c[C_MAX_PAGES_MAPPED] = c[C_PAGES_MAPPED]
        base = mapped - tail
        note_growth(c, grow)
    released = 0
    for q in range(base, base + npages):
        released += heap.page_released[q]
        heap.page_released[q] = 0
    c[C_PAGES_RELEASED] -= released
    c[C_PAGES_FAULTED] += released
    c[C_PAGES_INUSE] += npages
    return base, released


@kernel
def _advance_free_hint(heap, c):
    """Move the first-fit hint past in-use pages (called after pages are taken)."""
    p = c[C_FREE_PAGE_HINT]
    mapped = c[C_PAGES_MAPPED]
    while p < mapped and heap.page_span[p] >= 0:
        s = heap.page_span[p]
        p = heap.spans[s]["base_page"] + heap.spans[s]["npages"]
    c[C_FREE_PAGE_HINT] = p


@kernel
def alloc_span(heap, c, tab, costs, spanclass, npages, nelems, elemsize, out_cost):
    """A new in-use span of ``npages`` for ``spanclass`` (mheap.alloc + initSpan).

    Reuses a parked record of the same span class (its slot block already has
    ``nelems`` slots) or creates one; the caller has checked capacity.
    """
    spans = heap.spans
    s = list_pop(heap, spanclass, L_FREE_RECORDS)
    if s < 0 or spans[s]["nelems"] != nelems:
        if s >= 0:  # a large record of another size: keep it parked
            list_push(heap, spanclass, L_FREE_RECORDS, s)
        s = c[C_N_SPAN_RECORDS]
        c[C_N_SPAN_RECORDS] += 1
        base_slot = c[C_N_SLOTS_USED]
        c[C_N_SLOTS_USED] += nelems
        spans[s]["slot_base"] = base_slot
        spans[s]["nelems"] = nelems
        spans[s]["list"] = L_NONE
        spans[s]["next"] = -1
        spans[s]["prev"] = -1
        for i in range(nelems):
            heap.slot_span[base_slot + i] = s
            heap.slot_alloc[base_slot + i] = 0
            heap.slot_mark[base_slot + i] = 0
    base, faulted = alloc_pages(heap, c, npages)
    # The faults land on whoever first writes each page; charging them to the
    # goroutine taking the span puts them on the same P, a little earlier.
    out_cost[0] += faulted * costs.page_fault
    spans[s]["needzero"] = 1 if faulted < npages else 0
    spans[s]["dense_scan_min"] = tab.spanclass_dense_scan_min[spanclass]
    spans[s]["span_queue"] = tab.spanclass_span_queue[spanclass]
    for q in range(base, base + npages):
        heap.page_span[q] = s
    spans[s]["base_page"] = base
    spans[s]["npages"] = npages
    if base == c[C_FREE_PAGE_HINT]:
        _advance_free_hint(heap, c)
    if c[C_SCAV_PENDING_PAGES] > 0 or c[C_SCAV_LIMIT_HEAP_BYTES] != NO_GOAL_BYTES:
        scavenge_on_alloc(heap, c, costs, out_cost)
    spans[s]["spanclass"] = spanclass
    spans[s]["elemsize"] = elemsize
    spans[s]["alloc_count"] = 0
    spans[s]["freeindex"] = 0
    spans[s]["sweepgen"] = c[C_SWEEPGEN]
    spans[s]["state"] = SPAN_INUSE
    spans[s]["cached_by"] = -1
    return s


# --- objects in slots ---------------------------------------------------------
#
# The per-allocation path is split the way Go splits it: an inlined fast path
# (``try_malloc``/``take_slot``) over explicit arrays, and cold functions
# (``refill``, ``large_alloc``) over the ``heap`` tuple. The split is also what
# Numba needs: reading an array out of a NamedTuple inside a branch of a hot
# loop costs ~100 ns per iteration (refcount traffic Numba cannot prune;
# measured, see _jit.hot_kernel), so hot code touches only arrays handed to it
# and signals the slow path to its caller instead of taking it itself.


@hot_kernel
def take_slot(spans, slot_alloc, slot_mark, alloc_by_class, c, costs, s, out_cost):
    """Allocate the next free slot of span ``s`` (nextFreeIndex); return its id.

    While marking the slot is allocated black and the allocation pays
    ``alloc_black`` (gcmarknewobject: its atomic mark-bit updates wait for the
    new object's initialising stores, which otherwise drain in the background).
    """
    base = spans[s]["slot_base"]
    fi = spans[s]["freeindex"]
    while slot_alloc[base + fi] != 0:
        fi += 1
    slot = base + fi
    slot_alloc[slot] = 1
    spans[s]["freeindex"] = fi + 1
    spans[s]["alloc_count"] += 1
    elemsize = spans[s]["elemsize"]
    c[C_HEAP_ALLOC_BYTES] += elemsize
    c[C_TOTAL_ALLOC_BYTES] += elemsize
    c[C_SLOT_ALLOCS] += 1
    alloc_by_class[spans[s]["spanclass"] >> 1] += 1
    if c[C_PHASE] == PHASE_MARK:
        # Allocate-black (gcmarknewobject): new objects survive this cycle.
        slot_mark[slot] = 1
        c[C_HEAP_MARKED_BYTES] += elemsize
        c[C_BLACK_ALLOCS] += 1
        out_cost[0] += costs.alloc_black
    return slot


@hot_kernel
def _test_trigger(c):
    """gcController.update after heapLive moved: test the trigger, or while marking
    ask for a revise (applied before the assist ratio is next read, gccycle.py)."""
    if c[C_PHASE] == PHASE_OFF:
        if c[C_HEAP_LIVE_BYTES] >= c[C_TRIGGER_BYTES]:
            c[C_GC_PENDING] = 1
    else:
        c[C_REVISE_PENDING] = 1


@hot_kernel
def try_malloc(spans, mcache, slot_alloc, slot_mark, slot_ptr_words, alloc_by_class,
               tiny_slot, tiny_offset, scan_alloc, c, costs, p, size_bytes, ptr_words, out_cost):
    """mallocgc's fast path for P ``p``: returns ``(slot, need)``.

    ``slot >= 0``: allocated (a tiny block's slot for tiny requests). Else
    ``need`` says what the caller must do before trying again: a span class
    whose mcache span is full (call ``refill``), or ``NEED_LARGE`` (call
    ``large_alloc``). Cycles spent go to ``out_cost[0]``. A scannable
    object's scan size goes to the P's ``scan_alloc`` (mcache.scanAlloc),
    which reaches heapScan only at the P's next refill.
    """
    noscan = ptr_words == 0
    if noscan and size_bytes < TINY_SIZE_BYTES:
        off = tiny_offset[p]
        if size_bytes & 7 == 0:
            off = (off + 7) & ~7
        elif size_bytes & 3 == 0:
            off = (off + 3) & ~3
        elif size_bytes & 1 == 0:
            off = (off + 1) & ~1
        if tiny_slot[p] >= 0 and off + size_bytes <= TINY_SIZE_BYTES:
            tiny_offset[p] = off + size_bytes
            c[C_TINY_ALLOCS] += 1
            out_cost[0] += costs.alloc_tiny
            return tiny_slot[p], 0
        spanclass = (TINY_SIZE_CLASS << 1) | 1
        s = mcache[p, spanclass]
        if s < 0 or spans[s]["alloc_count"] >= spans[s]["nelems"]:
            return -1, spanclass
        slot = take_slot(spans, slot_alloc, slot_mark, alloc_by_class, c, costs, s, out_cost)
        out_cost[0] += costs.alloc_fast + (costs.alloc_zero_per_byte * TINY_SIZE_BYTES
                                           * spans[s]["needzero"])
        slot_ptr_words[slot] = 0
        # The new block replaces the current one only if it has more room left.
        if tiny_slot[p] < 0 or size_bytes < tiny_offset[p]:
            tiny_slot[p] = slot
            tiny_offset[p] = size_bytes
        return slot, 0
    sc, slot_bytes = size_to_class(size_bytes, not noscan)
    if sc == 0:
        return -1, NEED_LARGE
    spanclass = (sc << 1) | (1 if noscan else 0)
    s = mcache[p, spanclass]
    if s < 0 or spans[s]["alloc_count"] >= spans[s]["nelems"]:
        return -1, spanclass
    slot = take_slot(spans, slot_alloc, slot_mark, alloc_by_class, c, costs, s, out_cost)
    # mallocgc's paths: size-specialised up to 80 B, generic above; noscan or scan.
    # The noscan slope is the clearing; the scan slope is clearing plus the
    # heap bits, of which only the clearing goes with ``needzero`` (a fitted
    # table may put the scan slope under the noscan one: then all of it does).
    if noscan:
        base = costs.alloc_fast if size_bytes <= SIZE_SPECIALISED_MAX_BYTES else costs.alloc_small
        out_cost[0] += base + costs.alloc_zero_per_byte * slot_bytes * spans[s]["needzero"]
    else:
        base = (costs.alloc_fast_scan if size_bytes <= SIZE_SPECIALISED_MAX_BYTES
                else costs.alloc_small_scan)
        zero = min(costs.alloc_zero_per_byte, costs.alloc_scan_per_byte)
        out_cost[0] += base + (costs.alloc_scan_per_byte - zero
                               + zero * spans[s]["needzero"]) * slot_bytes
    slot_ptr_words[slot] = ptr_words
    if not noscan:
        # The scan size (heapSetType*): up to the last pointer word without a
        # malloc header, the whole slot with one.
        if slot_bytes <= MIN_SIZE_FOR_MALLOC_HEADER_BYTES:
            scan_alloc[p] += ptr_words * 8
        else:
            scan_alloc[p] += slot_bytes
    return slot, 0


@kernel
def uncache_span(heap, c, s, stale):
    """Give a cached span back to its mcentral (mcache.refill / releaseAll).

    A span cached before the current sweep generation began (``stale``: the
    mcaches are flushed just after mark termination bumped sweepgen) still
    carries this cycle's mark bits and goes to an unswept list.
    """
    spans = heap.spans
    spans[s]["cached_by"] = -1
    full = spans[s]["alloc_count"] == spans[s]["nelems"]
    if stale:
        list_push(heap, spans[s]["spanclass"], L_FULL_UNSWEPT if full else L_PARTIAL_UNSWEPT, s)
    else:
        list_push(heap, spans[s]["spanclass"], L_FULL_SWEPT if full else L_PARTIAL_SWEPT, s)


@kernel
def flush_mcache(heap, c, p):
    """mcache.releaseAll at the start of sweeping: uncache every span, drop the tiny block.

    Every span is stale here (cached before sweepgen moved), so heapLive is
    not corrected: resetLive has just recomputed it from the marked bytes.
    """
    for spc in range(heap.mcache.shape[1]):
        s = heap.mcache[p, spc]
        if s < 0:
            continue
        uncache_span(heap, c, s, True)
        heap.mcache[p, spc] = -1
    heap.tiny_slot[p] = -1
    heap.tiny_offset[p] = 0
    # Mark termination has just set heapScan to the cycle's scan work and dropped
    # every P's scanAlloc (gcMarkTermination, before the mcaches are flushed).
    heap.scan_alloc[p] = 0


@kernel
def refill(heap, c, tab, costs, p, spanclass, out_cost):
    """mcache.refill: return the full span, cache one with a free slot, update heapLive.

    Refill counts the new span as if it will be filled completely (the
    runtime's deliberate overestimate), then tests the GC trigger. It also
    flushes the P's scanAlloc into heapScan, which takes it only outside a
    mark (gcController.update: heapScan is fixed while marking); either way
    the P's count restarts. So heapScan at a cycle's start lacks what each P
    allocated since its last refill: after a large scannable allocation (a
    big root table at start-up) that can be most of it, and the first
    cycle's assists then stop as soon as its work passes that small bound
    (revise: work > maxScanWork).
    """
    spans = heap.spans
    s = heap.mcache[p, spanclass]
    if s >= 0:
        uncache_span(heap, c, s, False)
        heap.mcache[p, spanclass] = -1
    out_cost[0] += costs.mcache_refill
    s = _cache_span(heap, c, tab, costs, spanclass, out_cost)
    spans[s]["cached_by"] = p
    heap.mcache[p, spanclass] = s
    used = spans[s]["alloc_count"] * spans[s]["elemsize"]
    c[C_HEAP_LIVE_BYTES] += spans[s]["npages"] * PAGE_BYTES - used
    if c[C_PHASE] == PHASE_OFF:
        c[C_HEAP_SCAN_BYTES] += heap.scan_alloc[p]
    heap.scan_alloc[p] = 0
    _test_trigger(c)


@kernel
def _cache_span(heap, c, tab, costs, spanclass, out_cost):
    """mcentral.cacheSpan: a span of ``spanclass`` with at least one free slot."""
    spans = heap.spans
    sc = spanclass >> 1
    npages = tab.class_npages[sc]
    deduct_sweep_credit(heap, c, costs, npages * PAGE_BYTES, out_cost)
    s = list_pop(heap, spanclass, L_PARTIAL_SWEPT)
    if s >= 0:
        return s
    budget = CACHESPAN_SWEEP_LIMIT
    for which in (L_PARTIAL_UNSWEPT, L_FULL_UNSWEPT):
        while budget > 0:
            s = list_pop(heap, spanclass, which)
            if s < 0:
                break
            budget -= 1
            kept = sweep_span(heap, c, costs, s, True, out_cost)
            if kept and spans[s]["alloc_count"] < spans[s]["nelems"]:
                list_remove(heap, s)
                return s
    out_cost[0] += costs.span_alloc
    return alloc_span(heap, c, tab, costs, spanclass, npages, tab.spanclass_nelems[spanclass],
                      tab.class_size[sc], out_cost)


@kernel
def large_alloc(heap, c, tab, costs, p, size_bytes, ptr_words, out_cost):
    """mallocgcLarge on P ``p``: a span of its own, heapLive += its pages, trigger
    test; a scannable object's span goes to the P's scanAlloc (heapSetTypeLarge),
    not yet to heapScan (mcache.allocLarge updates heapLive alone)."""
    noscan = ptr_words == 0
    slot_bytes = ((size_bytes + PAGE_BYTES - 1) // PAGE_BYTES) * PAGE_BYTES
    npages = slot_bytes // PAGE_BYTES
    deduct_sweep_credit(heap, c, costs, slot_bytes, out_cost)
    spanclass = 1 if noscan else 0
    s = alloc_span(heap, c, tab, costs, spanclass, npages, 1, slot_bytes, out_cost)
    list_push(heap, spanclass, L_FULL_SWEPT, s)
    c[C_HEAP_LIVE_BYTES] += slot_bytes
    out_cost[0] += costs.large_alloc + costs.large_alloc_per_byte * slot_bytes * \
        heap.spans[s]["needzero"]
    slot = take_slot(heap.spans, heap.slot_alloc, heap.slot_mark, heap.alloc_by_class, c, costs,
                     s, out_cost)
    heap.slot_ptr_words[slot] = ptr_words
    if not noscan:
        heap.scan_alloc[p] += slot_bytes
    _test_trigger(c)
    return slot


@kernel
def mallocgc(heap, c, tab, costs, p, size_bytes, ptr_words, out_cost):
    """Allocate one object for P ``p`` outside the hot loop (start-up, tests).

    The same path the mutator loop takes: the fast path, then a refill or the
    large path when it asks for one. Returns the slot id.
    """
    while True:
        slot, need = try_malloc(heap.spans, heap.mcache, heap.slot_alloc, heap.slot_mark,
                                heap.slot_ptr_words, heap.alloc_by_class, heap.tiny_slot,
                                heap.tiny_offset, heap.scan_alloc, c, costs, p, size_bytes,
                                ptr_words, out_cost)
        if slot >= 0:
            return slot
        if need == NEED_LARGE:
            return large_alloc(heap, c, tab, costs, p, size_bytes, ptr_words, out_cost)
        refill(heap, c, tab, costs, p, need, out_cost)


@kernel
def count_list(heap, spanclass, which):
    """Length of one mcentral list (for tests and invariants)."""
    return heap.list_len[spanclass, which]


# Re-exported so tests can name every list without importing state.
LISTS = np.array([L_PARTIAL_SWEPT, L_PARTIAL_UNSWEPT, L_FULL_SWEPT, L_FULL_UNSWEPT],
                 dtype=np.int64)
