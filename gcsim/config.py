"""Typed, frozen, validated configuration: every knob lives here.

A config is a TOML file with four tables, read with ``tomllib``::

    [run]        seed, gomaxprocs, clock, stop condition, quantum   -> RunConfig
    [runtime]    GOGC, GOMEMLIMIT                                    -> RuntimeConfig
    [costs]      overrides of goruntime.costs.COSTS by name (ns),    -> CostsConfig
                 and from_file = "calibration.toml" (gcsim calibrate)
    [workload]   compute, globals, [[workload.sites]],               -> WorkloadConfig
                 [workload.rates] (streams over time)

Validation happens in one place, ``_parse``: every value is checked for type
and range, unknown keys are rejected with a ``difflib`` suggestion, and each
error is a ``ConfigError`` naming the full dotted key
(``workload.sites[1].lifetime.live_objects``), the bad value and what is
allowed. Types are strict: a bool is not an integer and a float is not an
integer (``2.0`` is rejected where an integer is expected). "Off" and
"unlimited" are ``None`` in Python and the string ``"off"`` in TOML.

``Config.__post_init__`` re-validates through ``config_to_dict``, so a config
changed with ``dataclasses.replace`` is checked with the same messages (the
sub-configs alone are only checked once they are wrapped into a ``Config``).

``config_to_dict`` writes the resolved config (every default filled, all cost
entries included), so a results folder's ``config.toml`` reproduces its run
even if a later gcsim changes a default. ``config_from_dict`` of that dict
gives back an equal ``Config``.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import math
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import tomli_w

from gcsim.errors import MISSING, ConfigError
from gcsim.goruntime.costs import COSTS
from gcsim.units import GiB, format_size, parse_size
from gcsim.workload.pools import PoolConfig, parse_pools, pools_to_dict
from gcsim.workload.streams import Stream, parse_stream, stream_to_toml

_I64_MAX = 2**63 - 1
_MAX_OBJECT_BYTES = GiB
_MAX_LIFETIME_ALLOCS = 100_000_000
_SITE_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_OFF = "off"


# --------------------------------------------------------------------------
# The schema
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class RunConfig:
    """How long and how the simulation runs (TOML ``[run]``).

    Attributes
    ----------
    seed : int
        Seed of every random stream of the run, 0 <= seed < 2**63.
    gomaxprocs : int
        Number of Ps (GOMAXPROCS), 1..256.
    clock_hz : float
        Simulated CPU clock; converts ``costs`` from ns to cycles. > 0.
    duration_s : float or None
        Simulated seconds to run; None ("off") = no time limit.
    max_allocs : int or None
        Stop after this many allocations over all Ps; None ("off") = no limit.
        At least one of ``duration_s`` and ``max_allocs`` is set; the run
        stops at whichever comes first.
    quantum_ns : int
        Lockstep quantum: Ps advance together by this much, 100..10_000_000.
    timeline_interval_ns : int
        Spacing of timeline samples, >= ``quantum_ns``.
    final_gc : bool
        Call ``runtime.GC()`` when the workload ends (a forced cycle, then a
        complete sweep), as a program's last line before it reads MemStats.
    """

    seed: int = 1
    gomaxprocs: int = 1
    clock_hz: float = 3.0e9
    duration_s: float | None = 1.0
    max_allocs: int | None = None
    quantum_ns: int = 10_000
    timeline_interval_ns: int = 1_000_000
    final_gc: bool = False


@dataclass(frozen=True)
class RuntimeConfig:
    """Go runtime knobs (TOML ``[runtime]``; src/runtime/mgcpacer.go).

    Attributes
    ----------
    gogc : int or None
        GOGC percent, 0..1_000_000; None = GOGC=off ("off" in TOML).
    gomemlimit : int or None
        GOMEMLIMIT in bytes, > 0; None = no limit ("off"). TOML also takes a
        size string such as ``"64MiB"``.
    greentea : bool
        Green Tea marking (go1.27's default) or the classic marker
        (``GOEXPERIMENT=nogreenteagc``): objects per span and mark costs.
    packed_span_scan : bool
        Go's Green Tea packed span scan (``internal/runtime/gc/scan``
        HasFastScanSpanPacked: amd64 with AVX-512 VL, BW, DQ, VBMI and BITALG
        and GFNI). Where the CPU has it, a scan of a span of 16-512 B
        pointerful objects that finds at least 1/8 of its slots marked counts
        each whole slot as scan work instead of the bytes up to its last
        pointer (mgcmark_greenteagc.go scanSpan). Scan work is the pacer's
        unit: it sets heapScan, the assist ratio and cons/mark, and a live
        heap that grows past what heapScan counted collapses the assist
        ratio sooner. Default False, as on the machine the cost table was
        measured on (no AVX-512) and on every arm64; ``gcsim validate`` sets
        it from the machine it runs Go on (``goruntime.hostcpu``). No effect
        without ``greentea``.
    gcstoptheworld : int
        Go's ``GODEBUG=gcstoptheworld``: 0 = concurrent mark (default), 1 = mark
        with the world stopped.
    write_barrier : bool
        False switches the write barrier off during marking. Unsafe, as it
        would be in Go: only for showing what the barrier prevents.
    pacer : str
        "go1.18" (the current pacer, default) or "go1.5" (the trigger-ratio
        pacer Go used from 1.5 to 1.17; no memory limit).
    pool_victim : bool
        sync.Pool's victim cache (Go >= 1.13): pooled objects survive one GC.
        False: every pool is emptied at each GC, as before Go 1.13.
    max_stack_bytes : int
        Go's maxstacksize (``debug.SetMaxStack``): a goroutine whose stack would
        grow past it dies with "fatal error: stack overflow". Default 10^9, Go's
        64-bit value; stacks double, so the largest stack that ever exists under
        it is 2^29 = 512 MiB. 2048..2^62.
    shrink_stacks : bool
        Halve stacks at GC when under a quarter is used (False =
        GODEBUG=gcshrinkstackoff=1).
    adaptive_stack_start : bool
        New goroutines start with the average scanned stack size
        (GODEBUG=adaptivestackstart=1, Go's default) instead of 2 KiB.
    preempt_ns : float
        Go's forcePreemptNS: sysmon preempts a goroutine that has run this long
        (10 ms), the moment a P running an allocating goroutine may switch to
        its fractional mark worker (GOMAXPROCS 1-3, 5-7, ...). 0 = the worker
        takes its share of every quantum, the pacer's idealised schedule.
        0..1e12.
    """

    gogc: int | None = 100
    gomemlimit: int | None = None
    greentea: bool = True
    packed_span_scan: bool = False
    gcstoptheworld: int = 0
    write_barrier: bool = True
    pacer: str = "go1.18"
    pool_victim: bool = True
    max_stack_bytes: int = 1_000_000_000
    shrink_stacks: bool = True
    adaptive_stack_start: bool = True
    preempt_ns: float = 10_000_000.0


@dataclass(frozen=True)
class CostsConfig:
    """Overrides of the cycle-cost table ``goruntime.costs.COSTS`` (TOML ``[costs]``).

    Attributes
    ----------
    overrides : tuple of (str, float)
        ``(name, ns)`` pairs. Normalised on construction: names are checked,
        entries are put in ``COSTS`` order and entries equal to the default
        are dropped, so equal tables compare equal.
    """

    overrides: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        given: dict[str, float] = {}
        for name, value in self.overrides:
            key = f"costs.{name}"
            if name not in COSTS:
                raise _unknown_key(key, name, value, tuple(COSTS), "a cost name from COSTS")
            ns = _num(value, key, 0.0)
            assert ns is not None
            given[name] = ns
        norm = tuple(
            (name, given[name])
            for name, entry in COSTS.items()
            if name in given and given[name] != entry.default_ns
        )
        object.__setattr__(self, "overrides", norm)

    def ns(self, name: str) -> float:
        """Return the cost ``name`` in ns: the override if any, else the default.

        Parameters
        ----------
        name : str
            A key of ``goruntime.costs.COSTS``, e.g. ``"alloc_fast_ns"``.

        Returns
        -------
        float
            Nanoseconds (per the entry's unit).
        """
        for n, v in self.overrides:
            if n == name:
                return v
        if name not in COSTS:
            raise KeyError(f"unknown cost {name!r}; see gcsim.goruntime.costs.COSTS")
        return COSTS[name].default_ns

    def as_dict(self) -> dict[str, float]:
        """Return every cost entry in ``COSTS`` order, overrides applied (ns)."""
        over = dict(self.overrides)
        return {name: over.get(name, e.default_ns) for name, e in COSTS.items()}


@dataclass(frozen=True)
class SizeDist:
    """Object-size distribution of a site.

    Attributes
    ----------
    dist : str
        ``"fixed"``, ``"uniform"``, ``"loguniform"`` or ``"choice"``.
    min_bytes, max_bytes : int
        fixed: both are the size; uniform/loguniform: inclusive bounds;
        choice: min and max of ``values_bytes``. 1 B .. 1 GiB.
    values_bytes : tuple of int
        choice only: the sizes drawn from.
    weights : tuple of float
        choice only: relative frequency of each value (>= 0, sum > 0).
    """

    dist: str
    min_bytes: int
    max_bytes: int
    values_bytes: tuple[int, ...] = ()
    weights: tuple[float, ...] = ()


@dataclass(frozen=True)
class Lifetime:
    """How long a site's objects stay reachable.

    Attributes
    ----------
    kind : str
        ``"transient"`` (dead at once), ``"fifo"`` (the last ``live_objects``
        stay live), ``"exponential"`` (mean ``mean_allocs`` of this site's own
        allocations) or ``"immortal"`` (needs the site's ``max_allocs``).
    live_objects : int or None
        fifo only, 1..100_000_000.
    mean_allocs : int or None
        exponential only, 1..100_000_000.
    """

    kind: str = "transient"
    live_objects: int | None = None
    mean_allocs: int | None = None


@dataclass(frozen=True)
class Ref:
    """What one pointer slot of a site's objects points at.

    Attributes
    ----------
    to : str
        ``"nil"``, ``"child"`` (a new object of ``site``, allocated with the
        parent) or ``"random"`` (a random live object of ``site``).
    site : str or None
        Target site name; required for child/random, None for nil.
    """

    to: str
    site: str | None = None


@dataclass(frozen=True, kw_only=True)
class SiteConfig:
    """One allocation site (TOML ``[[workload.sites]]``); keyword-only.

    Attributes
    ----------
    name : str
        Unique, matches ``[A-Za-z_][A-Za-z0-9_.-]*``.
    weight : float
        Relative allocation frequency, >= 0 (0: allocated only as a child).
    size : SizeDist
        Object sizes.
    pointer_words : int or None
        Pointer words per object (0 = noscan); ``8 * pointer_words`` fits the
        smallest object. Set to 0 when neither it nor ``pointer_density`` is given.
    pointer_density : float or None
        Fraction of each object's words that are pointers, 0..1; exclusive
        with ``pointer_words``.
    lifetime : Lifetime
        When objects die.
    refs : tuple of Ref
        Targets of the first ``len(refs)`` pointer slots; the rest are nil.
    max_allocs : int or None
        Stop allocating from this site after this many allocations.
    pointer_writes_per_alloc : float
        Mutator pointer writes per allocation of this site: each moves a
        pointer from one live object of the site to another (the store that
        needs the write barrier while marking). 0..1000.
    escape : float
        Probability that a value of the site escapes to the heap (escape
        analysis), 0..1, default 1. A value that does not escape is placed in
        the running goroutine's frame instead (needs [[workload.goroutines]],
        a transient lifetime and no refs).
    """

    name: str
    weight: float = 1.0
    size: SizeDist
    pointer_words: int | None = None
    pointer_density: float | None = None
    lifetime: Lifetime = Lifetime()
    refs: tuple[Ref, ...] = ()
    max_allocs: int | None = None
    pointer_writes_per_alloc: float = 0.0
    escape: float = 1.0

    def __post_init__(self) -> None:
        if self.pointer_words is None and self.pointer_density is None:
            object.__setattr__(self, "pointer_words", 0)


@dataclass(frozen=True)
class CountDist:
    """A distribution of counts (frames per excursion).

    Attributes
    ----------
    dist : str
        ``"fixed"``, ``"uniform"`` or ``"loguniform"``.
    min, max : int
        Inclusive bounds (equal when fixed), 1..2^50.
    """

    dist: str
    min: int
    max: int


@dataclass(frozen=True, kw_only=True)
class GoroutineGroup:
    """Goroutines with one call behaviour (TOML ``[[workload.goroutines]]``); keyword-only.

    Each goroutine runs *excursions*: it calls down ``depth`` frames, each
    call taking ``frame`` bytes of stack (return address included), then
    returns to its base. A mutator step runs one goroutine (round robin) for
    ``calls_per_step`` calls and returns, then makes the step's allocation.

    Attributes
    ----------
    name : str
        Unique among the groups.
    count : int
        Goroutines of the group alive at once, 1..1_000_000.
    frame : SizeDist
        Stack bytes per call, >= 8 (drawn once per excursion).
    depth : CountDist
        Frames per excursion.
    calls_per_step : float
        Calls plus returns per mutator step the goroutine runs, 0..1e15.
    excursions : int or None
        Excursions before the goroutine is done; None ("forever") = never.
    after : str
        What a done goroutine does: ``"exit"`` (a new goroutine of the group
        replaces it) or ``"block"`` (it parks for good with ``block_depth``
        frames of its last excursion on its stack).
    block_depth : int
        Frames kept while parked (``after = "block"``), >= 0.
    """

    name: str
    count: int = 1
    frame: SizeDist
    depth: CountDist
    calls_per_step: float = 1.0
    excursions: int | None = None
    after: str = "exit"
    block_depth: int = 0


@dataclass(frozen=True, kw_only=True)
class RatesConfig:
    """Workload quantities that vary over simulated time (TOML ``[workload.rates]``).

    Each stream (gcsim.workload.streams) is *added* to the base value it
    names, step by step, and the sum is clamped at 0, the way Go's pacer
    tests build a rate as ``constant(base).sum(...)``.

    Attributes
    ----------
    step_s : float
        Simulated seconds per stream step, > 0.
    compute_ns_per_alloc : Stream or None
        Added to ``workload.compute_ns_per_alloc``.
    site_weights : tuple of (str, Stream)
        Added to the named sites' weights (a scannable fraction is the weight
        of pointerful sites against pointer-free ones).
    """

    step_s: float = 0.01
    compute_ns_per_alloc: Stream | None = None
    site_weights: tuple[tuple[str, Stream], ...] = ()


@dataclass(frozen=True, kw_only=True)
class WorkloadConfig:
    """The simulated program (TOML ``[workload]``); keyword-only.

    Attributes
    ----------
    compute_ns_per_alloc : float
        Mutator compute between two allocations of one goroutine, >= 0.
    mutator_procs : int or None
        How many Ps have an allocating goroutine to run (one each), 1..256;
        None ("all", the default) = every P. The other Ps are idle: Go runs
        idle-priority mark workers, the background sweeper and the scavenger
        there. More than GOMAXPROCS means all of them.
    globals_bytes : int
        Data+BSS scanned as GC roots (Go's globalsScan). Default: a small
        go1.27.3 linux/amd64 program's (reference/go-runtime.md §3.2).
    sites : tuple of SiteConfig
        At least one; at least one with weight > 0.
    rates : RatesConfig or None
        Streams that vary compute and site weights over time; None: constant.
    pools : tuple of PoolConfig
        sync.Pools, each used by one site (gcsim/workload/pools.py).
    goroutines : tuple of GoroutineGroup
        Goroutines whose stacks are modelled (none by default: no stacks).
    """

    compute_ns_per_alloc: float = 0.0
    mutator_procs: int | None = None
    globals_bytes: int = 158_154
    sites: tuple[SiteConfig, ...]
    rates: RatesConfig | None = None
    pools: tuple[PoolConfig, ...] = ()
    goroutines: tuple[GoroutineGroup, ...] = ()


@dataclass(frozen=True)
class Config:
    """A whole, validated configuration. Build it with ``load_config`` or
    ``config_from_dict``; construction re-validates (see module docstring)."""

    run: RunConfig
    runtime: RuntimeConfig
    costs: CostsConfig
    workload: WorkloadConfig

    def __post_init__(self) -> None:
        for name, cls in (
            ("run", RunConfig),
            ("runtime", RuntimeConfig),
            ("costs", CostsConfig),
            ("workload", WorkloadConfig),
        ):
            if not isinstance(getattr(self, name), cls):
                raise TypeError(f"Config.{name} must be a {cls.__name__}")
        _parse(config_to_dict(self))


# --------------------------------------------------------------------------
# Value checkers: each takes the raw value and its dotted key
# --------------------------------------------------------------------------


def _unknown_key(key: str, name: str, value: Any, known: Sequence[str], what: str) -> ConfigError:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else ""
    return ConfigError(key, value, f"{what}: " + ", ".join(known), hint)


def _check_keys(table: dict[str, Any], key: str, known: Sequence[str]) -> None:
    where = f"a key of [{key}]" if key else "a top-level table"
    for name, value in table.items():
        if name not in known:
            raise _unknown_key(_join(key, name), name, value, known, where)


def _check_variant_keys(
    table: dict[str, Any], key: str, tag: str, tag_value: str, allowed: Sequence[str]
) -> None:
    for name, value in table.items():
        if name not in allowed:
            raise ConfigError(
                _join(key, name), value, f"only {', '.join(allowed)} when {tag} = {tag_value!r}"
            )


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _table(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(key, value, "a table")
    return value


def _required(table: dict[str, Any], key: str, name: str, allowed: str) -> Any:
    if name not in table:
        raise ConfigError(_join(key, name), MISSING, allowed)
    return table[name]


def _off_hint(value: Any, off: bool) -> str:
    return "'off' is not accepted for this key" if value == _OFF and not off else ""


def _int(value: Any, key: str, lo: int, hi: int = _I64_MAX, *, off: bool = False) -> int | None:
    """Check an integer field; ``"off"`` -> None when ``off``."""
    if off and value == _OFF:
        return None
    allowed = f"an integer >= {lo:_}" if hi >= _I64_MAX else f"an integer in {lo:_}..{hi:_}"
    if off:
        allowed += " or 'off'"
    if isinstance(value, bool) or not isinstance(value, int):
        hint = _off_hint(value, off)
        if isinstance(value, float) and value.is_integer():
            hint = f"write {int(value)}, not {value!r}"
        raise ConfigError(key, value, allowed, hint)
    if not lo <= value <= hi:
        raise ConfigError(key, value, allowed)
    return value


def _num(
    value: Any,
    key: str,
    lo: float,
    hi: float = math.inf,
    *,
    lo_open: bool = False,
    off: bool = False,
) -> float | None:
    """Check a real-number field (int or float in TOML); ``"off"`` -> None when ``off``."""
    if off and value == _OFF:
        return None
    low = f"> {lo:g}" if lo_open else f">= {lo:g}"
    allowed = f"a number {low}" if hi == math.inf else f"a number in {lo:g}..{hi:g}"
    if off:
        allowed += " or 'off'"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(key, value, allowed, _off_hint(value, off))
    x = float(value)
    if not math.isfinite(x) or x < lo or (lo_open and x == lo) or x > hi:
        raise ConfigError(key, value, allowed)
    return x


def _size(value: Any, key: str, lo: int, hi: int = _I64_MAX, *, off: bool = False) -> int | None:
    """Check a byte count: an integer or a size string ("64MiB"); ``"off"`` -> None."""
    if off and value == _OFF:
        return None
    allowed = f"a size >= {lo} B" if hi >= _I64_MAX else f"a size in {lo} B..{format_size(hi)}"
    allowed += " (a byte count or a string like '64MiB')"
    if off:
        allowed += " or 'off'"
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConfigError(key, value, allowed)
    try:
        n = parse_size(value)
    except ValueError as e:
        raise ConfigError(key, value, allowed, _off_hint(value, off) or str(e)) from None
    if not lo <= n <= hi:
        raise ConfigError(key, value, allowed)
    return n


def _enum(value: Any, key: str, choices: Sequence[str], hint: str = "") -> str:
    if isinstance(value, str) and value in choices:
        return value
    if isinstance(value, str) and not hint:
        close = difflib.get_close_matches(value, choices, n=1)
        hint = f"did you mean '{close[0]}'?" if close else ""
    raise ConfigError(key, value, "one of " + ", ".join(repr(c) for c in choices), hint)


def _list(value: Any, key: str, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(key, value, f"a list of {what}")
    return value


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------


def _parse(raw: Any) -> tuple[RunConfig, RuntimeConfig, CostsConfig, WorkloadConfig]:
    """Validate a raw config dict; the one place where validation happens."""
    if not isinstance(raw, dict):
        raise ConfigError("<config>", raw, "a table of [run], [runtime], [costs], [workload]")
    _check_keys(raw, "", ("run", "runtime", "costs", "workload"))
    costs = _costs_with_file(_table(raw.get("costs", {}), "costs"))
    return (
        _parse_run(_table(raw.get("run", {}), "run")),
        _parse_runtime(_table(raw.get("runtime", {}), "runtime")),
        CostsConfig(tuple(costs.items())),
        _parse_workload(_table(raw.get("workload", {}), "workload")),
    )


def _costs_with_file(t: dict[str, Any]) -> dict[str, Any]:
    """The [costs] entries, over those of ``from_file`` if given.

    ``from_file`` names a TOML file with a ``[costs]`` table of COSTS names,
    as ``gcsim calibrate`` writes; its entries become overrides, and the
    config's own entries override them. ``load_config`` has already made a
    relative path relative to the config file (else it is relative to the
    working directory). Only the numbers reach ``CostsConfig``, so a dumped
    config reproduces the run without the file.
    """
    if "from_file" not in t:
        return t
    path = t["from_file"]
    key = "costs.from_file"
    if not isinstance(path, str) or not path:
        raise ConfigError(key, path, "a path to a TOML file with a [costs] table")
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(key, path, "a valid TOML file", str(e)) from None
    except OSError as e:
        raise ConfigError(key, path, "a readable TOML file", str(e)) from None
    from_file = doc.get("costs")
    if not isinstance(from_file, dict):
        raise ConfigError(key, path, "a TOML file with a [costs] table")
    for name, value in from_file.items():
        where = f"costs.{name} in {path}"
        if name not in COSTS:
            raise _unknown_key(where, name, value, tuple(COSTS), "a cost name from COSTS")
        _num(value, where, 0.0)
    return {**from_file, **{k: v for k, v in t.items() if k != "from_file"}}


def _parse_run(t: dict[str, Any]) -> RunConfig:
    d = RunConfig()
    _check_keys(t, "run", tuple(f.name for f in fields(RunConfig)))
    duration = _num(
        t.get("duration_s", d.duration_s), "run.duration_s", 0.0, lo_open=True, off=True
    )
    max_allocs = _int(t.get("max_allocs", _OFF), "run.max_allocs", 1, off=True)
    if duration is None and max_allocs is None:
        raise ConfigError(
            "run.duration_s",
            _OFF,
            "a number of seconds > 0 while run.max_allocs is 'off'",
            "at least one of run.duration_s and run.max_allocs must be set",
        )
    quantum = _int(t.get("quantum_ns", d.quantum_ns), "run.quantum_ns", 100, 10_000_000)
    assert quantum is not None
    timeline = t.get("timeline_interval_ns", d.timeline_interval_ns)
    if isinstance(timeline, int) and not isinstance(timeline, bool) and timeline < quantum:
        raise ConfigError(
            "run.timeline_interval_ns", timeline, f"an integer >= run.quantum_ns ({quantum:_})"
        )
    return RunConfig(
        seed=_req_int(t.get("seed", d.seed), "run.seed", 0),
        gomaxprocs=_req_int(t.get("gomaxprocs", d.gomaxprocs), "run.gomaxprocs", 1, 256),
        clock_hz=_req_num(t.get("clock_hz", d.clock_hz), "run.clock_hz", 0.0, lo_open=True),
        duration_s=duration,
        max_allocs=max_allocs,
        quantum_ns=quantum,
        timeline_interval_ns=_req_int(timeline, "run.timeline_interval_ns", quantum),
        final_gc=_bool(t.get("final_gc", d.final_gc), "run.final_gc"),
    )


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(key, value, "true or false")
    return value


def _req_int(value: Any, key: str, lo: int, hi: int = _I64_MAX) -> int:
    n = _int(value, key, lo, hi)
    assert n is not None
    return n


def _req_num(value: Any, key: str, lo: float, hi: float = math.inf, lo_open: bool = False) -> float:
    x = _num(value, key, lo, hi, lo_open=lo_open)
    assert x is not None
    return x


def _parse_runtime(t: dict[str, Any]) -> RuntimeConfig:
    d = RuntimeConfig()
    _check_keys(t, "runtime", tuple(f.name for f in fields(RuntimeConfig)))
    pacer = _enum(t.get("pacer", d.pacer), "runtime.pacer", ("go1.18", "go1.5"))
    gomemlimit = _size(t.get("gomemlimit", _OFF), "runtime.gomemlimit", 1, off=True)
    if pacer == "go1.5" and gomemlimit is not None:
        raise ConfigError("runtime.gomemlimit", t["gomemlimit"],
                          "'off' when runtime.pacer = 'go1.5'",
                          "GOMEMLIMIT arrived with Go 1.19's pacer")
    return RuntimeConfig(
        gogc=_int(t.get("gogc", 100), "runtime.gogc", 0, 1_000_000, off=True),
        gomemlimit=gomemlimit,
        greentea=_bool(t.get("greentea", d.greentea), "runtime.greentea"),
        packed_span_scan=_bool(t.get("packed_span_scan", d.packed_span_scan),
                               "runtime.packed_span_scan"),
        gcstoptheworld=_req_int(t.get("gcstoptheworld", d.gcstoptheworld),
                                "runtime.gcstoptheworld", 0, 1),
        write_barrier=_bool(t.get("write_barrier", d.write_barrier), "runtime.write_barrier"),
        pacer=pacer,
        pool_victim=_bool(t.get("pool_victim", d.pool_victim), "runtime.pool_victim"),
        max_stack_bytes=_size(t.get("max_stack_bytes", d.max_stack_bytes),
                              "runtime.max_stack_bytes", 2048, 1 << 62) or d.max_stack_bytes,
        shrink_stacks=_bool(t.get("shrink_stacks", d.shrink_stacks), "runtime.shrink_stacks"),
        adaptive_stack_start=_bool(t.get("adaptive_stack_start", d.adaptive_stack_start),
                                   "runtime.adaptive_stack_start"),
        preempt_ns=_req_num(t.get("preempt_ns", d.preempt_ns), "runtime.preempt_ns", 0.0, 1e12),
    )


_WORKLOAD_KEYS = ("compute_ns_per_alloc", "mutator_procs", "globals_bytes", "sites", "rates",
                  "pools", "goroutines")
_RATES_KEYS = ("step_s", "compute_ns_per_alloc", "site_weights")
_SITE_KEYS = (
    "name",
    "weight",
    "size",
    "pointer_words",
    "pointer_density",
    "lifetime",
    "refs",
    "max_allocs",
    "pointer_writes_per_alloc",
    "escape",
)


def _parse_workload(t: dict[str, Any]) -> WorkloadConfig:
    _check_keys(t, "workload", _WORKLOAD_KEYS)
    allowed = "a list of at least one site table ([[workload.sites]])"
    raw_sites = _list(_required(t, "workload", "sites", allowed), "workload.sites", "site tables")
    if not raw_sites:
        raise ConfigError("workload.sites", raw_sites, allowed)
    sites = tuple(
        _parse_site(_table(s, f"workload.sites[{i}]"), f"workload.sites[{i}]")
        for i, s in enumerate(raw_sites)
    )
    _check_sites(sites)
    raw_groups = _list(t.get("goroutines", []), "workload.goroutines", "goroutine group tables")
    groups = tuple(
        _parse_goroutines(_table(g, f"workload.goroutines[{i}]"), f"workload.goroutines[{i}]")
        for i, g in enumerate(raw_groups)
    )
    _check_goroutines(groups, sites)
    globals_bytes = _size(t.get("globals_bytes", 158_154), "workload.globals_bytes", 0)
    assert globals_bytes is not None
    rates = None
    if "rates" in t:
        rates = _parse_rates(_table(t["rates"], "workload.rates"), sites)
    return WorkloadConfig(
        compute_ns_per_alloc=_req_num(
            t.get("compute_ns_per_alloc", 0.0), "workload.compute_ns_per_alloc", 0.0
        ),
        mutator_procs=_mutator_procs(t.get("mutator_procs", "all")),
        globals_bytes=globals_bytes,
        sites=sites,
        rates=rates,
        pools=parse_pools(t.get("pools", []), sites),
        goroutines=groups,
    )


def _parse_rates(t: dict[str, Any], sites: tuple[SiteConfig, ...]) -> RatesConfig:
    _check_keys(t, "workload.rates", _RATES_KEYS)
    step_s = _req_num(t.get("step_s", 0.01), "workload.rates.step_s", 0.0, lo_open=True)
    compute = None
    if "compute_ns_per_alloc" in t:
        compute = parse_stream(t["compute_ns_per_alloc"], "workload.rates.compute_ns_per_alloc")
    raw_w = _table(t.get("site_weights", {}), "workload.rates.site_weights")
    names = [s.name for s in sites]
    weights = []
    for name, raw in raw_w.items():
        key = f"workload.rates.site_weights.{name}"
        if name not in names:
            raise _unknown_key(key, name, name, names, "the name of a site")
        weights.append((name, parse_stream(raw, key)))
    return RatesConfig(step_s=step_s, compute_ns_per_alloc=compute, site_weights=tuple(weights))
def _mutator_procs(value: Any) -> int | None:
    if value == "all":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 256:
        raise ConfigError("workload.mutator_procs", value, "an integer 1..256 or 'all'")
    return value


def _parse_site(t: dict[str, Any], key: str) -> SiteConfig:
    _check_keys(t, key, _SITE_KEYS)
    name = _required(t, key, "name", "a site name matching [A-Za-z_][A-Za-z0-9_.-]*")
    if not isinstance(name, str) or not _SITE_NAME_RE.fullmatch(name):
        raise ConfigError(f"{key}.name", name, "a site name matching [A-Za-z_][A-Za-z0-9_.-]*")
    weight = _req_num(t.get("weight", 1.0), f"{key}.weight", 0.0)
    size_allowed = "a size (64, '2KiB') or a { dist = ... } table"
    size = _parse_size_dist(_required(t, key, "size", size_allowed), f"{key}.size")

    pw: int | None = None
    pd: float | None = None
    if "pointer_words" in t and "pointer_density" in t:
        raise ConfigError(
            f"{key}.pointer_density",
            t["pointer_density"],
            "no pointer_density when pointer_words is given (give one of the two)",
        )
    if "pointer_density" in t:
        pd = _req_num(t["pointer_density"], f"{key}.pointer_density", 0.0, 1.0)
        # The engine gives an object of s bytes floor(density * (s // 8)) pointer
        # words; that grows with s, so the smallest object bounds the refs.
        min_words = math.floor(pd * (size.min_bytes // 8))
    else:
        pw = _req_int(t.get("pointer_words", 0), f"{key}.pointer_words", 0)
        if pw * 8 > size.min_bytes:
            raise ConfigError(
                f"{key}.pointer_words",
                pw,
                f"an integer in 0..{size.min_bytes // 8} (8-byte words that fit the "
                f"site's smallest object, {size.min_bytes} B)",
            )
        min_words = pw

    max_allocs = _int(t.get("max_allocs", _OFF), f"{key}.max_allocs", 1, off=True)
    lifetime = _parse_lifetime(_table(t.get("lifetime", {}), f"{key}.lifetime"), f"{key}.lifetime")
    if lifetime.kind == "immortal" and max_allocs is None:
        raise ConfigError(
            f"{key}.max_allocs",
            MISSING,
            "a positive integer when lifetime.kind = 'immortal'",
            "an immortal site without a limit grows the heap without bound",
        )
    raw_refs = _list(t.get("refs", []), f"{key}.refs", "ref tables")
    refs = tuple(
        _parse_ref(_table(r, f"{key}.refs[{j}]"), f"{key}.refs[{j}]")
        for j, r in enumerate(raw_refs)
    )
    if len(refs) > min_words:
        raise ConfigError(
            f"{key}.refs",
            f"{len(refs)} refs",
            f"at most {min_words} ref{'' if min_words == 1 else 's'} (the pointer words of the "
            f"site's smallest object, {size.min_bytes} B)",
        )
    writes = _req_num(t.get("pointer_writes_per_alloc", 0.0),
                      f"{key}.pointer_writes_per_alloc", 0.0, 1000.0)
    if writes > 0 and (not refs or lifetime.kind == "transient"):
        raise ConfigError(
            f"{key}.pointer_writes_per_alloc",
            writes,
            "0 unless the site has refs and a lifetime other than 'transient'",
            "a pointer write moves a pointer between two live objects of the site",
        )
    escape = _req_num(t.get("escape", 1.0), f"{key}.escape", 0.0, 1.0)
    if escape < 1.0 and (refs or lifetime.kind != "transient"):
        raise ConfigError(
            f"{key}.escape", escape,
            "1.0 unless the site's lifetime is 'transient' and it has no refs",
            "a value kept in a root table or pointing at heap objects escapes",
        )
    return SiteConfig(
        name=name,
        escape=escape,
        weight=weight,
        size=size,
        pointer_words=pw,
        pointer_density=pd,
        lifetime=lifetime,
        refs=refs,
        max_allocs=max_allocs,
        pointer_writes_per_alloc=writes,
    )


_GROUP_KEYS = ("name", "count", "frame", "depth", "calls_per_step", "excursions", "after",
               "block_depth")
_MAX_DEPTH = 1 << 50
_FOREVER = "forever"


def _off_forever(value: Any) -> Any:
    return _FOREVER if value is None else value


def _parse_count_dist(value: Any, key: str) -> CountDist:
    """A count (``20``) or ``{ dist = "uniform" | "loguniform", min = 1, max = 40 }``."""
    if not isinstance(value, dict):
        n = _req_int(value, key, 1, _MAX_DEPTH)
        return CountDist("fixed", n, n)
    _check_keys(value, key, ("dist", "min", "max"))
    allowed = "'uniform' or 'loguniform'"
    dist = _enum(_required(value, key, "dist", allowed), f"{key}.dist", ("uniform", "loguniform"))
    lo = _req_int(_required(value, key, "min", "an integer >= 1"), f"{key}.min", 1, _MAX_DEPTH)
    hi = _req_int(_required(value, key, "max", f"an integer >= {lo}"), f"{key}.max", lo,
                  _MAX_DEPTH)
    return CountDist(dist, lo, hi)


def _parse_goroutines(t: dict[str, Any], key: str) -> GoroutineGroup:
    _check_keys(t, key, _GROUP_KEYS)
    name = _required(t, key, "name", "a group name matching [A-Za-z_][A-Za-z0-9_.-]*")
    if not isinstance(name, str) or not _SITE_NAME_RE.fullmatch(name):
        raise ConfigError(f"{key}.name", name, "a group name matching [A-Za-z_][A-Za-z0-9_.-]*")
    frame = _parse_size_dist(_required(t, key, "frame", "a size (256, '1KiB') or a { dist } "
                                       "table"), f"{key}.frame")
    if frame.min_bytes < 8:
        raise ConfigError(f"{key}.frame", t["frame"], "sizes >= 8 B (a call pushes its "
                          "8-byte return address)")
    depth = _parse_count_dist(_required(t, key, "depth", "a count or a { dist } table"),
                              f"{key}.depth")
    excursions = t.get("excursions", _FOREVER)
    n_exc = None if excursions == _FOREVER else _int(excursions, f"{key}.excursions", 1)
    after = _enum(t.get("after", "exit"), f"{key}.after", ("exit", "block"))
    block_depth = _req_int(t.get("block_depth", 0), f"{key}.block_depth", 0, _MAX_DEPTH)
    if block_depth and after != "block":
        raise ConfigError(f"{key}.block_depth", block_depth, "0 unless after = 'block'")
    if after == "block" and n_exc is None:
        raise ConfigError(f"{key}.after", after, "'exit' while excursions = 'forever'",
                          "a goroutine that never finishes never parks")
    return GoroutineGroup(
        name=name,
        count=_req_int(t.get("count", 1), f"{key}.count", 1, 1_000_000),
        frame=frame,
        depth=depth,
        calls_per_step=_req_num(t.get("calls_per_step", 1.0), f"{key}.calls_per_step", 0.0, 1e15),
        excursions=n_exc,
        after=after,
        block_depth=block_depth,
    )


def _check_goroutines(groups: tuple[GoroutineGroup, ...], sites: tuple[SiteConfig, ...]) -> None:
    seen: dict[str, int] = {}
    for i, g in enumerate(groups):
        if g.name in seen:
            raise ConfigError(f"workload.goroutines[{i}].name", g.name,
                              "a name no other goroutine group uses",
                              f"workload.goroutines[{seen[g.name]}] is also named {g.name!r}")
        seen[g.name] = i
    if not groups:
        for i, s in enumerate(sites):
            if s.escape < 1.0:
                raise ConfigError(f"workload.sites[{i}].escape", s.escape,
                                  "1.0 when there are no [[workload.goroutines]]",
                                  "a value that does not escape lives in a goroutine's frame")


_DISTS = ("uniform", "loguniform", "choice")


def _parse_size_dist(value: Any, key: str) -> SizeDist:
    if not isinstance(value, dict):
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ConfigError(key, value, "a size (64, '2KiB') or a { dist = ... } table")
        n = _size(value, key, 1, _MAX_OBJECT_BYTES)
        assert n is not None
        return SizeDist("fixed", n, n)
    _check_keys(value, key, ("dist", "min_bytes", "max_bytes", "values_bytes", "weights"))
    hint = "write a fixed size as a plain value: size = 64" if value.get("dist") == "fixed" else ""
    allowed = "one of " + ", ".join(repr(d) for d in _DISTS)
    dist = _enum(_required(value, key, "dist", allowed), f"{key}.dist", _DISTS, hint)
    if dist != "choice":
        _check_variant_keys(value, key, "dist", dist, ("dist", "min_bytes", "max_bytes"))
        bounds = []
        for name in ("min_bytes", "max_bytes"):
            allowed = f"a size in 1 B..{format_size(_MAX_OBJECT_BYTES)}"
            v = _required(value, key, name, allowed)
            bounds.append(_req_size(v, f"{key}.{name}"))
        lo, hi = bounds
        if hi < lo:
            raise ConfigError(f"{key}.max_bytes", value["max_bytes"], f"a size >= min_bytes ({lo})")
        return SizeDist(dist, lo, hi)
    _check_variant_keys(value, key, "dist", dist, ("dist", "values_bytes", "weights"))
    vkey, wkey = f"{key}.values_bytes", f"{key}.weights"
    raw_values = _list(_required(value, key, "values_bytes", "a list of sizes"), vkey, "sizes")
    if not raw_values:
        raise ConfigError(vkey, raw_values, "a non-empty list of sizes")
    values = tuple(_req_size(v, f"{vkey}[{i}]") for i, v in enumerate(raw_values))
    raw_weights = _list(value.get("weights", [1.0] * len(values)), wkey, "numbers >= 0")
    if len(raw_weights) != len(values):
        raise ConfigError(wkey, raw_weights, f"a list of {len(values)} numbers (one per value)")
    weights = tuple(_req_num(w, f"{wkey}[{i}]", 0.0) for i, w in enumerate(raw_weights))
    if sum(weights) <= 0:
        raise ConfigError(wkey, raw_weights, "numbers >= 0 with a sum > 0")
    return SizeDist("choice", min(values), max(values), values, weights)


def _req_size(value: Any, key: str) -> int:
    n = _size(value, key, 1, _MAX_OBJECT_BYTES)
    assert n is not None
    return n


_LIFETIME_KEYS = {
    "transient": ("kind",),
    "fifo": ("kind", "live_objects"),
    "exponential": ("kind", "mean_allocs"),
    "immortal": ("kind",),
}


def _parse_lifetime(t: dict[str, Any], key: str) -> Lifetime:
    _check_keys(t, key, ("kind", "live_objects", "mean_allocs"))
    kind = _enum(t.get("kind", "transient"), f"{key}.kind", tuple(_LIFETIME_KEYS))
    _check_variant_keys(t, key, "kind", kind, _LIFETIME_KEYS[kind])
    params: dict[str, int] = {}
    for name in _LIFETIME_KEYS[kind][1:]:
        allowed = f"an integer in 1..{_MAX_LIFETIME_ALLOCS:_} when kind = {kind!r}"
        v = _required(t, key, name, allowed)
        params[name] = _req_int(v, f"{key}.{name}", 1, _MAX_LIFETIME_ALLOCS)
    return Lifetime(kind, **params)


_REF_KINDS = ("nil", "child", "random")


def _parse_ref(t: dict[str, Any], key: str) -> Ref:
    _check_keys(t, key, ("to", "site"))
    allowed = "one of " + ", ".join(repr(k) for k in _REF_KINDS)
    to = _enum(_required(t, key, "to", allowed), f"{key}.to", _REF_KINDS)
    if to == "nil":
        _check_variant_keys(t, key, "to", to, ("to",))
        return Ref("nil")
    site = _required(t, key, "site", f"a site name when to = {to!r}")
    if not isinstance(site, str):
        raise ConfigError(f"{key}.site", site, "a site name (a string)")
    return Ref(to, site)


def _check_sites(sites: tuple[SiteConfig, ...]) -> None:
    """Cross-site checks: unique names, ref targets, child cycles, some weight."""
    index: dict[str, int] = {}
    for i, s in enumerate(sites):
        if s.name in index:
            raise ConfigError(
                f"workload.sites[{i}].name",
                s.name,
                "a name no other site uses",
                f"workload.sites[{index[s.name]}] is also named {s.name!r}",
            )
        index[s.name] = i
    names = tuple(index)
    for i, s in enumerate(sites):
        for j, r in enumerate(s.refs):
            key = f"workload.sites[{i}].refs[{j}].site"
            if r.site is None:
                continue
            if r.site not in index:
                raise _unknown_key(key, r.site, r.site, names, "the name of a site")
            target = sites[index[r.site]]
            if r.to == "random" and target.lifetime.kind == "transient":
                raise ConfigError(
                    key,
                    r.site,
                    "a site whose lifetime.kind is not 'transient'",
                    "a transient site never has a live object to point at",
                )
    # Child refs allocate the child with its parent: a cycle never terminates.
    state = [0] * len(sites)  # 0 = unvisited, 1 = on the DFS path, 2 = done
    path: list[str] = []

    def visit(i: int) -> None:
        state[i] = 1
        path.append(sites[i].name)
        for j, r in enumerate(sites[i].refs):
            if r.to != "child" or r.site is None:
                continue
            t = index[r.site]
            if state[t] == 1:
                cycle = path[path.index(r.site) :] + [r.site]
                raise ConfigError(
                    f"workload.sites[{i}].refs[{j}].site",
                    r.site,
                    "a site that does not lead back here through child refs",
                    "child cycle " + " -> ".join(cycle),
                )
            if state[t] == 0:
                visit(t)
        path.pop()
        state[i] = 2

    for i in range(len(sites)):
        if state[i] == 0:
            visit(i)
    if not any(s.weight > 0 for s in sites):
        raise ConfigError(
            "workload.sites",
            f"{len(sites)} sites, all with weight 0",
            "at least one site with weight > 0",
        )


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def config_from_dict(raw: dict[str, Any]) -> Config:
    """Validate a raw config (as ``tomllib`` returns it) into a ``Config``.

    Parameters
    ----------
    raw : dict
        Tables ``run``, ``runtime``, ``costs``, ``workload``; not modified.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        On the first bad key; the message names the dotted key, the value and
        what is allowed.
    """
    return Config(*_parse(raw))


def load_config(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> Config:
    """Read a TOML config file, apply ``--set`` overrides, and validate.

    Parameters
    ----------
    path : str or path-like
        The TOML file.
    overrides : sequence of str
        ``"dotted.key=VALUE"`` strings, applied in order to the raw dict
        before validation. ``VALUE`` is read as a TOML value if it parses
        (``200``, ``"off"``, ``[1, 2]``, ``{kind = "fifo", live_objects = 5}``),
        else taken as a bare string (``runtime.gogc=off``). Keys may index
        lists: ``workload.sites[0].weight`` or ``workload.sites.0.weight``.
        A relative ``costs.from_file`` in the file is read relative to the
        file's folder; one given with ``--set``, relative to the working
        directory.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        The file is missing or not valid TOML, an override is malformed, or
        validation fails.
    """
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(os.fspath(path), str(e), "a valid TOML file") from None
    except OSError as e:
        raise ConfigError(os.fspath(path), MISSING, "a readable TOML file", str(e)) from None
    costs = raw.get("costs")
    if isinstance(costs, dict) and isinstance(costs.get("from_file"), str):
        # Relative to the config file; os.path.join keeps an absolute path as is.
        costs["from_file"] = os.path.join(os.path.dirname(os.path.abspath(path)),
                                          costs["from_file"])
    for text in overrides:
        key, value = parse_override(text)
        raw = apply_override(raw, key, value)
    return config_from_dict(raw)


def parse_override(text: str) -> tuple[str, Any]:
    """Split a ``--set`` string ``"dotted.key=VALUE"`` into the key and a parsed value.

    ``VALUE`` is read as a TOML value when it parses (``200``, ``"off"``,
    ``{kind = "fifo", live_objects = 5}``), else kept as a bare string, so
    ``runtime.gogc=off`` works.
    """
    key, sep, value_text = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError("--set", text, "'dotted.key=VALUE', e.g. 'runtime.gogc=200'")
    value_text = value_text.strip()
    try:
        doc = tomllib.loads(f"v = {value_text}")
    except tomllib.TOMLDecodeError:
        return key.strip(), value_text
    if list(doc) != ["v"]:
        return key.strip(), value_text
    return key.strip(), doc["v"]


_SEGMENT_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)?((?:\[[0-9]+\])*)")


def _split_key(key: str, value: Any) -> list[str | int]:
    parts: list[str | int] = []
    for seg in key.split("."):
        m = _SEGMENT_RE.fullmatch(seg)
        if seg.isdigit():
            parts.append(int(seg))
        elif seg and m:
            if m.group(1):
                parts.append(m.group(1))
            parts.extend(int(i) for i in re.findall(r"\[([0-9]+)\]", m.group(2)))
        else:
            raise ConfigError(
                key, value, "a dotted key like 'run.gomaxprocs' or 'workload.sites[0].weight'"
            )
    if not isinstance(parts[0], str):
        raise ConfigError(key, value, "a dotted key that starts with a table name, e.g. 'run.seed'")
    return parts


def apply_override(raw: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """Return a copy of ``raw`` with the dotted ``key`` set to ``value``.

    Missing tables on the way are created; list indices must exist. The
    result is not validated: a key the schema does not know is reported by
    ``config_from_dict`` as an unknown key.

    Parameters
    ----------
    raw : dict
        A raw config dict (not modified).
    key : str
        ``"runtime.gogc"``, ``"workload.sites[0].weight"`` or
        ``"workload.sites.0.weight"``.
    value : Any
        The new value, already parsed (e.g. ``200``, ``"off"``).

    Returns
    -------
    dict
        A deep copy of ``raw`` with the value set.
    """
    parts = _split_key(key, value)
    out = copy.deepcopy(raw)
    cur: Any = out
    done = ""
    for n, part in enumerate(parts):
        last = n == len(parts) - 1
        if isinstance(part, int):
            if not isinstance(cur, list):
                raise ConfigError(done, "a table", f"a name after '{done}', not an index", key)
            if part >= len(cur):
                has = f"'{done}' has {len(cur)}" if cur else f"'{done}' is empty or missing"
                raise ConfigError(f"{done}[{part}]", MISSING, f"an existing list entry ({has})")
            done = f"{done}[{part}]"
        else:
            if not isinstance(cur, dict):
                kind = "a list" if isinstance(cur, list) else repr(cur)
                raise ConfigError(
                    done, kind, f"a table to hold '{part}' (for a list use '{done}[0].{part}')"
                )
            done = _join(done, part)
            if not last and part not in cur:
                cur[part] = [] if isinstance(parts[n + 1], int) else {}
        if last:
            cur[part] = copy.deepcopy(value)
        else:
            cur = cur[part]
    return out


def _off(value: Any) -> Any:
    return _OFF if value is None else value


def _f(value: Any) -> Any:
    """int -> float for float fields, so equal configs dump (and hash) the same."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _site_to_dict(s: SiteConfig) -> dict[str, Any]:
    z = s.size
    size: Any
    if z.dist == "fixed" and z.min_bytes == z.max_bytes:
        size = z.min_bytes
    elif z.dist == "choice":
        size = {
            "dist": z.dist,
            "values_bytes": list(z.values_bytes),
            "weights": [_f(w) for w in z.weights],
        }
    else:
        size = {"dist": z.dist, "min_bytes": z.min_bytes, "max_bytes": z.max_bytes}
    d: dict[str, Any] = {"name": s.name, "weight": _f(s.weight), "size": size}
    if s.pointer_density is not None:
        d["pointer_density"] = _f(s.pointer_density)
    if s.pointer_words is not None:
        d["pointer_words"] = s.pointer_words
    if s.max_allocs is not None:
        d["max_allocs"] = s.max_allocs
    lt = s.lifetime
    d["lifetime"] = {"kind": lt.kind}
    if lt.live_objects is not None:
        d["lifetime"]["live_objects"] = lt.live_objects
    if lt.mean_allocs is not None:
        d["lifetime"]["mean_allocs"] = lt.mean_allocs
    d["refs"] = [{"to": r.to} if r.site is None else {"to": r.to, "site": r.site} for r in s.refs]
    d["pointer_writes_per_alloc"] = _f(s.pointer_writes_per_alloc)
    d["escape"] = _f(s.escape)
    return d


def _rates_to_dict(r: RatesConfig) -> dict[str, Any]:
    d: dict[str, Any] = {"step_s": _f(r.step_s)}
    if r.compute_ns_per_alloc is not None:
        d["compute_ns_per_alloc"] = stream_to_toml(r.compute_ns_per_alloc)
    if r.site_weights:
        d["site_weights"] = {name: stream_to_toml(st) for name, st in r.site_weights}
    return d
def _size_to_dict(z: SizeDist) -> Any:
    if z.dist == "fixed" and z.min_bytes == z.max_bytes:
        return z.min_bytes
    if z.dist == "choice":
        return {"dist": z.dist, "values_bytes": list(z.values_bytes),
                "weights": [_f(w) for w in z.weights]}
    return {"dist": z.dist, "min_bytes": z.min_bytes, "max_bytes": z.max_bytes}


def _group_to_dict(g: GoroutineGroup) -> dict[str, Any]:
    depth: Any = (g.depth.min if g.depth.dist == "fixed"
                  else {"dist": g.depth.dist, "min": g.depth.min, "max": g.depth.max})
    return {"name": g.name, "count": g.count, "frame": _size_to_dict(g.frame), "depth": depth,
            "calls_per_step": _f(g.calls_per_step), "excursions": _off_forever(g.excursions),
            "after": g.after, "block_depth": g.block_depth}


def config_to_dict(cfg: Config) -> dict[str, Any]:
    """Return the resolved config as a TOML-serialisable dict.

    Every default is filled and every cost entry written; ``None`` becomes
    ``"off"`` for ``run.duration_s``, ``run.max_allocs``, ``runtime.gogc``
    and ``runtime.gomemlimit`` and is omitted for optional site fields.
    Sizes are integers; a fixed size is a plain integer.
    """
    r, w = cfg.run, cfg.workload
    out = {
        "run": {
            "seed": r.seed,
            "gomaxprocs": r.gomaxprocs,
            "clock_hz": _f(r.clock_hz),
            "duration_s": _off(_f(r.duration_s)),
            "max_allocs": _off(r.max_allocs),
            "quantum_ns": r.quantum_ns,
            "timeline_interval_ns": r.timeline_interval_ns,
            "final_gc": r.final_gc,
        },
        "runtime": {
            "gogc": _off(cfg.runtime.gogc),
            "gomemlimit": _off(cfg.runtime.gomemlimit),
            "greentea": cfg.runtime.greentea,
            "packed_span_scan": cfg.runtime.packed_span_scan,
            "gcstoptheworld": cfg.runtime.gcstoptheworld,
            "write_barrier": cfg.runtime.write_barrier,
            "pacer": cfg.runtime.pacer,
            "pool_victim": cfg.runtime.pool_victim,
            "max_stack_bytes": cfg.runtime.max_stack_bytes,
            "shrink_stacks": cfg.runtime.shrink_stacks,
            "adaptive_stack_start": cfg.runtime.adaptive_stack_start,
            "preempt_ns": _f(cfg.runtime.preempt_ns),
        },
        "costs": {name: _f(v) for name, v in cfg.costs.as_dict().items()},
        "workload": {
            "compute_ns_per_alloc": _f(w.compute_ns_per_alloc),
            "mutator_procs": "all" if w.mutator_procs is None else w.mutator_procs,
            "globals_bytes": w.globals_bytes,
            "sites": [_site_to_dict(s) for s in w.sites],
            **({"pools": pools_to_dict(w.pools)} if w.pools else {}),
            **({"goroutines": [_group_to_dict(g) for g in w.goroutines]} if w.goroutines else {}),
        },
    }
    if w.rates is not None:
        out["workload"]["rates"] = _rates_to_dict(w.rates)
    return out


def dump_config(cfg: Config) -> str:
    """Return the resolved config as TOML text (stable key order)."""
    return tomli_w.dumps(config_to_dict(cfg))


def config_hash(cfg: Config) -> str:
    """Return the sha256 hex digest of ``dump_config(cfg)``."""
    return hashlib.sha256(dump_config(cfg).encode()).hexdigest()
