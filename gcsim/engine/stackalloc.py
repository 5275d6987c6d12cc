"""Stack memory: stack spans, the per-order stack pools and the per-P stack caches.

What it models (go1.27.3, src/runtime/stack.go ``stackalloc``/``stackfree``;
reference §6.5): stacks under 32 KiB (orders 0-3: 2, 4, 8, 16 KiB) come
from the P's ``stackcache``, refilled with 16 KiB of stacks from the global
pool when empty and released down to 16 KiB when it reaches 32 KiB; the pool
carves 32 KiB spans into stacks of one order (``stackpoolalloc``), and a
span whose stacks are all free goes back to the heap at once while the GC is
off, else at the end of the cycle (``freeStackSpans``). Larger stacks get a
span of their own; one freed during marking is parked (``stackLarge``) and
reused by an equal-size request or freed at the end of the cycle. Stack spans
come from the heap's page allocator (``mheap.allocManual``): their pages count
in ``C_STACK_PAGES`` (StackInuse), not in HeapInuse, and are span records
with state ``SPAN_STACK`` that no mcentral list or sweeper sees.

A stack is named by its address, ``base_page * 8192 + offset``; a pool span
keeps its free stacks as a bit mask in the record's ``freeindex`` field and
its pool list links in ``next``/``prev``. ``maxStackScan`` (the pacer's
allocated stack bytes) moves with every stackalloc/stackfree.
"""

from __future__ import annotations

from gcsim.engine._jit import kernel
from gcsim.engine.heap import _advance_free_hint, alloc_pages
from gcsim.engine.mspan import release_pages
from gcsim.engine.stackstate import (
    FIXED_STACK_BYTES,
    K_FREE_REC,
    K_LARGE_PARKED,
    K_PEAK_STACK_PAGES,
    NUM_STACK_ORDERS,
    STACK_CACHE_BYTES,
)
from gcsim.engine.state import (
    C_FREE_PAGE_HINT,
    C_MAX_STACK_SCAN_BYTES,
    C_N_SPAN_RECORDS,
    C_PAGES_INUSE,
    C_PAGES_MAPPED,
    C_PHASE,
    C_STACK_PAGES,
    L_NONE,
    PHASE_OFF,
    SPAN_FREE,
    SPAN_STACK,
    ST_GROW_PAGES,
    ST_GROW_SPANS,
    ST_OK,
)

PAGE_SHIFT_ = 13
PAGE_BYTES_ = 8192
HEAP_GROW_PAGES_ = 512
STACK_CACHE_PAGES_ = STACK_CACHE_BYTES // PAGE_BYTES_


# --- stack spans (mheap.allocManual / freeManual) ----------------------------------------------


@kernel
def stack_room_status(heap, c, nbytes):
    """ST_OK if a stack span of ``nbytes`` (and its record) fits the arrays, else what to grow."""
    if c[C_N_SPAN_RECORDS] + 1 > heap.spans.shape[0]:
        return ST_GROW_SPANS
    npages = max(nbytes, STACK_CACHE_BYTES) >> PAGE_SHIFT_
    if c[C_PAGES_MAPPED] + npages + HEAP_GROW_PAGES_ > heap.page_span.shape[0]:
        return ST_GROW_PAGES
    return ST_OK


