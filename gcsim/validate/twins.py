"""Twin workloads: find them, derive the Go program's parameters, build and run it.

A twin is a folder ``validation/<name>/`` holding

- ``config.toml``: the workload as a gcsim config;
- optionally ``main.go`` (+ ``go.mod``): the same workload as a Go program.
  A folder without one runs the shared program ``validation/program/``,
  which does every workload ``twin_params`` accepts. A program takes one
  argument, a JSON file of parameters, prints ``GODEBUG=gctrace=1`` lines on
  stderr (the runtime does that) and, when done, one JSON line on stdout:
  ``memstats`` (runtime.MemStats, Go's field names), ``metrics``
  (runtime/metrics samples by name), ``pause_ns`` (MemStats.PauseNs of the
  last up to 256 cycles, oldest first), ``elapsed_ns``, ``go_version``.

The parameters come from the resolved gcsim config (``twin_params``), never
from a second hand-written file, so the twins cannot drift apart; a config
that asks for something the Go programs cannot do (a size distribution,
random refs, pointer writes) is refused with the key that asks for it.

Builds are cached: ``<user cache>/gcsim/validate/<prog>-<hash>/<prog>``
(``prog`` the program folder's name, so twins sharing it share one build),
where the hash covers the program's Go sources, go.mod/go.sum, the Go version
and the platform. Go is built without GODEBUG in the environment (the
compiler is a Go program too and would print gc lines that the build cache
then replays) and run with ``GOTOOLCHAIN=local`` (``gotool.go_env``).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gcsim
from gcsim.config import Config
from gcsim.errors import ValidationError
from gcsim.goruntime import gotool, hostcpu
from gcsim.metrics.gctrace import GCTraceLine, GCTraceParseError, parse_gctrace

__all__ = [
    "GoRun",
    "Twin",
    "build_twin",
    "default_twins_root",
    "find_twins",
    "run_twin",
    "source_hash",
    "twin_params",
]

BUILD_TIMEOUT_S = 600.0  # a cold build compiles reflect, encoding/json...: ~60 s on 2 CPUs
RUN_TIMEOUT_S = 900.0
_SOURCE_SUFFIXES = (".go", ".s")
_SOURCE_NAMES = ("go.mod", "go.sum")


@dataclass(frozen=True)
class Twin:
    """One twin workload folder."""

    name: str
    root: Path  # validation/<name>/
    program: Path | None = None  # folder of the Go program; None: root itself

    @property
    def config_path(self) -> Path:
        return self.root / "config.toml"

    @property
    def program_dir(self) -> Path:
        return self.root if self.program is None else self.program


@dataclass(frozen=True)
class GoRun:
    """One run of a twin's Go program."""

    stderr: str
    stdout: str
    report: dict[str, Any]  # the final JSON line
    lines: list[GCTraceLine]  # gctrace lines parsed from stderr
    wall_s: float


def default_twins_root() -> Path:
    """``validation/`` of the gcsim checkout this code runs from, else ``./validation``."""
    beside = Path(gcsim.__file__).resolve().parent.parent / "validation"
    return beside if beside.is_dir() else Path("validation")


SHARED_PROGRAM = "program"  # validation/program/: the Go side of twins without a main.go


def find_twins(root: Path) -> dict[str, Twin]:
    """Every ``root/<name>/`` holding a ``config.toml`` and a Go program, by name.

    The program is the folder's own ``main.go``, else ``root/program/``.
    """
    if not root.is_dir():
        raise ValidationError(f"no twin folder {root} (expected validation/<name>/config.toml "
                              "and main.go)")
    shared = root / SHARED_PROGRAM
    has_shared = (shared / "main.go").is_file()
    out = {}
    for d in sorted(root.iterdir()):
        if not d.is_dir() or not (d / "config.toml").is_file():
            continue
        if (d / "main.go").is_file():
            out[d.name] = Twin(d.name, d)
        elif has_shared:
            out[d.name] = Twin(d.name, d, shared)
    return out


def host_costs_file() -> Path | None:
    """The shipped calibration (``calibration/*.toml``) of a machine like this one,
    where the built-in cost table is not: that table was measured on a 2-vCPU AMD
    EPYC without AVX-512, so on a host with Go's packed span scan (AVX-512) the
    newest calibration recorded on the same CPU model with it applies; None
    otherwise."""
    import tomllib

    from gcsim.calibrate import calibration_root

    if not hostcpu.packed_span_scan():
        return None
    model, found = hostcpu.cpu_model(), []
    for path in sorted(calibration_root().glob("*.toml")):
        try:
            info = tomllib.loads(path.read_text()).get("calibration", {})
        except (OSError, tomllib.TOMLDecodeError):
            continue
        if info.get("packed_span_scan") is True and info.get("cpu_model") == model:
            found.append((str(info.get("date", "")), path))
    return max(found)[1] if found else None


