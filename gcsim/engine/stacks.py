"""Goroutine stacks: growth by copying, shrinking at GC, the size limit, stack memory.

What it models (go1.27.3, src/runtime/stack.go unless noted; reference §6)
-------------------------------------------------------------------------
1. **Goroutines and calls.** Each goroutine of a ``[[workload.goroutines]]``
   group runs *excursions*: it calls down to a drawn depth, each call taking
   a drawn number of frame bytes, then returns to its base. A mutator step
   runs one goroutine (round robin over the runnable ones): its
   ``calls_per_step`` calls and returns, then the step's allocation. Calls
   are applied in bulk (``_advance``) so a step costs O(1) plus O(growths),
   however many calls it makes.
2. **Growth** (``morestack`` -> ``newstack`` -> ``copystack``). A call of C
   bytes (return address + frame) made at ``used`` bytes needs a bigger
   stack when ``used + max(C, 136) + 800 >= size``: the amd64 prologue
   compares ``SP - (framesize - StackSmall)`` with ``lo + stackGuard``
   (cmd/internal/obj/x86 ``stacksplit``), i.e. the frame plus 800 B of
   nosplit room, frames under 128 B counting as 128. newstack doubles the
   size while ``newsize - (used + 8) < framesize + stackGuard`` and throws
   when ``newsize > maxstacksize`` or ``> maxstackceiling``; so with the
   default limit of 10^9 bytes the largest stack is 2^29 = 512 MiB. The
   copy costs ``stack_copy_ns_per_byte`` per used byte, on the mutator.
3. **Shrinking** (``shrinkstack``, from the GC's stack scan): halve when the
   half is >= 2 KiB and ``used + 800 < size / 4``; at most once per cycle
   per goroutine; off with ``runtime.shrink_stacks = false``
   (gcshrinkstackoff=1).
4. **Memory** (stackalloc.py). Stacks under 32 KiB come from per-P caches (``stackcache``,
   refilled to 16 KiB from the global pool, released down to 16 KiB when they
   reach 32 KiB) over per-order pools of 32 KiB spans; larger stacks get a
   span of their own. Stack spans are taken from the heap's page allocator
   (``mheap.allocManual``), so they count in StackInuse and not in HeapInuse
   or HeapSys. A freed small stack returns to its span; an empty span goes
   back to the heap at once when the GC is off, else at the end of the cycle
   (``freeStackSpans``); a freed large stack is likewise parked during
   marking (``stackLarge``, reused by an equal-size request). Per-P caches
   are flushed at mark termination (``mcache.prepareForSweep``) and by
   ReadMemStats.
5. **GC roots.** At mark start every goroutine's used bytes become root scan
   work (``C_STACK_WORK_LEFT``, drained by mark.py like the globals); the
   bytes scanned are the pacer's S_s (lastStackScan) and the allocated
   bytes its maxStackScan. The adaptive starting size
   (``gcComputeStartingStackSize``) is the mean used bytes of the stacks
   scanned plus 928, rounded up to a power of two, at each mark termination.
6. **Exit** (``goexit0`` -> ``gfput``, then ``newproc1`` -> ``gfget``): a
   goroutine that exits is replaced at once by a new one of its group, which
   takes the dead G and its stack if that stack has the starting size, else
   gets a fresh stack of the starting size.

Simplifications: the runtime's own goroutines (main, sweeper, scavenger...)
have no stacks here, so their StackInuse baseline is not modelled; the GC
scans and shrinks all stacks at mark start (Go does it as each root job runs
during mark), and charges the shrink copies to the first stack scan step; a
blocked goroutine's runtime frames (gopark...) are not counted in its used
bytes; a value that does not escape is placed in one extra frame for the
length of its step.
"""

from __future__ import annotations

