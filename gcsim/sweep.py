"""Parameter sweeps: a grid over config keys -> independent, resumable runs.

("Sweep" alone means a parameter sweep; the GC phase is "GC sweep".)

The sweep file
--------------
A TOML file::

    base = "base.toml"          # the base config, relative to this file
    repeats = 3                 # runs per grid point, each with its own seed (default 1)
    seeds = "independent"       # or "common" (see Seeds below)
    description = "..."         # optional, shown in the report

    [axes]                      # dotted config key -> values (cartesian product)
    "runtime.gogc" = [25, 50, 100, 200, 400, 800]
    "workload.sites[0].pointer_density" = { start = 0.0, stop = 1.0, num = 5 }

An axis is a non-empty list of distinct TOML values, or a range table:

- ``{ start, stop, num }``: ``num`` evenly spaced values, both ends included;
  ``scale = "log"`` spaces them geometrically (start, stop > 0), so
  ``{ start = 25, stop = 800, num = 6, scale = "log" }`` is 25, 50, ... 800.
- ``{ start, stop, step }``: start, start + step, ... up to stop (included
  when it lands on the grid, to 1e-9 of a step).

When ``start``, ``stop`` (and ``step``) are all integers the values are
rounded to integers; a range that rounds two values together is an error.
Float values are rounded to 12 significant digits, so 0.1 stays 0.1.

Each point's config is the base config's raw TOML with the axis values set
by :func:`gcsim.config.apply_override`, then validated by
:func:`gcsim.config.config_from_dict`: a bad axis value gets the config's
own error message (key, value, what is allowed), with the point named in the
hint. Every point is validated when the sweep is loaded, before any run.

Points and ids
--------------
Points are numbered in row-major order over the axes as written (the first
axis varies slowest). Run ``(point, repeat)`` lives in
``DIR/points/p<point>-r<repeat>/``, the point zero-padded to 4 digits, e.g.
``p0007-r1``.

Seeds
-----
The base config's ``run.seed`` is the base seed. With ``seeds =
"independent"`` (the default) run ``(point, repeat)`` gets::

    seed = int.from_bytes(sha256(f"gcsim-sweep-seed/v1/{base}/{point}/{repeat}").digest()[:8],
                          "little") >> 1

a 63-bit seed, reproducible on any machine, with no two runs sharing a random
stream. With ``seeds = "common"`` the point index is left out (it is taken as
0), so all points of one repeat share a seed: common random numbers, which
make differences between points less noisy. An axis on ``run.seed`` itself
sets the seed directly and turns derivation off.

The results folder
------------------
::

    DIR/sweep.json        the expanded sweep: axes with their values, repeats, seed rule
    DIR/sweep.toml        a copy of the sweep file as given
    DIR/base.toml         the resolved base config (every default filled)
    DIR/points/<id>/      one results folder per run (gcsim.results.write_run),
                          plus row.json (its table row) and COMPLETE, written last
    DIR/results.csv       one row per (point, repeat): axis values + summary metrics
    DIR/results.parquet   the same table (pandas.read_parquet / read_csv load either)
    DIR/figures/          see gcsim.sweepplots

Table columns: ``point``, ``repeat``, ``id``, ``seed``, one column per axis
named by its dotted key, every scalar of ``summary.json`` with nested keys
joined by ``_`` (``pause_ns.p99`` -> ``pause_ns_p99``, ``mmu.10ms`` ->
``mmu_10ms``), then ``config_hash`` and ``wall_s`` (the run's wall time, the
only column that differs between two identical sweeps). A column that mixes
numbers and strings (``runtime.gogc`` with ``"off"``) is stored as strings.

Resuming
--------
Only the coordinating process writes into DIR. A worker runs the model and
writes the run folder into a private temp folder, and sends the files back;
the coordinator writes them to a hidden temp folder, renames it into place,
then writes ``COMPLETE`` (with the run's config hash) by temp name and
rename. A run counts as finished when ``COMPLETE`` exists and names the
config hash the sweep asks for, so rerunning the same command after Ctrl-C
or ``kill -9`` redoes only unfinished runs and never a finished one. Raising
``repeats`` keeps the runs already done; changing the base config, the axes
or the seed rule is refused (use another ``--out``).

Parallelism
-----------
Runs go to a ``ProcessPoolExecutor`` (``spawn`` start method; each worker
loads the compiled kernels from Numba's cache once) or, given a scheduler
address, to a Dask ``distributed`` cluster. The workers need gcsim
installed, not a shared filesystem: results come back to the coordinator.
On Linux, local workers ask the kernel to kill them when the coordinator
dies (``PR_SET_PDEATHSIG``), so a ``kill -9`` leaves no orphan running.
"""

