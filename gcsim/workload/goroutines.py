"""Config -> the engine's goroutine tables (``engine.stackstate.Stacks``).

Each ``[[workload.goroutines]]`` group becomes a row of ``grp`` (count,
excursions, what a finished goroutine does) and two distribution rows of
``dist_tab``, frame bytes and depth, in the column layout ``draw_size``
reads for sites. Goroutines are numbered group by group. The runtime's
stack knobs (``max_stack_bytes``, ``shrink_stacks``,
``adaptive_stack_start``) go into ``params``, and each site's escape
probability into ``site_escape``.
"""

from __future__ import annotations

import numpy as np

from gcsim.config import Config, SizeDist
from gcsim.engine import stackstate as K
from gcsim.engine import state as S

_DIST = {"fixed": S.DIST_FIXED, "uniform": S.DIST_UNIFORM, "loguniform": S.DIST_LOGUNIFORM,
         "choice": S.DIST_CHOICE}


def _size_row(z: SizeDist, values: list[int], cdf: list[float]) -> np.ndarray:
    row = np.zeros(S.N_W, dtype=np.int64)
    row[S.W_SIZE_DIST] = _DIST[z.dist]
    row[S.W_SIZE_MIN] = z.min_bytes
    row[S.W_SIZE_MAX] = z.max_bytes
    if z.dist == "choice":
        w = np.asarray(z.weights, dtype=np.float64)
        row[S.W_CHOICE_OFF] = len(values)
        row[S.W_CHOICE_N] = len(z.values_bytes)
        values.extend(z.values_bytes)
        cdf.extend(np.cumsum(w / w.sum()).tolist())
    return row


def compile_stacks(cfg: Config) -> K.Stacks:
    """The stack state of a run: goroutine groups, parameters, empty pools and caches."""
    groups = cfg.workload.goroutines
    params = np.zeros(K.N_SP, dtype=np.int64)
    params[K.SP_MAX_STACK_BYTES] = cfg.runtime.max_stack_bytes
    params[K.SP_SHRINK] = int(cfg.runtime.shrink_stacks)
    params[K.SP_ADAPTIVE] = int(cfg.runtime.adaptive_stack_start)
    grp = np.zeros((len(groups), K.N_GR), dtype=np.int64)
    dist_tab = np.zeros((2 * len(groups), S.N_W), dtype=np.int64)
    values: list[int] = []
    cdf: list[float] = []
    first = 0
    for i, g in enumerate(groups):
        grp[i, K.GR_COUNT] = g.count
        grp[i, K.GR_EXCURSIONS] = -1 if g.excursions is None else g.excursions
        grp[i, K.GR_AFTER] = K.AFTER_BLOCK if g.after == "block" else K.AFTER_EXIT
        grp[i, K.GR_BLOCK_DEPTH] = g.block_depth
        grp[i, K.GR_FIRST_G] = first
        first += g.count
        dist_tab[2 * i] = _size_row(g.frame, values, cdf)
        depth = dist_tab[2 * i + 1]
        depth[S.W_SIZE_DIST] = _DIST[g.depth.dist]
        depth[S.W_SIZE_MIN] = g.depth.min
        depth[S.W_SIZE_MAX] = g.depth.max
    return K.new_stacks(
        gomaxprocs=cfg.run.gomaxprocs,
        params=params,
        grp=grp,
        grp_calls=np.array([g.calls_per_step for g in groups], dtype=np.float64),
        dist_tab=dist_tab,
        choice_vals=np.array(values or [0], dtype=np.int64),
        choice_cdf=np.array(cdf or [1.0], dtype=np.float64),
        site_escape=np.array([s.escape for s in cfg.workload.sites], dtype=np.float64),
    )
