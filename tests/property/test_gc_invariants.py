"""GC and heap invariants over random small workloads (STYLE.md §6, property tests).

Each example builds a 1-4 site workload (sizes 1 B..40 KiB, so tiny, small and
large objects; pointer words; fifo/exponential/immortal/transient lifetimes;
child/random/nil refs; mutator pointer writes) under the concurrent or the
stop-the-world collector, drives the engine with ``run_quanta`` in small steps
the way ``run.simulate`` does (growing arrays, draining records) and checks the
state at every return of the kernel against the slow recomputations of
``tests/reference.py``:

1. safety and bookkeeping: no reachable object is freed (nor its slot reused);
   HeapAlloc, object, page and per-span counts match the arrays; mcentral
   lists and mcaches are well formed; while marking, no black object points
   to a white one; stepping, growing and draining do not change the run;
2. completeness (snapshot at the beginning): right after mark termination the
   marked objects, and after a finished sweep the allocated ones, are exactly
   those reachable when the cycle started plus those allocated while it marked;
3. determinism of ``simulate`` under a seed;
4. the committed heap goal follows Go's GOGC formula.

Known engine bugs are ``xfail(strict=True)`` tests at the end of the module.
Kernels are warmed once by the session fixture ``warm_engine``; examples vary
config values only, so nothing recompiles inside an example.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gcsim.config import Config, config_from_dict
from gcsim.engine import state as S
from gcsim.engine.gccycle import force_gc
from gcsim.engine.gcsweeping import finish_sweep
from gcsim.engine.loop import run_quanta
from gcsim.engine.mark import OBLET_SLOT_MASK
from gcsim.errors import ConfigError
from gcsim.run import prepare, simulate
from gcsim.workload.compile import step_objects
from tests.reference import (
    HEAP_MINIMUM_BYTES,
    black_to_white,
    goal_in_force,
    gogc_next_goal,
    gray_entries,
    heap_counts,
    reachable,
    reachable_naive,
    site_col,
    walk_lists,
)

PAGE = 8192
MiB = 1 << 20
TINY_SPANCLASS = (2 << 1) | 1  # tiny blocks: size class 2, noscan
MAX_BYTES = 40 * 1024
UNSWEPT = (S.L_PARTIAL_UNSWEPT, S.L_FULL_UNSWEPT)
SWEPT = (S.L_PARTIAL_SWEPT, S.L_FULL_SWEPT)

pytestmark = pytest.mark.usefixtures("warm_engine")

PROPERTY = settings(
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- workloads ---------------------------------------------------------------------------------

# Bands of request sizes: tiny-eligible, small without malloc header, small with
# header, large (> 32 760 B, a span of its own).
_BANDS = ((1, 15), (16, 512), (513, 32_760), (32_761, MAX_BYTES))


@st.composite
def _size(draw: st.DrawFn) -> tuple[Any, int]:
    """A size spec and its smallest request."""
    lo = draw(st.sampled_from(_BANDS).flatmap(lambda b: st.integers(*b)))
    dist = draw(st.sampled_from(("fixed", "uniform", "loguniform")))
    if dist == "fixed":
        return lo, lo
    hi = min(MAX_BYTES, lo * draw(st.sampled_from((1, 2, 8, 64, 4096))))
    hi = draw(st.integers(lo, hi))
    return {"dist": dist, "min_bytes": lo, "max_bytes": hi}, lo


_LIFETIMES = ("transient", "fifo", "exponential", "immortal")


@st.composite
def workloads(draw: st.DrawFn) -> list[dict[str, Any]]:
    """1-4 valid sites; child refs only point forward, so they never form a cycle."""
    n = draw(st.integers(1, 4))
    sites: list[dict[str, Any]] = []
    for i in range(n):
        size, lo = draw(_size())
        pw = draw(st.integers(0, min(lo // 8, 12)))
        weight = draw(st.sampled_from((0.0, 0.5, 1.0, 3.0))) if i else 1.0
        site: dict[str, Any] = {
            "name": f"s{i}",
            "weight": weight,
            "size": size,
            "pointer_words": pw,
        }
        kind = draw(st.sampled_from(_LIFETIMES))
        if kind == "fifo":
            site["lifetime"] = {"kind": kind, "live_objects": draw(st.integers(1, 1500))}
        elif kind == "exponential":
            site["lifetime"] = {"kind": kind, "mean_allocs": draw(st.integers(1, 1500))}
        elif kind == "immortal":
            site["lifetime"] = {"kind": kind}
            site["max_allocs"] = draw(st.integers(1, 2000))
        sites.append(site)
    rooted = [s["name"] for s in sites if "lifetime" in s]
    for i, site in enumerate(sites):
        refs = []
        for _ in range(draw(st.integers(0, min(site["pointer_words"], 3)))):
            kinds = ["nil"] + (["child"] if i + 1 < n else []) + (["random"] if rooted else [])
            to = draw(st.sampled_from(kinds))
            if to == "nil":
                refs.append({"to": "nil"})
            elif to == "child":
                refs.append({"to": "child", "site": f"s{draw(st.integers(i + 1, n - 1))}"})
            else:
                refs.append({"to": "random", "site": draw(st.sampled_from(rooted))})
        if refs:
            site["refs"] = refs
            if "lifetime" in site and draw(st.booleans()):
                site["pointer_writes_per_alloc"] = draw(st.sampled_from((0.5, 1.0, 3.0)))
    return sites


@st.composite
def configs(draw: st.DrawFn) -> Config:
    sites = draw(workloads())
    raw = {
        "run": {
            "seed": draw(st.integers(0, 2**32)),
            "gomaxprocs": draw(st.integers(1, 3)),
            "duration_s": draw(st.integers(2, 20)) / 1000.0,
            "quantum_ns": draw(st.sampled_from((2_000, 5_000, 10_000))),
        },
        "runtime": {
            "gogc": draw(st.sampled_from((25, 50, 100, 300))),
            "gcstoptheworld": draw(st.sampled_from((0, 0, 1))),
            "greentea": draw(st.booleans()),
        },
        "workload": {
            "compute_ns_per_alloc": draw(st.sampled_from((50.0, 150.0, 500.0))),
            "sites": sites,
        },
    }
    cfg = config_from_dict(raw)
    # Keep a step's children bounded (each level has at most 3 child refs).
    assert step_objects(cfg) <= 40
    return cfg


# --- driving the engine ----------------------------------------------------------------------


class Driver:
    """run.simulate's loop, opened up: call ``run_quanta`` up to a time and handle statuses."""

    def __init__(self, cfg: Config, record_rows: int | None = None) -> None:
        """``record_rows`` shrinks the record buffers so ``ST_RECORDS_FULL`` happens often."""
        self.st, self.wl, self.rp, self.tab, self.costs = prepare(cfg)
        if record_rows is not None:
            self.st = self.st._replace(
                rec=S.Records(
                    cycles=np.zeros(record_rows, S.CYCLE_DTYPE),
                    timeline=np.zeros(record_rows, S.TIMELINE_DTYPE),
                )
            )
        self.cycles: list[np.ndarray] = []
        self.timeline: list[np.ndarray] = []
        self.done = False

    @property
    def c(self) -> np.ndarray:
        return self.st.counters

    def drain(self) -> None:
        n = int(self.c[S.C_N_CYCLE_RECORDS])
        if n:
            self.cycles.append(self.st.rec.cycles[:n].copy())
        n = int(self.c[S.C_N_TIMELINE_RECORDS])
        if n:
            self.timeline.append(self.st.rec.timeline[:n].copy())
        self.c[S.C_N_CYCLE_RECORDS] = 0
        self.c[S.C_N_TIMELINE_RECORDS] = 0

    def advance(self, until: int, on_pause: Callable[[Driver], None] | None = None) -> None:
        """Run to the first quantum boundary at or after ``until`` (or the end).

        ``on_pause`` sees the state at every return of the kernel, including
        the mid-quantum returns that ask for bigger arrays.
        """
        while True:
            status = run_quanta(self.st, self.wl, self.rp, self.tab, self.costs, until)
            if status in (S.ST_GROW_SLOTS, S.ST_GROW_SPANS, S.ST_GROW_PAGES):
                if on_pause is not None:
                    on_pause(self)
                self.st = S.grow_state(self.st, status)
            elif status == S.ST_RECORDS_FULL:
                self.drain()
            elif status == S.ST_DONE:
                self.done = True
                self.drain()
                return
            else:
                assert status == S.ST_OK, f"engine returned status {status}"
                return

    def records(self) -> tuple[np.ndarray, np.ndarray]:
        """All cycle and timeline rows so far."""
        self.drain()
        cyc = np.concatenate(self.cycles) if self.cycles else np.zeros(0, S.CYCLE_DTYPE)
        tl = np.concatenate(self.timeline) if self.timeline else np.zeros(0, S.TIMELINE_DTYPE)
        return cyc, tl