@kernel
def _span_new(heap, c, stk, npages, elemsize):
    """A stack span of ``npages`` from the heap's pages; the caller checked room."""
    spans = heap.spans
    s = stk.k[K_FREE_REC]
    if s >= 0:
        stk.k[K_FREE_REC] = spans[s]["next"]
    else:
        s = c[C_N_SPAN_RECORDS]
        c[C_N_SPAN_RECORDS] += 1
        spans[s]["slot_base"] = 0
        spans[s]["nelems"] = 0
    # Stack spans are taken at start-up, goroutine exit and the mark-start
    # shrink as well as on growth; their faults are counted, not charged.
    base, _ = alloc_pages(heap, c, npages)
    for q in range(base, base + npages):
        heap.page_span[q] = s
    c[C_PAGES_INUSE] -= npages  # manual spans are not heap in use
    c[C_STACK_PAGES] += npages
    if c[C_STACK_PAGES] > stk.k[K_PEAK_STACK_PAGES]:
        stk.k[K_PEAK_STACK_PAGES] = c[C_STACK_PAGES]
    spans[s]["base_page"] = base
    spans[s]["npages"] = npages
    spans[s]["spanclass"] = 0
    spans[s]["elemsize"] = elemsize
    spans[s]["alloc_count"] = 0
    spans[s]["freeindex"] = 0  # pool spans: bit i set = stack i is free
    spans[s]["sweepgen"] = 0
    spans[s]["state"] = SPAN_STACK
    spans[s]["list"] = L_NONE
    spans[s]["next"] = -1
    spans[s]["prev"] = -1
    spans[s]["cached_by"] = -1
    if base == c[C_FREE_PAGE_HINT]:
        _advance_free_hint(heap, c)
    return s


@kernel
def _span_free(heap, c, stk, s):
    """Give a stack span's pages back to the heap and park its record."""
    spans = heap.spans
    npages = spans[s]["npages"]
    release_pages(heap, c, spans[s]["base_page"], npages)
    c[C_STACK_PAGES] -= npages
    spans[s]["state"] = SPAN_FREE
    spans[s]["next"] = stk.k[K_FREE_REC]
    stk.k[K_FREE_REC] = s


# --- the stack pool, per order (stackpoolalloc / stackpoolfree) ----------------------------------


@kernel
def _pool_unlink(heap, stk, order, s):
    spans = heap.spans
    nx = spans[s]["next"]
    pv = spans[s]["prev"]
    if pv >= 0:
        spans[pv]["next"] = nx
    else:
        stk.pool_head[order] = nx
    if nx >= 0:
        spans[nx]["prev"] = pv
    spans[s]["next"] = -1
    spans[s]["prev"] = -1


@kernel
def _pool_insert(heap, stk, order, s):
    spans = heap.spans
    head = stk.pool_head[order]
    spans[s]["next"] = head
    spans[s]["prev"] = -1
    if head >= 0:
        spans[head]["prev"] = s
    stk.pool_head[order] = s


@kernel
def _pool_alloc(heap, c, stk, order):
    """stackpoolalloc: a free stack of ``order`` from the pool (a new span if none)."""
    spans = heap.spans
    size = FIXED_STACK_BYTES << order
    n = STACK_CACHE_BYTES // size
    s = stk.pool_head[order]
    if s < 0:
        s = _span_new(heap, c, stk, STACK_CACHE_PAGES_, size)
        spans[s]["freeindex"] = (1 << n) - 1
        _pool_insert(heap, stk, order, s)
    mask = spans[s]["freeindex"]
    i = 0
    while (mask >> i) & 1 == 0:
        i += 1
    mask &= ~(1 << i)
    spans[s]["freeindex"] = mask
    spans[s]["alloc_count"] += 1
    if mask == 0:
        _pool_unlink(heap, stk, order, s)
    return spans[s]["base_page"] * PAGE_BYTES_ + i * size


@kernel
def _pool_free(heap, c, stk, addr, order):
    """stackpoolfree: back to its span; an empty span leaves at once while the GC is off."""
    spans = heap.spans
    s = heap.page_span[addr >> PAGE_SHIFT_]
    size = FIXED_STACK_BYTES << order
    i = (addr - spans[s]["base_page"] * PAGE_BYTES_) // size
    if spans[s]["freeindex"] == 0:
        _pool_insert(heap, stk, order, s)
    spans[s]["freeindex"] |= 1 << i
    spans[s]["alloc_count"] -= 1
    if c[C_PHASE] == PHASE_OFF and spans[s]["alloc_count"] == 0:
        _pool_unlink(heap, stk, order, s)
        _span_free(heap, c, stk, s)