from gcsim.engine._jit import hot_kernel, kernel
from gcsim.engine.draw import draw_size
from gcsim.engine.rng import next_float
from gcsim.engine.stackalloc import (
    free_stack_spans,
    stack_alloc,
    stack_cache_clear,
    stack_free,
    stack_room_status,
)
from gcsim.engine.stackstate import (
    AFTER_BLOCK,
    DIR_BLOCKED,
    DIR_DOWN,
    DIR_UP,
    FIXED_STACK_BYTES,
    G_ENTRY_USED_BYTES,
    GR_AFTER,
    GR_BLOCK_DEPTH,
    GR_COUNT,
    GR_EXCURSIONS,
    GR_FIRST_G,
    K_CALLS,
    K_COPY_BYTES,
    K_COPY_CYCLES,
    K_CURSOR,
    K_EXITS,
    K_GROWS,
    K_NEXT_GOID,
    K_OVERFLOW_CYCLES,
    K_OVERFLOW_DEPTH,
    K_OVERFLOW_FRAME,
    K_OVERFLOW_G,
    K_OVERFLOW_GOID,
    K_OVERFLOW_LO,
    K_OVERFLOW_NEWSIZE,
    K_OVERFLOW_SIZE,
    K_OVERFLOW_USED,
    K_SCANNED_BYTES,
    K_SCANNED_STACKS,
    K_SHRINKS,
    K_STACK_VALUE_BYTES,
    K_STACK_VALUES,
    K_STARTING_SIZE,
    MAX_STACK_CEILING_BYTES,
    SP_ADAPTIVE,
    SP_MAX_STACK_BYTES,
    SP_SHRINK,
    STACK_CACHE_BYTES,
    STACK_GUARD_BYTES,
    STACK_NOSPLIT_BYTES,
    STACK_SMALL_BYTES,
)
from gcsim.engine.state import (
    C_N_SPAN_RECORDS,
    C_NOW_CYCLES,
    C_PAGES_MAPPED,
    C_STACK_PAGES,
    C_STACK_SCAN_DONE,
    C_STACK_SHRINK_COPY_BYTES,
    C_STACK_WORK_LEFT,
    ST_GROW_PAGES,
    ST_GROW_SPANS,
    ST_OK,
    ST_STACK_OVERFLOW,
)

HEAP_GROW_PAGES_ = 512


# --- goroutines: start, grow, calls, exit ------------------------------------------------------


@kernel
def _new_excursion(stk, rng, g):
    """Draw the next excursion's depth and frame bytes and start descending."""
    grp = stk.g_group[g]
    stk.g_frame[g] = draw_size(rng, stk.dist_tab, stk.choice_vals, stk.choice_cdf, 2 * grp)
    stk.g_target[g] = draw_size(rng, stk.dist_tab, stk.choice_vals, stk.choice_cdf, 2 * grp + 1)
    stk.g_dir[g] = DIR_DOWN


@kernel
def _start_goroutine(heap, c, stk, rng, p, g):
    """newproc1 for row ``g``: a fresh goroutine (its stack is already in g_lo/g_size)."""
    grp = stk.g_group[g]
    stk.g_goid[g] = stk.k[K_NEXT_GOID]
    stk.k[K_NEXT_GOID] += 1
    stk.g_used[g] = G_ENTRY_USED_BYTES
    stk.g_depth[g] = 0
    stk.g_left[g] = stk.grp[grp, GR_EXCURSIONS]
    _new_excursion(stk, rng, g)


@kernel
def init_goroutines(heap, c, stk, rng):
    """Create every goroutine of every group at start (from the main goroutine, on P 0).

    The driver has made room for all their stacks (``stacks_room_status``).
    """
    for grp in range(stk.grp.shape[0]):
        first = stk.grp[grp, GR_FIRST_G]
        for g in range(first, first + stk.grp[grp, GR_COUNT]):
            stk.g_group[g] = grp
            size = stk.k[K_STARTING_SIZE]
            stk.g_size[g] = size
            stk.g_lo[g] = stack_alloc(heap, c, stk, 0, size)
            _start_goroutine(heap, c, stk, rng, 0, g)


