"""The runtime's own memory outside the heap, which counts against GOMEMLIMIT, and
the heap objects the runtime allocates for itself at start.

Go's memory limit is on all memory the runtime has mapped and not released
(``mappedReady``), so its heap goal (``memoryLimitHeapGoal``) and the
scavenger's memory-limit goal (``gcPaceScavenger``) leave room for memory
that holds no heap objects: span structures, the per-P caches, GC metadata,
the profiler's bucket table and the runtime's other allocations
(runtime/metrics ``/memory/classes/{metadata,other,profiling}``).

gcsim models two parts, measured with runtime/metrics on go1.27.3
linux/amd64 (2026-11-26) at program start:

- a fixed part, everything but span structures: the profiler's bucket hash
  table (``buckHashSize`` 179 999 x 8 B, 1 442 626 B with its header
  allocations), metadata/other (heap arena index, page-allocator
  bitmaps: 1 346 320 B at GOMAXPROCS=1, 1 352 976 B at 2 and 4), other
  (543 790 B at 1, 782 958 B at 2 and 4: the second M's runtime state) and
  the mcache chunk (16 072 B);
- the span structures (``mspan``, 160 B each, sizeof from the inuse metric's
  granularity) from ``mheap_.spanalloc``, a fixalloc that takes 16 KiB
  chunks (102 spans each, 16 320 B) and never returns them: one chunk per 102
  span records ever live, plus the runtime's own spans at start (83 at
  GOMAXPROCS=1, 148 above).

- GC metadata's growth with the heap (metadata/other past its start):
  ``heapArena`` records, one per 64 MiB arena the heap maps beyond the first
  (``spans [8192]*mspan`` and four page bitmaps: 69 648 B, mheap.go), and
  per span the mark and alloc bits of the cycles the gcBits arenas hold
  (``newMarkBits``: nelems/64 words each) plus its spanSet slot, 80 B a
  span record. Both are high-water marks: Go keeps freed gcBits arenas and
  never frees heapArena records. Measured with runtime/metrics (go1.27.3,
  GOMAXPROCS=1, 2026-11-26): metadata/other past its start after holding
  64 MiB of 64 B pointerful objects (8 192 spans, two arenas) 714 752 B,
  256 MiB (32 768 spans, five arenas) 3 021 872 B: 78.7 and 83.7 B a span
  after the arena records; 1 MiB large objects (few spans) 322 112 B over
  four more arenas. The bits are fewer for bigger size classes (8 B each at
  one object a span), so 80 B a span overstates them there by up to ~40 B
  per 8 KiB.

Against the twins' Sys - HeapSys - StackSys at the end of a run (2026-11-26,
before the metadata growth): steady 6.49 MB in Go, 4.93 in gcsim; memlimit
5.66 and 5.08; memlimit_over 5.38 and 4.44. The runtime memory brought the
memlimit twin's heap goal from +9.1 % to +1.8 % of Go's and its cycle count
from -17.4 % to -2.2 %.
"""

from __future__ import annotations

from gcsim.engine._jit import kernel
from gcsim.goruntime.sizeclasses import PAGE_BYTES

