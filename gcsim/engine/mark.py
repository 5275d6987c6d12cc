"""Tri-color marking: roots, the gray stack, scanning (src/runtime/mgcmark.go).

White = mark bit clear, gray = marked and on the gray stack, black = marked
and scanned (or noscan: marked objects without pointers are black at once,
never queued, as Go does for noscan spans).

1. ``mark_roots`` charges the globals scan (data + BSS, ``globals_bytes``;
   goroutine stacks are queued the same way by stacks.py) and
   shades each site's root table: the heap object a Go program keeps its live
   references in (``ring := make([]*T, N)`` held by a global), whose pointer
   words are the ``roots`` array.
2. ``drain_mark_work`` pops gray objects and scans them until none are left
   or a cycle budget is spent (the budget is what lets the concurrent
   collector hand out work to workers and assists in slices). Like Go's
   gcDrain and gcDrainN it takes the object workbufs first (root-table
   oblets, large objects, objects over 512 B) and Green Tea's span queue
   (16-512 B pointerful objects) after: the two ends of one array. So an
   assist early in a cycle marks through a big root table's oblets, the
   costly greying of each object it points to, before the cheap scans of
   the objects it greyed.
3. Scanning an object costs a fixed part, a part per pointer word of scan
   size, and a part per non-nil pointer followed (the cache miss to the
   target); a small object over 512 B adds the reading of its malloc header
   and type mask and its own pages' misses (``mark_header_*``). Scan work,
   the unit of Go's pacer, is counted as Go counts it (§2.6): up to the last
   pointer word, or the whole slot for an object of a span Green Tea scans
   packed (``_heap_scan_work``). Its modelled pointer slots (``edges``) or,
   for a root table, its roots are shaded.

Costs come from the cost table, with the Green Tea or classic per-object and
per-pointer entries chosen by the driver.

Root jobs (gcPrepareMarkRoots / markroot). Go numbers its root jobs and
workers claim them one at a time, so they spread over whichever workers and
assists drain first, before any heap object: 3 fixed jobs (finalizers, dead
Gs' stacks, cleanups; nothing to do in gcsim's programs), one job per 256 KiB
block of data and of BSS, one per 512 pages of arena for span specials (no
specials in gcsim: no work), then one per goroutine's stack. gcsim drains
the globals the same way, one 256 KiB block per step of ``drain_mark_work``
(each block charged ``mark_root_word`` per word), so a worker whose slice
ends mid-roots leaves the remaining blocks to the next worker or assist.

A cycle also costs ``mark_cycle`` with nothing to mark (the calibrated
empty-heap mark: root-job setup, workers starting and parking, assists'
bookkeeping, gcMarkDone's flush of each P's buffers). Go pays it beside the
marking, so gcsim spreads it over the cycle's expected scan work (the pacer's
S_h + S_s + S_g at mark start): each drain pays its share of it for the scan
work it did, whoever drains; what is left when the work runs out is paid by
the P that finishes the mark (gccycle.gc_mark_done).

Hook for stack roots (goroutine stacks are another feature): a stack model
queues one job per goroutine existing at mark start in ``mark_roots``, makes
``mark_work_left`` true while any is unscanned, scans them in
``drain_mark_work`` right after the globals (hi - sp bytes each, at
``mark_root_word`` per word, shading the heap objects the frames point to),
and adds the bytes to ``scan_work_done`` and the cycle's ``stack_scan_bytes``.
"""

from __future__ import annotations