from __future__ import annotations

import ctypes
import difflib
import hashlib
import itertools
import json
import logging
import math
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gcsim.config import (
    Config,
    apply_override,
    config_from_dict,
    config_hash,
    dump_config,
    parse_override,
)
from gcsim.errors import MISSING, ConfigError, GcsimError

log = logging.getLogger(__name__)

SWEEP_KEYS = ("base", "repeats", "seeds", "description", "axes")
RANGE_KEYS = ("start", "stop", "num", "step", "scale")
SEED_RULES = ("independent", "common")
SEED_KEY = "run.seed"
COMPLETE = "COMPLETE"
ROW_FILE = "row.json"
FIRST_COLUMNS = ("point", "repeat", "id", "seed")
LAST_COLUMNS = ("config_hash", "wall_s")
DASK_CONNECT_TIMEOUT_S = 20.0
_MAX_RUNS = 1_000_000
_SIG_DIGITS = 12


# --------------------------------------------------------------------------
# The sweep description
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    """One swept config key and the values it takes, in order."""

    key: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Task:
    """One run of a sweep: a grid point and a repeat.

    Attributes
    ----------
    point : int
        Grid point index, row-major over the axes.
    repeat : int
        0 .. repeats - 1.
    id : str
        Folder name under ``points/``, e.g. ``"p0007-r1"``.
    seed : int
        The run's ``run.seed``.
    values : tuple of (str, Any)
        ``(axis key, value)`` for every axis, in axis order.
    config : Config
        The validated config of this run.
    """

    point: int
    repeat: int
    id: str
    seed: int
    values: tuple[tuple[str, Any], ...]
    config: Config


@dataclass(frozen=True)
class Sweep:
    """A loaded, validated sweep: base config, axes, repeats, seed rule."""

    base: Config
    axes: tuple[Axis, ...]
    repeats: int = 1
    seeds: str = "independent"
    description: str = ""
    source_text: str = ""
    base_raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def n_points(self) -> int:
        """Number of grid points (product of the axis lengths; 1 with no axes)."""
        return math.prod(len(a.values) for a in self.axes)

    @property
    def keys(self) -> list[str]:
        """The axis keys, in order."""
        return [a.key for a in self.axes]

    def spec(self) -> dict[str, Any]:
        """The expanded sweep as JSON-ready data (what ``sweep.json`` holds)."""
        return {
            "axes": [{"key": a.key, "values": list(a.values)} for a in self.axes],
            "repeats": self.repeats,
            "seeds": self.seeds,
            "base_seed": self.base.run.seed,
            "base_config_hash": config_hash(self.base),
            "description": self.description,
            "n_points": self.n_points,
            "seed_rule": SEED_RULE_TEXT[self.seeds],
        }

    def identity(self) -> str:
        """Hash of what fixes every run's config except the number of repeats."""
        ident = {"base": dump_config(self.base), "seeds": self.seeds,
                 "axes": [[a.key, list(a.values)] for a in self.axes]}
        return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()

    def tasks(self) -> list[Task]:
        """Every run: points in row-major order, repeats innermost."""
        # Repeats are not padded, so raising ``repeats`` keeps every id.
        pw = max(4, len(str(self.n_points - 1)))
        out = []
        base_seed = self.base.run.seed
        for point, combo in enumerate(itertools.product(*(a.values for a in self.axes))):
            values = tuple(zip(self.keys, combo, strict=True))
            for repeat in range(self.repeats):
                if SEED_KEY in self.keys:
                    seed = int(dict(values)[SEED_KEY])
                else:
                    seed = derive_seed(base_seed, 0 if self.seeds == "common" else point, repeat)
                cfg = point_config(self.base_raw, values, seed)
                out.append(Task(point, repeat, f"p{point:0{pw}d}-r{repeat}", seed,
                                values, cfg))
        return out


