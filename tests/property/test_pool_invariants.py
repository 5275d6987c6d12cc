"""sync.Pool invariants over random workloads (issue 8): no object is ever both in a
pool and freed, and every object New() made is accounted for.

Each example runs a pooled site (transient with a random batch, or fifo: held
while the next K Gets happen) beside a garbage site that drives GCs, at 1-3
Ps, GOGC 10-200, with or without the victim cache, and stops the engine every
few quanta to check:

1. every pooled object (primary and victim, all Ps) is allocated (its slot
   was not freed by a sweep), still belongs to the pooled site (its slot was
   not freed and reused), and sits in exactly one place: no duplicates in
   the pools and none also held in the site's root table;
2. conservation: every object New() made is pooled, held, or was dropped by
   exactly one poolCleanup (news == pooled + held + dropped); every Get is a
   hit or a New;
3. after a final runtime.GC() and a full sweep, (1) still holds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gcsim.config import Config, config_from_dict
from gcsim.engine import poolstate as PS
from gcsim.engine import state as S
from gcsim.engine.gccycle import force_gc
from gcsim.engine.gcsweeping import finish_sweep
from gcsim.engine.loop import run_quanta
from gcsim.run import prepare

pytestmark = pytest.mark.usefixtures("warm_engine")

_SIZES = (16, 200, 4096, 40_000)  # small, small, small, large object


@st.composite
def configs(draw: st.DrawFn) -> Config:
    size = draw(st.sampled_from(_SIZES))
    fifo = draw(st.booleans())
    pooled: dict[str, Any] = {
        "name": "buf",
        "weight": draw(st.floats(0.2, 3.0)),
        "size": size,
        "pointer_words": draw(st.sampled_from((0, 1))),
    }
    pool: dict[str, Any] = {"name": "p", "site": "buf", "zero_on_put": draw(st.booleans())}
    if fifo:
        pooled["lifetime"] = {"kind": "fifo", "live_objects": draw(st.integers(1, 40))}
    else:
        values = draw(st.lists(st.integers(1, 20), min_size=1, max_size=3, unique=True))
        pool["batch"] = {"values": values, "weights": [draw(st.floats(0.1, 1.0)) for _ in values]}
    raw = {
        "run": {
            "seed": draw(st.integers(0, 2**31)),
            "gomaxprocs": draw(st.integers(1, 3)),
            "duration_s": 0.004,
            "quantum_ns": 10_000,
        },
        "runtime": {
            "gogc": draw(st.sampled_from((10, 50, 200))),
            "pool_victim": draw(st.booleans()),
        },
        "workload": {
            "compute_ns_per_alloc": draw(st.sampled_from((0.0, 200.0))),
            "sites": [
                pooled,
                {"name": "garbage", "weight": 1.0, "size": draw(st.sampled_from((64, 8192)))},
            ],
            "pools": [pool],
        },
    }
    return config_from_dict(raw)


def _advance(d: dict[str, Any], until: int) -> bool:
    """run_quanta to ``until``; True when the run is over."""
    while True:
        status = run_quanta(d["st"], d["wl"], d["rp"], d["tab"], d["costs"], until)
        if status in (S.ST_GROW_SLOTS, S.ST_GROW_SPANS, S.ST_GROW_PAGES):
            d["st"] = S.grow_state(d["st"], status)
        elif status == S.ST_GROW_POOL:
            d["st"] = d["st"]._replace(pool=PS.grow_pools(d["st"].pool))
        elif status == S.ST_RECORDS_FULL:
            c = d["st"].counters
            c[S.C_N_CYCLE_RECORDS] = 0
            c[S.C_N_TIMELINE_RECORDS] = 0
        else:
            return status == S.ST_DONE


def check_pools(st: S.State, wl: S.Workload, fifo: bool) -> None:
    pools = st.pool
    site = int(pools.params[0, PS.PP_SITE])
    pooled = PS.pooled_slots(pools)
    assert np.unique(pooled).size == pooled.size, "an object is in a pool twice"
    assert np.all(st.heap.slot_alloc[pooled] == 1), "a pooled object was freed"
    assert np.all(st.heap.slot_site[pooled] == site), "a pooled slot was freed and reused"
    held = np.zeros(0, dtype=np.int64)
    if fifo:
        base, n = wl.site_tab[site, S.W_ROOT_BASE], wl.site_tab[site, S.W_ROOT_LEN]
        held = st.gc.roots[base : base + n]
        held = held[held >= 0]
        assert np.all(st.heap.slot_alloc[held] == 1)
        assert np.intersect1d(held, pooled).size == 0, "an object is held and pooled"
    pc = pools.counters[0]
    hits = pc[PS.PC_HIT_PRIVATE : PS.PC_HIT_VICTIM + 1].sum()
    assert pc[PS.PC_GETS] == hits + pc[PS.PC_NEWS]
    assert pc[PS.PC_NEWS] == pooled.size + held.size + pc[PS.PC_DROPPED]


@settings(
    deadline=None,
    max_examples=20,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cfg=configs())
def test_no_object_is_both_pooled_and_freed(cfg: Config) -> None:
    st_, wl, rp, tab, costs = prepare(cfg)
    d = {"st": st_, "wl": wl, "rp": rp, "tab": tab, "costs": costs}
    fifo = cfg.workload.sites[0].lifetime.kind == "fifo"
    step = 3 * rp.quantum_cycles
    until = step
    while not _advance(d, until):
        check_pools(d["st"], wl, fifo)
        until += step
    check_pools(d["st"], wl, fifo)
    assert d["st"].pool.counters[0, PS.PC_GETS] > 0
    force_gc(d["st"], wl, rp, costs)
    finish_sweep(d["st"].heap, d["st"].counters, costs, np.zeros(1))
    check_pools(d["st"], wl, fifo)


def test_dropped_objects_are_freed_by_that_cycle() -> None:
    """Put N, two GCs: the second drops them from the victim and its sweep frees them."""
    raw = {
        "run": {"seed": 1, "gomaxprocs": 1, "duration_s": 0.001},
        "workload": {
            "sites": [{"name": "buf", "size": 4096, "weight": 1.0}],
            "pools": [{"name": "p", "site": "buf", "batch": 10}],
        },
    }
    st_, wl, rp, tab, costs = prepare(config_from_dict(raw))
    d = {"st": st_, "wl": wl, "rp": rp, "tab": tab, "costs": costs}
    _advance(d, 10 * rp.quantum_cycles)
    st_ = d["st"]
    pc = st_.pool.counters[0]
    assert pc[PS.PC_NEWS] == 10 and PS.pooled_slots(st_.pool).size == 10
    objs = PS.pooled_slots(st_.pool)
    force_gc(st_, wl, rp, costs)  # GC 1: the 10 move to the victim and survive
    assert np.all(st_.heap.slot_alloc[objs] == 1)
    force_gc(st_, wl, rp, costs)  # GC 2: dropped at sweep termination, freed by its sweep
    assert np.all(st_.heap.slot_alloc[objs] == 0)
    assert pc[PS.PC_DROPPED] == 10 and PS.pooled_slots(st_.pool).size == 0
