"""heapScan grows through the P's mcache.scanAlloc (src/runtime/mcache.go, malloc.go,
mgcpacer.go, mgc.go; go1.27.3).

mallocgc adds each scannable object's scan size to ``c.scanAlloc``; only
``mcache.refill`` (and releaseAll) hands it to ``gcController.update``, which adds
it to heapScan only while no mark runs (heapScan is fixed during a mark), and the
P's count restarts either way. A large object's ``heapSetTypeLarge`` goes to
scanAlloc too, while ``allocLarge`` updates heapLive alone. Mark termination sets
heapScan to the cycle's scan work and drops every P's scanAlloc.

So a big scannable root table allocated just before a cycle starts is missing
from that cycle's heapScan: the steady twin's 3.2 MB ring starts Go's first cycle
with "scan 0 MB" (GODEBUG=gcpacertrace=1: ``pacer: assist ratio=2.54 (scan 0 MB
in 3->3 MB)``).
"""

from __future__ import annotations

import numpy as np

from gcsim.config import config_from_dict
from gcsim.engine import state as S
from gcsim.engine.heap import mallocgc
from gcsim.engine.rtmem import RUNTIME_HEAP_OBJECTS, RUNTIME_HEAP_PTR_WORDS
from gcsim.run import prepare

RING_WORDS = 400_000  # the steady twin's FIFO ring: make([]unsafe.Pointer, 400_000)


def _state(gogc: object = "off"):
    raw = {"run": {"gomaxprocs": 2, "max_allocs": 100, "duration_s": "off"},
           "runtime": {"gogc": gogc},
           "workload": {"sites": [{"name": "a", "size": 64, "pointer_words": 2}]}}
    st, _, _, tab, costs = prepare(config_from_dict(raw))
    return st, tab, costs


def test_small_scan_sizes_reach_heap_scan_at_the_p_s_next_refill() -> None:
    st, tab, costs = _state()
    heap, c = st.heap, st.counters
    out = np.zeros(1)
    mallocgc(heap, c, tab, costs, 0, 64, 2, out)  # caches a 64 B scan span on P 0
    scan0, pending0 = int(c[S.C_HEAP_SCAN_BYTES]), int(heap.scan_alloc[0])
    for _ in range(10):
        mallocgc(heap, c, tab, costs, 0, 64, 2, out)
    # 10 objects of two pointer words: 16 B of scan size each, not yet in heapScan.
    assert heap.scan_alloc[0] == pending0 + 10 * 16
    assert c[S.C_HEAP_SCAN_BYTES] == scan0
    mallocgc(heap, c, tab, costs, 0, 128, 0, out)  # a noscan class: its own refill
    assert heap.scan_alloc[0] == 0
    assert c[S.C_HEAP_SCAN_BYTES] == scan0 + pending0 + 10 * 16
    # Another P's count is its own.
    mallocgc(heap, c, tab, costs, 1, 64, 2, out)
    assert heap.scan_alloc[1] == 16 and heap.scan_alloc[0] == 0


def test_a_large_scannable_object_waits_for_the_next_refill() -> None:
    st, tab, costs = _state()
    heap, c = st.heap, st.counters
    out = np.zeros(1)
    scan0 = int(c[S.C_HEAP_SCAN_BYTES])
    live0 = int(c[S.C_HEAP_LIVE_BYTES])
    pending0 = int(heap.scan_alloc[0])  # the runtime's own objects since their last refill
    mallocgc(heap, c, tab, costs, 0, 8 * RING_WORDS, RING_WORDS, out)
    span_bytes = -(-8 * RING_WORDS // 8192) * 8192
    assert c[S.C_HEAP_LIVE_BYTES] == live0 + span_bytes  # heapLive at once
    assert c[S.C_HEAP_SCAN_BYTES] == scan0  # heapScan not yet
    assert heap.scan_alloc[0] == pending0 + span_bytes
    mallocgc(heap, c, tab, costs, 0, 64, 2, out)  # P 0's first 64 B object: a refill
    assert c[S.C_HEAP_SCAN_BYTES] == scan0 + pending0 + span_bytes
    assert heap.scan_alloc[0] == 16  # the new object's, counted after the flush


def test_a_refill_during_a_mark_drops_the_count() -> None:
    st, tab, costs = _state()
    heap, c = st.heap, st.counters
    out = np.zeros(1)
    mallocgc(heap, c, tab, costs, 0, 8 * RING_WORDS, RING_WORDS, out)
    c[S.C_PHASE] = S.PHASE_MARK
    scan0 = int(c[S.C_HEAP_SCAN_BYTES])
    mallocgc(heap, c, tab, costs, 0, 64, 2, out)  # a refill while marking
    assert c[S.C_HEAP_SCAN_BYTES] == scan0  # heapScan is fixed during a mark
    assert heap.scan_alloc[0] == 16  # the ring's count is gone; the new object's is kept


def test_the_first_cycle_starts_without_the_root_table_in_heap_scan() -> None:
    """The steady twin at GOGC=25: its ring, allocated at start-up, triggers the first
    cycle before any refill, so that cycle's heapScan holds only what the runtime's
    own objects flushed at their refills (Go's pacer trace: "scan 0 MB")."""
    from gcsim.config import load_config
    from gcsim.engine.loop import run_quanta
    from gcsim.validate.twins import default_twins_root

    cfg = load_config(default_twins_root() / "steady" / "config.toml", ["runtime.gogc=25"])
    st, wl, rp, tab, costs = prepare(cfg)
    c = st.counters
    assert st.heap.scan_alloc[0] >= 8 * RING_WORDS
    while c[S.C_PHASE] != S.PHASE_MARK:
        assert run_quanta(st, wl, rp, tab, costs, c[S.C_NOW_CYCLES] + 1) == S.ST_OK
    runtime_scan = RUNTIME_HEAP_OBJECTS * RUNTIME_HEAP_PTR_WORDS * 8
    assert c[S.C_NUM_GC] == 0 and 0 < c[S.C_HEAP_SCAN_BYTES] < runtime_scan
    # Go's first revise: globals work over the 64 KiB runway past the trigger.
    assert st.fstate[S.F_ASSIST_WORK_PER_BYTE] == np.float64(
        cfg.workload.globals_bytes) / (64 << 10)