from gcsim.engine._jit import hot_kernel, kernel
from gcsim.engine.scavenge import PHYS_PAGE_BYTES
from gcsim.engine.state import (
    C_GLOBALS_SCAN_DONE,
    C_GLOBALS_WORK_LEFT,
    C_GRAY_LEN,
    C_GRAY_OBJ_LEN,
    C_HEAP_MARKED_BYTES,
    C_LAST_HEAP_SCAN_BYTES,
    C_LAST_STACK_SCAN_BYTES,
    C_MARK_FIXED_EXPECT_WORK,
    C_MARK_FIXED_LEFT_CYCLES,
    C_MARK_OBJECTS,
    C_MARK_POINTERS,
    C_MARK_SCAN_WORK,
    C_STACK_SCAN_DONE,
    C_STACK_SHRINK_COPY_BYTES,
    C_STACK_WORK_LEFT,
    NO_DENSE_SCAN,
    W_ROOT_BASE,
    W_ROOT_LEN,
)
from gcsim.goruntime.sizeclasses import MAX_SMALL_SIZE_BYTES, MIN_SIZE_FOR_MALLOC_HEADER_BYTES

ROOT_BLOCK_BYTES = 256 << 10  # rootBlockBytes: one data/BSS root job (mgcmark.go)
OBLET_WORDS = (128 << 10) // 8  # maxObletBytes: large objects are scanned 128 KiB at a time
OBLET_SHIFT = 40  # gray entries: slot | oblet << OBLET_SHIFT
OBLET_SLOT_MASK = (1 << OBLET_SHIFT) - 1


@hot_kernel
def push_gray_object(gray, c, entry):
    """Queue ``entry`` on the object workbufs (the top end of ``gray``)."""
    c[C_GRAY_OBJ_LEN] += 1
    gray[gray.shape[0] - c[C_GRAY_OBJ_LEN]] = entry


@hot_kernel
def shade(slot_mark, slot_span, spans, slot_ptr_words, gray, c, costs, slot, out_cost):
    """Grey a white object (greyobject): mark it and queue it if it has pointers."""
    if slot < 0 or slot_mark[slot] != 0:
        return
    slot_mark[slot] = 1
    s = slot_span[slot]
    c[C_HEAP_MARKED_BYTES] += spans[s]["elemsize"]
    c[C_MARK_OBJECTS] += 1
    if slot_ptr_words[slot] > 0:
        if spans[s]["span_queue"] != 0:
            gray[c[C_GRAY_LEN]] = slot
            c[C_GRAY_LEN] += 1
            if spans[s]["dense_scan_min"] != NO_DENSE_SCAN:
                spans[s]["scan_pending"] += 1
        else:
            push_gray_object(gray, c, slot)
    else:
        out_cost[0] += costs.mark_noscan_object


@hot_kernel
def _heap_scan_work(spans, s, ptr_words, elemsize):
    """Scan work of one object of span ``s``, in Go's units (reference §2.6).

    Object by object, Go counts up to the last pointer word. Green Tea scans a
    span's queued objects together; where the CPU has the packed scan and the
    batch holds at least ``dense_scan_min`` of them, it counts whole slots
    (scanSpan). Objects queued on a span while its batch is under way wait
    for the next batch, as marks set after Go's scan began do.
    """
    if spans[s]["dense_scan_min"] == NO_DENSE_SCAN:
        return ptr_words * 8
    if spans[s]["scan_batch"] == 0:
        n = spans[s]["scan_pending"]
        spans[s]["scan_batch"] = n
        spans[s]["scan_dense"] = 1 if n >= spans[s]["dense_scan_min"] else 0
    spans[s]["scan_batch"] -= 1
    spans[s]["scan_pending"] -= 1
    return elemsize if spans[s]["scan_dense"] != 0 else ptr_words * 8