# --- invariants ------------------------------------------------------------------------------


def _is_tiny(st: S.State, slots: np.ndarray) -> np.ndarray:
    return st.heap.spans["spanclass"][st.heap.slot_span[slots]] == TINY_SPANCLASS


def check_reachable_allocated(st: S.State, wl: S.Workload) -> np.ndarray:
    """(a) Every object reachable from the roots is allocated, and is the object the
    reference was made to (a freed slot reused by another site would pass the
    allocation-bit test alone). Returns the reachable set."""
    heap, gc = st.heap, st.gc
    reach = reachable(st, wl)
    lost = np.nonzero(reach & (heap.slot_alloc == 0))[0]
    assert lost.size == 0, (
        f"{lost.size} reachable slots are free, e.g. {lost[:5].tolist()} "
        f"(sites {heap.slot_site[lost[:5]].tolist()})"
    )
    # Roots of site k hold objects of site k (tiny blocks are shared: skip them).
    for k in range(gc.root_table_slot.shape[0]):
        if gc.root_table_slot[k] < 0:
            continue
        base, n = int(site_col(wl, "root_base")[k]), int(site_col(wl, "root_len")[k])
        r = gc.roots[base : base + n]
        r = r[r >= 0]
        r = r[~_is_tiny(st, r)]
        wrong = r[heap.slot_site[r] != k]
        assert wrong.size == 0, f"root of site {k} holds slot of site {heap.slot_site[wrong[0]]}"
    # Child/random pointers hold objects of the ref's target site.
    m = heap.edges.shape[1]
    if m:
        ref_off, ref_n = site_col(wl, "ref_off"), site_col(wl, "ref_n")
        objs = np.nonzero(reach & (heap.slot_ptr_words > 0) & (heap.slot_site >= 0))[0]
        for obj in objs[:2000]:
            site = int(heap.slot_site[obj])
            off = int(ref_off[site])
            for j in range(int(ref_n[site])):
                t = int(heap.edges[obj, j])
                kind = int(wl.ref_kind[off + j])
                if kind == S.REF_NIL:
                    assert t == -1, f"nil ref {j} of slot {obj} holds {t}"
                    continue
                if t < 0 or _is_tiny(st, np.array([t]))[0]:
                    continue
                assert heap.slot_site[t] == wl.ref_site[off + j], (
                    f"ref {j} of slot {obj} (site {site}) holds slot {t} of site "
                    f"{int(heap.slot_site[t])}, want {int(wl.ref_site[off + j])}"
                )
    return reach


