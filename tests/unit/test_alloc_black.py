"""Allocate-black: an allocation while marking marks its object and pays
``alloc_black_ns`` (mallocgc calls gcmarknewobject when writeBarrier.enabled;
src/runtime/malloc.go, mgcmark.go; go1.27.3).

Go calls it for every slot it hands out while marking: small objects, large
objects and a new tiny block, not for a tiny request that fits the current
block (mallocgcTiny returns before it).
"""

from __future__ import annotations

import numpy as np
import pytest

from gcsim.config import config_from_dict
from gcsim.engine import state as S
from gcsim.engine.heap import mallocgc
from gcsim.run import prepare, simulate

CLOCK_HZ = 3.0e9


def _heap(black_ns: float):
    raw = {"run": {"gomaxprocs": 1, "max_allocs": 100, "duration_s": "off", "clock_hz": CLOCK_HZ},
           "runtime": {"gogc": "off"}, "costs": {"alloc_black_ns": black_ns},
           "workload": {"sites": [{"name": "a", "size": 64}]}}
    st, _, _, tab, costs = prepare(config_from_dict(raw))
    return st.heap, st.counters, tab, costs


@pytest.mark.parametrize(("size", "ptr_words"), [(64, 2), (128, 0), (40_000, 1), (4, 0)])
def test_an_allocation_while_marking_is_black_and_pays_alloc_black(size: int,
                                                                   ptr_words: int) -> None:
    heap, c, tab, costs = _heap(10.0)
    out = np.zeros(1)
    mallocgc(heap, c, tab, costs, 0, size, ptr_words, out)  # any refill happens here
    costs_off = np.zeros(1)
    x = mallocgc(heap, c, tab, costs, 0, size, ptr_words, costs_off)
    assert heap.slot_mark[x] == 0 and c[S.C_BLACK_ALLOCS] == 0
    c[S.C_PHASE] = S.PHASE_MARK
    marked = int(c[S.C_HEAP_MARKED_BYTES])
    costs_on = np.zeros(1)
    y = mallocgc(heap, c, tab, costs, 0, size, ptr_words, costs_on)
    if size >= 16 or ptr_words:
        assert heap.slot_mark[y] == 1 and c[S.C_BLACK_ALLOCS] == 1
        assert c[S.C_HEAP_MARKED_BYTES] > marked
        # 10 ns at 3 GHz; the same path otherwise (a large object takes a span each time).
        assert costs_on[0] - costs_off[0] == pytest.approx(30.0)
    else:
        # A tiny request that fits the current block: no new slot, nothing to mark.
        assert y == x and c[S.C_BLACK_ALLOCS] == 0 and costs_on[0] == costs_off[0]


def test_a_new_tiny_block_while_marking_is_black() -> None:
    heap, c, tab, costs = _heap(10.0)
    out = np.zeros(1)
    c[S.C_PHASE] = S.PHASE_MARK
    for _ in range(2):  # 2 x 8 B fill one 16 B block
        mallocgc(heap, c, tab, costs, 0, 8, 0, out)
    assert c[S.C_BLACK_ALLOCS] == 1
    mallocgc(heap, c, tab, costs, 0, 8, 0, out)  # needs a new block
    assert c[S.C_BLACK_ALLOCS] == 2


def test_black_allocations_are_counted_and_priced_in_a_run() -> None:
    """A run with marking: the summary counts the black allocations, pricing them
    makes the mutator slower, and with the collector off there are none."""
    def run(gogc, black_ns):
        return simulate(config_from_dict({
            "run": {"max_allocs": 200_000, "duration_s": "off", "final_gc": False,
                    "clock_hz": CLOCK_HZ},
            "runtime": {"gogc": gogc}, "costs": {"alloc_black_ns": black_ns},
            "workload": {"sites": [{"name": "a", "size": 64, "pointer_words": 2,
                                    "lifetime": {"kind": "fifo", "live_objects": 50_000}}]},
        }))
    from gcsim.metrics.summary import summary
    free, priced = run(100, 0.0), run(100, 200.0)
    assert 0 < summary(free)["black_allocs"] < 200_000
    assert 0 < summary(priced)["black_allocs"] < 200_000
    # The exact charge is checked above; over a run the mutator pays at least
    # part of it (the cycles move, so the count does too).
    assert priced.counter("C_MUTATOR_CYCLES") > free.counter("C_MUTATOR_CYCLES")
    assert summary(run("off", 200.0))["black_allocs"] == 0