@hot_kernel
def scan_object(slot_mark, slot_span, spans, slot_ptr_words, slot_site, edges, gray, roots,
                site_tab, c, costs, entry, out_cost):
    """Scan one gray entry (scanobject / Green Tea span scan of one object).

    ``entry`` is a slot id, or for a root table bigger than one oblet
    ``slot | oblet << OBLET_SHIFT``: like Go, the first scan of a large object
    queues its other 128 KiB oblets as separate work, so no single scan step
    holds a worker much longer than ~100 us.
    """
    slot = entry & OBLET_SLOT_MASK
    oblet = entry >> OBLET_SHIFT
    site = slot_site[slot]
    if site <= -2:
        k = -2 - site
        n = site_tab[k, W_ROOT_LEN]
        if oblet == 0:
            n_oblets = (n + OBLET_WORDS - 1) // OBLET_WORDS
            for o in range(1, n_oblets):
                push_gray_object(gray, c, slot | (o << OBLET_SHIFT))
        lo = oblet * OBLET_WORDS
        hi = min(n, lo + OBLET_WORDS)
        out_cost[0] += costs.mark_object + (hi - lo) * costs.mark_scan_word
        c[C_MARK_SCAN_WORK] += (hi - lo) * 8
        base = site_tab[k, W_ROOT_BASE]
        for i in range(lo, hi):
            r = roots[base + i]
            if r >= 0:
                out_cost[0] += costs.mark_pointer
                c[C_MARK_POINTERS] += 1
                shade(slot_mark, slot_span, spans, slot_ptr_words, gray, c, costs, r, out_cost)
        return
    pw = slot_ptr_words[slot]
    out_cost[0] += costs.mark_object + pw * costs.mark_scan_word
    s = slot_span[slot]
    elem = spans[s]["elemsize"]
    if MIN_SIZE_FOR_MALLOC_HEADER_BYTES < elem <= MAX_SMALL_SIZE_BYTES:
        # A malloc header and the type's mask to read, on pages of its own
        # (large objects keep their type in the span: no header).
        out_cost[0] += costs.mark_header_object + costs.mark_header_page * min(
            1.0, elem / PHYS_PAGE_BYTES)
    c[C_MARK_SCAN_WORK] += _heap_scan_work(spans, s, pw, elem)
    for j in range(edges.shape[1]):
        e = edges[slot, j]
        if e >= 0:
            out_cost[0] += costs.mark_pointer
            c[C_MARK_POINTERS] += 1
            shade(slot_mark, slot_span, spans, slot_ptr_words, gray, c, costs, e, out_cost)


@kernel
def shade_slot(heap, gc, c, costs, slot, out_cost):
    """``shade`` for callers outside the mark loop (roots, tiny blocks, barriers)."""
    shade(heap.slot_mark, heap.slot_span, heap.spans, heap.slot_ptr_words, gc.gray, c, costs,
          slot, out_cost)


@kernel
def mark_roots(heap, gc, c, costs, globals_bytes, out_cost):
    """Queue the cycle's roots (gcPrepareMarkRoots): the globals become scan work
    for the workers (``C_GLOBALS_WORK_LEFT``), every root table and the runtime's
    own objects (reachable from its globals) are shaded, and the fixed mark CPU
    is spread over the expected scan work."""
    c[C_MARK_FIXED_LEFT_CYCLES] = int(costs.mark_cycle + 0.5)
    c[C_MARK_FIXED_EXPECT_WORK] = max(
        1, c[C_LAST_HEAP_SCAN_BYTES] + c[C_LAST_STACK_SCAN_BYTES] + globals_bytes)
    c[C_GLOBALS_WORK_LEFT] = globals_bytes
    c[C_GLOBALS_SCAN_DONE] = 0
    for k in range(gc.root_table_slot.shape[0]):
        shade_slot(heap, gc, c, costs, gc.root_table_slot[k], out_cost)
    for i in range(gc.runtime_slots.shape[0]):
        shade_slot(heap, gc, c, costs, gc.runtime_slots[i], out_cost)


@hot_kernel
def scan_work_done(c):
    """Scan work done this cycle in Go's units (heap + globals + stack bytes)."""
    return c[C_MARK_SCAN_WORK] + c[C_GLOBALS_SCAN_DONE] + c[C_STACK_SCAN_DONE]


@hot_kernel
def mark_work_left(c):
    """True while gray objects or unscanned root blocks remain (gcMarkWorkAvailable)."""
    return (c[C_GRAY_LEN] > 0 or c[C_GRAY_OBJ_LEN] > 0 or c[C_GLOBALS_WORK_LEFT] > 0
            or c[C_STACK_WORK_LEFT] > 0)


