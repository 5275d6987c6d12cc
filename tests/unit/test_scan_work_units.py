"""Heap scan work in Go's units: Green Tea's packed span scan counts whole slots.

Go counts an object's scan work up to its last pointer word, except where
Green Tea scans a span packed (a CPU with AVX-512: HasFastScanSpanPacked, and
a batch of at least nelems/8 marked objects): then every object of the batch
counts its whole slot (mgcmark_greenteagc.go scanSpan; reference §2.6).
Scan work is the pacer's unit (heapScan, the assist ratio, cons/mark).

Independent checks: with the world stopped for marking, a cycle's heap scan
work is a closed form of the objects it marked; and the steady twin's
steady-state heap scan work against Go's own gcpacertrace.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gcsim.config import config_from_dict, load_config
from gcsim.engine.rtmem import RUNTIME_HEAP_OBJECTS, RUNTIME_HEAP_PTR_WORDS
from gcsim.goruntime import sizeclasses as scl
from gcsim.run import simulate
from gcsim.workload.compile import sizeclass_tables

REPO = Path(__file__).resolve().parents[2]
LIVE = 5000
ROOT_WORK = LIVE * 8  # the root table: one pointer word per live node, scanned whole
RUNTIME_WORK = RUNTIME_HEAP_OBJECTS * RUNTIME_HEAP_PTR_WORDS * 8  # object by object
NELEMS_64 = 124  # 64 B scan span, Green Tea: (8192 - 128 - 128) // 64


def _run(packed: bool, garbage_weight: float):  # noqa: ANN202
    sites = [{"name": "node", "size": 64, "pointer_words": 2,
              "lifetime": {"kind": "fifo", "live_objects": LIVE}}]
    if garbage_weight:
        # Same size class, dead at once: live nodes end up a few to a span.
        sites.append({"name": "garbage", "size": 64, "pointer_words": 2,
                      "weight": garbage_weight})
    return simulate(config_from_dict({
        "run": {"seed": 3, "gomaxprocs": 1, "duration_s": "off", "max_allocs": 1_000_000,
                "final_gc": False},
        "runtime": {"gogc": 100, "gcstoptheworld": 1, "packed_span_scan": packed},
        "workload": {"compute_ns_per_alloc": 20.0, "sites": sites},
    }))


def _nodes_marked(cycles: np.ndarray) -> np.ndarray:
    return cycles["objects_marked"] - 1 - RUNTIME_HEAP_OBJECTS  # less root table, runtime's


def test_dense_class_threshold_is_an_eighth_of_the_span() -> None:
    tab = sizeclass_tables(packed_span_scan=True)
    c64 = int(np.searchsorted(scl.CLASS_TO_SIZE_BYTES, 64))
    assert tab.spanclass_nelems[c64 << 1] == NELEMS_64
    assert tab.spanclass_dense_scan_min[c64 << 1] == NELEMS_64 // 8
    never = int(tab.spanclass_dense_scan_min[0])  # large objects
    c8, c576 = (int(np.searchsorted(scl.CLASS_TO_SIZE_BYTES, s)) for s in (8, 576))
    for spanclass in (c64 << 1 | 1, c8 << 1, c576 << 1):  # noscan, under 16 B, header
        assert tab.spanclass_dense_scan_min[spanclass] == never
    assert np.all(sizeclass_tables(greentea=False, packed_span_scan=True)
                  .spanclass_dense_scan_min == never)
    assert np.all(sizeclass_tables().spanclass_dense_scan_min == never)  # the default: off


def test_without_the_packed_scan_objects_count_to_their_last_pointer() -> None:
    cyc = _run(False, 0.0).cycles
    assert len(cyc) > 5
    assert np.array_equal(cyc["heap_scan_work_bytes"],
                          ROOT_WORK + RUNTIME_WORK + 16 * _nodes_marked(cyc))


def test_nodes_in_allocation_order_are_scanned_packed() -> None:
    cyc = _run(True, 0.0).cycles
    n = _nodes_marked(cyc)
    node_work = cyc["heap_scan_work_bytes"] - ROOT_WORK - RUNTIME_WORK
    # Whole 64 B slots, except the FIFO's two end spans where fewer than 15 are live
    # (at most 14 each, at 16 B).
    assert np.all(node_work <= 64 * n)
    assert np.all(node_work >= 64 * n - 2 * (NELEMS_64 // 8 - 1) * 48)
    assert np.all(node_work > 16 * n)


def test_scattered_nodes_are_scanned_mostly_object_by_object() -> None:
    # One live node in ~31 slots: about 4 to a 124-slot span, under the 15 needed;
    # spans whose freed slots were reused gather more, so a few batches are packed.
    cyc = _run(True, 30.0).cycles
    n = _nodes_marked(cyc)
    node_work = cyc["heap_scan_work_bytes"] - ROOT_WORK - RUNTIME_WORK
    assert len(cyc) > 5
    assert np.all(node_work >= 16 * n)
    assert np.all(node_work < 32 * n)


# Go's gcpacertrace for the steady twin (validation/steady: 400 000 live 64 B
# nodes with two pointer words, a 3.2 MB ring), GOGC=100, GOMAXPROCS=1, go1.27.3
# on the AVX-512 AMD EPYC, 2026-11-27: "28866312+3432+166826 B work" in steady
# state (28 865 048 .. 28 870 032 B heap scan work over 25 cycles). Object by
# object it would be 3.2 MB + 400 000 x 16 B = 9.6 MB.
GO_STEADY_HEAP_SCAN_WORK_BYTES = 28_866_312


@pytest.mark.slow
def test_steady_twin_heap_scan_work_is_gos() -> None:
    cfg = load_config(REPO / "validation" / "steady" / "config.toml",
                      ["run.max_allocs=2500000", "runtime.packed_span_scan=true"])
    cyc = simulate(cfg).cycles
    steady = cyc["heap_scan_work_bytes"][cyc["heap_marked_bytes"] > 25 << 20]
    assert steady.size >= 3
    assert np.median(steady) == pytest.approx(GO_STEADY_HEAP_SCAN_WORK_BYTES, rel=0.005)


def test_validate_models_this_machine_s_go(monkeypatch: pytest.MonkeyPatch) -> None:
    from gcsim.goruntime import hostcpu
    from gcsim.validate import twins as T

    twin = T.find_twins(REPO / "validation")["steady"]
    for host in (True, False):
        monkeypatch.setattr(hostcpu, "packed_span_scan", lambda host=host: host)
        assert T.load_twin_config(twin).runtime.packed_span_scan is host
        over = T.load_twin_config(twin, [f"runtime.packed_span_scan={str(not host).lower()}"])
        assert over.runtime.packed_span_scan is (not host)  # --set has the last word


def test_host_flags_need_every_feature_go_asks_for(monkeypatch: pytest.MonkeyPatch) -> None:
    from gcsim.goruntime import hostcpu

    monkeypatch.setattr(hostcpu.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(hostcpu, "cpu_flags", lambda: hostcpu.PACKED_SCAN_FLAGS | {"sse2"})
    assert hostcpu.packed_span_scan()
    monkeypatch.setattr(hostcpu, "cpu_flags", lambda: hostcpu.PACKED_SCAN_FLAGS - {"gfni"})
    assert not hostcpu.packed_span_scan()
    monkeypatch.setattr(hostcpu, "cpu_flags", lambda: hostcpu.PACKED_SCAN_FLAGS)
    monkeypatch.setattr(hostcpu.platform, "machine", lambda: "aarch64")
    assert not hostcpu.packed_span_scan()  # scan_generic.go: never off amd64


def test_a_host_with_the_packed_scan_gets_its_machine_s_calibration(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import tomllib

    from gcsim.goruntime import hostcpu
    from gcsim.validate import twins as T

    twin = T.find_twins(REPO / "validation")["steady"]
    monkeypatch.setattr(hostcpu, "packed_span_scan", lambda: True)
    monkeypatch.setattr(hostcpu, "cpu_model", lambda: "AMD EPYC")
    path = T.host_costs_file()
    assert path is not None
    table = tomllib.loads(path.read_text())
    assert table["calibration"]["packed_span_scan"] is True
    cfg = T.load_twin_config(twin)
    assert cfg.costs.ns("mark_scan_word_ns") == table["costs"]["mark_scan_word_ns"]
    monkeypatch.setattr(hostcpu, "cpu_model", lambda: "Some Other CPU")
    assert T.host_costs_file() is None  # no calibration of that CPU: the built-in table
    monkeypatch.setattr(hostcpu, "cpu_model", lambda: "AMD EPYC")
    monkeypatch.setattr(hostcpu, "packed_span_scan", lambda: False)
    assert T.host_costs_file() is None  # the built-in table's kind of machine
    assert T.load_twin_config(twin).costs.overrides == ()
