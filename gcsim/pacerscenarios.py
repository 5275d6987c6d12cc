"""Go's pacer scenarios (``TestGcPacer``) re-expressed over gcsim's pacer.

Each scenario of ``src/runtime/mgcpacer_test.go`` is one row of
:data:`SCENARIOS`: the runtime test's GOGC, memory limit, globals, cores,
length and streams (written in gcsim's stream vocabulary,
:mod:`gcsim.workload.streams`), and its checker, ported clause by clause
with the same bounds. :func:`run_scenario` runs the fluid harness
(:func:`gcsim.engine.pacersim.run_fluid_pacer`) and applies the checker after
every cycle, as the runtime test does; ``gcsim pacer-scenarios`` is the CLI.

The runtime test's ``random`` streams come from Go's math/rand; gcsim's from
NumPy's PCG64 with the same seeds, so those scenarios (HighGOGC, JitterAlloc,
HeavyJitterAlloc) see other noise of the same amplitude: their checkers must
pass, but their per-cycle numbers are not Go's. Every other scenario's
per-cycle line equals the one Go's test logs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gcsim.engine.pacer import MEMORY_LIMIT_HEADROOM_PERCENT, MEMORY_LIMIT_MIN_HEADROOM_BYTES
from gcsim.engine.pacersim import run_fluid_pacer
from gcsim.errors import GcsimError
from gcsim.workload.streams import Stream, parse_stream, values

__all__ = [
    "SCENARIOS",
    "Scenario",
    "ScenarioResult",
    "format_cycle",
    "parse_go_log",
    "run_scenario",
]

GC_GOAL_UTILIZATION = 0.25
DEFAULT_HEAP_MINIMUM = 4 << 20
MIN_RATE = 0.0001  # the test's minRate
NO_LIMIT = (1 << 63) - 1
MiB = 1 << 20

Checker = Callable[[np.ndarray, int], list[str]]


@dataclass(frozen=True)
class Scenario:
    """One ``gcExecTest``; streams in gcsim's TOML stream vocabulary (KiB/cpu-ms)."""

    name: str
    gogc: int
    memory_limit_bytes: int
    globals_bytes: int
    n_cores: int
    alloc_rate: Any
    scan_rate: Any
    growth_rate: Any
    scannable_frac: Any
    stack_bytes: Any
    length: int
    checker: Checker
    go_random: bool = False  # uses math/rand streams: per-cycle numbers are not Go's

    def stream(self, field: str) -> Stream:
        return parse_stream(getattr(self, field), f"{self.name}.{field}")


@dataclass(frozen=True)
class ScenarioResult:
    scenario: Scenario
    cycles: np.ndarray  # FLUID_CYCLE_DTYPE
    failures: list[str]  # "after cycle n: ..." for every failed assertion
    pacer: str = "go1.18"

    @property
    def passed(self) -> bool:
        return not self.failures


# --- the checkers' vocabulary (mgcpacer_test.go) ------------------------------------


def goal_ratio(r: np.void) -> float:
    return float(r["peak_bytes"]) / float(r["goal_bytes"])


def runway(r: np.void) -> float:
    return float(r["goal_bytes"] - r["trigger_bytes"])


def trigger_ratio(r: np.void) -> float:
    return float(r["trigger_bytes"] - r["heap_live_bytes"]) / float(
        r["goal_bytes"] - r["heap_live_bytes"]
    )


def in_range(name: str, a: float, lo: float, hi: float) -> list[str]:
    return [] if lo <= a <= hi else [f"{name} not in range ({lo:f}, {hi:f}): {a:f}"]


def in_epsilon(name: str, a: float, b: float, eps: float) -> list[str]:
    return in_range(name, a, b - eps, b + eps)


