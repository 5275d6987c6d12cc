"""Tri-color marking: roots, the gray stack, scanning (src/runtime/mgcmark.go).

White = mark bit clear, gray = marked and on the gray stack, black = marked
and scanned (or noscan: marked objects without pointers are black at once,
never queued, as Go does for noscan spans).

1. ``mark_roots`` charges the globals scan (data + BSS, ``globals_bytes``) and
   shades each site's root table: the heap object a Go program keeps its live
   references in (``ring := make([]*T, N)`` held by a global), whose pointer
   words are the ``roots`` array.
2. ``drain_mark_work`` pops gray objects and scans them until the stack is
   empty or a cycle budget is spent (the budget is what lets the concurrent
   collector hand out work to workers and assists in slices).
3. Scanning an object costs a fixed part, a part per pointer word of scan
   size, and a part per non-nil pointer followed (the cache miss to the
   target); scan work is counted in bytes up to the last pointer word, the
   unit of Go's pacer (§2.6). Its modelled pointer slots (``edges``) or, for a
   root table, its roots are shaded.

Costs come from the cost table, with the Green Tea or classic per-object and
per-pointer entries chosen by the driver.
"""

from __future__ import annotations

from gcsim.engine._jit import hot_kernel, kernel
from gcsim.engine.state import (
    C_GRAY_LEN,
    C_HEAP_MARKED_BYTES,
    C_MARK_OBJECTS,
    C_MARK_POINTERS,
    C_MARK_SCAN_WORK,
    W_ROOT_BASE,
    W_ROOT_LEN,
)


@hot_kernel
def shade(slot_mark, slot_span, spans, slot_ptr_words, gray, c, costs, slot, out_cost):
    """Grey a white object (greyobject): mark it and queue it if it has pointers."""
    if slot < 0 or slot_mark[slot] != 0:
        return
    slot_mark[slot] = 1
    c[C_HEAP_MARKED_BYTES] += spans[slot_span[slot]]["elemsize"]
    c[C_MARK_OBJECTS] += 1
    if slot_ptr_words[slot] > 0:
        gray[c[C_GRAY_LEN]] = slot
        c[C_GRAY_LEN] += 1
    else:
        out_cost[0] += costs.mark_noscan_object


@hot_kernel
def scan_object(slot_mark, slot_span, spans, slot_ptr_words, slot_site, edges, gray, roots,
                site_tab, c, costs, slot, out_cost):
    """Scan one gray object (scanobject / Green Tea span scan of one object)."""
    pw = slot_ptr_words[slot]
    out_cost[0] += costs.mark_object + pw * costs.mark_scan_word
    c[C_MARK_SCAN_WORK] += pw * 8
    site = slot_site[slot]
    if site <= -2:
        k = -2 - site
        base = site_tab[k, W_ROOT_BASE]
        for i in range(site_tab[k, W_ROOT_LEN]):
            r = roots[base + i]
            if r >= 0:
                out_cost[0] += costs.mark_pointer
                c[C_MARK_POINTERS] += 1
                shade(slot_mark, slot_span, spans, slot_ptr_words, gray, c, costs, r, out_cost)
    else:
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
def mark_roots(heap, gc, wl, c, costs, globals_bytes, out_cost):
    """Scan the globals and shade every root table (markroot jobs)."""
    out_cost[0] += (globals_bytes // 8) * costs.mark_root_word
    for k in range(gc.root_table_slot.shape[0]):
        shade_slot(heap, gc, c, costs, gc.root_table_slot[k], out_cost)


@kernel
def drain_mark_work(heap, gc, wl, c, costs, budget_cycles, out_cost):
    """Scan gray objects until none is left or ``budget_cycles`` are spent.

    Returns True when the gray stack is empty.
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
    while c[C_GRAY_LEN] > 0:
        if out_cost[0] - start >= budget_cycles:
            return False
        c[C_GRAY_LEN] -= 1
        slot = gray[c[C_GRAY_LEN]]
        scan_object(slot_mark, slot_span, spans, slot_ptr_words, slot_site, edges, gray, roots,
                    site_tab, c, costs, slot, out_cost)
    return True