@hot_kernel
def _charge_fixed_share(c, costs, work, out_cost):
    """Charge ``work`` bytes of scan work's share of the cycle's fixed mark CPU."""
    left = c[C_MARK_FIXED_LEFT_CYCLES]
    if left <= 0 or work <= 0:
        return
    pay = min(left, int(costs.mark_cycle * work / c[C_MARK_FIXED_EXPECT_WORK] + 0.5))
    out_cost[0] += pay
    c[C_MARK_FIXED_LEFT_CYCLES] = left - pay


@kernel
def drain_mark_work(heap, gc, wl, c, costs, budget_cycles, budget_work, out_cost):
    """gcDrain: scan roots, then gray objects, until no work is left or a budget is spent.

    Each root block and object also pays its share of the cycle's fixed mark
    CPU, inside the budget.

    Parameters
    ----------
    budget_cycles : float
        Stop once this many cycles were spent (a worker's slice of time).
    budget_work : int
        Stop once this much scan work (bytes) was done (an assist's quota,
        gcDrainN).

    Returns True when no mark work is left.
    """
    slot_mark = heap.slot_mark
    slot_span = heap.slot_span
    spans = heap.spans
    slot_ptr_words = heap.slot_ptr_words
    slot_site = heap.slot_site
    edges = heap.edges
    gray = gc.gray
    roots = gc.roots
    site_tab = wl.site_tab
    start = out_cost[0]
    work0 = scan_work_done(c)
    # Root blocks first, 256 KiB at a time (rootBlockBytes).
    while c[C_GLOBALS_WORK_LEFT] > 0:
        if out_cost[0] - start >= budget_cycles or scan_work_done(c) - work0 >= budget_work:
            return False
        chunk = min(c[C_GLOBALS_WORK_LEFT], ROOT_BLOCK_BYTES)
        out_cost[0] += (chunk // 8) * costs.mark_root_word
        _charge_fixed_share(c, costs, chunk, out_cost)
        c[C_GLOBALS_WORK_LEFT] -= chunk
        c[C_GLOBALS_SCAN_DONE] += chunk
    # Stack roots (stacks.py queued their used bytes), in the same 256 KiB steps; the
    # first step also pays for the copies of this cycle's shrinks.
    while c[C_STACK_WORK_LEFT] > 0:
        if out_cost[0] - start >= budget_cycles or scan_work_done(c) - work0 >= budget_work:
            return False
        chunk = min(c[C_STACK_WORK_LEFT], ROOT_BLOCK_BYTES)
        out_cost[0] += (chunk // 8) * costs.mark_root_word
        out_cost[0] += c[C_STACK_SHRINK_COPY_BYTES] * costs.stack_copy_per_byte
        c[C_STACK_SHRINK_COPY_BYTES] = 0
        _charge_fixed_share(c, costs, chunk, out_cost)
        c[C_STACK_WORK_LEFT] -= chunk
        c[C_STACK_SCAN_DONE] += chunk
    # Objects (oblets, large and header objects) before spans, as gcDrain and
    # gcDrainN try the object workbufs before the span queue.
    while c[C_GRAY_OBJ_LEN] > 0 or c[C_GRAY_LEN] > 0:
        done = scan_work_done(c) - work0
        if out_cost[0] - start >= budget_cycles or done >= budget_work:
            return False
        if c[C_GRAY_OBJ_LEN] > 0:
            entry = gray[gray.shape[0] - c[C_GRAY_OBJ_LEN]]
            c[C_GRAY_OBJ_LEN] -= 1
        else:
            c[C_GRAY_LEN] -= 1
            entry = gray[c[C_GRAY_LEN]]
        w = c[C_MARK_SCAN_WORK]
        scan_object(slot_mark, slot_span, spans, slot_ptr_words, slot_site, edges, gray, roots,
                    site_tab, c, costs, entry, out_cost)
        _charge_fixed_share(c, costs, c[C_MARK_SCAN_WORK] - w, out_cost)
    return True
