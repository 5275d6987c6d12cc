"""Span records: the mcentral lists that hold them and freeing a span's pages.

Each span class has five intrusive doubly linked lists of span records
(``state.L_*``): partial/full x swept/unswept as in src/runtime/mcentral.go,
plus the records whose span was freed, parked for reuse by the same span class
so that a record keeps its block of slot ids for the whole run. A span cached
in an mcache is on no list. Lists are LIFO, so the most recently returned span
is reused first, like Go's span sets (src/runtime/mspanset.go) popped by
``cacheSpan``.
"""

from __future__ import annotations

from gcsim.engine._jit import kernel
from gcsim.engine.state import (
    C_FREE_PAGE_HINT,
    C_PAGES_INUSE,
    C_SCAV_SEARCH_PAGE,
    L_FREE_RECORDS,
    L_NONE,
    SPAN_FREE,
)


@kernel
def list_push(heap, spanclass, which, s):
    """Put span record ``s`` at the head of list ``which`` of ``spanclass``."""
    spans = heap.spans
    head = heap.list_head[spanclass, which]
    spans[s]["next"] = head
    spans[s]["prev"] = -1
    if head >= 0:
        spans[head]["prev"] = s
    heap.list_head[spanclass, which] = s
    heap.list_len[spanclass, which] += 1
    spans[s]["list"] = which


@kernel
def list_remove(heap, s):
    """Take span record ``s`` off whatever list holds it (no-op if none)."""
    spans = heap.spans
    which = spans[s]["list"]
    if which == L_NONE:
        return
    sc = spans[s]["spanclass"]
    nxt = spans[s]["next"]
    prv = spans[s]["prev"]
    if prv >= 0:
        spans[prv]["next"] = nxt
    else:
        heap.list_head[sc, which] = nxt
    if nxt >= 0:
        spans[nxt]["prev"] = prv
    heap.list_len[sc, which] -= 1
    spans[s]["list"] = L_NONE
    spans[s]["next"] = -1
    spans[s]["prev"] = -1


@kernel
def list_pop(heap, spanclass, which):
    """Remove and return the head of a list, or -1 if it is empty."""
    s = heap.list_head[spanclass, which]
    if s >= 0:
        list_remove(heap, s)
    return s


@kernel
def release_pages(heap, c, base, npages):
    """Mark pages ``base .. base + npages`` free again and lower the free-page hint
    (the page-level half of mheap.freeSpan / freeManual, shared by heap and stack spans)."""
    for q in range(base, base + npages):
        heap.page_span[q] = -1
    if base < c[C_FREE_PAGE_HINT]:
        c[C_FREE_PAGE_HINT] = base


@kernel
def free_span(heap, c, s):
    """Return a span's pages to the heap and park its record for reuse (mheap.freeSpan)."""
    spans = heap.spans
    base = spans[s]["base_page"]
    npages = spans[s]["npages"]
    release_pages(heap, c, base, npages)
    c[C_PAGES_INUSE] -= npages
    if base + npages > c[C_SCAV_SEARCH_PAGE]:
        c[C_SCAV_SEARCH_PAGE] = base + npages  # free, unreleased pages the scavenger may take
    spans[s]["state"] = SPAN_FREE
    spans[s]["alloc_count"] = 0
    spans[s]["freeindex"] = 0
    list_push(heap, spans[s]["spanclass"], L_FREE_RECORDS, s)