SEED_RULE_TEXT = {
    "independent": "seed = sha256('gcsim-sweep-seed/v1/{base_seed}/{point}/{repeat}')"
                   "[:8] as little-endian uint64 >> 1",
    "common": "seed = sha256('gcsim-sweep-seed/v1/{base_seed}/0/{repeat}')"
              "[:8] as little-endian uint64 >> 1 (common random numbers: one seed per repeat)",
}


def derive_seed(base_seed: int, point: int, repeat: int) -> int:
    """The seed of run ``(point, repeat)``: 63 bits of a sha256 (see module doc).

    Parameters
    ----------
    base_seed : int
        The base config's ``run.seed``.
    point, repeat : int
        Grid point index and repeat number.

    Returns
    -------
    int
        0 <= seed < 2**63, a valid ``run.seed``.
    """
    h = hashlib.sha256(f"gcsim-sweep-seed/v1/{base_seed}/{point}/{repeat}".encode()).digest()
    return int.from_bytes(h[:8], "little") >> 1


def point_config(base_raw: dict[str, Any], values: Sequence[tuple[str, Any]],
                 seed: int) -> Config:
    """The validated config of one run: base + axis values + seed.

    Raises
    ------
    ConfigError
        The config's own error for a bad value, with the point in the hint.
    """
    raw = base_raw
    try:
        for key, value in values:
            raw = apply_override(raw, key, value)
        if SEED_KEY not in dict(values):
            raw = apply_override(raw, SEED_KEY, seed)
        return config_from_dict(raw)
    except ConfigError as e:
        where = "sweep point " + ", ".join(f"{k} = {_show(v)}" for k, v in values)
        raise ConfigError(e.key, e.value, e.allowed,
                          f"{e.hint}; {where}" if e.hint else where) from None


def _show(v: Any) -> str:
    return json.dumps(v) if isinstance(v, str) else repr(v)


