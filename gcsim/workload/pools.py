"""sync.Pool in the workload: the ``[[workload.pools]]`` vocabulary and its compilation.

A pool belongs to one site, the place in the program that calls
``pool.Get()``; the site's object is what ``New()`` allocates (through the
ordinary allocator, so its size and pointer words are the site's). Each step
of the site is one use of the pool, and the site's lifetime says how long
the object is held before ``Put``::

    [[workload.sites]]
    name = "buf"
    size = "4KiB"
    lifetime = { kind = "fifo", live_objects = 8 }   # 8 requests in flight

    [[workload.pools]]
    name = "bufpool"
    site = "buf"
    zero_on_put = false        # clear the object before Put (sensitive buffers)
    enabled = true             # false: the same program without the pool
    batch = 1                  # transient sites: objects one use Gets, or
                               # { values = [1, 32], weights = [0.99, 0.01] }

- ``transient`` site: Get ``batch`` objects, use them, Put them back in Get
  order (a handler that needs one buffer, sometimes many);
- ``fifo`` / ``exponential`` site: Get one object and hold it in the site's
  root table; the object it displaces is Put (requests in flight).

``runtime.pool_victim = false`` gives Go's behaviour before 1.13 (every pool
emptied at each GC). A config without ``pools`` is unchanged.

Validation lives here (called from ``config._parse_workload``) with the same
helpers and error messages as the rest of the config.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gcsim.errors import ConfigError

if TYPE_CHECKING:
    from gcsim.config import Config, SiteConfig
    from gcsim.engine.poolstate import Pools

MAX_BATCH = 4096
_POOL_KEYS = ("name", "site", "enabled", "zero_on_put", "batch")
_POOL_LIFETIMES = ("transient", "fifo", "exponential")


@dataclass(frozen=True, kw_only=True)
class PoolConfig:
    """One sync.Pool (TOML ``[[workload.pools]]``); keyword-only.

    Attributes
    ----------
    name : str
        Unique among pools.
    site : str
        The site whose steps use the pool; New() allocates its object. Fixed
        size, no refs, lifetime transient, fifo or exponential; one pool per site.
    enabled : bool
        False: the program without the pool (every Get is a New, Put drops).
    zero_on_put : bool
        Clear the object before Put (costs ``pool_zero_ns_per_byte`` per slot byte).
    batch_values : tuple of int
        Objects one use Gets (transient sites; fifo/exponential: exactly (1,)),
        1..4096.
    batch_weights : tuple of float
        Relative frequency of each ``batch_values`` entry.
    """

    name: str
    site: str
    enabled: bool = True
    zero_on_put: bool = False
    batch_values: tuple[int, ...] = (1,)
    batch_weights: tuple[float, ...] = (1.0,)


def parse_pools(raw: Any, sites: tuple[SiteConfig, ...]) -> tuple[PoolConfig, ...]:
    """Validate ``workload.pools`` (a list of tables) against the parsed sites."""
    from gcsim import config as C

    out: list[PoolConfig] = []
    by_site: dict[str, int] = {}
    names: dict[str, int] = {}
    site_index = {s.name: s for s in sites}
    for i, t in enumerate(C._list(raw, "workload.pools", "pool tables")):
        key = f"workload.pools[{i}]"
        t = C._table(t, key)
        C._check_keys(t, key, _POOL_KEYS)
        name = C._required(t, key, "name", "a pool name (a string)")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{key}.name", name, "a non-empty string")
        if name in names:
            raise ConfigError(
                f"{key}.name",
                name,
                "a name no other pool uses",
                f"workload.pools[{names[name]}] is also named {name!r}",
            )
        names[name] = i
        site = C._required(t, key, "site", "the name of the site that calls Get")
        if not isinstance(site, str) or site not in site_index:
            raise C._unknown_key(
                f"{key}.site", str(site), site, tuple(site_index), "the name of a site"
            )
        if site in by_site:
            raise ConfigError(
                f"{key}.site",
                site,
                "a site no other pool uses",
                f"workload.pools[{by_site[site]}] uses it too",
            )
        by_site[site] = i
        _check_pool_site(site_index[site], f"{key}.site", site)
        values, weights = _parse_batch(t.get("batch", 1), f"{key}.batch")
        kind = site_index[site].lifetime.kind
        if kind != "transient" and values != (1,):
            raise ConfigError(
                f"{key}.batch",
                t.get("batch"),
                f"1 when the site's lifetime.kind is {kind!r}",
                "a held object is Put when the next Get displaces it",
            )
        out.append(
            PoolConfig(
                name=name,
                site=site,
                enabled=C._bool(t.get("enabled", True), f"{key}.enabled"),
                zero_on_put=C._bool(t.get("zero_on_put", False), f"{key}.zero_on_put"),
                batch_values=values,
                batch_weights=weights,
            )
        )
    return tuple(out)


def _check_pool_site(s: SiteConfig, key: str, name: str) -> None:
    why = ""
    if s.size.dist != "fixed":
        why = "a fixed size (a pool holds objects of one type)"
    elif s.refs:
        why = "no refs (pooled objects keep their pointer slots nil)"
    elif s.lifetime.kind not in _POOL_LIFETIMES:
        why = "lifetime.kind transient, fifo or exponential"
    elif s.pointer_writes_per_alloc:
        why = "pointer_writes_per_alloc = 0"
    if why:
        raise ConfigError(key, name, f"a site with {why}")


def _parse_batch(value: Any, key: str) -> tuple[tuple[int, ...], tuple[float, ...]]:
    from gcsim import config as C

    if not isinstance(value, dict):
        n = C._req_int(value, key, 1, MAX_BATCH)
        return (n,), (1.0,)
    C._check_keys(value, key, ("values", "weights"))
    raw = C._list(
        C._required(value, key, "values", "a list of integers"), f"{key}.values", "integers"
    )
    if not raw:
        raise ConfigError(f"{key}.values", raw, f"a non-empty list of integers in 1..{MAX_BATCH}")
    values = tuple(C._req_int(v, f"{key}.values[{j}]", 1, MAX_BATCH) for j, v in enumerate(raw))
    rw = C._list(value.get("weights", [1.0] * len(values)), f"{key}.weights", "numbers >= 0")
    if len(rw) != len(values):
        raise ConfigError(f"{key}.weights", rw, f"a list of {len(values)} numbers")
    weights = tuple(C._req_num(w, f"{key}.weights[{j}]", 0.0) for j, w in enumerate(rw))
    if sum(weights) <= 0:
        raise ConfigError(f"{key}.weights", rw, "numbers >= 0 with a sum > 0")
    return values, weights


def pools_to_dict(pools: tuple[PoolConfig, ...]) -> list[dict[str, Any]]:
    """The resolved ``workload.pools`` list (every field written)."""
    out = []
    for p in pools:
        batch: Any = (
            p.batch_values[0]
            if len(p.batch_values) == 1
            else {"values": list(p.batch_values), "weights": [float(w) for w in p.batch_weights]}
        )
        out.append(
            {
                "name": p.name,
                "site": p.site,
                "enabled": p.enabled,
                "zero_on_put": p.zero_on_put,
                "batch": batch,
            }
        )
    return out


def without_pools(cfg: Config) -> Config:
    """The same config with every pool disabled (Get = New, Put drops)."""
    from dataclasses import replace

    pools = tuple(replace(p, enabled=False) for p in cfg.workload.pools)
    return replace(cfg, workload=replace(cfg.workload, pools=pools))


# --- compilation ----------------------------------------------------------------------

# Cost entries (goruntime/costs.py) in PCOST_* order.
_COST_NAMES = (
    "pool_get_private_ns",
    "pool_get_shared_ns",
    "pool_get_slow_ns",
    "pool_probe_ns",
    "pool_pop_tail_ns",
    "pool_put_private_ns",
    "pool_put_shared_ns",
    "pool_zero_ns_per_byte",
)


def compile_pools(cfg: Config, site_tab: np.ndarray) -> Pools:
    """The engine's ``Pools`` for ``cfg``; marks each pooled site in ``site_tab``.

    A pooled site's ``W_LIFE_KIND`` becomes transient in the table (the pool
    step publishes and Puts its objects; the mutator loop must not) and its
    real lifetime goes to the pool's ``PP_LIFE``.
    """
    from gcsim.engine import poolstate as PS
    from gcsim.engine import state as S
    from gcsim.workload.compile import _LIFE

    site_tab[:, S.W_POOL] = -1
    pools = cfg.workload.pools
    index = {s.name: i for i, s in enumerate(cfg.workload.sites)}
    n = len(pools)
    params = np.zeros((max(n, 1), PS.N_PP), dtype=np.int64)
    params[:, PS.PP_SITE] = -1
    values: list[int] = []
    cdf: list[float] = []
    for k, p in enumerate(pools):
        site = index[p.site]
        site_tab[site, S.W_POOL] = k
        params[k, PS.PP_SITE] = site
        params[k, PS.PP_ENABLED] = int(p.enabled)
        params[k, PS.PP_ZERO_ON_PUT] = int(p.zero_on_put)
        params[k, PS.PP_VICTIM] = int(cfg.runtime.pool_victim)
        params[k, PS.PP_LIFE] = _LIFE[cfg.workload.sites[site].lifetime.kind]
        site_tab[site, S.W_LIFE_KIND] = S.LIFE_TRANSIENT
        params[k, PS.PP_BATCH_OFF] = len(values)
        params[k, PS.PP_BATCH_N] = len(p.batch_values)
        w = np.asarray(p.batch_weights, dtype=np.float64)
        values.extend(p.batch_values)
        cdf.extend(np.cumsum(w / w.sum()).tolist())
        cdf[-1] = 1.0
    scale = cfg.run.clock_hz / 1e9
    cost = np.array([cfg.costs.ns(name) * scale for name in _COST_NAMES], dtype=np.float64)
    return PS.new_pools(
        n,
        cfg.run.gomaxprocs,
        params,
        np.array(values or [1], dtype=np.int64),
        np.array(cdf or [1.0], dtype=np.float64),
        cost,
    )


def max_batch(cfg: Config) -> int:
    """The most objects one pool use can allocate (for the step's room check)."""
    return max((max(p.batch_values) for p in cfg.workload.pools), default=1)