def load_twin_config(twin: Twin, overrides: Sequence[str] = ()) -> Config:
    """The twin's config as gcsim runs it beside Go on this machine: with
    ``runtime.packed_span_scan`` as this CPU's Go has it (goruntime.hostcpu) and,
    where the built-in cost table is another machine's, this machine's shipped
    calibration (:func:`host_costs_file`); then ``overrides`` (``--set``
    syntax), which have the last word."""
    from gcsim.config import load_config

    host = ["runtime.packed_span_scan=" + ("true" if hostcpu.packed_span_scan() else "false")]
    costs = host_costs_file()
    if costs is not None:
        host.append(f"costs.from_file={costs.resolve()}")
    return load_config(twin.config_path, [*host, *overrides])


def _refuse(key: str, value: Any, why: str) -> ValidationError:
    return ValidationError(f"config key '{key}' = {value!r}: the Go twins cannot do this ({why})")


def twin_params(cfg: Config, name: str) -> dict[str, Any]:
    """The Go program's parameters, derived from a resolved config.

    Parameters
    ----------
    cfg : Config
        The twin's config with the setting's overrides applied.
    name : str
        Twin name, passed through for the program's report.

    Returns
    -------
    dict
        ``{"twin", "seed", "max_allocs", "compute_ns_per_alloc", "final_gc",
        "trace_pacer", "sites": [{"name", "weight", "size_bytes",
        "pointer_words", "lifetime", "live_objects", "max_allocs",
        "children"}]}``; JSON-ready. ``live_objects`` is the length of the
        site's root table as gcsim allocates it (fifo: live_objects,
        immortal: max_allocs, exponential: mean_allocs, transient: 0);
        ``max_allocs`` 0 means no cap; ``children[j]`` is the site index of
        pointer slot j's child ref, -1 for nil. ``trace_pacer`` is False;
        a caller sets it to have the program record each cycle's exact
        marked heap and goal (``program/main.go``).

    Raises
    ------
    ValidationError
        The config needs something the Go twins do not implement, naming the
        key: a run bounded by time instead of ``run.max_allocs``, a size
        distribution, ``pointer_density``, ``random`` refs, pointer writes.
    """
    if cfg.run.max_allocs is None:
        raise _refuse("run.max_allocs", "off", "a Go twin runs a fixed number of allocations; "
                      "simulated time and real time differ, so set run.max_allocs")
    index = {s.name: i for i, s in enumerate(cfg.workload.sites)}
    procs = cfg.workload.mutator_procs
    if procs is not None and procs < cfg.run.gomaxprocs:
        raise _refuse("workload.mutator_procs", procs, "one goroutine per P")
    sites = []
    for i, s in enumerate(cfg.workload.sites):
        key = f"workload.sites[{i}]"
        if s.size.dist != "fixed":
            raise _refuse(f"{key}.size", s.size.dist, "fixed sizes only")
        if s.pointer_words is None:
            raise _refuse(f"{key}.pointer_density", s.pointer_density, "use pointer_words")
        for j, r in enumerate(s.refs):
            if r.to == "random":
                raise _refuse(f"{key}.refs[{j}].to", r.to, "only child refs; others stay nil")
        if s.pointer_writes_per_alloc:
            raise _refuse(f"{key}.pointer_writes_per_alloc", s.pointer_writes_per_alloc,
                          "no pointer writes between live objects")
        lt = s.lifetime
        root_len = {"transient": 0, "fifo": lt.live_objects, "immortal": s.max_allocs,
                    "exponential": lt.mean_allocs}[lt.kind]
        sites.append({
            "name": s.name,
            "weight": s.weight,
            "size_bytes": s.size.min_bytes,
            "pointer_words": s.pointer_words,
            "lifetime": lt.kind,
            "live_objects": root_len or 0,
            "max_allocs": s.max_allocs or 0,
            "children": [index[r.site] if r.to == "child" and r.site is not None else -1
                         for r in s.refs],
        })
    out = {
        "twin": name,
        "seed": cfg.run.seed,
        "max_allocs": cfg.run.max_allocs,
        "compute_ns_per_alloc": cfg.workload.compute_ns_per_alloc,
        "final_gc": cfg.run.final_gc,
        "trace_pacer": False,
        "sites": sites,
    }
    if cfg.workload.pools:
        out["pools"] = _pool_params(cfg)
    return out


def _pool_params(cfg: Config) -> list[dict[str, Any]]:
    """``pools`` for a twin with sync.Pools (validation/pool/main.go)."""
    if not cfg.runtime.pool_victim:
        raise _refuse("runtime.pool_victim", False, "real Go has had the victim cache since 1.13")
    return [{"name": p.name, "site": p.site, "enabled": p.enabled, "zero_on_put": p.zero_on_put,
             "batch_values": list(p.batch_values), "batch_weights": list(p.batch_weights)}
            for p in cfg.workload.pools]