def load_sweep(path: str | os.PathLike[str], overrides: Sequence[str] = (),
               repeats: int | None = None) -> Sweep:
    """Read and validate a sweep file (see the module doc for the format).

    Parameters
    ----------
    path : path
        The sweep file.
    overrides : sequence of str
        ``"dotted.key=VALUE"`` strings applied to the base config before the
        axes, as ``gcsim run --set`` does (e.g. ``run.duration_s=0.25`` for a
        quick, smaller version of a sweep).
    repeats : int, optional
        Replaces the file's ``repeats``.

    Raises
    ------
    ConfigError
        The file is unreadable or not TOML, a key or value is bad (the message
        names it, the value and what is allowed), or a point's config fails
        validation.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(os.fspath(p), str(e), "a valid TOML sweep file") from None
    except OSError as e:
        raise ConfigError(os.fspath(p), MISSING, "a readable TOML sweep file", str(e)) from None
    if repeats is not None:
        raw["repeats"] = repeats
    return sweep_from_dict(raw, p.parent, source_text=text, overrides=overrides)


def sweep_from_dict(raw: dict[str, Any], root: str | os.PathLike[str] = ".", *,
                    source_text: str = "", overrides: Sequence[str] = ()) -> Sweep:
    """Validate a raw sweep dict; ``base`` is resolved against ``root``.

    ``overrides`` (``"key=VALUE"``) are applied to the base config's raw
    dict, as in :func:`load_sweep`.
    """
    for name, value in raw.items():
        if name not in SWEEP_KEYS:
            close = difflib.get_close_matches(name, SWEEP_KEYS, n=1)
            raise ConfigError(name, value, "a sweep key: " + ", ".join(SWEEP_KEYS),
                              f"did you mean '{close[0]}'?" if close else "")
    if "base" not in raw:
        raise ConfigError("base", MISSING, "the path of the base config, relative to the sweep")
    base_rel = raw["base"]
    if not isinstance(base_rel, str) or not base_rel:
        raise ConfigError("base", base_rel, "a path string, relative to the sweep file")
    base_path = Path(root) / base_rel
    try:
        with open(base_path, "rb") as f:
            base_raw = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError("base", base_rel, "a valid TOML config file", str(e)) from None
    except OSError as e:
        raise ConfigError("base", base_rel, "a readable config file", str(e)) from None
    for text in overrides:
        key, value = parse_override(text)
        base_raw = apply_override(base_raw, key, value)
    base = config_from_dict(base_raw)

    repeats = raw.get("repeats", 1)
    if isinstance(repeats, bool) or not isinstance(repeats, int) or not 1 <= repeats <= 10_000:
        raise ConfigError("repeats", repeats, "an integer in 1..10_000")
    seeds = raw.get("seeds", "independent")
    if seeds not in SEED_RULES:
        raise ConfigError("seeds", seeds, "one of " + ", ".join(f"'{s}'" for s in SEED_RULES))
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise ConfigError("description", description, "a string")
    axes_raw = raw.get("axes", {})
    if not isinstance(axes_raw, dict):
        raise ConfigError("axes", axes_raw, "a table mapping dotted config keys to values")
    axes = tuple(Axis(key, _axis_values(key, spec)) for key, spec in axes_raw.items())

    sweep = Sweep(base=base, axes=axes, repeats=repeats, seeds=seeds,
                  description=description, source_text=source_text, base_raw=base_raw)
    n_runs = sweep.n_points * repeats
    if n_runs > _MAX_RUNS:
        raise ConfigError("axes", f"{n_runs:_} runs", f"at most {_MAX_RUNS:_} runs")
    sweep.tasks()  # validates every point's config now, before any run starts
    return sweep


def _axis_values(key: str, spec: Any) -> tuple[Any, ...]:
    k = f'axes."{key}"'
    allowed = ("a non-empty list of values, or a range table "
               "{ start, stop, num [, scale = 'log'] } or { start, stop, step }")
    if isinstance(spec, list):
        if not spec:
            raise ConfigError(k, spec, allowed)
        seen: list[Any] = []
        for v in spec:
            if any(_same(v, s) for s in seen):
                raise ConfigError(k, spec, "distinct values", f"{_show(v)} appears twice")
            seen.append(v)
        return tuple(spec)
    if not isinstance(spec, dict):
        raise ConfigError(k, spec, allowed)
    return _range_values(k, spec)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b or (
        isinstance(a, int | float) and isinstance(b, int | float)
        and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


def _range_values(k: str, spec: dict[str, Any]) -> tuple[Any, ...]:
    for name, value in spec.items():
        if name not in RANGE_KEYS:
            close = difflib.get_close_matches(name, RANGE_KEYS, n=1)
            raise ConfigError(f"{k}.{name}", value, "a range key: " + ", ".join(RANGE_KEYS),
                              f"did you mean '{close[0]}'?" if close else "")
    nums: dict[str, float | int] = {}
    for name in ("start", "stop"):
        if name not in spec:
            raise ConfigError(f"{k}.{name}", MISSING, "a number")
        nums[name] = _number(spec[name], f"{k}.{name}", "a number")
    start, stop = nums["start"], nums["stop"]
    if ("num" in spec) == ("step" in spec):
        raise ConfigError(k, spec, "exactly one of 'num' and 'step'")
    scale = spec.get("scale", "linear")
    if scale not in ("linear", "log"):
        raise ConfigError(f"{k}.scale", scale, "'linear' or 'log'")
    integer = isinstance(start, int) and isinstance(stop, int)
    if "num" in spec:
        num = spec["num"]
        if isinstance(num, bool) or not isinstance(num, int) or not 1 <= num <= 100_000:
            raise ConfigError(f"{k}.num", num, "an integer in 1..100_000")
        if scale == "log":
            if start <= 0 or stop <= 0:
                raise ConfigError(k, spec, "start > 0 and stop > 0 with scale = 'log'")
            lo, hi = math.log(start), math.log(stop)
            xs = [math.exp(lo + (hi - lo) * i / (num - 1)) if num > 1 else float(start)
                  for i in range(num)]
        else:
            xs = [start + (stop - start) * i / (num - 1) if num > 1 else float(start)
                  for i in range(num)]
        xs[0] = float(start)
        if num > 1:
            xs[-1] = float(stop)
    else:
        if scale != "linear":
            raise ConfigError(f"{k}.scale", scale, "'linear' with 'step' (use 'num' for log)")
        step = _number(spec["step"], f"{k}.step", "a non-zero number")
        integer = integer and isinstance(step, int)
        if step == 0 or (stop - start) / step < 0:
            raise ConfigError(f"{k}.step", step, f"a number with the sign of stop - start "
                              f"({stop} - {start})")
        n = math.floor((stop - start) / step + 1e-9) + 1
        if n > 100_000:
            raise ConfigError(f"{k}.step", step, "a step giving at most 100_000 values")
        xs = [start + i * step for i in range(n)]
    values: list[int | float] = ([round(x) for x in xs] if integer
                                 else [float(f"{x:.{_SIG_DIGITS}g}") for x in xs])
    if len(set(values)) != len(values):
        raise ConfigError(k, spec, "a range whose values stay distinct",
                          f"it gives {values}; use fewer values or float start/stop")
    return tuple(values)


def _number(value: Any, key: str, allowed: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(key, value, allowed)
    return value


# --------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------


@dataclass
class SweepOutcome:
    """What :func:`run_sweep` did."""

    out: Path
    n_runs: int
    n_done_before: int
    n_run_now: int
    failed: list[tuple[str, str]]  # (task id, error message)
    figures: list[Path]


def flatten_summary(s: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Scalars of a summary dict, nested keys joined by ``_`` (lists dropped).

    ``{"pause_ns": {"p99": 1.0}, "mmu": {"10ms": 0.5}}`` ->
    ``{"pause_ns_p99": 1.0, "mmu_10ms": 0.5}``.
    """
    out: dict[str, Any] = {}
    for k, v in s.items():
        name = "".join(c if c.isalnum() or c == "_" else "_" for c in str(k))
        name = f"{prefix}_{name}" if prefix else name
        if isinstance(v, dict):
            out.update(flatten_summary(v, name))
        elif v is None or isinstance(v, bool | int | float | str):
            out[name] = v
    return out


