"""The driver: a validated config in, the engine's records out.

Plain Python. It compiles the config into arrays once, then calls
``engine.loop.run_quanta`` in chunks of simulated time, draining record
buffers, growing arrays when the kernel asks, and turning status codes into
results or exceptions (STYLE.md §2). No per-object work happens here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gcsim.config import Config
from gcsim.engine import state as S
from gcsim.engine.gccycle import force_gc
from gcsim.engine.init import init_run
from gcsim.engine.loop import run_quanta, sample_timeline
from gcsim.engine.poolstate import grow_pools
from gcsim.engine.rng import seed_state
from gcsim.engine.stackalloc import stack_cache_clear
from gcsim.engine.stacks import init_goroutines, stacks_room_status
from gcsim.errors import SimulationError
from gcsim.metrics.stacks import fatal_report, stack_stats
from gcsim.workload.compile import (
    compile_costs,
    compile_run_params,
    compile_workload,
    max_edges,
    rate_table,
    sizeclass_tables,
)
from gcsim.workload.goroutines import compile_stacks
from gcsim.workload.pools import compile_pools

log = logging.getLogger(__name__)

CHUNK_S = 0.05  # simulated seconds per kernel call: progress and Ctrl-C granularity
MAX_ARENA_PAGES = 1 << 27  # 1 TiB of heap: past this a run is a runaway, not a model


@dataclass
class RunResult:
    """Everything one run produced, in engine units (cycles, bytes)."""

    config: Config
    params: S.RunParams
    cycles: np.ndarray  # CYCLE_DTYPE[n_gc]
    timeline: np.ndarray  # TIMELINE_DTYPE[n_samples]
    counters: np.ndarray  # int64[N_COUNTERS], final
    alloc_by_class: np.ndarray  # int64[68]
    free_by_class: np.ndarray  # int64[68]
    heap_objects: int  # allocated slots at the end (tiny blocks count once)
    wall_s: float
    end_cycles: int = 0
    extra: dict[str, object] = field(default_factory=dict)
    fatal: dict[str, object] | None = None  # how the run died (stack overflow), as Go reports it
    # Final span records (SPAN_DTYPE, every record ever created; free ones have
    # state SPAN_FREE): per-class occupancy and fragmentation.
    spans: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=S.SPAN_DTYPE))
    # Final background-work counters (int64[N_B], index with state.B_*).
    bg: np.ndarray = field(default_factory=lambda: np.zeros(S.N_B, dtype=np.int64))

    def counter(self, name: str) -> int:
        """A final counter by its ``C_*`` name."""
        return int(self.counters[S.COUNTER_NAMES.index(name)])

    def bg_counter(self, name: str) -> int:
        """A final background-work counter by its ``B_*`` name."""
        return int(self.bg[S.B_NAMES.index(name)])


def prepare(cfg: Config) -> tuple[S.State, S.Workload, S.RunParams, S.SizeClassTables, S.Costs]:
    """Compile ``cfg`` and build the initial engine state (root tables allocated)."""
    tab = sizeclass_tables(greentea=cfg.runtime.greentea,
                           packed_span_scan=cfg.runtime.packed_span_scan)
    costs = compile_costs(cfg, greentea=cfg.runtime.greentea)
    wl, n_roots = compile_workload(cfg)
    pools = compile_pools(cfg, wl.site_tab)
    rp = compile_run_params(cfg)
    root_pages = int(wl.site_tab[:, S.W_ROOT_LEN].sum()) * 8 // 8192 + 64 * len(cfg.workload.sites)
    max_pages = 1 << 14
    while max_pages < root_pages + 4 * (rp.max_request_pages + 512):
        max_pages *= 2
    st = S.new_state(
        gomaxprocs=cfg.run.gomaxprocs,
        n_sites=len(cfg.workload.sites),
        n_root_slots=n_roots,
        max_edges=max_edges(cfg),
        seed_state=seed_state(cfg.run.seed),
        site_weight=wl.rate_table[0, 1:],
        max_pages=max_pages,
        scratch_len=3 * (rp.max_step_objects + 1),
        pools=pools,
        stk=compile_stacks(cfg),
    )
    init_run(st, wl, rp, tab, costs)
    st = ensure_stack_room(st)
    init_goroutines(st.heap, st.counters, st.stk, st.rng)
    return st, wl, rp, tab, costs


def ensure_stack_room(st: S.State) -> S.State:
    """Grow the arrays until every goroutine could get a new stack (before a GC's shrinks)."""
    while (status := stacks_room_status(st.heap, st.counters, st.stk)) != S.ST_OK:
        st = S.grow_state(st, status)
    return st


def simulate(cfg: Config, progress: Callable[[float], None] | None = None, *,
             extra_forced_gcs: int = 0) -> RunResult:
    """Run ``cfg`` to its end and return the records.

    Parameters
    ----------
    cfg : Config
        A validated config.
    progress : callable, optional
        Called after each chunk with the fraction of the run done (by
        simulated time, or by allocations for allocation-bounded runs).
    extra_forced_gcs : int
        ``runtime.GC()`` calls after the workload (and after ``run.final_gc``'s),
        each a cycle record of its own (the stack twins' shrink sequence).

    A goroutine whose stack would pass ``runtime.max_stack_bytes`` ends the run
    as Go ends it: ``RunResult.fatal`` holds Go's messages and where it died,
    and everything computed up to then is returned.
    """
    t_wall = time.perf_counter()
    st, wl, rp, tab, costs = prepare(cfg)
    chunk_cycles = max(rp.quantum_cycles, int(CHUNK_S * cfg.run.clock_hz))
    until = chunk_cycles
    cycles_parts: list[np.ndarray] = []
    timeline_parts: list[np.ndarray] = []

    def drain() -> None:
        c = st.counters
        n_cyc, n_tl = int(c[S.C_N_CYCLE_RECORDS]), int(c[S.C_N_TIMELINE_RECORDS])
        if n_cyc:
            cycles_parts.append(st.rec.cycles[:n_cyc].copy())
        if n_tl:
            timeline_parts.append(st.rec.timeline[:n_tl].copy())
        c[S.C_N_CYCLE_RECORDS] = 0
        c[S.C_N_TIMELINE_RECORDS] = 0

    fatal = None
    while True:
        status = run_quanta(st, wl, rp, tab, costs, until)
        if status == S.ST_DONE:
            break
        if status == S.ST_STACK_OVERFLOW:
            fatal = fatal_report(cfg, st.stk)
            break
        if status == S.ST_OK:
            until += chunk_cycles
            if progress is not None:
                progress(_fraction_done(st, rp))
        elif status == S.ST_RECORDS_FULL:
            drain()
        elif status == S.ST_GROW_RATES:
            wl = wl._replace(rate_table=rate_table(cfg, 2 * wl.rate_table.shape[0]))
        elif status in (S.ST_GROW_SLOTS, S.ST_GROW_SPANS, S.ST_GROW_PAGES):
            if status == S.ST_GROW_PAGES and st.heap.page_span.shape[0] >= MAX_ARENA_PAGES:
                raise SimulationError(_state_summary(st, "heap arena exceeds 1 TiB"))
            st = S.grow_state(st, status)
        elif status == S.ST_GROW_POOL:
            st = st._replace(pool=grow_pools(st.pool))
        else:
            raise SimulationError(_state_summary(st, f"engine returned status {status}"))
    for _ in range(0 if fatal else int(cfg.run.final_gc) + extra_forced_gcs):
        drain()
        st = ensure_stack_room(st)
        force_gc(st, wl, rp, costs)
    stack_cache_clear(st.heap, st.counters, st.stk)  # ReadMemStats flushes the stack caches
    # A last timeline row at the end of the run.
    if st.counters[S.C_N_TIMELINE_RECORDS] >= st.rec.timeline.shape[0]:
        drain()
    sample_timeline(st)
    drain()
    if progress is not None:
        progress(1.0)
    c = st.counters
    return RunResult(
        config=cfg,
        params=rp,
        cycles=_concat(cycles_parts, S.CYCLE_DTYPE),
        timeline=_concat(timeline_parts, S.TIMELINE_DTYPE),
        counters=c.copy(),
        alloc_by_class=st.heap.alloc_by_class.copy(),
        free_by_class=st.heap.free_by_class.copy(),
        heap_objects=int(c[S.C_SLOT_ALLOCS] - c[S.C_SLOT_FREES]),
        wall_s=time.perf_counter() - t_wall,
        end_cycles=int(c[S.C_NOW_CYCLES]),
        extra={"stacks": stack_stats(cfg, st.stk, c),
               **({"pool_counters": st.pool.counters.copy()} if cfg.workload.pools else {})},
        fatal=fatal,
        spans=st.heap.spans[: int(c[S.C_N_SPAN_RECORDS])].copy(),
        bg=st.bg.copy(),
    )


def _concat(parts: list[np.ndarray], dtype: np.dtype) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def _fraction_done(st: S.State, rp: S.RunParams) -> float:
    c = st.counters
    by_time = c[S.C_NOW_CYCLES] / rp.end_cycles if rp.end_cycles < np.iinfo(np.int64).max else 0
    by_allocs = c[S.C_ALLOCS] / rp.max_allocs if rp.max_allocs < np.iinfo(np.int64).max else 0
    return float(min(1.0, max(by_time, by_allocs)))


def _state_summary(st: S.State, what: str) -> str:
    """The state dump a stall or runaway reports (ChampSim's deadlock dump)."""
    c = st.counters
    names = ("C_NOW_CYCLES", "C_ALLOCS", "C_NUM_GC", "C_HEAP_LIVE_BYTES", "C_HEAP_ALLOC_BYTES",
             "C_PAGES_INUSE", "C_PAGES_MAPPED", "C_PHASE", "C_GRAY_LEN", "C_GRAY_OBJ_LEN",
             "C_UNSWEPT_SPANS")
    fields = ", ".join(f"{n[2:].lower()}={int(c[S.COUNTER_NAMES.index(n)])}" for n in names)
    return f"{what}; engine state: {fields}"
