"""The cycle-cost table: what each runtime action costs.

Every entry is stated in nanoseconds of one CPU at the calibration machine's
speed (a 2-vCPU AMD EPYC, go1.27.3, linux/amd64; reference/go-runtime.md §10)
and converted to cycles with ``run.clock_hz`` when a run is compiled, so one
table serves any simulated clock. A config overrides any entry under
``[costs]`` by name (``alloc_fast_ns = 9.5``); ``gcsim calibrate`` will write a
whole table measured on the user's machine.

Each entry cites where its number comes from. "seed" marks an
order-of-magnitude value taken from the measured ranges in §10.2 and not yet
refined by ``gcsim calibrate``; the closing notes of the issues that calibrate
them record the refined numbers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CostEntry:
    """One row of the cost table."""

    default_ns: float
    unit: str
    source: str
    doc: str


COSTS: dict[str, CostEntry] = {
    # --- allocation (src/runtime/malloc.go, mcache.go, mcentral.go, mheap.go) ---
    "alloc_fast_ns": CostEntry(
        8.0, "ns per small allocation",
        "seed: §10.2 small noscan 8 B ~10 ns incl. amortised GC",
        "nextFreeFast hit: take the next free slot of the P's cached span",
    ),
    "alloc_tiny_ns": CostEntry(
        5.0, "ns per tiny allocation that fits the current block",
        "seed: §10.2 tiny alloc 8-9 ns incl. amortised GC",
        "mallocgcTiny: bump the offset inside the P's 16-byte block",
    ),
    "alloc_zero_ns_per_byte": CostEntry(
        0.03, "ns per byte zeroed",
        "seed: §10.2 64 B alloc ~35 ns vs 8 B ~10 ns",
        "memclrNoHeapPointers on a slot that needs zeroing (needzero)",
    ),
    "mcache_refill_ns": CostEntry(
        150.0, "ns per mcache refill",
        "seed: span-set pop and allocCache setup, §1.8 steps 2-4",
        "mcache.refill + mcentral.cacheSpan, excluding sweeping and page allocation",
    ),
    "span_alloc_ns": CostEntry(
        500.0, "ns per span taken from mheap",
        "seed: §10.2 fully-dead span free ~400 ns incl. page-allocator work",
        "mheap.alloc: page allocation and span initialisation",
    ),
    "large_alloc_ns": CostEntry(
        1500.0, "ns per large (> 32760 B) allocation, before zeroing",
        "seed: §10.2 64 KiB large alloc ~7-13 us incl. zeroing",
        "mallocgcLarge: own span from mheap, span class 0",
    ),
    # --- marking (src/runtime/mgcmark.go, mgcmark_greenteagc.go) ---
    "mark_object_ns": CostEntry(
        30.0, "ns per scan object scanned (Green Tea)",
        "seed: §5 table, 64 B objs with 8 ptrs ~150 ns/obj of which ~19 ns/ptr",
        "dequeue and start scanning one pointerful object",
    ),
    "mark_noscan_object_ns": CostEntry(
        15.0, "ns per noscan object marked",
        "seed: §10.2 mark a noscan object ~15 ns",
        "set the mark bit of a pointer-free object (never queued)",
    ),
    "mark_pointer_ns": CostEntry(
        15.0, "ns per non-nil pointer followed (Green Tea)",
        "seed: §5 table ~19-25 ns per random pointer",
        "load a pointer slot, find its span and object, test-and-set the mark",
    ),
    "mark_scan_word_ns": CostEntry(
        0.25, "ns per 8-byte word of scan work",
        "seed: §10.1 heap scan rate 1-2 MB/ms for pointer-dense memory",
        "walk the pointer bitmap over the object's scan size",
    ),
    "mark_object_classic_ns": CostEntry(
        150.0, "ns per scan object scanned (classic, nogreenteagc)",
        "seed: §10.2 classic 300-600 ns per random object",
        "greyobject + scanobject per object",
    ),
    "mark_pointer_classic_ns": CostEntry(
        60.0, "ns per non-nil pointer followed (classic)",
        "seed: §10.2 classic 65-80 ns per random pointer",
        "cache-missing pointer chase of the classic marker",
    ),
    "mark_root_word_ns": CostEntry(
        0.25, "ns per 8-byte word of root (globals, stacks) scanned",
        "seed: same rate as heap scan words",
        "markroot over data/BSS blocks and stack frames",
    ),
    # --- sweeping (src/runtime/mgcsweep.go) ---
    "sweep_span_ns": CostEntry(
        180.0, "ns per span swept that stays in use",
        "§10.2 sweep span with half its objects dead ~180 ns",
        "sweepLocked.sweep: allocBits := gcmarkBits, counts",
    ),
    "sweep_free_span_ns": CostEntry(
        400.0, "ns per span swept and returned to the heap",
        "§10.2 sweep fully-dead span and free it ~400 ns",
        "sweep + mheap.freeSpan",
    ),
    # --- stop-the-world phases (src/runtime/mgc.go, proc.go stopTheWorldWithSema) ---
    "stw_sweep_term_ns": CostEntry(
        12000.0, "ns per sweep-termination pause, fixed part",
        "§10.2 STW sweep termination 5-100 us; gctrace 0.018-0.099 ms",
        "stop the world, finishsweep_m, clearpools, startCycle, start the world",
    ),
    "stw_mark_term_ns": CostEntry(
        6000.0, "ns per mark-termination pause, fixed part",
        "§10.2 STW mark termination 2-100 us; gctrace 0.004-0.037 ms",
        "stop the world, gcMark checks, endCycle, gcSweep setup, start the world",
    ),
    "stw_per_p_ns": CostEntry(
        1500.0, "ns per P stopped and restarted, per STW pause",
        "seed: forEachP / preemption signal round trip",
        "stopping and restarting each P",
    ),
    # --- mutator pointer writes (src/runtime/mbarrier.go, mwbbuf.go) ---
    "pointer_write_ns": CostEntry(
        1.5, "ns per heap pointer store, write barrier off",
        "§10.2 pointer store, write barrier off ~1.3-2 ns",
        "ordinary store guarded by the writeBarrier.enabled test",
    ),
    "write_barrier_ns": CostEntry(
        6.0, "extra ns per heap pointer store while the barrier is on",
        "§10.2 ~7-8.6 ns with the barrier on vs ~1.3-2 ns off",
        "gcWriteBarrier buffer append, amortised wbBufFlush shading",
    ),
    # --- stacks (src/runtime/stack.go) ---
    "stack_copy_ns_per_byte": CostEntry(
        0.08, "ns per used stack byte copied",
        "§10.2 2 KiB -> 1 MiB growth ~80 us total",
        "copystack: memmove of the used part plus frame adjustment",
    ),
}