def execute_task(cfg: Config, task_id: str, argv: list[str],
                 plots: bool) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Run one config and return (flattened summary + wall_s, files of its folder).

    The worker function, for processes and Dask alike: it writes only into a
    private temp folder and returns the bytes, so the coordinator is the only
    writer of the sweep folder.
    """
    from gcsim.results import write_run
    from gcsim.run import simulate

    result = simulate(cfg)
    with tempfile.TemporaryDirectory(prefix="gcsim-sweep-") as d:
        folder = write_run(result, Path(d) / task_id, plots=plots, argv=argv)
        files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
    metrics = flatten_summary(json.loads(files["summary.json"]))
    metrics["wall_s"] = round(result.wall_s, 3)
    return metrics, files


def _worker_init(parent_pid: int) -> None:
    """Die with the coordinator (Linux PR_SET_PDEATHSIG), so kill -9 leaves no orphans."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:
        os._exit(1)


def _write_atomic(path: Path, data: bytes | str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def is_finished(points_dir: Path, task: Task) -> bool:
    """True when the run's COMPLETE marker exists and names the task's config hash."""
    marker = points_dir / task.id / COMPLETE
    try:
        done = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(done, dict) and done.get("config_hash") == config_hash(task.config)


def store_run(points_dir: Path, task: Task, metrics: dict[str, Any],
              files: dict[str, bytes]) -> Path:
    """Write a finished run's folder atomically, then its COMPLETE marker."""
    final = points_dir / task.id
    tmp = points_dir / f".{task.id}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    for name, data in files.items():
        (tmp / name).write_bytes(data)
    chash = config_hash(task.config)
    row = {"point": task.point, "repeat": task.repeat, "id": task.id, "seed": task.seed,
           **dict(task.values), **metrics, "config_hash": chash}
    (tmp / ROW_FILE).write_text(json.dumps(row, indent=1, allow_nan=False) + "\n")
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    _write_atomic(final / COMPLETE, json.dumps({"id": task.id, "config_hash": chash}) + "\n")
    return final


def _prepare_folder(out: Path, sweep: Sweep) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    spec_path = out / "sweep.json"
    spec = {**sweep.spec(), "identity": sweep.identity()}
    if spec_path.exists():
        try:
            old = json.loads(spec_path.read_text())
        except ValueError:
            old = {}
        if old.get("identity") != spec["identity"]:
            raise GcsimError(
                f"{out} holds results of a different sweep (base config, axes or seed rule "
                f"differ from {spec_path}); use another --out, or remove that folder")
    _write_atomic(spec_path, json.dumps(spec, indent=2) + "\n")
    if sweep.source_text:
        _write_atomic(out / "sweep.toml", sweep.source_text)
    _write_atomic(out / "base.toml", dump_config(sweep.base))
    points = out / "points"
    points.mkdir(exist_ok=True)
    for stale in points.glob(".*.tmp*"):  # left by a coordinator killed mid-write
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
    for d in points.iterdir():
        for stale in d.glob(".*.tmp") if d.is_dir() else ():
            stale.unlink(missing_ok=True)
    return points


def run_sweep(sweep: Sweep, out: str | os.PathLike[str], *, jobs: int | None = None,
              scheduler: str | None = None, plots: bool = True, point_plots: bool = False,
              progress: bool = True, argv: list[str] | None = None) -> SweepOutcome:
    """Run every unfinished run of ``sweep`` into ``out``, then write the tables.

    Parameters
    ----------
    sweep : Sweep
        From :func:`load_sweep`.
    out : path
        The sweep's results folder (created; resumed if it holds this sweep).
    jobs : int, optional
        Worker processes; default ``os.cpu_count()``. 1 runs in this process.
    scheduler : str, optional
        A Dask distributed scheduler address (``tcp://host:8786``); the runs
        go to that cluster instead of local processes.
    plots : bool
        Draw the sweep figures (``gcsim.sweepplots``) at the end.
    point_plots : bool
        Also draw each run's heap/MMU/pause figures (off: they cost more
        than a short run).
    progress : bool
        Show a tqdm progress bar on stderr.
    argv : list of str, optional
        Recorded in each run's provenance.json.

    Returns
    -------
    SweepOutcome

    Raises
    ------
    GcsimError
        ``out`` holds another sweep, or some runs failed (the others are
        kept; rerun to retry the failed ones).
    """
    from tqdm import tqdm

    out = Path(out)
    points = _prepare_folder(out, sweep)
    tasks = sweep.tasks()
    todo = [t for t in tasks if not is_finished(points, t)]
    n_before = len(tasks) - len(todo)
    argv = list(argv) if argv is not None else ["gcsim", "sweep"]
    failed: list[tuple[str, str]] = []
    bar = tqdm(total=len(tasks), initial=n_before, unit="run", desc="sweep",
               disable=not progress, file=sys.stderr, dynamic_ncols=True, smoothing=0.05)

    def done(task: Task, metrics: dict[str, Any], files: dict[str, bytes]) -> None:
        store_run(points, task, metrics, files)
        bar.update(1)

    def fail(task: Task, err: BaseException) -> None:
        log.error("sweep run %s failed: %s", task.id, err)
        failed.append((task.id, f"{type(err).__name__}: {err}"))
        bar.update(0)

    try:
        if not todo:
            pass
        elif scheduler is not None:
            _run_dask(todo, scheduler, argv, point_plots, done, fail)
        elif (jobs or os.cpu_count() or 1) <= 1:
            for t in todo:
                try:
                    metrics, files = execute_task(t.config, t.id, argv, point_plots)
                except Exception as e:  # noqa: BLE001 - as in the process pool
                    fail(t, e)
                    continue
                done(t, metrics, files)
        else:
            _run_processes(todo, jobs or os.cpu_count() or 1, argv, point_plots, done, fail)
    finally:
        bar.close()
    write_tables(out, sweep)
    figures: list[Path] = []
    if plots:
        from gcsim.sweepplots import sweep_figures

        figures = sweep_figures(out)
    if failed:
        shown = "; ".join(f"{i}: {m}" for i, m in failed[:3])
        raise GcsimError(f"{len(failed)} of {len(tasks)} sweep runs failed ({shown}"
                         f"{'; ...' if len(failed) > 3 else ''}); the others are in {out}; "
                         "rerun the same command to retry the failed ones")
    return SweepOutcome(out, len(tasks), n_before, len(todo), failed, figures)


def _run_processes(todo: list[Task], jobs: int, argv: list[str], point_plots: bool,
                   done: Callable[..., None], fail: Callable[..., None]) -> None:
    ctx = multiprocessing.get_context("spawn")
    ex = ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=ctx,
                             initializer=_worker_init, initargs=(os.getpid(),))
    futs: dict[Future[Any], Task] = {}
    try:
        for t in todo:
            futs[ex.submit(execute_task, t.config, t.id, argv, point_plots)] = t
        for fut in as_completed(futs):
            t = futs[fut]
            try:
                metrics, files = fut.result()
            except Exception as e:  # noqa: BLE001 - one bad run must not stop the sweep
                fail(t, e)
                continue
            done(t, metrics, files)
    except BaseException:
        # Ctrl-C or a write error: stop at once; finished runs are already stored.
        procs = list(getattr(ex, "_processes", {}).values())
        ex.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            p.terminate()
        raise
    ex.shutdown(wait=True)