def check_heap(st: S.State) -> None:
    """(b) Counters are non-negative and agree with the arrays; spans and lists are sound."""
    c = st.counters
    heap = st.heap
    neg = [S.COUNTER_NAMES[i] for i in np.nonzero(c < 0)[0]]
    assert not neg, f"negative counters: {neg}"
    phase = int(c[S.C_PHASE])
    assert phase in (S.PHASE_OFF, S.PHASE_MARK), f"phase {phase} between kernel calls"
    ref = heap_counts(st)

    assert c[S.C_HEAP_ALLOC_BYTES] == ref.heap_alloc_bytes, "HeapAlloc != sum of elemsize"
    assert c[S.C_SLOT_ALLOCS] - c[S.C_SLOT_FREES] == ref.alloc_slots, "allocs - frees != live"
    live_by_class = heap.alloc_by_class - heap.free_by_class
    assert np.array_equal(live_by_class, ref.class_live), "BySize mallocs - frees != live"

    # pages: HeapInuse, HeapIdle, HeapSys, HeapReleased
    mapped = int(c[S.C_PAGES_MAPPED])
    inuse = int(c[S.C_PAGES_INUSE])
    assert inuse == ref.pages_inuse, "C_PAGES_INUSE != pages of in-use spans"
    assert inuse == ref.pages_owned, "C_PAGES_INUSE != pages the page map assigns"
    heap_sys = mapped * PAGE
    heap_inuse = inuse * PAGE
    heap_idle = (mapped - inuse) * PAGE
    assert heap_idle >= 0 and heap_inuse + heap_idle == heap_sys
    assert c[S.C_MAX_PAGES_MAPPED] >= mapped
    assert c[S.C_PAGES_RELEASED] == ref.pages_released, "HeapReleased != released pages"
    assert ref.released_but_used == 0, "a page is both released and in a span"
    assert c[S.C_PAGES_RELEASED] * PAGE <= heap_idle
    assert c[S.C_HEAP_ALLOC_BYTES] <= heap_inuse, "HeapAlloc > HeapInuse"
    assert (heap.page_span[mapped:] < 0).all(), "page beyond the arena owned by a span"

    # span records
    nrec = int(c[S.C_N_SPAN_RECORDS])
    spans = heap.spans[:nrec]
    is_inuse = spans["state"] == S.SPAN_INUSE
    assert (spans["alloc_count"] <= spans["nelems"]).all(), "span holds more than nelems"
    assert np.array_equal(spans["alloc_count"][is_inuse], ref.span_alloc[is_inuse]), (
        "alloc_count != allocated slots in the span's block"
    )
    assert (ref.span_alloc[~is_inuse] == 0).all(), "allocated slot in a freed span"
    assert ref.freeindex_violations == 0, "a slot below freeindex is free"
    assert (spans["freeindex"] <= spans["nelems"]).all()
    # page map: each in-use span owns exactly its pages, all mapped
    idx = np.nonzero(is_inuse)[0]
    ends = spans["base_page"][idx] + spans["npages"][idx]
    assert (ends <= mapped).all(), "span past the mapped arena"
    owner = np.repeat(idx, spans["npages"][idx])
    pages = np.concatenate(
        [np.arange(b, e) for b, e in zip(spans["base_page"][idx], ends, strict=True)]
        or [np.zeros(0, int)]
    )
    assert np.array_equal(heap.page_span[pages], owner), "page map disagrees with span records"
    assert np.unique(pages).size == pages.size, "two spans share a page"
    # slot ownership is fixed per record
    used = int(c[S.C_N_SLOTS_USED])
    sowner = np.repeat(np.arange(nrec), spans["nelems"])
    sbase = np.concatenate(
        [np.arange(b, b + n) for b, n in zip(spans["slot_base"], spans["nelems"], strict=True)]
        or [np.zeros(0, int)]
    )
    assert sbase.size == used and np.array_equal(heap.slot_span[sbase], sowner)
    assert not heap.slot_alloc[used:].any(), "allocated slot beyond C_N_SLOTS_USED"

    # mcentral lists and mcaches
    lengths, problems = walk_lists(st)
    assert not problems, problems[:5]
    assert np.array_equal(lengths, heap.list_len), "list_len != walked list lengths"
    sg = int(c[S.C_SWEEPGEN])
    cached = np.nonzero(spans["cached_by"] >= 0)[0]
    for s in cached:
        p = int(spans[s]["cached_by"])
        assert heap.mcache[p, spans[s]["spanclass"]] == s, f"record {s} cached but not in mcache"
    mc = heap.mcache[heap.mcache >= 0]
    assert np.unique(mc).size == mc.size == cached.size
    assert (spans["list"][cached] == S.L_NONE).all()
    assert (spans["sweepgen"][cached] == sg).all(), "an mcache holds an unswept span"
    on_list = spans["list"]
    free_rec = ~is_inuse
    assert (on_list[free_rec] == S.L_FREE_RECORDS).all(), "freed record not parked"
    in_use_placed = (spans["cached_by"] >= 0) | np.isin(on_list, UNSWEPT + SWEPT)
    assert in_use_placed[is_inuse].all(), "in-use span neither cached nor on a list"
    unswept = np.isin(on_list, UNSWEPT) & is_inuse
    swept = np.isin(on_list, SWEPT) & is_inuse
    assert (spans["sweepgen"][unswept] == sg - 2).all(), "unswept list holds a swept span"
    assert (spans["sweepgen"][swept] == sg).all(), "swept list holds an unswept span"
    assert c[S.C_UNSWEPT_SPANS] == heap.list_len[:, list(UNSWEPT)].sum(), (
        "C_UNSWEPT_SPANS != spans on unswept lists"
    )
    # mark bits: only on allocated slots; outside a cycle only in unswept spans
    marked = np.nonzero(heap.slot_mark[:used])[0]
    assert heap.slot_alloc[marked].all(), "mark bit on a free slot"
    assert not heap.slot_mark[used:].any()
    entries = gray_entries(st)
    if phase == S.PHASE_OFF:
        assert entries.size == 0, "gray objects outside a cycle"
        assert unswept[heap.slot_span[marked]].all(), "mark bit left in a swept span"
    else:
        # gcStart finished the sweep; marking never runs beside unswept spans.
        assert c[S.C_UNSWEPT_SPANS] == 0 and not unswept.any(), "unswept span while marking"
        assert np.unique(entries).size == entries.size, "an object queued twice"
        gray = entries & OBLET_SLOT_MASK
        # Green Tea queues 16-512 B pointerful objects on their spans, the rest on
        # the object workbufs that drain first.
        in_span_queue = heap.spans["span_queue"][heap.slot_span[gray]] != 0
        assert in_span_queue[: int(c[S.C_GRAY_LEN])].all(), "a workbuf object in the span queue"
        assert not in_span_queue[int(c[S.C_GRAY_LEN]):].any(), "a span object in the workbufs"
        assert heap.slot_mark[gray].all() and heap.slot_alloc[gray].all()
        assert (heap.slot_ptr_words[gray] > 0).all(), "a noscan object on the gray stack"
    # tiny blocks
    for p in range(heap.tiny_slot.shape[0]):
        t = int(heap.tiny_slot[p])
        if t >= 0:
            assert heap.slot_alloc[t] == 1 and _is_tiny(st, np.array([t]))[0]
            assert 1 <= heap.tiny_offset[p] <= 16


