"""sync.Pool figures of a run, and the comparison with the pool disabled.

``pool_summary`` gives summary.json its ``pool`` table (per pool and total):
Gets, Puts, hits by where Get found the object (private, shared head, stolen
from another P's tail, victim), New() calls, objects dropped by the GC's
poolCleanup (total, per GC, most in one GC), allocation bytes saved (slot
bytes of hits) and the CPU spent in Get/Put; ``pool_hit_rate`` is hits / Gets
over all pools (the validate harness's figure).

``pool_comparison`` sets two summaries side by side: the same workload with
and without the pool (``workload.pools[].enabled = false``), for GC count,
peak heap, allocations and GC CPU. ``gcsim pool CONFIG`` runs both.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gcsim.engine import poolstate as PS

_HITS = (
    ("private", PS.PC_HIT_PRIVATE),
    ("shared", PS.PC_HIT_SHARED),
    ("stolen", PS.PC_HIT_STOLEN),
    ("victim", PS.PC_HIT_VICTIM),
)


def _one(c: np.ndarray, gc_count: int, hz: float) -> dict[str, Any]:
    gets = int(c[PS.PC_GETS])
    hits = {name: int(c[i]) for name, i in _HITS}
    n_hits = sum(hits.values())
    return {
        "gets": gets,
        "puts": int(c[PS.PC_PUTS]),
        "hits": hits,
        "hit_rate": n_hits / gets if gets else None,
        "new_calls": int(c[PS.PC_NEWS]),
        "dropped_objects": int(c[PS.PC_DROPPED]),
        "dropped_per_gc": int(c[PS.PC_DROPPED]) / gc_count if gc_count else 0.0,
        "dropped_max_per_gc": int(c[PS.PC_DROPPED_MAX]),
        "alloc_bytes_saved": int(c[PS.PC_SAVED_BYTES]),
        "zeroed_bytes": int(c[PS.PC_ZEROED_BYTES]),
        "pool_cpu_s": int(c[PS.PC_CPU_CYCLES]) / hz,
        "max_shared_depth": int(c[PS.PC_MAX_DEPTH]),
    }


def pool_summary(result: Any) -> dict[str, Any]:
    """``{"pool": {...}, "pool_hit_rate": float}``, or ``{}`` for a workload without pools."""
    cfg = result.config
    counters = result.extra.get("pool_counters")
    if not cfg.workload.pools or counters is None:
        return {}
    gc_count = int(len(result.cycles))
    hz = cfg.run.clock_hz
    per = {
        p.name: _one(counters[k], gc_count, hz) | {"enabled": p.enabled, "site": p.site}
        for k, p in enumerate(cfg.workload.pools)
    }
    total = _one(counters.sum(axis=0), gc_count, hz)
    total["dropped_max_per_gc"] = max(v["dropped_max_per_gc"] for v in per.values())
    total["max_shared_depth"] = max(v["max_shared_depth"] for v in per.values())
    return {
        "pool": {"victim_cache": cfg.runtime.pool_victim, "total": total, "pools": per},
        "pool_hit_rate": total["hit_rate"],
    }


_COMPARED = (
    "gc_count",
    "peak_heap_inuse_bytes",
    "peak_heap_alloc_bytes",
    "allocs",
    "alloc_bytes",
    "gc_cpu_fraction",
    "mean_heap_goal_bytes",
)


def pool_comparison(with_pool: dict[str, Any], without_pool: dict[str, Any]) -> dict[str, Any]:
    """Figures of two summaries (with / without the pool) and their differences."""
    rows: dict[str, Any] = {}
    for k in _COMPARED:
        a, b = with_pool.get(k), without_pool.get(k)
        row: dict[str, Any] = {"with_pool": a, "without_pool": b}
        if isinstance(a, int | float) and isinstance(b, int | float):
            row["difference"] = a - b
            row["relative"] = (a - b) / b if b else None
        rows[k] = row
    return {
        "figures": rows,
        "pool": with_pool.get("pool"),
        "pool_hit_rate": with_pool.get("pool_hit_rate"),
    }
