"""The cycle-cost table: what each runtime action costs.

Every entry is stated in nanoseconds of one CPU at the calibration machine's
speed and converted to cycles with ``run.clock_hz`` when a run is compiled,
so one table serves any simulated clock. A config overrides any entry under
``[costs]`` by name (``alloc_fast_ns = 9.5``), or takes a whole table that
``gcsim calibrate`` measured on another machine (``from_file = "cal.toml"``).

Calibration (issue 6): every entry was measured with ``gcsim calibrate``
(calibration/, fits in gcsim/calibfit.py) and its source says what was
measured. The numbers are calibration/amd-epyc-go1.27.3.toml, which holds
the raw measurements beside each entry (and its .records.json the Go
program's output, for ``gcsim calibrate --refit``):

- machine: AMD EPYC, family 25 model 1 (Zen 3), 2 vCPUs under KVM, no
  AVX-512 (Green Tea's packed span scanner unused), Linux 6.18;
- date: 2026-11-25, three runs of 3 interleaved passes (12 min), merged,
  plus three runs of the live-heap pause experiment (stw_*_term_ns);
- Go: go1.27.3 linux/amd64 (Green Tea default; classic entries from a
  GOEXPERIMENT=nogreenteagc build);
- load: a shared machine; load average 0.4-1.9 during the runs (other
  jobs on the second vCPU part of the time). Times are CPU times, but the
  same experiment varied by up to 40 % between runs minutes apart, so the
  split of the mark cost into per-object / per-pointer / per-word parts is
  good to about +-30 %; the totals per graph to about 10 % (raw tables).

Mark entries are from graphs whose objects and pointers follow allocation
order (the validation twins' shape); shuffled graphs cost 2-4x more per
pointer on Green Tea and far more on classic (raw ``rand`` tables).
"""

from __future__ import annotations

from dataclasses import dataclass

# mallocgc's size-specialised paths (mallocNoScanTable / mallocScanTable in
# src/runtime/malloc_tables_generated.go) serve requests up to this size; the
# alloc_fast* entries price them, the alloc_small* entries the generic path.
SIZE_SPECIALISED_MAX_BYTES = 80


@dataclass(frozen=True)
class CostEntry:
    """One row of the cost table."""

    default_ns: float
    unit: str
    source: str
    doc: str


_POOLBENCH = (
    "measured 2026-11-26 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3, with calibration/poolbench "
    "(thread CPU, median of 15 rounds, empty loop 0.63 ns subtracted): "
)

