"""Spans fresh from the OS and spans reused in place (src/runtime/mcentral.go,
mgcsweep.go, mheap.go, malloc.go; go1.27.3).

- ``mcentral.cacheSpan`` sweeps with ``s.sweep(true)``: a span whose objects
  all died stays in use and the allocation takes it, where the sweepers
  (``sweep(false)``) free it to the page heap.
- ``mheap.initSpan`` leaves ``needzero`` clear for pages fresh from the OS or
  all back from the scavenger (the kernel zeroes them), and mallocgc skips
  the clearing for such a span's slots; a sweep that frees a slot sets it.
"""

from __future__ import annotations

import numpy as np
import pytest

from gcsim.config import config_from_dict
from gcsim.engine import state as S
from gcsim.engine.gcsweeping import sweep_span
from gcsim.engine.heap import mallocgc
from gcsim.engine.mspan import list_remove
from gcsim.run import prepare, simulate

CLOCK_HZ = 3.0e9


def test_cachespan_keeps_an_emptied_span_that_the_sweepers_free() -> None:
    raw = {"run": {"gomaxprocs": 1, "max_allocs": 100, "duration_s": "off"},
           "runtime": {"gogc": "off"}, "workload": {"sites": [{"name": "a", "size": 8192}]}}
    st, _, _, tab, costs = prepare(config_from_dict(raw))
    heap, c = st.heap, st.counters
    out = np.zeros(1)
    # One 8 KiB object per span: the first two spans are full and uncached.
    slots = [mallocgc(heap, c, tab, costs, 0, 8192, 0, out) for _ in range(3)]
    s0, s1 = (int(heap.slot_span[x]) for x in slots[:2])
    assert heap.spans[s0]["needzero"] == 0  # fresh pages
    # Both objects died unmarked; take the spans off their lists to sweep them.
    c[S.C_UNSWEPT_SPANS] = 2
    for s in (s0, s1):
        list_remove(heap, s)
    inuse = int(c[S.C_PAGES_INUSE])
    out[0] = 0.0
    assert sweep_span(heap, c, costs, s0, True, out)
    span = heap.spans[s0]
    assert span["state"] == S.SPAN_INUSE and span["alloc_count"] == 0
    assert heap.page_span[span["base_page"]] == s0 and c[S.C_PAGES_INUSE] == inuse
    assert span["needzero"] == 1  # its slot held an object
    assert out[0] == pytest.approx(costs.sweep_span)
    assert not sweep_span(heap, c, costs, s1, False, out)
    span = heap.spans[s1]
    assert span["state"] == S.SPAN_FREE and heap.page_span[span["base_page"]] == -1
    assert c[S.C_PAGES_INUSE] == inuse - 1
    assert out[0] == pytest.approx(costs.sweep_span + costs.sweep_free_span)
    # The next allocation takes the kept span, not new pages.
    x = mallocgc(heap, c, tab, costs, 0, 8192, 0, out)
    assert int(heap.slot_span[x]) == s0 and c[S.C_PAGES_INUSE] == inuse - 1


def _mutator_cycles(zero_ns: float, gogc: int | str, pointer_words: int = 0,
                    allocs: int = 40_000) -> tuple[int, int]:
    r = simulate(config_from_dict({
        "run": {"max_allocs": allocs, "duration_s": "off", "final_gc": False,
                "clock_hz": CLOCK_HZ},
        "runtime": {"gogc": gogc},
        "costs": {"alloc_zero_ns_per_byte": zero_ns, "alloc_scan_ns_per_byte": 0.125},
        "workload": {"sites": [{"name": "a", "size": 64, "pointer_words": pointer_words}]},
    }))
    return int(r.counters[S.C_MUTATOR_CYCLES]), int(r.counters[S.C_ALLOCS])


def test_slots_of_fresh_spans_are_not_cleared() -> None:
    # GC off: every span is fresh, so the clearing cost never applies...
    assert _mutator_cycles(0.0, "off")[0] == _mutator_cycles(0.0625, "off")[0]
    # ...and a scan slot pays only the heap-bits part of its slope:
    # 0.125 - 0.0625 ns per byte of its 64 B slot (12 cycles at 3 GHz, so the
    # per-step rounding of costs to whole cycles cancels).
    (base, n), (cheaper, _) = _mutator_cycles(0.0, "off", 2), _mutator_cycles(0.0625, "off", 2)
    assert base - cheaper == n * 12
    # With GCs (12 MiB allocated, a 4 MiB goal) swept spans are reused and cleared.
    assert _mutator_cycles(0.0625, 100, allocs=200_000)[0] > \
        _mutator_cycles(0.0, 100, allocs=200_000)[0]