@kernel
def _overflow(c, stk, g, newsize, frame):
    k = stk.k
    k[K_OVERFLOW_G] = g
    k[K_OVERFLOW_GOID] = stk.g_goid[g]
    k[K_OVERFLOW_DEPTH] = stk.g_depth[g]
    k[K_OVERFLOW_USED] = stk.g_used[g]
    k[K_OVERFLOW_SIZE] = stk.g_size[g]
    k[K_OVERFLOW_NEWSIZE] = newsize
    k[K_OVERFLOW_FRAME] = frame
    k[K_OVERFLOW_LO] = stk.g_lo[g]
    k[K_OVERFLOW_CYCLES] = c[C_NOW_CYCLES]
    return ST_STACK_OVERFLOW


@kernel
def needs_growth(used, size, frame):
    """The prologue's check: does a call of ``frame`` bytes at ``used`` need a bigger stack?"""
    return used + max(frame, STACK_SMALL_BYTES + 8) + STACK_NOSPLIT_BYTES >= size


@kernel
def grown_size(used, size, frame):
    """newstack's new size for a call of ``frame`` bytes (return address included) at ``used``."""
    newsize = 2 * size
    # used = hi - sched.sp, with the return address pushed: used + 8; funcMaxSPDelta =
    # the frame without it.
    while newsize - (used + 8) < (frame - 8) + STACK_GUARD_BYTES:
        newsize *= 2
    return newsize


@kernel
def grow_stack(heap, c, stk, costs, p, g, frame, out_cost):
    """newstack + copystack for a call of ``frame`` bytes; ST_OK, ST_GROW_* or overflow."""
    size = stk.g_size[g]
    newsize = grown_size(stk.g_used[g], size, frame)
    limit = stk.params[SP_MAX_STACK_BYTES]
    if newsize > limit or newsize > MAX_STACK_CEILING_BYTES:
        return _overflow(c, stk, g, newsize, frame)
    status = stack_room_status(heap, c, newsize)
    if status != ST_OK:
        return status
    used = stk.g_used[g]
    new_lo = stack_alloc(heap, c, stk, p, newsize)
    stack_free(heap, c, stk, p, stk.g_lo[g], size)
    stk.g_lo[g] = new_lo
    stk.g_size[g] = newsize
    cost = used * costs.stack_copy_per_byte
    out_cost[0] += cost
    stk.k[K_COPY_CYCLES] += int(cost)
    stk.k[K_GROWS] += 1
    stk.k[K_COPY_BYTES] += used
    return ST_OK


@kernel
def _finish_goroutine(heap, c, stk, rng, p, g):
    """Its excursions are done: park it, or exit and start its replacement (gfput, gfget)."""
    grp = stk.g_group[g]
    if stk.grp[grp, GR_AFTER] == AFTER_BLOCK:
        stk.g_dir[g] = DIR_BLOCKED
        return
    stk.k[K_EXITS] += 1
    start = stk.k[K_STARTING_SIZE]
    if stk.g_size[g] != start:
        # gfput frees a stack of another size; gfget allocates one of the starting size.
        stack_free(heap, c, stk, p, stk.g_lo[g], stk.g_size[g])
        stk.g_lo[g] = stack_alloc(heap, c, stk, p, start)
        stk.g_size[g] = start
    _start_goroutine(heap, c, stk, rng, p, g)