# --- per-P caches and stackalloc / stackfree ---------------------------------------------------


@kernel
def _order_of(n):
    order = 0
    while (FIXED_STACK_BYTES << order) < n:
        order += 1
    return order


@kernel
def stack_alloc(heap, c, stk, p, n):
    """stackalloc(n) on P ``p``; returns the address. The caller checked room."""
    if n < STACK_CACHE_BYTES:
        order = _order_of(n)
        if stk.cache_n[p, order] == 0:
            # stackcacherefill: grab half the cache size from the global pool.
            got = 0
            while got < STACK_CACHE_BYTES // 2:
                stk.cache[p, order, stk.cache_n[p, order]] = _pool_alloc(heap, c, stk, order)
                stk.cache_n[p, order] += 1
                got += n
        stk.cache_n[p, order] -= 1
        addr = stk.cache[p, order, stk.cache_n[p, order]]
    else:
        npages = n >> PAGE_SHIFT_
        spans = heap.spans
        # stackLarge: a large span freed during this cycle's mark, of the same size.
        s = stk.k[K_LARGE_PARKED]
        prev = -1
        while s >= 0 and spans[s]["npages"] != npages:
            prev = s
            s = spans[s]["next"]
        if s >= 0:
            if prev >= 0:
                spans[prev]["next"] = spans[s]["next"]
            else:
                stk.k[K_LARGE_PARKED] = spans[s]["next"]
            spans[s]["next"] = -1
        else:
            s = _span_new(heap, c, stk, npages, n)
        spans[s]["alloc_count"] = 1
        addr = spans[s]["base_page"] * PAGE_BYTES_
    c[C_MAX_STACK_SCAN_BYTES] += n
    return addr


@kernel
def stack_free(heap, c, stk, p, addr, n):
    """stackfree(addr, n) on P ``p``."""
    c[C_MAX_STACK_SCAN_BYTES] -= n
    if n < STACK_CACHE_BYTES:
        order = _order_of(n)
        if stk.cache_n[p, order] * n >= STACK_CACHE_BYTES:
            # stackcacherelease: down to half the cache size.
            while stk.cache_n[p, order] * n > STACK_CACHE_BYTES // 2:
                stk.cache_n[p, order] -= 1
                _pool_free(heap, c, stk, stk.cache[p, order, stk.cache_n[p, order]], order)
        stk.cache[p, order, stk.cache_n[p, order]] = addr
        stk.cache_n[p, order] += 1
        return
    s = heap.page_span[addr >> PAGE_SHIFT_]
    heap.spans[s]["alloc_count"] = 0
    if c[C_PHASE] == PHASE_OFF:
        _span_free(heap, c, stk, s)
    else:
        heap.spans[s]["next"] = stk.k[K_LARGE_PARKED]
        stk.k[K_LARGE_PARKED] = s


@kernel
def stack_cache_clear(heap, c, stk):
    """stackcache_clear on every P (mark termination's prepareForSweep; ReadMemStats)."""
    for p in range(stk.cache_n.shape[0]):
        for order in range(NUM_STACK_ORDERS):
            while stk.cache_n[p, order] > 0:
                stk.cache_n[p, order] -= 1
                _pool_free(heap, c, stk, stk.cache[p, order, stk.cache_n[p, order]], order)


@kernel
def free_stack_spans(heap, c, stk):
    """freeStackSpans at the end of mark termination: empty pool spans and parked large ones."""
    spans = heap.spans
    for order in range(NUM_STACK_ORDERS):
        s = stk.pool_head[order]
        while s >= 0:
            nx = spans[s]["next"]
            if spans[s]["alloc_count"] == 0:
                _pool_unlink(heap, stk, order, s)
                _span_free(heap, c, stk, s)
            s = nx
    s = stk.k[K_LARGE_PARKED]
    while s >= 0:
        nx = spans[s]["next"]
        _span_free(heap, c, stk, s)
        s = nx
    stk.k[K_LARGE_PARKED] = -1
