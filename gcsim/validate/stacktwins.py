"""Stack twins: gcsim's goroutine stacks against a real Go program's (issue 7).

``validation/stacks/main.go`` (the *stack twin*) recurses through functions
whose frames hold a local byte array of 48, 1000 or 16 360 bytes (variants
``64``, ``1k``, ``16k``) and reports what real Go does; this module builds the
same situation as a gcsim config from ``validation/stacks/base.toml`` and
compares:

1. **Frame bytes, measured in Go, never assumed.** ``measure_frames`` runs
   the twin's ``frame`` mode: the distance between the local arrays of two
   consecutive frames is what one call takes (return address, saved frame
   pointer, locals, spill space): 64, 1016 and 16 376 bytes for the
   argument-less recursions on go1.27.3/amd64, 112, 1064 and 16 440 for the
   recursions with arguments. The gcsim configs use these numbers.
2. **Overflow depth.** ``overflow`` mode recurses in a goroutine started as
   ``go rec()`` until Go throws; the depth reached is written to a memory-
   mapped file at every call, so it survives the crash. gcsim runs the same
   recursion (``frame`` = the measured bytes, one goroutine, unbounded depth)
   and must die at the same depth, with the same messages.
3. **StackInuse.** ``inuse`` mode parks G goroutines at depth R; the
   StackInuse they add (Go's figure after minus before, ReadMemStats both
   times) against gcsim's StackInuse.
4. **Shrinking.** ``shrink`` mode sends G goroutines to depth R, parks them
   at depth B, then calls ``runtime.GC()`` N times; the StackInuse they hold
   after each GC against gcsim's after each forced cycle.

Everything here is plain Python; Go is optional (``goruntime.gotool``).
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gcsim.config import Config, load_config
from gcsim.errors import ValidationError
from gcsim.goruntime.gotool import find_go, go_env

TWIN_DIR = Path(__file__).resolve().parents[2] / "validation" / "stacks"
BASE_CONFIG = TWIN_DIR / "base.toml"
BINARY_NAME = "stacktwin"
VARIANTS = ("64", "1k", "16k")
UNBOUNDED_DEPTH = 1 << 50
_TIMEOUT_S = 300.0
_LIMIT_RE = re.compile(r"^runtime: goroutine stack exceeds (\d+)-byte limit$", re.M)
_SP_RE = re.compile(r"^runtime: sp=(0x[0-9a-f]+) stack=\[(0x[0-9a-f]+), (0x[0-9a-f]+)\]$", re.M)


def _env() -> dict[str, str]:
    env = go_env()
    for name in ("GODEBUG", "GOFLAGS", "GOGC", "GOMEMLIMIT"):
        env.pop(name, None)
    env["GOMAXPROCS"] = "1"
    return env


def build_twin(out_dir: str | Path) -> Path | None:
    """``go build`` the stack twin into ``out_dir``; None without a Go toolchain."""
    go = find_go()
    if go is None:
        return None
    out = Path(out_dir) / BINARY_NAME
    proc = subprocess.run([str(go), "build", "-o", str(out), "."], cwd=TWIN_DIR, env=_env(),
                          capture_output=True, text=True, timeout=_TIMEOUT_S, check=False)
    if proc.returncode != 0:
        raise ValidationError(f"building the stack twin failed:\n{proc.stderr}")
    return out


def _run(binary: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary), *args], env=_env(), capture_output=True, text=True,
                          timeout=_TIMEOUT_S, check=False)


def _json(proc: subprocess.CompletedProcess[str], what: str) -> dict[str, Any]:
    if proc.returncode != 0:
        raise ValidationError(f"stack twin {what} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure_frames(binary: Path, variant: str) -> dict[str, int]:
    """Per-call stack bytes of the variant's recursions in real Go:
    ``{"frame_bytes": argument-less, "arg_frame_bytes": with arguments}``."""
    out = _json(_run(binary, "frame", variant), "frame")
    return {"frame_bytes": int(out["frame_bytes"]), "arg_frame_bytes": int(out["arg_frame_bytes"])}


@dataclass(frozen=True)
class GoOverflow:
    """How real Go died: the depth reached and the lines it printed."""

    depth: int
    exit_status: int
    limit_line: str
    fatal_line: str
    used_bytes: int  # hi - sp from the "runtime: sp=... stack=[lo, hi]" line
    stack_bytes: int  # hi - lo


def go_overflow(binary: Path, variant: str, max_stack_bytes: int | None = None) -> GoOverflow:
    """Run the overflow recursion in real Go until it dies."""
    with tempfile.TemporaryDirectory(prefix="gcsim-stacktwin-") as tmp:
        counter = Path(tmp) / "depth"
        args = ["overflow", variant, str(counter)]
        if max_stack_bytes is not None:
            args.append(str(max_stack_bytes))
        proc = _run(binary, *args)
        depth = int.from_bytes(counter.read_bytes()[:8], "little")
    limit = _LIMIT_RE.search(proc.stderr)
    sp = _SP_RE.search(proc.stderr)
    if limit is None or sp is None or "fatal error: stack overflow" not in proc.stderr:
        raise ValidationError(f"the overflow twin did not die of a stack overflow:\n"
                              f"{proc.stderr[:2000]}")
    spv, lo, hi = (int(x, 16) for x in sp.groups())
    return GoOverflow(depth=depth, exit_status=proc.returncode, limit_line=limit.group(0),
                      fatal_line="fatal error: stack overflow", used_bytes=hi - spv,
                      stack_bytes=hi - lo)


def _config(frame_bytes: int, *, count: int, depth: int, block_depth: int,
            extra: tuple[str, ...] = ()) -> Config:
    return load_config(BASE_CONFIG, (
        f"workload.goroutines[0].frame={frame_bytes}",
        f"workload.goroutines[0].count={count}",
        f"workload.goroutines[0].depth={depth}",
        f"workload.goroutines[0].block_depth={block_depth}",
        f"run.max_allocs={count + 16}",
        *extra,
    ))


def overflow_config(frame_bytes: int, max_stack_bytes: int | None = None) -> Config:
    """One goroutine recursing without bound through frames of ``frame_bytes``."""
    extra = () if max_stack_bytes is None else (f"runtime.max_stack_bytes={max_stack_bytes}",)
    return _config(frame_bytes, count=1, depth=UNBOUNDED_DEPTH, block_depth=0, extra=extra)


def gcsim_overflow(cfg: Config) -> dict[str, Any]:
    """gcsim's fatal report for an overflow config (``RunResult.fatal``)."""
    from gcsim.run import simulate

    fatal = simulate(cfg).fatal
    if fatal is None:
        raise ValidationError("gcsim did not overflow")
    return fatal