def _run_dask(todo: list[Task], scheduler: str, argv: list[str], point_plots: bool,
              done: Callable[..., None], fail: Callable[..., None]) -> None:
    try:
        from distributed import Client
        from distributed import as_completed as dask_as_completed
    except ImportError:
        raise GcsimError("--scheduler needs Dask: pip install 'gcsim[dask]'") from None
    try:
        client = Client(scheduler, timeout=DASK_CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as e:
        raise GcsimError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
    try:
        futs = {}
        for t in todo:
            f = client.submit(execute_task, t.config, t.id, argv, point_plots,
                              key=f"gcsim-{config_hash(t.config)[:16]}-{t.id}", pure=False)
            futs[f.key] = (f, t)
        try:
            for f in dask_as_completed([f for f, _ in futs.values()]):
                t = futs[f.key][1]
                try:
                    metrics, files = f.result()
                except Exception as e:  # noqa: BLE001 - one bad run must not stop the sweep
                    fail(t, e)
                    continue
                done(t, metrics, files)
        except BaseException:
            client.cancel([f for f, _ in futs.values()])
            raise
    finally:
        client.close()


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------


def read_rows(out: Path, tasks: Iterable[Task]) -> list[dict[str, Any]]:
    """The table rows of the finished runs among ``tasks``, in task order."""
    points = out / "points"
    return [json.loads((points / t.id / ROW_FILE).read_text())
            for t in tasks if is_finished(points, t)]


def write_tables(out: str | os.PathLike[str], sweep: Sweep) -> Any:
    """Write ``results.csv`` and ``results.parquet`` from the finished runs.

    Returns
    -------
    pandas.DataFrame
        The table written.
    """
    import pandas as pd

    out = Path(out)
    rows = read_rows(out, sweep.tasks())
    cols: list[str] = [*FIRST_COLUMNS, *sweep.keys]
    for r in rows:
        cols += [k for k in r if k not in cols and k not in LAST_COLUMNS]
    cols += list(LAST_COLUMNS)
    df = pd.DataFrame(rows, columns=cols)
    for c in df.columns:
        kinds = {type(v) for v in df[c] if v is not None and not _is_nan(v)}
        if str in kinds and len(kinds) > 1:
            df[c] = [None if v is None or _is_nan(v) else str(v) for v in df[c]]
        elif df[c].dtype == object and kinds <= {int, float}:
            df[c] = pd.to_numeric(df[c]).astype(float)  # numbers with gaps: None -> NaN
    _write_atomic(out / "results.csv", df.to_csv(index=False, lineterminator="\n"))
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".results.parquet.", suffix=".tmp")
    os.close(fd)
    try:
        df.to_parquet(tmp, index=False)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out / "results.parquet")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return df


def _is_nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def read_sweep_spec(out: str | os.PathLike[str]) -> dict[str, Any]:
    """``DIR/sweep.json`` of a sweep results folder."""
    p = Path(out) / "sweep.json"
    try:
        return json.loads(p.read_text())
    except OSError:
        raise GcsimError(f"{out} is not a sweep results folder (no sweep.json)") from None
