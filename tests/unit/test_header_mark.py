"""Scanning objects that carry a malloc header (over 512 B) costs mark_header_*.

Independent check: with the world stopped for marking, a run's heap does not
depend on what marking costs, so two runs that differ only in the header
entries mark the same objects, and their mark pauses differ by exactly the
header cost of each scanned object. Go's rule sets the object's slot: a 1024 B
pointerful object plus its 8 B header goes to the 1152 B size class
(mallocgc: size += mallocHeaderSize).
"""

from __future__ import annotations

import numpy as np
import pytest

from gcsim.config import config_from_dict
from gcsim.engine.rtmem import RUNTIME_HEAP_OBJECTS
from gcsim.goruntime import sizeclasses as scl
from gcsim.run import simulate

HZ = 3e9


def _run(size: int, pointer_words: int, header_ns: float, page_ns: float):  # noqa: ANN202
    return simulate(config_from_dict({
        "run": {"seed": 4, "gomaxprocs": 1, "clock_hz": HZ, "duration_s": "off",
                "max_allocs": 60_000, "final_gc": False},
        "runtime": {"gogc": 100, "gcstoptheworld": 1},
        "costs": {"mark_header_object_ns": header_ns, "mark_header_page_ns": page_ns},
        "workload": {"compute_ns_per_alloc": 100.0, "sites": [
            {"name": "node", "size": size, "pointer_words": pointer_words,
             "lifetime": {"kind": "fifo", "live_objects": 5000}}]},
    }))


def test_header_objects_pay_the_header_and_their_pages() -> None:
    h, p = 77.5, 86.7
    free, paid = _run(1024, 2, 0.0, 0.0), _run(1024, 2, h, p)
    assert len(free.cycles) == len(paid.cycles) > 5
    assert np.array_equal(free.cycles["objects_marked"], paid.cycles["objects_marked"])
    slot = 1024 + scl.MALLOC_HEADER_BYTES
    slot = int(scl.CLASS_TO_SIZE_BYTES[np.searchsorted(scl.CLASS_TO_SIZE_BYTES, slot)])
    assert slot == 1152
    extra_ns = (paid.cycles["mark_pause_cycles"] - free.cycles["mark_pause_cycles"]) / HZ * 1e9
    # All but the root table and the runtime's own objects (320 B: no header).
    scanned = free.cycles["objects_marked"] - 1 - RUNTIME_HEAP_OBJECTS
    assert extra_ns == pytest.approx(scanned * (h + p * slot / 4096), rel=1e-6, abs=1.0)


@pytest.mark.parametrize(("size", "pointer_words"), [(512, 2), (4096, 0)])
def test_no_header_no_cost(size: int, pointer_words: int) -> None:
    # 512 B fits without a header; noscan objects have none and are not scanned.
    free, paid = _run(size, pointer_words, 0.0, 0.0), _run(size, pointer_words, 77.5, 86.7)
    assert np.array_equal(free.cycles["mark_pause_cycles"], paid.cycles["mark_pause_cycles"])
