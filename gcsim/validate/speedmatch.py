"""gcsim again, at the speed the machine ran the Go twin: ``gcsim validate --match-speed``.

Why
    On a shared VM the machine's speed moves by tens of percent within
    seconds (README, known gaps: the reference graph marks at ~30 or ~50 ns
    an object from one collection to the next). The cost table was measured
    at another moment, so a twin's errors mix two things: the model's, and
    the machine's weather. Running gcsim a second time with its costs scaled
    to what the Go runs themselves showed separates them: the figures that
    still disagree then (cycle count, heap goals, GC CPU fraction, pacing)
    are the model's.

What is scaled
    Two factors, each the median over the Go runs divided by gcsim's figure
    from its run with the table as given:

    - marking: mark CPU per cycle (gctrace's assist + background + idle CPU,
      median over the unforced cycles after the warm-up); it scales every
      ``mark_*`` entry. Per cycle, not per MiB marked: the marked heap (H2)
      includes what the mutator allocated black while marking, which costs
      the mark nothing, and a side whose marks run longer allocates more of
      it (the steady twin at GOGC=200, P=2: per MiB marked over-scaled gcsim's
      marking by 1.28x). It assumes both sides mark the same live heap per
      cycle, as twins with a fixed live set do after their warm-up;
    - the mutator: CPU per allocated object outside the GC (Go: the
      process's user + system time over the workload less
      ``/cpu/classes/gc/total``'s change; gcsim:
      mutator, background sweeping and scavenging); it scales every other
      entry except the pauses (``stw_*``) and ``compute_ns_per_alloc``, the
      work the twin's loop does per object.

    Mark CPU per cycle and run time are then fitted, not predicted; the notes
    say so.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["SpeedFactors", "go_mutator_ns_per_alloc", "matched_overrides",
           "sim_cpu_ns_per_alloc", "speed_factors"]

#: Entries left as measured: the pauses (their cost is mostly waiting for Ps).
UNSCALED_PREFIXES = ("stw_",)
MARK_PREFIX = "mark_"


@dataclass(frozen=True)
class SpeedFactors:
    """Go's speed over gcsim's, for marking and for the mutator (1.0 = as the table)."""

    mark: float
    mutator: float
    go_mark_ms: list[float]
    sim_mark_ms: float
    go_mutator_ns: list[float]
    sim_mutator_ns: float

    def note(self) -> str:
        go_mark = ", ".join(f"{v:.2f}" for v in self.go_mark_ms)
        go_mut = ", ".join(f"{v:.1f}" for v in self.go_mutator_ns)
        return (f"speed-matched rows: gcsim's mark_* costs x {self.mark:.3f} (mark CPU per "
                f"cycle: Go {go_mark} ms, gcsim {self.sim_mark_ms:.2f} ms) and its "
                f"mutator costs x {self.mutator:.3f} (CPU per object outside the GC: Go "
                f"{go_mut} ns, gcsim {self.sim_mutator_ns:.1f} ns); their mark CPU and run "
                f"time are fitted")


def go_mutator_ns_per_alloc(report: dict[str, Any]) -> float | None:
    """A Go run's CPU per allocated object outside the GC over its workload, ns; None
    if not reported. Without goreport's start snapshot the process's whole CPU is
    taken, startup included."""
    from gcsim.validate.compare import GC_TOTAL_METRIC, run_delta

    cpu = report.get("cpu_ns", -1)
    allocs = report.get("allocs") or 0
    if cpu is None or cpu <= 0 or allocs <= 0:
        return None
    gc_s = run_delta(report, GC_TOTAL_METRIC)
    cpu0 = report.get("cpu_ns_at_start", -1)
    if gc_s is None or cpu0 is None or cpu0 < 0:
        gc_s, cpu0 = report.get("metrics", {}).get(GC_TOTAL_METRIC), 0
        if gc_s is None:
            return None
    return (cpu - cpu0 - gc_s * 1e9) / allocs


def sim_cpu_ns_per_alloc(result: Any) -> tuple[float, float]:
    """gcsim's (mutator, GC) CPU per allocated object, ns, split as Go's runtime/metrics
    split a process's CPU: the GC part is GCCPUFraction's (marking and pauses); the
    mutator part is the rest, background sweeping and scavenging included, as Go counts
    those goroutines as user time."""
    from gcsim.metrics import summary as M

    s = M.summary(result)
    hz = result.config.run.clock_hz
    n = max(1, result.counter("C_ALLOCS"))
    bg = s["background"]
    outside_s = bg["bg_sweep_cpu_s"] + bg["leftover_sweep_cpu_s"] + bg["scavenge_bg_cpu_s"]
    mutator_s = result.counter("C_MUTATOR_CYCLES") / hz + outside_s
    gc_s = s["duration_s"] * result.config.run.gomaxprocs * s["gc_cpu_fraction"]
    return mutator_s * 1e9 / n, gc_s * 1e9 / n


def speed_factors(result: Any, sim_lines: Sequence[Any], go_lines: Sequence[Sequence[Any]],
                  go_reports: Sequence[dict[str, Any]]) -> SpeedFactors | None:
    """The two factors, or None when a side lacks the figures (too few cycles, a Go
    report without CPU time or GC metrics)."""
    from gcsim.validate.harness import mark_cpu_ms_per_cycle

    sim_mark = mark_cpu_ms_per_cycle(sim_lines)
    go_mark = [v for v in (mark_cpu_ms_per_cycle(lines) for lines in go_lines) if v is not None]
    sim_mut, _ = sim_cpu_ns_per_alloc(result)
    go_mut = [v for v in (go_mutator_ns_per_alloc(r) for r in go_reports) if v is not None]
    if not sim_mark or not go_mark or sim_mut <= 0 or not go_mut:
        return None
    return SpeedFactors(statistics.median(go_mark) / sim_mark,
                        statistics.median(go_mut) / sim_mut,
                        go_mark, sim_mark, go_mut, sim_mut)


def matched_overrides(cfg: Any, f: SpeedFactors) -> list[str]:
    """Config overrides that put ``cfg`` at the factors' speed (``--set`` syntax)."""
    out = []
    for name, ns in cfg.costs.as_dict().items():
        if name.startswith(UNSCALED_PREFIXES):
            continue
        scale = f.mark if name.startswith(MARK_PREFIX) else f.mutator
        out.append(f"costs.{name}={ns * scale!r}")
    out.append(f"workload.compute_ns_per_alloc={cfg.workload.compute_ns_per_alloc * f.mutator!r}")
    return out
