"""Config -> the flat arrays and scalar tuples the engine runs on.

This is the only place the validated config meets the engine's encoding:
site names become indices, distributions become kind codes and tables,
lifetimes become root regions, costs in ns become cycles at ``run.clock_hz``,
and "off"/"unlimited" (``None`` in the config) become the engine's sentinels.
Nothing here loops per object.
"""

from __future__ import annotations

import numpy as np

from gcsim.config import Config
from gcsim.engine import state as S
from gcsim.engine.pacer import (
    LIMITER_ASSIST_SLACK_NS,
    LIMITER_UPDATE_PERIOD_NS,
    bg_workers,
    max_idle_mark_workers,
)
from gcsim.engine.state import (
    DIST_CHOICE,
    DIST_FIXED,
    DIST_LOGUNIFORM,
    DIST_UNIFORM,
    LIFE_EXPONENTIAL,
    LIFE_FIFO,
    LIFE_IMMORTAL,
    LIFE_TRANSIENT,
    REF_CHILD,
    REF_NIL,
    REF_RANDOM,
    Costs,
    RunParams,
    SizeClassTables,
    Workload,
)
from gcsim.errors import ConfigError
from gcsim.goruntime import sizeclasses as scl
from gcsim.units import ns_to_cycles
from gcsim.workload.pools import max_batch
from gcsim.workload.streams import stream_to_toml
from gcsim.workload.streams import values as stream_values

I64_MAX = int(np.iinfo(np.int64).max)

_DISTS = {"fixed": DIST_FIXED, "uniform": DIST_UNIFORM, "loguniform": DIST_LOGUNIFORM,
          "choice": DIST_CHOICE}
_LIFE = {"transient": LIFE_TRANSIENT, "fifo": LIFE_FIFO, "exponential": LIFE_EXPONENTIAL,
         "immortal": LIFE_IMMORTAL}
_REFS = {"nil": REF_NIL, "child": REF_CHILD, "random": REF_RANDOM}

# Cost fields whose table entry is per byte or per word stay fractional.
_COST_FIELDS = {
    "alloc_fast": "alloc_fast_ns",
    "alloc_fast_scan": "alloc_fast_scan_ns",
    "alloc_small": "alloc_small_ns",
    "alloc_small_scan": "alloc_small_scan_ns",
    "alloc_tiny": "alloc_tiny_ns",
    "alloc_black": "alloc_black_ns",
    "alloc_zero_per_byte": "alloc_zero_ns_per_byte",
    "alloc_scan_per_byte": "alloc_scan_ns_per_byte",
    "mcache_refill": "mcache_refill_ns",
    "span_alloc": "span_alloc_ns",
    "large_alloc": "large_alloc_ns",
    "large_alloc_per_byte": "large_alloc_ns_per_byte",
    "mark_object": "mark_object_ns",
    "mark_noscan_object": "mark_noscan_object_ns",
    "mark_header_object": "mark_header_object_ns",
    "mark_header_page": "mark_header_page_ns",
    "mark_pointer": "mark_pointer_ns",
    "mark_scan_word": "mark_scan_word_ns",
    "mark_root_word": "mark_root_word_ns",
    "mark_cycle": "mark_cycle_ns",
    "sweep_span": "sweep_span_ns",
    "sweep_free_span": "sweep_free_span_ns",
    "scavenge_page": "scavenge_ns_per_page",
    "page_fault": "page_fault_ns",
    "stw_sweep_term": "stw_sweep_term_ns",
    "stw_mark_term": "stw_mark_term_ns",
    "stw_per_p": "stw_per_p_ns",
    "stw_stop_running": "stw_stop_running_ns",
    "pointer_write": "pointer_write_ns",
    "write_barrier": "write_barrier_ns",
    "stack_copy_per_byte": "stack_copy_ns_per_byte",
}


