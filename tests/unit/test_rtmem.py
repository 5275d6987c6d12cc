"""The runtime's memory outside the heap (gcsim.engine.rtmem) and where it counts."""

from __future__ import annotations

import pytest

from gcsim.config import config_from_dict
from gcsim.engine import rtmem
from gcsim.engine.pacer import memory_limit_heap_goal
from gcsim.engine.state import C_MAX_PAGES_MAPPED, C_N_SPAN_RECORDS
from gcsim.metrics.summary import memstats
from gcsim.run import simulate
from gcsim.units import MiB


def test_span_structures_come_in_fixalloc_chunks() -> None:
    # fixalloc hands out 16 KiB chunks, as many 160 B mspans as fit: Go's
    # /memory/classes/metadata/mspan/{inuse,free} sum to 16 320 B at start.
    assert rtmem.SPANS_PER_CHUNK == 102
    assert rtmem.MSPAN_CHUNK_BYTES == 16_320
    # 83 runtime spans at start at GOMAXPROCS=1: one chunk, as Go's metric shows.
    assert rtmem.mspan_sys_bytes(0, 1) == 16_320
    assert rtmem.mspan_sys_bytes(102 - 83, 1) == 16_320
    assert rtmem.mspan_sys_bytes(102 - 83 + 1, 1) == 2 * 16_320


def test_fixed_part_is_gos_start_up_memory() -> None:
    # Go 1.27.3, runtime/metrics at program start, GOMAXPROCS=1: mcache 16 072,
    # mspan 16 320, metadata/other 1 346 320, other 543 790, profiling buckets
    # 1 442 626 (its hash table alone is buckHashSize 179 999 x 8 B).
    assert rtmem.nonheap_bytes(0, 0, 1) == 16_072 + 16_320 + 1_346_320 + 543_790 + 1_442_626
    assert rtmem.BUCKHASH_BYTES >= 179_999 * 8
    assert rtmem.nonheap_bytes(0, 0, 2) > rtmem.nonheap_bytes(0, 0, 1)


@pytest.mark.parametrize(("mib", "spans", "go_growth"), [(64, 8192, 714_752),
                                                         (256, 32_768, 3_021_872)])
def test_gc_metadata_grows_with_spans_and_arenas_as_gos_did(mib: int, spans: int,
                                                            go_growth: int) -> None:
    # runtime/metrics /memory/classes/metadata/other, go1.27.3, GOMAXPROCS=1:
    # growth past its start after holding mib MiB of 64 B pointerful objects
    # (one span per 128 objects). The heap maps whole 64 MiB arenas, a
    # heapArena record (69 648 B, mheap.go) each beyond the first.
    pages = (mib + 8) * MiB // 8192  # the objects plus the slice holding them
    growth = rtmem.gc_sys_bytes(spans, pages, 1) - rtmem.gc_sys_bytes(0, 0, 1)
    assert rtmem.HEAP_ARENA_META_BYTES == 69_648
    assert growth == pytest.approx(go_growth, rel=0.06)


def _limited_run(gomaxprocs: int):  # noqa: ANN202
    return simulate(config_from_dict({
        "run": {"seed": 2, "gomaxprocs": gomaxprocs, "duration_s": 0.5},
        "runtime": {"gogc": "off", "gomemlimit": "48MiB"},
        "workload": {"compute_ns_per_alloc": 50.0, "sites": [
            {"name": "node", "size": 64, "pointer_words": 2,
             "lifetime": {"kind": "fifo", "live_objects": 200_000}},
            {"name": "garbage", "size": 128, "weight": 2.0}]},
    }))


@pytest.mark.parametrize("gomaxprocs", [1, 2])
def test_memstats_sys_carries_the_runtime_memory(gomaxprocs: int) -> None:
    r = _limited_run(gomaxprocs)
    m = memstats(r)
    records = int(r.counters[C_N_SPAN_RECORDS])
    nonheap = m["Sys"] - m["HeapSys"] - m["StackSys"]
    pages = int(r.counters[C_MAX_PAGES_MAPPED])
    assert nonheap == rtmem.nonheap_bytes(records, pages, gomaxprocs)
    assert m["GCSys"] == rtmem.gc_sys_bytes(records, pages, gomaxprocs) > rtmem.gc_sys_bytes(
        0, 0, gomaxprocs)
    assert nonheap == sum(m[k] for k in ("MSpanSys", "MCacheSys", "BuckHashSys", "GCSys",
                                         "OtherSys"))
    assert m["MSpanSys"] % rtmem.MSPAN_CHUNK_BYTES == 0
    assert m["MSpanSys"] >= records * rtmem.MSPAN_BYTES


def test_memory_limit_goal_leaves_room_for_the_runtime() -> None:
    # memoryLimitHeapGoal subtracts everything mapped that is not heap objects
    # or free heap, so the runtime's own memory lowers the goal byte for byte
    # (before the 3 % headroom).
    limit, heap_free, heap_alloc, marked = 48 * MiB, 2 * MiB, 30 * MiB, 20 * MiB
    mapped = heap_free + heap_alloc + MiB
    nonheap = rtmem.nonheap_bytes(3000, 6000, 1)
    without = memory_limit_heap_goal(limit, mapped, heap_free, heap_alloc, marked)
    with_rt = memory_limit_heap_goal(limit, mapped + nonheap, heap_free, heap_alloc, marked)
    assert without - with_rt == pytest.approx(nonheap * 0.97, rel=0.01)
    # And a run under a limit ends its cycles below limit - runtime memory.
    r = _limited_run(1)
    cyc = r.cycles[3:]
    assert len(cyc) > 3
    assert (cyc["heap_goal_bytes"] < 48 * MiB - rtmem.nonheap_bytes(0, 0, 1)).all()