def headroom_goal(limit: int) -> int:
    """``applyMemoryLimitHeapGoalHeadroom``."""
    headroom = max(limit // 100 * MEMORY_LIMIT_HEADROOM_PERCENT, MEMORY_LIMIT_MIN_HEADROOM_BYTES)
    return headroom if limit < headroom or limit - headroom < headroom else limit - headroom


def u(r: np.void) -> float:
    return float(r["gc_utilization"])


def _settled(
    tight_eps: float, goal_lo: float = 0.95, goal_hi: float = 1.05, goal_util: bool = True
) -> Checker:
    """Steady, SteadyBigStacks, SteadyBigGlobals (n >= 25)."""

    def check(c: np.ndarray, n: int) -> list[str]:
        f: list[str] = []
        if n >= 25:
            if goal_util:
                f += in_epsilon("GC utilization", u(c[n - 1]), GC_GOAL_UTILIZATION, tight_eps)
            f += in_epsilon("GC utilization", u(c[n - 1]), u(c[n - 2]), 0.005)
            f += in_range("goal ratio", goal_ratio(c[n - 1]), goal_lo, goal_hi)
        return f

    return check


def _two_phase(c: np.ndarray, n: int) -> list[str]:
    """StepAlloc, HeavyStepAlloc, StepScannableFrac."""
    f: list[str] = []
    if (25 <= n < 50) or n >= 75:
        f += in_epsilon("GC utilization", u(c[n - 1]), u(c[n - 2]), 0.005)
        f += in_range("goal ratio", goal_ratio(c[n - 1]), 0.95, 1.05)
    return f


def _high_gogc(c: np.ndarray, n: int) -> list[str]:
    f: list[str] = []
    if n > 12:
        hi = 15.0 if n == 26 else 1.05
        f += in_range("goal ratio", goal_ratio(c[n - 1]), 0.90, hi)
        f += in_epsilon(
            "GC utilization", u(c[n - 1]), GC_GOAL_UTILIZATION, GC_GOAL_UTILIZATION + 0.03
        )
        f += in_epsilon("GC utilization", u(c[n - 1]), u(c[n - 2]), 0.03)
    return f


def _osc(c: np.ndarray, n: int) -> list[str]:
    if n > 12:
        return in_range("goal ratio", goal_ratio(c[n - 1]), 0.95, 1.05) + in_range(
            "GC utilization", u(c[n - 1]), 0.25, 0.3
        )
    return []


def _jitter(c: np.ndarray, n: int) -> list[str]:
    if n > 12:
        return in_range("goal ratio", goal_ratio(c[n - 1]), 0.95, 1.025) + in_range(
            "GC utilization", u(c[n - 1]), 0.25, 0.275
        )
    return []


def _heavy_jitter(c: np.ndarray, n: int) -> list[str]:
    if n > 13:
        return (
            in_range("goal ratio", goal_ratio(c[n - 1]), 0.95, 1.05)
            + in_epsilon("GC utilization", u(c[n - 1]), u(c[n - 2]), 0.05)
            + in_epsilon("GC utilization", u(c[n - 1]), u(c[11]), 0.05)
        )
    return []


def _slow_alloc(after: int, large: bool = False) -> Checker:
    """Small/Medium/LargeHeapSlowAlloc."""

    def check(c: np.ndarray, n: int) -> list[str]:
        f: list[str] = []
        if n > after:
            if large:
                f += in_range("goal ratio", goal_ratio(c[n - 1]), 0.95, 1.05)
                f += in_range(
                    "runway",
                    runway(c[n - 1]),
                    DEFAULT_HEAP_MINIMUM - (64 << 10),
                    DEFAULT_HEAP_MINIMUM + (64 << 10),
                )
            else:
                f += in_range("goal ratio", goal_ratio(c[n - 1]), 0.925, 1.025)
                f += in_range("trigger ratio", trigger_ratio(c[n - 1]), 0.925, 0.975)
        if n > 25:
            f += in_epsilon("GC utilization", u(c[n - 1]), GC_GOAL_UTILIZATION, 0.005)
            f += in_epsilon("GC utilization", u(c[n - 1]), u(c[n - 2]), 0.05)
            f += in_epsilon("GC utilization", u(c[n - 1]), u(c[11]), 0.05)
        return f

    return check


def _limit(kind: str, limit: int) -> Checker:
    """The six memory-limit scenarios."""
    lim_goal = headroom_goal(limit)

    def check(c: np.ndarray, n: int) -> list[str]:
        f: list[str] = []
        last = c[n - 1]
        if kind == "steady" and last["peak_bytes"] >= lim_goal:
            f.append(f"peak heap size reaches heap limit: {last['peak_bytes']}")
        if kind in ("steady_off", "maintain_off") and last["goal_bytes"] != lim_goal:
            f.append(f"heap goal is not the heap limit: {last['goal_bytes']}")
        if kind == "maintain" and n > 12 and last["goal_bytes"] != lim_goal:
            f.append(f"heap goal is not the heap limit: {last['goal_bytes']}")
        if kind in ("exceed", "exceed_off"):
            if kind == "exceed_off" and n < 10 and last["goal_bytes"] != lim_goal:
                f.append(f"heap goal is not the heap limit: {last['goal_bytes']}")
            if n > 12 and last["goal_bytes"] != last["heap_live_bytes"]:
                f.append(
                    f"heap goal is not equal to live heap: {last['goal_bytes']} != "
                    f"{last['heap_live_bytes']}"
                )
            if n >= 25:
                f += in_epsilon("GC utilization", u(last), 1.0, 0.005)
                f += in_epsilon("GC utilization", u(last), u(c[n - 2]), 0.005)
        elif n >= 25:
            f += in_epsilon("GC utilization", u(last), GC_GOAL_UTILIZATION, 0.005)
            f += in_epsilon("GC utilization", u(last), u(c[n - 2]), 0.005)
            f += in_range("goal ratio", goal_ratio(last), 0.95, 1.05)
        return f

    return check


def _ramp(height: float, length: int, **mods: Any) -> dict[str, Any]:
    return {"kind": "ramp", "height": height, "length": length, **mods}


def _rand(amplitude: float, seed: int, **mods: Any) -> dict[str, Any]:
    return {"kind": "random", "amplitude": amplitude, "seed": seed, **mods}


_GROW = [2.0, _ramp(-1.0, 12)]


def _base(name: str, checker: Checker, **kw: Any) -> Scenario:
    d: dict[str, Any] = dict(
        gogc=100,
        memory_limit_bytes=NO_LIMIT,
        globals_bytes=32 << 10,
        n_cores=8,
        alloc_rate=33.0,
        scan_rate=1024.0,
        growth_rate=_GROW,
        scannable_frac=1.0,
        stack_bytes=8192,
        length=50,
    )
    d.update(kw)
    return Scenario(name=name, checker=checker, **d)


SCENARIOS: tuple[Scenario, ...] = (
    _base("Steady", _settled(0.005)),
    _base(
        "SteadyBigStacks",
        _settled(0.005),
        alloc_rate=132.0,
        stack_bytes=[2048, _ramp(float(128 << 20), 8)],
    ),
    _base("SteadyBigGlobals", _settled(0.005), alloc_rate=132.0, globals_bytes=128 << 20),
    _base("StepAlloc", _two_phase, alloc_rate=[33.0, _ramp(66.0, 1, delay=50)], length=100),
    _base("HeavyStepAlloc", _two_phase, alloc_rate=[33.0, _ramp(330.0, 1, delay=50)], length=100),
    _base(
        "StepScannableFrac",
        _two_phase,
        alloc_rate=128.0,
        scannable_frac=[0.2, {"kind": "unit", "value": 0.5, "delay": 50}],
        length=100,
    ),
    _base(
        "HighGOGC",
        _high_gogc,
        gogc=1500,
        alloc_rate=_rand(7.0, 0x53, offset=165.0),
        growth_rate=[*_GROW, _rand(0.01, 0x1), {"kind": "unit", "value": 14.0, "delay": 25}],
        go_random=True,
    ),
    _base(
        "OscAlloc",
        _osc,
        alloc_rate={
            "kind": "oscillate",
            "amplitude": 13.0,
            "phase": 0.0,
            "period": 8,
            "offset": 67.0,
        },
    ),
    _base(
        "JitterAlloc",
        _jitter,
        alloc_rate=_rand(13.0, 0xF, offset=132.0),
        growth_rate=[*_GROW, _rand(0.01, 0xE)],
        go_random=True,
    ),
    _base(
        "HeavyJitterAlloc",
        _heavy_jitter,
        alloc_rate=_rand(33.0, 0x0, offset=330.0),
        growth_rate=[*_GROW, _rand(0.01, 0x152)],
        go_random=True,
    ),
    _base(
        "SmallHeapSlowAlloc",
        _slow_alloc(4),
        alloc_rate=1.0,
        scan_rate=2048.0,
        growth_rate=[2.0, _ramp(-1.0, 3)],
        scannable_frac=0.01,
    ),
    _base(
        "MediumHeapSlowAlloc",
        _slow_alloc(9),
        alloc_rate=1.0,
        scan_rate=2048.0,
        growth_rate=[2.0, _ramp(-1.0, 8)],
        scannable_frac=0.01,
    ),
    _base(
        "LargeHeapSlowAlloc",
        _slow_alloc(13, large=True),
        alloc_rate=1.0,
        scan_rate=2048.0,
        growth_rate=[4.0, _ramp(-3.0, 12)],
        scannable_frac=0.01,
    ),
    _base("SteadyMemoryLimit", _limit("steady", 512 * MiB), memory_limit_bytes=512 * MiB),
    _base(
        "SteadyMemoryLimitNoGCPercent",
        _limit("steady_off", 512 * MiB),
        gogc=-1,
        memory_limit_bytes=512 * MiB,
    ),
    _base(
        "ExceedMemoryLimit",
        _limit("exceed", 512 * MiB),
        memory_limit_bytes=512 * MiB,
        growth_rate=[3.5, _ramp(-2.5, 12)],
    ),
    _base(
        "ExceedMemoryLimitNoGCPercent",
        _limit("exceed_off", 512 * MiB),
        gogc=-1,
        memory_limit_bytes=512 * MiB,
        growth_rate=[3.5, _ramp(-2.5, 12)],
    ),
    _base(
        "MaintainMemoryLimit",
        _limit("maintain", 512 * MiB),
        memory_limit_bytes=512 * MiB,
        growth_rate=[3.0, _ramp(-2.0, 12)],
    ),
    _base(
        "MaintainMemoryLimitNoGCPercent",
        _limit("maintain_off", 512 * MiB),
        gogc=-1,
        memory_limit_bytes=512 * MiB,
        growth_rate=[3.0, _ramp(-2.0, 12)],
    ),
)


def scenario_names() -> list[str]:
    return [s.name for s in SCENARIOS]


def get_scenario(name: str) -> Scenario:
    for s in SCENARIOS:
        if s.name == name:
            return s
    raise GcsimError(
        f"no pacer scenario {name!r}; the scenarios are: " + ", ".join(scenario_names())
    )


def inputs(s: Scenario) -> dict[str, np.ndarray]:
    """Per-cycle inputs, shaped as the runtime test's ``next()`` shapes them."""
    n = s.length
    return {
        "alloc_rate": np.maximum(values(s.stream("alloc_rate"), n), MIN_RATE),
        "scan_rate": np.maximum(values(s.stream("scan_rate"), n), MIN_RATE),
        "growth_rate": np.maximum(values(s.stream("growth_rate"), n), MIN_RATE),
        "scannable_frac": np.clip(values(s.stream("scannable_frac"), n), 0.0, 1.0),
        # quantize(2048).min(0), then uint64
        "stack_bytes": np.maximum(
            np.trunc(values(s.stream("stack_bytes"), n) / 2048.0) * 2048.0, 0.0
        ).astype(np.int64),
    }


PACERS = ("go1.18", "go1.5")


def supports(s: Scenario, pacer: str) -> bool:
    """The go1.5 pacer predates GOMEMLIMIT: its runs of limit scenarios mean nothing."""
    return pacer == "go1.18" or s.memory_limit_bytes == NO_LIMIT


def run_scenario(s: Scenario, pacer: str = "go1.18") -> ScenarioResult:
    """Run one scenario and apply its checker after every cycle.

    ``pacer = "go1.5"`` runs the pre-1.18 trigger-ratio pacer through the same
    harness and checker: the runtime's checks were written for the current
    pacer, so its failures there are the comparison, not a bug.
    """
    if pacer not in PACERS:
        raise GcsimError(f"pacer {pacer!r}: expected one of {', '.join(PACERS)}")
    if not supports(s, pacer):
        raise GcsimError(f"scenario {s.name} sets a memory limit, which the go1.5 pacer "
                         "does not have")
    x = inputs(s)
    cycles = run_fluid_pacer(
        s.gogc,
        s.memory_limit_bytes,
        s.globals_bytes,
        s.n_cores,
        x["alloc_rate"],
        x["scan_rate"],
        x["growth_rate"],
        x["scannable_frac"],
        x["stack_bytes"],
        pacer == "go1.5",
    )
    failures: list[str] = []
    for n in range(1, s.length + 1):
        u_last = float(cycles[n - 1]["gc_utilization"])
        if not (0.0 <= u_last <= 1.0) or math.isnan(u_last):
            failures.append(f"after cycle {n}: GC utilization not within acceptable bounds")
        if cycles[n - 1]["heap_scannable_bytes"] < 0:
            failures.append(f"after cycle {n}: heapScannable is negative")
        failures += [f"after cycle {n}: {m}" for m in s.checker(cycles, n)]
    return ScenarioResult(s, cycles, failures, pacer)


def format_cycle(r: np.void) -> str:
    """The line the runtime test logs for a cycle (``gcCycleResult.String``)."""
    return (
        f"{r['cycle']} {_go_percent(float(r['gc_utilization']) * 100)}% "
        f"{r['heap_live_bytes']}->{r['trigger_bytes']}->{r['peak_bytes']} "
        f"(goal: {r['goal_bytes']})"
    )


def _go_percent(x: float) -> str:
    # Go's %2.1f and Python's .1f agree (both round half to even on the binary value).
    return f"{x:.1f}"


_GO_LINE = re.compile(r"mgcpacer_test\.go:\d+: GC (\d+ \S+% \d+->\d+->\d+ \(goal: \d+\))")
_GO_CONT = re.compile(r"=== (?:CONT|NAME)\s+TestGcPacer/(\S+)")


def parse_go_log(path: Path) -> dict[str, list[str]]:
    """Per-cycle lines by scenario from ``go test -run TestGcPacer -v -parallel 1``."""
    out: dict[str, list[str]] = {}
    current: str | None = None
    for line in path.read_text().splitlines():
        m = _GO_CONT.search(line)
        if m:
            current = m.group(1)
            out.setdefault(current, [])
            continue
        m = _GO_LINE.search(line)
        if m and current is not None:
            out[current].append(m.group(1))
    return out