@kernel
def _advance(heap, c, stk, costs, rng, p, g, n_events, out_cost):
    """Make up to ``n_events`` calls and returns on goroutine ``g``; return a status."""
    grp = stk.g_group[g]
    after_block = stk.grp[grp, GR_AFTER] == AFTER_BLOCK
    block_depth = stk.grp[grp, GR_BLOCK_DEPTH]
    n = n_events
    while n > 0 and stk.g_dir[g] != DIR_BLOCKED:
        frame = stk.g_frame[g]
        last = stk.g_left[g] == 1
        if stk.g_dir[g] == DIR_DOWN:
            k = min(n, stk.g_target[g] - stk.g_depth[g])
            # First call j (1-based) of the k that needs growth: j - 1 calls of room.
            slack = (stk.g_size[g] - STACK_NOSPLIT_BYTES - max(frame, STACK_SMALL_BYTES + 8)
                     - stk.g_used[g])
            fit = 0 if slack <= 0 else (slack + frame - 1) // frame
            if fit < k:
                stk.g_depth[g] += fit
                stk.g_used[g] += fit * frame
                stk.k[K_CALLS] += fit
                n -= fit
                status = grow_stack(heap, c, stk, costs, p, g, frame, out_cost)
                if status != ST_OK:
                    return status
                continue
            stk.g_depth[g] += k
            stk.g_used[g] += k * frame
            stk.k[K_CALLS] += k
            n -= k
            if stk.g_depth[g] == stk.g_target[g]:
                if last and after_block and block_depth >= stk.g_target[g]:
                    stk.g_dir[g] = DIR_BLOCKED
                else:
                    stk.g_dir[g] = DIR_UP
        else:
            stop = block_depth if (last and after_block) else 0
            stop = min(stop, stk.g_target[g])
            k = min(n, stk.g_depth[g] - stop)
            stk.g_depth[g] -= k
            stk.g_used[g] -= k * frame
            n -= k
            if stk.g_depth[g] == stop:
                if stk.g_left[g] > 0:
                    stk.g_left[g] -= 1
                if stk.g_left[g] == 0:
                    _finish_goroutine(heap, c, stk, rng, p, g)
                else:
                    _new_excursion(stk, rng, g)
    return ST_OK


@kernel
def _next_runnable(stk, g):
    """The first goroutine from ``g`` on (round robin) that is not parked, or -1."""
    n_g = stk.g_dir.shape[0]
    for _ in range(n_g):
        if stk.g_dir[g] != DIR_BLOCKED:
            return g
        g = (g + 1) % n_g
    return -1


@hot_kernel
def goroutine_step(heap, c, stk, costs, rng, p, out_cost, k, g_dir, g_depth, g_target, g_used,
                   g_size, g_frame, g_group, grp_calls, grp):
    """A mutator step's goroutine work on P ``p``: pick the next runnable goroutine and
    make its calls and returns. Returns ``(g, status)``: the goroutine (-1 if none is
    runnable) and ST_OK, ST_GROW_* (the calls made so far stay made) or
    ST_STACK_OVERFLOW.

    Inlined into the mutator loop over explicit arrays: the common step (calls that
    fit the stack, returns that do not end the excursion) costs a few compares; the
    rest goes to ``_advance``.
    """
    n_g = g_dir.shape[0]
    g = k[K_CURSOR]
    if g_dir[g] == DIR_BLOCKED:
        g = _next_runnable(stk, g)
        if g < 0:
            return -1, ST_OK
    k[K_CURSOR] = (g + 1) % n_g
    rate = grp_calls[g_group[g]]
    n = int(rate)
    if rate > n and next_float(rng) < rate - n:
        n += 1
    if n == 0:
        return g, ST_OK
    frame = g_frame[g]
    if g_dir[g] == DIR_DOWN:
        if (g_depth[g] + n < g_target[g] and g_used[g] + (n - 1) * frame
                + max(frame, STACK_SMALL_BYTES + 8) + STACK_NOSPLIT_BYTES < g_size[g]):
            g_depth[g] += n
            g_used[g] += n * frame
            k[K_CALLS] += n
            return g, ST_OK
    elif g_depth[g] - n > grp[g_group[g], GR_BLOCK_DEPTH]:
        g_depth[g] -= n
        g_used[g] -= n * frame
        return g, ST_OK
    return g, _advance(heap, c, stk, costs, rng, p, g, n, out_cost)