COSTS: dict[str, CostEntry] = {
    # --- allocation (src/runtime/malloc.go, mcache.go, mcentral.go, mheap.go) ---
    "alloc_fast_ns": CostEntry(
        10.97, "ns per small noscan allocation of up to 80 B",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: new(T) 8 B-32 KiB "
        "noscan+scan, GC off, CPU time, minus loop and span refills; relative NNLS of one "
        "intercept per mallocgc path and one slope per slot byte for noscan and scan "
        "(16-64 B noscan measured 12.8-14.5 ns): the size-specialised noscan intercept",
        "mallocNoScanTable path (size <= 80 B): take the next free slot of the P's span",
    ),
    "alloc_fast_scan_ns": CostEntry(
        15.5, "ns per small scan allocation of up to 80 B",
        "calibrated with alloc_fast_ns (8-64 B scan measured 14.4-21.2 ns)",
        "mallocScanTable path (size <= 80 B): the slot plus its heap bits",
    ),
    "alloc_small_ns": CostEntry(
        19.60, "ns per small noscan allocation over 80 B, before per-byte work",
        "calibrated with alloc_fast_ns (96/128 B noscan measured 28.1/29.0 ns)",
        "mallocgcSmallNoscan: the generic small path",
    ),
    "alloc_small_scan_ns": CostEntry(
        28.77, "ns per small scan allocation over 80 B, before per-byte work",
        "calibrated with alloc_fast_ns (96/128 B scan measured 43.0/41.7 ns)",
        "mallocgcSmallScanNoHeader / Header: heap bits or a malloc header",
    ),
    "alloc_tiny_ns": CostEntry(
        4.049, "ns per tiny allocation that fits the current block",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: 1/2/4/8 B noscan "
        "new(T), GC off; intercept over 1/objects per 16 B block (new block 16.5 ns)",
        "mallocgcTiny: bump the offset inside the P's 16-byte block",
    ),
    "alloc_black_ns": CostEntry(
        19.4, "ns per allocation while marking, on top of its path's cost",
        "measured 2026-11-27 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: calibration allocmark "
        "(thread CPU of 1000-allocation chunks, GOMAXPROCS=1, GC off, in windows that "
        "alternate between an idle collector and runtime.GC() back to back over a 64 MiB "
        "graph; median over 50 window pairs of the difference): 16/64/128 B scan 25.5/20.4/"
        "10.8, noscan 19.8/19.0/11.2 ns, the median of the six cases",
        "gcmarknewobject (malloc.go, with writeBarrier.enabled): allocate black; its atomic "
        "mark-bit and page-mark updates wait for the new object's initialising stores, which "
        "otherwise drain behind the mutator",
    ),
    "alloc_zero_ns_per_byte": CostEntry(
        0.05931, "ns per slot byte of a noscan allocation",
        "calibrated with alloc_fast_ns: the noscan slope (zeroing and per-byte work; "
        "also large objects' zeroing)",
        "memclrNoHeapPointers on a slot that needs zeroing (needzero)",
    ),
    "alloc_scan_ns_per_byte": CostEntry(
        0.08095, "ns per slot byte of a scan allocation",
        "calibrated with alloc_fast_ns: the scan slope (zeroing, always, plus the type's "
        "pointer bitmap)",
        "zeroing and heapSetType over the slot",
    ),
    "mcache_refill_ns": CostEntry(
        281.0, "ns per mcache refill",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: per-allocation timing, "
        "median extra time of allocations that open a half-free swept span (16/512 B noscan, "
        "64/256 B scan)",
        "mcache.refill + mcentral.cacheSpan, excluding sweeping and page allocation",
    ),
    "span_alloc_ns": CostEntry(
        110.0, "ns per span taken from mheap",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: the same for spans "
        "taken from the heap's free pages (GC off, 391 ns) minus mcache_refill_ns",
        "mheap.alloc: page allocation and span initialisation",
    ),
    "large_alloc_ns": CostEntry(
        804.5, "ns per large (> 32760 B) allocation, before its per-byte work",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: make([]byte, n) 36 "
        "KiB-1 MiB, GC off, CPU time, relative straight-line fit over page-rounded bytes "
        "(36 KiB 3954 ns, 1 MiB 81900 ns): intercept",
        "mallocgcLarge: own span from mheap, span class 0",
    ),
    "large_alloc_ns_per_byte": CostEntry(
        0.07625, "ns per byte of a large allocation",
        "calibrated with large_alloc_ns: the slope",
        "zeroing the large object (memclrNoHeapPointersChunked)",
    ),
    # --- marking (src/runtime/mgcmark.go, mgcmark_greenteagc.go) ---
    "mark_object_ns": CostEntry(
        4.889, "ns per scan object scanned (Green Tea)",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: CPU time of "
        "runtime.GC() over 1-8 Mi-object graphs in allocation order, GOMAXPROCS=1, minus an "
        "empty GC and span sweeps; NNLS of o, p, w, nso (64 B node, 2 ptr words, via root "
        "slice: 31.2 ns; shuffled graphs fit o 15.9, p 18.7)",
        "dequeue and start scanning one pointerful object",
    ),
    "mark_noscan_object_ns": CostEntry(
        4.711, "ns per noscan object marked",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: nso of the "
        "mark_object_ns fit (16 B noscan objects referenced once and twice)",
        "set the mark bit of a pointer-free object (never queued)",
    ),
    "mark_header_object_ns": CostEntry(
        77.5, "ns per scanned small object over 512 B, fixed part (on top of mark_object_ns)",
        "measured 2026-11-26 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: calibration/hdrmark "
        "(mark CPU of runtime.GC() over 20 000 objects of 1-8 KiB with two pointer words, "
        "minus the 64 B object's; h of h + p x min(1, size/4096), medians of 8 processes: "
        "+93 ns at 1 KiB, +163 ns at 4 and 8 KiB)",
        "read the malloc header and the type's pointer mask (objects over 512 B carry a "
        "header, mallocgc heapBitsInSpan) on the classic scan path, not Green Tea's",
    ),
    "mark_header_page_ns": CostEntry(
        86.7, "ns per scanned small object over 512 B, per 4 KiB it spans (up to one page)",
        "measured with mark_header_object_ns: p of its fit",
        "the TLB and cache misses of objects that no longer share pages",
    ),
    "mark_pointer_ns": CostEntry(
        5.603, "ns per non-nil pointer followed (Green Tea)",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: p of the "
        "mark_object_ns fit (8-word objects with 0-8 pointers to neighbours; 18.7 ns for "
        "random pointers)",
        "load a pointer slot, find its span and object, test-and-set the mark",
    ),
    "mark_scan_word_ns": CostEntry(
        6.136, "ns per 8-byte word of scan work",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: w of the "
        "mark_object_ns fit (nil root words alone 6.49 ns)",
        "walk the pointer bitmap over the object's scan size",
    ),
    "mark_object_classic_ns": CostEntry(
        4.993, "ns per scan object scanned (classic, nogreenteagc)",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: o of the same fit on a "
        "GOEXPERIMENT=nogreenteagc build, w and nso shared (shuffled graphs: o 199, p 31.9)",
        "greyobject + scanobject per object",
    ),
    "mark_pointer_classic_ns": CostEntry(
        7.467, "ns per non-nil pointer followed (classic)",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: p of the "
        "mark_object_classic_ns fit",
        "cache-missing pointer chase of the classic marker",
    ),
    "mark_root_word_ns": CostEntry(
        1.44, "ns per 8-byte word of root (globals, stacks) scanned",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: empty-heap GC of a "
        "build with 32 MiB of nil pointer BSS minus the plain build, per word",
        "markroot over data/BSS blocks and stack frames",
    ),
    "mark_cycle_ns": CostEntry(
        53980.0, "ns of mark CPU per GC cycle, fixed part (nothing to mark)",
        "measured 2026-11-27 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: calibration stw 'churn' "
        "(cycles triggered by allocation over a one-object heap, GOMAXPROCS=1), median "
        "gctrace mark CPU 0.120 ms over 294 cycles minus the binary's 165 KB of globals at "
        "mark_root_word_ns (29.7 us) and the runtime's own heap objects at mark_object_ns "
        "and mark_scan_word_ns (engine/rtmem.py: 36.3 us); at GOMAXPROCS=2 0.137 ms (71 us "
        "fixed). A 1 KiB churn with no pointers gave 61 us at P=1 (assists only) and 174 "
        "us at P=2",
        "what a mark costs beyond its roots and objects with nothing to mark: preparing and "
        "handing out the root jobs, starting and parking the mark workers, the assists' and "
        "workers' bookkeeping, gcMarkDone's flush of every P's work buffers (forEachP); "
        "spread over the cycle's expected scan work, paid by whoever marks (engine/mark.py)",
    ),
    # --- sweeping (src/runtime/mgcsweep.go) ---
    "sweep_span_ns": CostEntry(
        230.9, "ns per span swept that stays in use",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: CPU time of "
        "runtime.GC() after all but one object per span died, per span, less the kept "
        "object's mark and the sweep loop's Gosched (20.2 ns)",
        "sweepLocked.sweep: allocBits := gcmarkBits, counts",
    ),
    "sweep_free_span_ns": CostEntry(
        443.6, "ns per span swept and returned to the heap",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: the next runtime.GC(), "
        "every span freed, per span, less the sweep loop's Gosched",
        "sweep + mheap.freeSpan",
    ),
    # --- scavenging (src/runtime/mgcscavenge.go) ---
    "scavenge_ns_per_page": CostEntry(
        1500.0, "ns per 8 KiB page returned to the OS",
        "measured 2026-11-26 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3, busy machine: "
        "calibration/scavenge (debug.FreeOSMemory minus runtime.GC over 512 MiB of free, "
        "touched pages; 5 rounds 860-1728 ns, median 1515); Go's own fallback estimate is "
        "10 us per 4 KiB page (approxWorkedNSPerPhysicalPage)",
        "scavenger: find a free unscavenged run, madvise(MADV_DONTNEED), bookkeeping",
    ),
    "page_fault_ns": CostEntry(
        5342.0, "ns per 8 KiB runtime page first touched after it was mapped or released",
        "measured 2026-11-26 on AMD EPYC (Zen 3, 2 vCPUs, KVM), Linux 6.18, transparent huge "
        "pages 'madvise': calibration/pagefault (process CPU of the first write to each 4 KiB "
        "page of 256 MiB of fresh anonymous memory minus a second write; 7 rounds 4656-5984 "
        "ns, median 5342)",
        "two minor page faults: the kernel zeroes and maps each 4 KiB page of a run the heap "
        "grew into or the scavenger gave back (mem_linux.go sysUsed)",
    ),
    # --- stop-the-world phases (src/runtime/mgc.go, proc.go stopTheWorldWithSema) ---
    "stw_sweep_term_ns": CostEntry(
        19100.0, "ns per sweep-termination pause, fixed part",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: gctrace "
        "sweep-termination pause at GOMAXPROCS=1 in cycles triggered by allocation over 400k "
        "live 64 B objects, median 19.5 us (runtime.GC() on an empty heap: 7.5 us), minus "
        "stw_per_p_ns; each extra idle P that gets a mark worker adds ~60 us (thread "
        "wake-up), not modelled",
        "stop the world, finishsweep_m, clearpools, startCycle, start the world",
    ),
    "stw_mark_term_ns": CostEntry(
        4100.0, "ns per mark-termination pause, fixed part",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: gctrace "
        "mark-termination pause, as stw_sweep_term_ns, median 4.5 us (empty heap 1.5 us), "
        "minus stw_per_p_ns",
        "stop the world, gcMark checks, endCycle, gcSweep setup, start the world",
    ),
    "stw_per_p_ns": CostEntry(
        400.0, "ns per P stopped and restarted, per STW pause",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: slope of the "
        "mark-termination pause over GOMAXPROCS 1, 2, 4, 8 (idle Ps)",
        "stopping and restarting each P",
    ),
    "stw_stop_running_ns": CostEntry(
        85000.0, "ns added to a stop-the-world pause when another P is running a goroutine",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: gctrace "
        "mark-termination pause at GOMAXPROCS=2 with a goroutine spinning on the other P, "
        "median 87.5 us over 891 cycles, minus the same with the other P idle (2.5 us); "
        "91.5 - 2.5 us a day later. The twins at GOMAXPROCS=2 pause 0.15-0.27 ms a cycle "
        "(two pauses) against 0.025 ms without it",
        "preempting the running goroutine (preempt flag or signal) and the futex wake-up "
        "of the stopping thread once that P has stopped (stopTheWorldWithSema); the Ps stop "
        "in parallel, so once per pause however many run",
    ),
    # --- mutator pointer writes (src/runtime/mbarrier.go, mwbbuf.go) ---
    "pointer_write_ns": CostEntry(
        1.339, "ns per heap pointer store, write barrier off",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: thread CPU per pointer "
        "store into an L1-resident heap slice, no GC (loop included)",
        "ordinary store guarded by the writeBarrier.enabled test",
    ),
    "write_barrier_ns": CostEntry(
        20.04, "extra ns per heap pointer store while the barrier is on",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: the same stores during "
        "back-to-back GCs at GOMAXPROCS=2, barrier on throughout (21.4 ns), minus "
        "pointer_write_ns; Green Tea's wbBufFlush checks both pointers' marks",
        "gcWriteBarrier buffer append, amortised wbBufFlush shading",
    ),
    # --- sync.Pool (src/sync/pool.go, poolqueue.go) ---
    "pool_get_private_ns": CostEntry(
        8.114, "ns per Get served by the P's private slot",
        _POOLBENCH +
        "half of x := p.Get(); p.Put(x) with one object (16.23 ns the pair)",
        "pin, load and clear l.private, unpin",
    ),
    "pool_get_shared_ns": CostEntry(
        15.66, "ns per Get served by the head of the P's shared chain",
        _POOLBENCH +
        "4095 Gets after 4096 Puts (private first, then popHead)",
        "pin, private empty, poolChain.popHead",
    ),
    "pool_get_slow_ns": CostEntry(
        12.10, "ns per Get that reaches getSlow, probes excluded",
        _POOLBENCH +
        "intercept of Get on an empty pool (New nil, victimSize 0) over GOMAXPROCS "
        "1, 2, 4, 8: 14.04, 17.42, 20.80, 30.55 ns",
        "pin, private and popHead miss, getSlow entry, return nil",
    ),
    "pool_probe_ns": CostEntry(
        2.294, "ns per P whose shared tail getSlow tries (primary or victim)",
        _POOLBENCH +
        "slope of the same empty-pool Gets over GOMAXPROCS",
        "indexLocal + poolChain.popTail on one P's chain",
    ),
    "pool_pop_tail_ns": CostEntry(
        10.42, "extra ns when popTail finds an object (stolen or victim hit)",
        _POOLBENCH +
        "4096 Gets after Put 4096 and runtime.GC() (victim hits) at GOMAXPROCS 1: "
        "24.82 ns, minus pool_get_slow_ns and one probe",
        "poolDequeue.popTail CAS and slot clear",
    ),
    "pool_put_private_ns": CostEntry(
        8.114, "ns per Put into an empty private slot",
        _POOLBENCH +
        "the other half of the Get+Put pair (16.23 ns)",
        "pin, store l.private, unpin",
    ),
    "pool_put_shared_ns": CostEntry(
        24.52, "ns per Put pushed on the shared head",
        _POOLBENCH +
        "4095 Puts after the first (private full), ring growth 8..4096 amortised",
        "poolChain.pushHead (a new ring each time one fills)",
    ),
    "pool_zero_ns_per_byte": CostEntry(
        0.01800, "ns per byte cleared before Put (zero_on_put)",
        _POOLBENCH +
        "clear() of a 4 KiB []byte, per byte",
        "memclrNoHeapPointers",
    ),
    # --- stacks (src/runtime/stack.go) ---
    "stack_copy_ns_per_byte": CostEntry(
        0.3773, "ns per used stack byte copied",
        "calibrated 2026-11-25 on AMD EPYC (Zen 3, 2 vCPUs), go1.27.3: thread CPU of growing "
        "a new goroutine's stack to 1 MiB with 256 B frames minus the same recursion again, "
        "per byte copied (128 B frames 0.63, 1 KiB 0.156; ~69.1 ns per frame + 0.0952 ns per "
        "byte)",
        "copystack: memmove of the used part plus frame adjustment",
    ),
}
