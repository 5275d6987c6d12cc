"""GC sweeping: lazy, proportional and background (src/runtime/mgcsweep.go).

"Sweep" alone means a parameter sweep in gcsim; this module is the GC phase.

Sweep generations (mspan.sweepgen vs mheap.sweepgen ``sg``, which grows by 2
at every mark termination): a span with sweepgen ``sg - 2`` still has last
cycle's mark bits to turn into allocation bits; ``sg`` means swept. Cached
spans are always swept, because mcaches are flushed before a cycle starts.

Sweeping one span (``sweep_span``, after ``sweepLocked.sweep``):

1. every allocated slot that is not marked is freed; marked slots stay and
   their mark is cleared (allocBits := gcmarkBits, fresh gcmarkBits);
2. HeapAlloc and the per-class free counts drop now, not at mark termination;
3. an emptied span returns its pages to mheap, a full one goes to the
   full-swept list, any other to the partial-swept list; except that
   ``cacheSpan`` keeps an emptied span (``sweep(true)``) and allocates from
   it, so a class whose spans die whole (one 8 KiB object per span, say)
   reuses its spans in place and rarely asks mheap for pages.

Who sweeps:

- allocation: ``cacheSpan`` sweeps up to 100 spans of the class it needs
  (gcsim.engine.heap);
- proportional sweep (``deduct_sweep_credit``): before a span is allocated the
  allocating P sweeps until pagesSwept keeps pace with
  ``sweepPagesPerByte`` x heap growth, so sweeping ends before the next
  trigger (``gcPaceSweeper`` computes the ratio at each commit);
- the background sweeper (``sweepone`` on idle Ps) and the start of the next
  cycle (``finish_sweep``) sweep whatever is left.

Simplification: the page reclaimer of ``mheap.alloc`` is folded into
proportional sweeping; it frees the same unmarked spans, earlier or later.
"""

from __future__ import annotations

from gcsim.engine._jit import kernel
from gcsim.engine.mspan import free_span, list_pop, list_push
from gcsim.engine.state import (
    C_HEAP_ALLOC_BYTES,
    C_HEAP_LIVE_BASIS,
    C_HEAP_LIVE_BYTES,
    C_PAGES_SWEPT,
    C_PAGES_SWEPT_BASIS,
    C_SLOT_FREES,
    C_SWEEP_CURSOR,
    C_SWEEP_CYCLES,
    C_SWEEPGEN,
    C_UNSWEPT_SPANS,
    L_FULL_SWEPT,
    L_FULL_UNSWEPT,
    L_PARTIAL_SWEPT,
    L_PARTIAL_UNSWEPT,
)

SWEEP_MIN_HEAP_DISTANCE_BYTES = 1 << 20  # sweepMinHeapDistance (src/runtime/mgc.go)
PAGE_BYTES_ = 8192


@kernel
def sweep_span(heap, c, costs, s, preserve, out_cost):
    """Sweep span record ``s`` (already off its list); return True if it stays in use.

    With ``preserve`` (mcentral.cacheSpan's ``s.sweep(true)``) a span whose
    objects all died stays in use for the caller to allocate from, as Go
    does, instead of going back to the page heap; without it (the sweepers)
    such a span is freed. Adds the sweep's cycles to ``out_cost[0]`` and to
    the run's sweep total.
    """
    spans = heap.spans
    base = spans[s]["slot_base"]
    nelems = spans[s]["nelems"]
    nalloc = 0
    freed = 0
    for slot in range(base, base + nelems):
        if heap.slot_alloc[slot] != 0:
            if heap.slot_mark[slot] != 0:
                nalloc += 1
                heap.slot_mark[slot] = 0
            else:
                heap.slot_alloc[slot] = 0
                freed += 1
    elemsize = spans[s]["elemsize"]
    c[C_HEAP_ALLOC_BYTES] -= freed * elemsize
    c[C_SLOT_FREES] += freed
    heap.free_by_class[spans[s]["spanclass"] >> 1] += freed
    spans[s]["alloc_count"] = nalloc
    spans[s]["freeindex"] = 0
    if freed > 0:
        spans[s]["needzero"] = 1
    spans[s]["sweepgen"] = c[C_SWEEPGEN]
    c[C_PAGES_SWEPT] += spans[s]["npages"]
    c[C_UNSWEPT_SPANS] -= 1
    if nalloc == 0 and not preserve:
        free_span(heap, c, s)
        cost = costs.sweep_free_span
        kept = False
    else:
        which = L_FULL_SWEPT if nalloc == nelems else L_PARTIAL_SWEPT
        list_push(heap, spans[s]["spanclass"], which, s)
        cost = costs.sweep_span
        kept = True
    out_cost[0] += cost
    c[C_SWEEP_CYCLES] += int(cost)
    return kept


@kernel
def sweepone(heap, c, costs, out_cost):
    """Sweep one unswept span of any class; return its pages, or -1 if none is left."""
    if c[C_UNSWEPT_SPANS] <= 0:
        return -1
    nclasses = heap.list_head.shape[0]
    for k in range(nclasses):
        spc = (c[C_SWEEP_CURSOR] + k) % nclasses
        for which in (L_PARTIAL_UNSWEPT, L_FULL_UNSWEPT):
            s = list_pop(heap, spc, which)
            if s >= 0:
                c[C_SWEEP_CURSOR] = spc
                npages = heap.spans[s]["npages"]
                sweep_span(heap, c, costs, s, False, out_cost)
                return npages
    return -1


@kernel
def finish_sweep(heap, c, costs, out_cost):
    """Sweep everything still unswept (gcStart's loop and finishsweep_m); return spans swept."""
    n = 0
    while sweepone(heap, c, costs, out_cost) >= 0:
        n += 1
    return n


@kernel
def deduct_sweep_credit(heap, c, costs, span_bytes, out_cost):
    """Proportional sweep before allocating ``span_bytes`` (deductSweepCredit)."""
    ppb = heap.sweep_pages_per_byte[0]
    if ppb == 0.0:
        return
    new_live = span_bytes
    live = c[C_HEAP_LIVE_BYTES]
    basis = c[C_HEAP_LIVE_BASIS]
    if basis < live:
        new_live += live - basis
    target = int(ppb * new_live)
    while target > c[C_PAGES_SWEPT] - c[C_PAGES_SWEPT_BASIS]:
        if sweepone(heap, c, costs, out_cost) < 0:
            heap.sweep_pages_per_byte[0] = 0.0
            break


@kernel
def pace_sweeper(heap, c, pages_inuse, trigger_bytes):
    """gcPaceSweeper at commit: pages to sweep per byte of heap growth before the trigger."""
    heap_distance = trigger_bytes - c[C_HEAP_LIVE_BYTES] - SWEEP_MIN_HEAP_DISTANCE_BYTES
    if heap_distance < PAGE_BYTES_:
        heap_distance = PAGE_BYTES_
    sweep_distance_pages = pages_inuse - c[C_PAGES_SWEPT]
    if c[C_UNSWEPT_SPANS] <= 0 or sweep_distance_pages <= 0:
        heap.sweep_pages_per_byte[0] = 0.0
        return
    heap.sweep_pages_per_byte[0] = sweep_distance_pages / heap_distance
    c[C_HEAP_LIVE_BASIS] = c[C_HEAP_LIVE_BYTES]
    c[C_PAGES_SWEPT_BASIS] = c[C_PAGES_SWEPT]