@kernel
def stack_value(heap, c, stk, costs, p, g, size_bytes, out_cost):
    """A value that does not escape: ``size_bytes`` more in goroutine ``g``'s frame for
    this step (a call of that many bytes that returns at once), not a heap object."""
    stk.k[K_STACK_VALUES] += 1
    stk.k[K_STACK_VALUE_BYTES] += size_bytes
    if g < 0:
        return ST_OK
    frame = (size_bytes + 7) & ~7
    if needs_growth(stk.g_used[g], stk.g_size[g], frame):
        return grow_stack(heap, c, stk, costs, p, g, frame, out_cost)
    return ST_OK


# --- the collector's side: scan and shrink at mark start, bookkeeping at mark termination ----


@kernel
def stacks_room_status(heap, c, stk):
    """Room for every goroutine to get a new stack of its current size (a GC's shrinks
    or the start); the driver and the loop check it before a cycle starts."""
    n_g = stk.g_used.shape[0]
    if n_g == 0:
        return ST_OK
    if c[C_N_SPAN_RECORDS] + n_g + 1 > heap.spans.shape[0]:
        return ST_GROW_SPANS
    need = (c[C_STACK_PAGES] + n_g * (STACK_CACHE_BYTES >> 13)
            + stk.k[K_STARTING_SIZE] * n_g // 8192)
    if c[C_PAGES_MAPPED] + need + HEAP_GROW_PAGES_ > heap.page_span.shape[0]:
        return ST_GROW_PAGES
    return ST_OK


@kernel
def stacks_mark_start(heap, c, stk):
    """The stack roots of a new cycle: shrink each stack if it may, queue its used bytes."""
    c[C_STACK_WORK_LEFT] = 0
    c[C_STACK_SCAN_DONE] = 0
    c[C_STACK_SHRINK_COPY_BYTES] = 0
    shrink = stk.params[SP_SHRINK] != 0
    for g in range(stk.g_used.shape[0]):
        used = stk.g_used[g]
        size = stk.g_size[g]
        if shrink and size // 2 >= FIXED_STACK_BYTES and used + STACK_NOSPLIT_BYTES < size // 4:
            # The scanning worker's P does the copy; P 0 stands for it.
            new_lo = stack_alloc(heap, c, stk, 0, size // 2)
            stack_free(heap, c, stk, 0, stk.g_lo[g], size)
            stk.g_lo[g] = new_lo
            stk.g_size[g] = size // 2
            stk.k[K_SHRINKS] += 1
            stk.k[K_COPY_BYTES] += used
            c[C_STACK_SHRINK_COPY_BYTES] += used
        c[C_STACK_WORK_LEFT] += used
        stk.k[K_SCANNED_BYTES] += used
        stk.k[K_SCANNED_STACKS] += 1


@kernel
def starting_stack_size(scanned_bytes, scanned_stacks, max_stack_bytes):
    """gcComputeStartingStackSize: mean used + stackGuard, clamped, rounded up to 2^k."""
    if scanned_stacks == 0:
        return FIXED_STACK_BYTES
    avg = scanned_bytes // scanned_stacks + STACK_GUARD_BYTES
    avg = min(avg, max_stack_bytes)
    avg = max(avg, FIXED_STACK_BYTES)
    size = 1
    while size < avg:
        size *= 2
    return size


@kernel
def stacks_mark_termination(heap, c, stk):
    """Mark termination, with the GC already off: the starting size, per-P stack caches
    flushed (prepareForSweep), empty and parked stack spans freed (freeStackSpans)."""
    if stk.params[SP_ADAPTIVE] != 0:
        stk.k[K_STARTING_SIZE] = starting_stack_size(
            stk.k[K_SCANNED_BYTES], stk.k[K_SCANNED_STACKS], stk.params[SP_MAX_STACK_BYTES])
    stk.k[K_SCANNED_BYTES] = 0
    stk.k[K_SCANNED_STACKS] = 0
    if stk.g_used.shape[0] == 0 and c[C_STACK_PAGES] == 0:
        return
    stack_cache_clear(heap, c, stk)
    free_stack_spans(heap, c, stk)