def sizeclass_tables(greentea: bool = True, packed_span_scan: bool = False) -> SizeClassTables:
    """Go's tables, with the objects per span of a Green Tea or classic build and
    which spans' marked objects wait in Green Tea's span queue.

    ``packed_span_scan``: the CPU has Green Tea's packed span scan
    (internal/runtime/gc/scan HasFastScanSpanPacked). A scan of a span of 16-512 B
    pointerful slots that finds at least nelems/8 marked objects then takes it
    and counts whole slots as scan work; a span scan of one object never does
    (mgcmark_greenteagc.go scanSpan).
    """
    noscan = scl.NELEMS_NOSCAN_GREENTEA if greentea else scl.NELEMS_NOSCAN_CLASSIC
    scan = scl.NELEMS_SCAN_GREENTEA if greentea else scl.NELEMS_SCAN_CLASSIC
    spanclass_nelems = np.zeros(scl.NUM_SPAN_CLASSES, dtype=np.int64)
    spanclass_nelems[0::2] = scan
    spanclass_nelems[1::2] = noscan
    spanclass_nelems[0:2] = 1  # large objects: one object per span
    # Green Tea queues a marked object of a 16-512 B pointerful span on its span
    # (gcUsesSpanInlineMarkBits), everything else on the object workbufs.
    size = np.asarray(scl.CLASS_TO_SIZE_BYTES, dtype=np.int64)
    in_span_queue = greentea & (size >= 16) & (size <= scl.MIN_SIZE_FOR_MALLOC_HEADER_BYTES)
    span_queue = np.zeros(scl.NUM_SPAN_CLASSES, dtype=np.int64)
    span_queue[0::2] = in_span_queue
    dense_min = np.full(scl.NUM_SPAN_CLASSES, S.NO_DENSE_SCAN, dtype=np.int64)
    if packed_span_scan:
        dense_min[0::2] = np.where(in_span_queue, np.maximum(2, scan // 8), S.NO_DENSE_SCAN)
    return SizeClassTables(
        class_size=np.ascontiguousarray(scl.CLASS_TO_SIZE_BYTES, dtype=np.int64),
        class_npages=np.ascontiguousarray(scl.CLASS_TO_NPAGES, dtype=np.int64),
        spanclass_nelems=spanclass_nelems,
        spanclass_dense_scan_min=dense_min,
        spanclass_span_queue=span_queue,
        size_to_class8=np.ascontiguousarray(scl.SIZE_TO_CLASS8, dtype=np.int64),
        size_to_class128=np.ascontiguousarray(scl.SIZE_TO_CLASS128, dtype=np.int64),
    )


def compile_costs(cfg: Config, greentea: bool = True) -> Costs:
    """The cost table in cycles at ``run.clock_hz`` (classic mark costs if not Green Tea)."""
    ns = cfg.costs.as_dict()
    if not greentea:
        ns = dict(ns, mark_object_ns=ns["mark_object_classic_ns"],
                  mark_pointer_ns=ns["mark_pointer_classic_ns"])
    scale = cfg.run.clock_hz / 1e9
    return Costs(**{field: float(ns[name] * scale) for field, name in _COST_FIELDS.items()})


def compile_workload(cfg: Config) -> tuple[Workload, int]:
    """Site arrays and the number of root slots they need."""
    sites = cfg.workload.sites
    index = {s.name: i for i, s in enumerate(sites)}
    n = len(sites)
    size_dist = np.array([_DISTS[s.size.dist] for s in sites], dtype=np.int64)
    size_min = np.array([s.size.min_bytes for s in sites], dtype=np.int64)
    size_max = np.array([s.size.max_bytes for s in sites], dtype=np.int64)
    choice_off = np.zeros(n, dtype=np.int64)
    choice_n = np.zeros(n, dtype=np.int64)
    choice_bytes: list[int] = []
    choice_cdf: list[float] = []
    for i, s in enumerate(sites):
        if s.size.dist == "choice":
            choice_off[i] = len(choice_bytes)
            choice_n[i] = len(s.size.values_bytes)
            w = np.asarray(s.size.weights, dtype=np.float64)
            choice_bytes.extend(s.size.values_bytes)
            choice_cdf.extend(np.cumsum(w / w.sum()).tolist())
    ptr_words = np.array([-1 if s.pointer_words is None else s.pointer_words for s in sites],
                         dtype=np.int64)
    ptr_density = np.array([s.pointer_density or 0.0 for s in sites], dtype=np.float64)
    life_kind = np.array([_LIFE[s.lifetime.kind] for s in sites], dtype=np.int64)
    root_len = np.zeros(n, dtype=np.int64)
    for i, s in enumerate(sites):
        kind = s.lifetime.kind
        if kind == "fifo":
            root_len[i] = s.lifetime.live_objects
        elif kind == "exponential":
            root_len[i] = s.lifetime.mean_allocs
        elif kind == "immortal":
            root_len[i] = s.max_allocs
    root_base = np.concatenate([[0], np.cumsum(root_len)[:-1]]).astype(np.int64)
    max_allocs = np.array([-1 if s.max_allocs is None else s.max_allocs for s in sites],
                          dtype=np.int64)
    ref_off = np.zeros(n, dtype=np.int64)
    ref_n = np.zeros(n, dtype=np.int64)
    ref_kind: list[int] = []
    ref_site: list[int] = []
    for i, s in enumerate(sites):
        ref_off[i] = len(ref_kind)
        ref_n[i] = len(s.refs)
        for r in s.refs:
            ref_kind.append(_REFS[r.to])
            ref_site.append(index[r.site] if r.site is not None else -1)
    site_tab = np.zeros((n, S.N_W), dtype=np.int64)
    site_tab[:, S.W_SIZE_DIST] = size_dist
    site_tab[:, S.W_SIZE_MIN] = size_min
    site_tab[:, S.W_SIZE_MAX] = size_max
    site_tab[:, S.W_CHOICE_OFF] = choice_off
    site_tab[:, S.W_CHOICE_N] = choice_n
    site_tab[:, S.W_PTR_WORDS] = ptr_words
    site_tab[:, S.W_LIFE_KIND] = life_kind
    site_tab[:, S.W_ROOT_BASE] = root_base
    site_tab[:, S.W_ROOT_LEN] = root_len
    site_tab[:, S.W_MAX_ALLOCS] = max_allocs
    site_tab[:, S.W_REF_OFF] = ref_off
    site_tab[:, S.W_REF_N] = ref_n
    site_tab[:, S.W_POOL] = -1  # workload.pools.compile_pools marks the pooled sites
    wl = Workload(
        site_tab=site_tab,
        site_ptr_density=ptr_density,
        site_writes=np.array([s.pointer_writes_per_alloc for s in sites], dtype=np.float64),
        choice_bytes=np.array(choice_bytes or [0], dtype=np.int64),
        choice_cdf=np.array(choice_cdf or [1.0], dtype=np.float64),
        ref_kind=np.array(ref_kind or [0], dtype=np.int64),
        ref_site=np.array(ref_site or [-1], dtype=np.int64),
        rate_table=rate_table(cfg, initial_rate_rows(cfg)),
    )
    return wl, int(root_len.sum())


RATE_ROWS_CHUNK = 1024  # rows of rate_table made at a time for runs without a duration


def initial_rate_rows(cfg: Config) -> int:
    """Rows of ``rate_table`` to build up front: one without streams, all the
    run needs with a duration, else a chunk (the driver extends it)."""
    r = cfg.workload.rates
    if r is None:
        return 1
    if cfg.run.duration_s is not None:
        return int(np.ceil(cfg.run.duration_s / r.step_s)) + 1
    return RATE_ROWS_CHUNK


def rate_table(cfg: Config, n_rows: int) -> np.ndarray:
    """float64[n_rows, 1 + n_sites]: per stream step, compute cycles per
    allocation (column 0) and each site's weight (column 1 + site).

    Raises ConfigError if the streams leave every site at weight 0 at some step
    (no program would run), naming the step and its time.
    """
    w = cfg.workload
    hz = cfg.run.clock_hz
    sites = [s.name for s in w.sites]
    table = np.empty((n_rows, 1 + len(sites)), dtype=np.float64)
    table[:, 0] = w.compute_ns_per_alloc
    table[:, 1:] = np.array([s.weight for s in w.sites])
    r = w.rates
    if r is not None:
        if r.compute_ns_per_alloc is not None:
            table[:, 0] += stream_values(r.compute_ns_per_alloc, n_rows)
        for name, st in r.site_weights:
            table[:, 1 + sites.index(name)] += stream_values(st, n_rows)
    np.maximum(table, 0.0, out=table)
    table[:, 0] = np.round(table[:, 0] * hz / 1e9)
    dead = np.flatnonzero(table[:, 1:].sum(axis=1) <= 0.0)
    if dead.size and r is not None:
        k = int(dead[0])
        raise ConfigError("workload.rates.site_weights", dict(
            (n, stream_to_toml(st)) for n, st in r.site_weights),
            "streams that keep some site's weight > 0 at every step",
            f"at step {k} (t = {k * r.step_s:g} s) every weight is 0")
    return table


def step_objects(cfg: Config) -> int:
    """The most objects one mutator step can allocate: a site plus all its descendants."""
    sites = {s.name: s for s in cfg.workload.sites}
    memo: dict[str, int] = {}

    def count(name: str) -> int:
        if name not in memo:
            memo[name] = 1 + sum(count(r.site) for r in sites[name].refs
                                 if r.to == "child" and r.site is not None)
        return memo[name]

    return max(max(count(s.name) for s in cfg.workload.sites), max_batch(cfg))


def max_edges(cfg: Config) -> int:
    """Width of the per-slot pointer-slot table (the most refs any site has)."""
    return max((len(s.refs) for s in cfg.workload.sites), default=0)


def compile_run_params(cfg: Config) -> RunParams:
    """Scalars of the run, with ``None`` mapped to the engine's sentinels."""
    hz = cfg.run.clock_hz
    end_cycles = I64_MAX if cfg.run.duration_s is None else int(round(cfg.run.duration_s * hz))
    dedicated, fractional = bg_workers(cfg.run.gomaxprocs)
    max_request = max(s.size.max_bytes for s in cfg.workload.sites)
    max_request_pages = -(-(max_request + scl.MALLOC_HEADER_BYTES) // scl.PAGE_BYTES)
    return RunParams(
        gomaxprocs=cfg.run.gomaxprocs,
        quantum_cycles=max(1, ns_to_cycles(cfg.run.quantum_ns, hz)),
        timeline_interval_cycles=max(1, ns_to_cycles(cfg.run.timeline_interval_ns, hz)),
        end_cycles=end_cycles,
        max_allocs=I64_MAX if cfg.run.max_allocs is None else cfg.run.max_allocs,
        gogc=-1 if cfg.runtime.gogc is None else cfg.runtime.gogc,
        memory_limit_bytes=-1 if cfg.runtime.gomemlimit is None else cfg.runtime.gomemlimit,
        globals_bytes=cfg.workload.globals_bytes,
        rate_step_cycles=(0 if cfg.workload.rates is None
                          else max(1, ns_to_cycles(cfg.workload.rates.step_s * 1e9, hz))),
        max_step_objects=step_objects(cfg),
        max_request_pages=max_request_pages,
        stw_mark=cfg.runtime.gcstoptheworld,
        write_barrier=int(cfg.runtime.write_barrier),
        dedicated_workers=dedicated,
        fractional_goal=fractional,
        pacer=S.PACER_GO15 if cfg.runtime.pacer == "go1.5" else S.PACER_GO118,
        limiter_capacity_cycles=int(cfg.run.gomaxprocs * hz),  # GOMAXPROCS x 1 s
        limiter_period_cycles=ns_to_cycles(LIMITER_UPDATE_PERIOD_NS, hz),
        limiter_assist_slack_cycles=ns_to_cycles(LIMITER_ASSIST_SLACK_NS, hz),
        mutator_procs=cfg.run.gomaxprocs if cfg.workload.mutator_procs is None
        else min(cfg.workload.mutator_procs, cfg.run.gomaxprocs),
        # Every gcsim cycle is heap- or runtime.GC()-triggered: the 2-minute time
        # trigger (periodic, fewer idle workers) is not modelled.
        max_idle_mark_workers=max_idle_mark_workers(cfg.run.gomaxprocs, dedicated, False),
        preempt_cycles=ns_to_cycles(cfg.runtime.preempt_ns, hz),
    )