def _bucket(n: int) -> str:
    return "0" if n == 0 else "1-3" if n <= 3 else "4-20" if n <= 20 else ">20"


def check_tricolor(st: S.State, wl: S.Workload) -> None:
    """While marking, no black object points to a white one (both barrier halves on)."""
    if st.counters[S.C_PHASE] != S.PHASE_MARK:
        return
    bad = black_to_white(st, wl)
    assert bad.shape[0] == 0, f"{bad.shape[0]} black->white pointers, e.g. {bad[:3].tolist()}"


def _check_all(d: Driver) -> np.ndarray:
    check_heap(d.st)
    check_tricolor(d.st, d.wl)
    return check_reachable_allocated(d.st, d.wl)


# --- 1. safety and bookkeeping at every step ------------------------------------------------


@PROPERTY
@given(cfg=configs(), checks=st.integers(10, 50), record_rows=st.sampled_from((2, 7, None)))
def test_step_invariants(cfg: Config, checks: int, record_rows: int | None) -> None:
    """(a) + (b) at every return of the kernel; stepping does not change the run."""
    d = Driver(cfg, record_rows)
    _check_all(d)  # after init_run: root tables only
    step = max(d.rp.quantum_cycles, d.rp.end_cycles // checks)
    until = step
    while not d.done:
        d.advance(until, on_pause=_check_all)
        _check_all(d)
        until += step
    assert d.c[S.C_ALLOCS] > 0
    event(f"GC cycles: {_bucket(int(d.c[S.C_NUM_GC]))}")

    # Chunking, growing and draining are invisible: simulate() gives the same run.
    r = simulate(cfg)
    cyc, tl = d.records()
    assert np.array_equal(r.cycles, cyc)
    assert np.array_equal(r.timeline[:-1], tl)  # simulate adds a last row at the end
    same = np.ones(S.N_COUNTERS, dtype=bool)
    same[[S.C_N_CYCLE_RECORDS, S.C_N_TIMELINE_RECORDS]] = False
    assert np.array_equal(r.counters[same], d.c[same])


def test_reachable_matches_naive_bfs() -> None:
    """The SciPy walk used everywhere agrees with a plain BFS."""
    from tests.conftest import tiny_config

    d = Driver(tiny_config())
    d.advance(d.rp.end_cycles // 2)
    assert np.array_equal(reachable(d.st, d.wl), reachable_naive(d.st, d.wl))
    assert reachable(d.st, d.wl).sum() > 100


# --- 2. completeness: a cycle frees everything unreachable at its start ------------------------


def _fit(mask: np.ndarray, n: int) -> np.ndarray:
    """``mask`` padded with False to ``n`` slots (after the driver grew the arrays)."""
    if mask.shape[0] >= n:
        return mask
    return np.concatenate([mask, np.zeros(n - mask.shape[0], dtype=bool)])


@PROPERTY
@given(cfg=configs())
def test_cycle_frees_exactly_the_unreachable(cfg: Config) -> None:
    """Snapshot-at-the-beginning: a cycle keeps exactly what was reachable when it
    started (plus the Ps' tiny blocks) and what was allocated while it marked.

    Stepping one quantum at a time, the state is seen just before ``gcStart``
    (``C_GC_PENDING`` set at a boundary), after sweep termination, at every
    boundary while marking and right after mark termination, before any
    mutator work or sweeping. Under gcstoptheworld=1 the whole cycle runs in
    one call and nothing is allocated while marking.
    """
    d = Driver(cfg)
    c = d.c
    gcs_checked = 0
    start: np.ndarray | None = None  # reachable + tiny blocks before gcStart
    alloc0: np.ndarray | None = None  # allocated slots when marking began
    while not d.done and gcs_checked < 25:
        heap = d.st.heap
        if c[S.C_GC_PENDING] and not c[S.C_IN_QUANTUM] and c[S.C_PHASE] == S.PHASE_OFF:
            # The cycle starts first thing in the next call.
            start = reachable(d.st, d.wl)
            start[heap.tiny_slot[heap.tiny_slot >= 0]] = True  # shaded at sweep termination
            assert heap.slot_alloc[start].all()
            alloc0 = None
        n_gc = int(c[S.C_NUM_GC])
        d.advance(int(c[S.C_NOW_CYCLES]) + 1)  # one quantum, or one phase change
        heap = d.st.heap
        # The slot arrays may have grown during the call: new slots were free before.
        n_slots = heap.slot_alloc.shape[0]
        start = None if start is None else _fit(start, n_slots)
        alloc0 = None if alloc0 is None else _fit(alloc0, n_slots)
        if c[S.C_NUM_GC] == n_gc:
            if c[S.C_PHASE] == S.PHASE_MARK:
                assert start is not None, "marking without a pending trigger"
                if alloc0 is None:  # just after sweep termination
                    alloc0 = heap.slot_alloc != 0
                    assert heap.slot_alloc[start].all(), "gcStart's sweep freed a live slot"
                    assert (heap.slot_mark[~start] == 0).all(), "marked an unreachable object"
                else:
                    freed = alloc0 & (heap.slot_alloc == 0)
                    assert not freed.any(), "a slot was freed while marking"
            continue
        assert start is not None, "a cycle ran without a pending trigger"
        assert c[S.C_NUM_GC] == n_gc + 1 and c[S.C_PHASE] == S.PHASE_OFF
        if alloc0 is None:  # gcstoptheworld=1: no mutator ran while marking
            alloc0 = heap.slot_alloc != 0
        new = (heap.slot_alloc != 0) & ~alloc0  # allocate-black
        assert not (alloc0 & (heap.slot_alloc == 0)).any(), "a slot was freed while marking"
        expect = start | new
        marked = heap.slot_mark != 0
        missed = np.nonzero(expect & ~marked)[0]
        extra = np.nonzero(marked & ~expect)[0]
        assert missed.size == 0, f"{missed.size} live objects left unmarked: {missed[:5].tolist()}"
        assert extra.size == 0, f"{extra.size} dead objects marked: {extra[:5].tolist()}"
        n_rows = int(c[S.C_N_CYCLE_RECORDS])  # the cycle's row is the last one written
        row = d.st.rec.cycles[n_rows - 1] if n_rows else d.cycles[-1][-1]
        elemsize = heap.spans["elemsize"][heap.slot_span]
        assert row["objects_marked"] == start.sum(), "objects shaded != reachable at start"
        assert row["heap_marked_bytes"] == elemsize[expect].sum(), "H_m != bytes kept"

        finish_sweep(heap, c, d.costs, np.zeros(1))
        alloc = heap.slot_alloc != 0
        freed = np.nonzero(expect & ~alloc)[0]
        leaked = np.nonzero(alloc & ~expect)[0]
        assert freed.size == 0, f"reachable slots freed: {freed[:5].tolist()}"
        assert leaked.size == 0, (
            f"{leaked.size} unreachable slots survived the cycle, e.g. {leaked[:5].tolist()}"
        )
        assert c[S.C_UNSWEPT_SPANS] == 0 and not heap.slot_mark.any()
        check_heap(d.st)
        gcs_checked += 1
        start = alloc0 = None
    event(f"cycles checked: {_bucket(gcs_checked)}")


# --- 3. determinism -----------------------------------------------------------------------------


def _random_sizes_config(seed: int) -> Config:
    return config_from_dict(
        {
            "run": {
                "seed": seed,
                "gomaxprocs": 2,
                "duration_s": 0.005,
                "quantum_ns": 5_000,
                "timeline_interval_ns": 100_000,
            },
            "runtime": {"gogc": 50},
            "workload": {
                "compute_ns_per_alloc": 100.0,
                "sites": [
                    {
                        "name": "buf",
                        "weight": 2.0,
                        "size": {"dist": "uniform", "min_bytes": 1, "max_bytes": 40_000},
                    },
                    {
                        "name": "node",
                        "weight": 1.0,
                        "size": {"dist": "loguniform", "min_bytes": 32, "max_bytes": 2048},
                        "pointer_words": 4,
                        "lifetime": {"kind": "exponential", "mean_allocs": 500},
                        "refs": [{"to": "random", "site": "node"}, {"to": "child", "site": "leaf"}],
                    },
                    {"name": "leaf", "weight": 0.0, "size": 40, "pointer_words": 1},
                ],
            },
        }
    )


def _fingerprint(r: Any) -> tuple[bytes, ...]:
    return (
        r.cycles.tobytes(),
        r.timeline.tobytes(),
        r.counters.tobytes(),
        r.alloc_by_class.tobytes(),
        r.free_by_class.tobytes(),
    )


@settings(deadline=None, max_examples=6)
@given(seed=st.integers(0, 2**63 - 1))
def test_same_seed_same_run(seed: int) -> None:
    cfg = _random_sizes_config(seed)
    a, b = simulate(cfg), simulate(cfg)
    assert a.cycles.size > 0 and a.timeline.size > 0
    assert _fingerprint(a) == _fingerprint(b)
    other = simulate(_random_sizes_config(seed ^ 0x5DEECE66D))
    assert _fingerprint(other) != _fingerprint(a)
    assert not np.array_equal(other.counters, a.counters)


# --- 4. the heap goal follows Go's formula ----------------------------------------------------


@PROPERTY
@given(cfg=configs(), final_gc=st.booleans())
def test_heap_goal_formula(cfg: Config, final_gc: bool) -> None:
    """Each mark termination commits Go's GOGC goal; the goal in force during a
    cycle is the previous commit's, lifted to heapLive-at-trigger + 64 KiB."""
    cfg = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, final_gc=final_gc))
    r = simulate(cfg)
    cyc = r.cycles
    event(f"GC cycles: {_bucket(cyc.size)}")
    gogc = cfg.runtime.gogc
    assert gogc is not None
    globals_bytes = cfg.workload.globals_bytes
    prev_goal = max(globals_bytes * gogc // 100, HEAP_MINIMUM_BYTES * gogc // 100)  # init_run
    for i, row in enumerate(cyc):
        assert row["gc_number"] == i + 1
        hm = int(row["heap_marked_bytes"])
        want = gogc_next_goal(hm, int(row["stack_scan_bytes"]), globals_bytes, gogc)
        assert row["next_goal_bytes"] == want, f"cycle {i}: goal {row['next_goal_bytes']} != {want}"
        # the trigger lies between the sweep-distance floor and the goal
        assert hm + MiB <= row["next_trigger_bytes"] <= row["next_goal_bytes"]
        in_force = goal_in_force(prev_goal, int(row["heap_live_start_bytes"]))
        assert row["heap_goal_bytes"] == in_force, f"cycle {i}: goal in force"
        if not row["forced"]:
            # the cycle started because heapLive reached the trigger
            assert row["heap_live_start_bytes"] >= row["trigger_bytes"]
        prev_goal = int(row["next_goal_bytes"])
    assert cyc.size == 0 or not cyc["forced"][:-1].any()  # only runtime.GC() forces


# --- regressions of bugs these tests found --------------------------------------------------


def test_pointer_density_refs_keep_children_alive() -> None:
    """Config and engine agree on pointer words: floor(density * (size // 8)).

    A 15 B object at density 0.6 has 0 pointer words, so a ref is rejected;
    at 24 B it has 1 word, and its child stays alive while the parent is rooted.
    """
    bad = {
        "workload": {"sites": [
            {"name": "parent", "size": 15, "pointer_density": 0.6,
             "lifetime": {"kind": "fifo", "live_objects": 50},
             "refs": [{"to": "child", "site": "kid"}]},
            {"name": "kid", "weight": 0.0, "size": 32},
        ]}
    }
    with pytest.raises(ConfigError) as e:
        config_from_dict(bad)
    assert e.value.key == "workload.sites[0].refs"
    cfg = config_from_dict(
        {
            "run": {"seed": 3, "gomaxprocs": 1, "duration_s": 0.01},
            "runtime": {"gogc": 25},
            "workload": {
                "compute_ns_per_alloc": 150.0,
                "sites": [
                    {
                        "name": "parent",
                        "size": 24,
                        "pointer_density": 0.6,
                        "lifetime": {"kind": "fifo", "live_objects": 50},
                        "refs": [{"to": "child", "site": "kid"}],
                    },
                    {"name": "kid", "weight": 0.0, "size": 32, "pointer_words": 0},
                    {"name": "junk", "weight": 3.0, "size": 4000},
                ],
            },
        }
    )
    d = Driver(cfg)
    d.advance(d.rp.end_cycles)
    assert d.c[S.C_NUM_GC] > 0
    heap, wl = d.st.heap, d.wl
    base, n = int(site_col(wl, "root_base")[0]), int(site_col(wl, "root_len")[0])
    parents = d.st.gc.roots[base : base + n]
    parents = parents[parents >= 0]
    # Each rooted parent holds a pointer, so it has pointer words and its child is live.
    assert (heap.slot_ptr_words[parents] >= 1).all(), "a parent with a ref is noscan"
    kids = heap.edges[parents, 0]
    assert heap.slot_alloc[kids[kids >= 0]].all(), "a rooted parent's child was freed"


def _run_ending_mid_cycle() -> Driver:
    """A short run whose end falls inside a mark phase (the first of a few durations
    that does: where marks fall moves with the cost table)."""
    for duration_s in (0.0030, 0.0029, 0.0033, 0.0034, 0.0035, 0.0025):
        cfg = config_from_dict(
            {
                "run": {"seed": 0, "gomaxprocs": 1, "duration_s": duration_s, "final_gc": True},
                "runtime": {"gogc": 25},
                "workload": {
                    "compute_ns_per_alloc": 150.0,
                    "sites": [
                        {
                            "name": "keep",
                            "size": 64,
                            "pointer_words": 1,
                            "lifetime": {"kind": "fifo", "live_objects": 20},
                        },
                        {"name": "junk", "size": 4096},
                    ],
                },
            }
        )
        d = Driver(cfg)
        d.advance(d.rp.end_cycles)
        assert d.done
        if d.c[S.C_PHASE] == S.PHASE_MARK:
            return d
    raise AssertionError("no candidate duration ends the run mid-cycle")


def test_final_gc_frees_everything_unreachable() -> None:
    d = _run_ending_mid_cycle()
    heap = d.st.heap
    live = reachable(d.st, d.wl)
    live[heap.tiny_slot[heap.tiny_slot >= 0]] = True
    force_gc(d.st, d.wl, d.rp, d.costs)  # what simulate() does for run.final_gc
    cyc, _ = d.records()
    survivors = np.nonzero((heap.slot_alloc != 0) & ~live)[0]
    assert survivors.size == 0, f"{survivors.size} unreachable objects survive runtime.GC()"
    assert cyc["forced"][-1] == 1