def go_inuse(binary: Path, variant: str, goroutines: int, depth: int) -> int:
    """StackInuse real Go adds for ``goroutines`` parked at ``depth`` (after - before)."""
    out = _json(_run(binary, "inuse", variant, str(goroutines), str(depth)), "inuse")
    return int(out["after"]) - int(out["base"])


def gcsim_inuse(frame_bytes: int, goroutines: int, depth: int) -> int:
    """gcsim's StackInuse for the same goroutines (MemStats at the end of the run)."""
    from gcsim.metrics.summary import memstats
    from gcsim.run import simulate

    cfg = _config(frame_bytes, count=goroutines, depth=depth, block_depth=depth)
    return int(memstats(simulate(cfg))["StackInuse"])


def go_shrink(binary: Path, variant: str, goroutines: int, depth: int, block_depth: int,
              gcs: int) -> list[int]:
    """StackInuse real Go's parked goroutines hold after each of ``gcs`` runtime.GC() calls."""
    out = _json(_run(binary, "shrink", variant, str(goroutines), str(depth), str(block_depth),
                     str(gcs)), "shrink")
    base = int(out["base"])
    return [int(x) - base for x in out["after_gc"][1:]]


def gcsim_shrink(frame_bytes: int, goroutines: int, depth: int, block_depth: int,
                 gcs: int) -> list[int]:
    """gcsim's StackInuse after each of ``gcs`` forced cycles (cycle records)."""
    from gcsim.run import simulate

    cfg = _config(frame_bytes, count=goroutines, depth=depth, block_depth=block_depth,
                  extra=("run.final_gc=true",))
    res = simulate(cfg, extra_forced_gcs=gcs - 1)
    forced = res.cycles[res.cycles["forced"] == 1]
    return [int(x) for x in forced["stack_inuse_end_bytes"][-gcs:]]