def _local_replacements(module_dir: Path) -> list[Path]:
    """The folders go.mod's ``replace X => ../dir`` lines point at (shared twin packages)."""
    mod = module_dir / "go.mod"
    if not mod.is_file():
        return []
    found = re.findall(r"^replace\s+\S+(?:\s+\S+)?\s+=>\s+(\.{1,2}/\S+)\s*$",
                       mod.read_text(), flags=re.M)
    return [(module_dir / rel).resolve() for rel in found]


def source_hash(twin: Twin, go_version: str) -> str:
    """sha256 over the twin program's Go sources, go.mod/go.sum, the Go version and
    platform, and the same of every local module its go.mod replaces (goreport)."""
    h = hashlib.sha256()
    h.update(f"{go_version}\0{platform.system()}\0{platform.machine()}\0".encode())
    for folder in (twin.program_dir, *_local_replacements(twin.program_dir)):
        h.update(folder.name.encode() + b"\0")
        for p in sorted(folder.iterdir()):
            if p.is_file() and (p.suffix in _SOURCE_SUFFIXES or p.name in _SOURCE_NAMES):
                h.update(p.name.encode() + b"\0")
                h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def cache_root() -> Path:
    """Where built twins are kept: ``$GCSIM_CACHE_DIR`` or ``<user cache>/gcsim/validate``."""
    env = os.environ.get("GCSIM_CACHE_DIR")
    base = Path(env) if env else gotool._user_cache_dir() / "gcsim"
    return base / "validate"


def _build_env() -> dict[str, str]:
    env = gotool.go_env()
    # GODEBUG would make the compiler print its own gc lines, which the build
    # cache stores and replays on later builds (tests/data/gctrace/README.md).
    for name in ("GODEBUG", "GOGC", "GOMEMLIMIT", "GOMAXPROCS"):
        env.pop(name, None)
    return env


def build_twin(twin: Twin, go: Path, go_version: str) -> tuple[Path, bool]:
    """Build ``twin``'s Go program once per source hash; return (executable, built now).

    Raises
    ------
    ValidationError
        ``go build`` failed (its output is in the message) or timed out.
    """
    key = source_hash(twin, go_version)[:16]
    src = twin.program_dir
    folder = cache_root() / f"{src.name}-{key}"
    exe = folder / src.name
    if exe.is_file() and os.access(exe, os.X_OK):
        return exe, False
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{src.name}.", suffix=".tmp")
    os.close(fd)
    try:
        proc = subprocess.run([str(go), "build", "-trimpath", "-o", tmp, "."], cwd=src,
                              env=_build_env(), capture_output=True, text=True,
                              timeout=BUILD_TIMEOUT_S, check=False)
        if proc.returncode != 0:
            raise ValidationError(f"go build of {src} failed:\n{proc.stderr.strip()}")
        os.replace(tmp, exe)
    except subprocess.TimeoutExpired:
        raise ValidationError(f"go build of {src} took over {BUILD_TIMEOUT_S:.0f} s") \
            from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return exe, True


def run_env(gogc: int | None, gomaxprocs: int, gomemlimit: int | None) -> dict[str, str]:
    """The environment a twin runs in: the setting's GOGC/GOMAXPROCS/GOMEMLIMIT, gctrace on."""
    env = gotool.go_env()
    env["GOGC"] = "off" if gogc is None else str(gogc)
    env["GOMAXPROCS"] = str(gomaxprocs)
    env["GODEBUG"] = "gctrace=1"
    if gomemlimit is None:
        env.pop("GOMEMLIMIT", None)
    else:
        env["GOMEMLIMIT"] = str(gomemlimit)
    return env


def run_twin(exe: Path, params_path: Path, env: dict[str, str],
             timeout_s: float = RUN_TIMEOUT_S) -> GoRun:
    """Run a built twin once and parse what it printed.

    Raises
    ------
    ValidationError
        The program failed, timed out, printed no JSON report, or printed a
        gctrace line that does not parse.
    """
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([str(exe), str(params_path)], env=env, capture_output=True,
                              text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise ValidationError(f"{exe.name} ran over {timeout_s:.0f} s") from None
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise ValidationError(f"{exe.name} {params_path.name} exited with status "
                              f"{proc.returncode}:\n{tail}")
    report = None
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            try:
                report = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValidationError(f"{exe.name}: bad JSON report on stdout: {e}") from None
            break
    if not isinstance(report, dict):
        raise ValidationError(f"{exe.name}: no JSON report line on stdout")
    try:
        lines = parse_gctrace(proc.stderr)
    except GCTraceParseError as e:
        raise ValidationError(f"{exe.name}: {e}") from None
    return GoRun(proc.stderr, proc.stdout, report, lines, wall)
