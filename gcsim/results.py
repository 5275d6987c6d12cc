"""One folder per run (DESIGN.md §5), written atomically.

Files are written into a hidden sibling folder first and renamed into place
at the end, so a run that is interrupted leaves either its previous complete
folder or nothing, never a half-written one. Everything except
``provenance.json``'s wall time is a pure function of the config and seed:
two runs give byte-identical folders.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

import gcsim
from gcsim.config import config_hash, dump_config
from gcsim.metrics import summary as M
from gcsim.metrics.fragmentation import class_occupancy, fragmentation_table
from gcsim.run import RunResult

GO_SEMANTICS = "go1.27.3"


def collector_description(result: RunResult) -> str:
    """What collector and pacer the run modelled, in one line for provenance."""
    rt = result.config.runtime
    mark = "stop-the-world mark (gcstoptheworld=1)" if rt.gcstoptheworld else (
        "concurrent mark: 25 % background workers, assists, hybrid write barrier"
        + ("" if rt.write_barrier else " (write barrier OFF)"))
    marker = "Green Tea" if rt.greentea else "classic (nogreenteagc)"
    return (f"{mark}; {marker} marking costs; idle-priority marking on idle Ps; lazy, "
            f"proportional and background sweep; background scavenger; {rt.pacer} pacer")


def _json(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n"


def _csv(columns: dict[str, np.ndarray]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    names = list(columns)
    w.writerow(names)
    cols = [np.asarray(columns[n]) for n in names]
    n = len(cols[0]) if cols else 0
    for i in range(n):
        w.writerow([_cell(c[i]) for c in cols])
    return buf.getvalue()


def _cell(v: Any) -> str:
    if isinstance(v, (np.floating, float)):
        return repr(float(v))
    if isinstance(v, (np.integer, int)):
        return str(int(v))
    return str(v)


def git_commit() -> str | None:
    """The commit of the gcsim checkout this code runs from, if it is one."""
    here = Path(gcsim.__file__).resolve().parent
    try:
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def provenance(result: RunResult, argv: list[str] | None = None) -> dict[str, Any]:
    """Where a result came from: versions, commit, config hash, seed, wall time."""
    import numba

    return {
        "gcsim_version": gcsim.__version__,
        "git_commit": git_commit(),
        "config_hash": config_hash(result.config),
        "seed": result.config.run.seed,
        "go_semantics": GO_SEMANTICS,
        "collector": collector_description(result),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "platform": platform.platform(),
        "argv": argv if argv is not None else sys.argv,
        "wall_s": round(result.wall_s, 3),
    }


def write_run(result: RunResult, out_dir: str | os.PathLike[str], *,
              plots: bool = True, argv: list[str] | None = None) -> Path:
    """Write the complete results folder for ``result`` and return its path."""
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    cfg = result.config
    hz = cfg.run.clock_hz
    P = cfg.run.gomaxprocs
    files = {
        "config.toml": dump_config(cfg),
        "gctrace.txt": "".join(line + "\n" for line in M.gctrace_lines(result.cycles, hz, P)),
        "cycles.csv": _csv(M.cycle_table(result.cycles, hz, P)),
        "timeline.csv": _csv(M.timeline_table(result.timeline, hz)),
        "memstats.json": _json(M.memstats(result)),
        "fragmentation.csv": _csv(fragmentation_table(class_occupancy(result.spans))),
        "summary.json": _json(M.summary(result)),
        "provenance.json": _json(provenance(result, argv)),
    }
    if result.fatal:
        from gcsim.metrics.stacks import fatal_text

        files["fatal_error.txt"] = fatal_text(result.fatal)
    for name, text in files.items():
        (tmp / name).write_text(text, encoding="utf-8")
    if plots:
        from gcsim.plotting import run_figures

        run_figures(result, tmp, metadata={"config_hash": config_hash(cfg),
                                           "gcsim": gcsim.__version__})
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return out


def file_digest(path: str | os.PathLike[str]) -> str:
    """sha256 of a file (tests compare folders with it)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