# The runtime's own heap objects. Before main runs, the runtime allocates
# objects of its own on the GC'd heap (the g's, m's and p's, allgs and other
# scheduler structures), reachable from its globals for the life of the
# program. A trivial
# program's first GC (go1.27.3 linux/amd64, GODEBUG=gcpacertrace=1,
# 2026-11-27) starts with 59 664 B live and does 45 848 B of heap scan work
# besides 146 826 B of globals; with runtime/metrics after that GC, 240
# objects held 86 552 B, the metrics package's own included. Where the
# program's own scan work is small, this is the work left after the root
# jobs that an assist does before it is paid (the slice_val twin: Go's
# 62 488 B of heap scan work against 166 698 B of globals). gcsim allocates
# them at start (init.py) as RUNTIME_HEAP_OBJECTS objects of
# RUNTIME_HEAP_OBJECT_BYTES with RUNTIME_HEAP_PTR_WORDS pointer words each
# (61 440 B, 46 080 B of scan work), shaded with the roots every cycle.
RUNTIME_HEAP_OBJECTS = 192
RUNTIME_HEAP_OBJECT_BYTES = 320
RUNTIME_HEAP_PTR_WORDS = 30
MSPAN_BYTES = 160  # unsafe.Sizeof(mspan{}), go1.27.3 linux/amd64
FIXALLOC_CHUNK_BYTES = 16 << 10  # _FixAllocChunk
SPANS_PER_CHUNK = FIXALLOC_CHUNK_BYTES // MSPAN_BYTES  # 102
MSPAN_CHUNK_BYTES = SPANS_PER_CHUNK * MSPAN_BYTES  # 16 320: what spanalloc's stat counts
BUCKHASH_BYTES = 1_442_626  # /memory/classes/profiling/buckets
MCACHE_BYTES = 16_072  # /memory/classes/metadata/mcache/{inuse,free}
# metadata/other (GCSys) and other (OtherSys): one P, then two or more (the
# second M's state).
GC_META_ONE_P_BYTES, GC_META_MORE_P_BYTES = 1_346_320, 1_352_976
OTHER_ONE_P_BYTES, OTHER_MORE_P_BYTES = 543_790, 782_958
START_SPANS_ONE_P = 83  # runtime spans live at start (mspan/inuse 13 280 B / 160)
START_SPANS_MORE_P = 148  # 23 680 B / 160
GC_META_PER_SPAN_BYTES = 80  # gcBits generations + spanSet slot, per span record
HEAP_ARENA_BYTES = 64 << 20  # heapArenaBytes (linux/amd64)
HEAP_ARENA_META_BYTES = 8192 * 8 + 4 * 1024 + 16  # sizeof(heapArena): 69 648


@kernel
def mspan_sys_bytes(span_records: int, gomaxprocs: int) -> int:
    """Bytes of span structures the runtime holds (MSpanSys), fixalloc chunks.

    Parameters
    ----------
    span_records : int64
        gcsim's span records ever created (``C_N_SPAN_RECORDS``): records
        are parked and reused as Go's mspans are, so this is the most spans
        live at once, the fixalloc's high-water mark.
    gomaxprocs : int64
    """
    start = START_SPANS_ONE_P if gomaxprocs == 1 else START_SPANS_MORE_P
    chunks = (span_records + start + SPANS_PER_CHUNK - 1) // SPANS_PER_CHUNK
    return chunks * MSPAN_CHUNK_BYTES


@kernel
def gc_sys_bytes(span_records: int, pages_mapped: int, gomaxprocs: int) -> int:
    """GCSys: metadata/other, its start plus its growth with the heap.

    Parameters
    ----------
    span_records : int64
        Span records ever created (``C_N_SPAN_RECORDS``), the most live at once.
    pages_mapped : int64
        Heap pages of address space mapped (``C_MAX_PAGES_MAPPED``), 8 KiB each.
    gomaxprocs : int64
    """
    start = GC_META_ONE_P_BYTES if gomaxprocs == 1 else GC_META_MORE_P_BYTES
    arenas = (pages_mapped * PAGE_BYTES + HEAP_ARENA_BYTES - 1) // HEAP_ARENA_BYTES
    return (start + span_records * GC_META_PER_SPAN_BYTES
            + max(0, arenas - 1) * HEAP_ARENA_META_BYTES)


@kernel
def other_sys_bytes(gomaxprocs: int) -> int:
    """OtherSys: /memory/classes/other at start."""
    return OTHER_ONE_P_BYTES if gomaxprocs == 1 else OTHER_MORE_P_BYTES


@kernel
def nonheap_bytes(span_records: int, pages_mapped: int, gomaxprocs: int) -> int:
    """The runtime's mapped-ready memory outside heap spans and stacks, bytes.

    Arguments as :func:`gc_sys_bytes`.
    """
    return (BUCKHASH_BYTES + MCACHE_BYTES + gc_sys_bytes(span_records, pages_mapped, gomaxprocs)
            + other_sys_bytes(gomaxprocs) + mspan_sys_bytes(span_records, gomaxprocs))
