"""The heap goal as a function of the marked heap: gcsim's pacer against real Go's.

gctrace prints the goal and the marked heap truncated to MB, which alone is
a 2-3 % error on a 30 MiB heap, so the Go program records exact numbers
instead: with ``trace_pacer`` in its parameters (``validation/program``),
goroutine 0 reads runtime/metrics every 4096 allocation steps and keeps, for
each cycle it sees end, ``/gc/heap/live:bytes`` (heapMarked),
``/gc/heap/goal:bytes`` (the goal that cycle committed),
``/gc/scan/stack:bytes`` (lastStackScan), ``/gc/scan/globals:bytes`` and
``/gc/heap/allocs:objects`` (where in the run the cycle ended).

Two checks, both at "the same marked heap":

1. **Go's cycles through gcsim's pacer.** For each Go cycle, gcsim's goal
   functions (``engine/pacer.py``: ``heap_goal_gogc``,
   ``sweep_dist_min_trigger``, ``heap_goal_effective``) applied to Go's
   marked heap, stack and globals scan give the goal Go committed.
2. **gcsim's cycles against Go's.** For each gcsim cycle whose marked heap
   is within ``MATCH_FRAC`` of some Go cycle's, the goal gcsim committed
   against that Go cycle's goal. This checks what (1) cannot: the inputs
   gcsim's own run feeds the formula (its globals and stack scan bytes).

A cycle read late (the next cycle already past its trigger when the program
looked) may show Go's "triggered + 64 KiB" runway floor instead; such rows
are rare and are counted, not hidden (``GoalCheck.note``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["GoalCheck", "MATCH_FRAC", "check_goals", "go_cycles_after", "go_pacer_rows",
           "pacer_goal", "sim_cycles_after"]

#: Two cycles have "the same marked heap" when they differ by at most this.
MATCH_FRAC = 0.01
#: Values per row of the program's ``pacer`` report (its pacerNames).
N_PACER_COLUMNS = 6


def _pacer_reads(report: dict[str, Any]) -> np.ndarray:
    """Every read the program kept, as recorded: int64, shape (n, N_PACER_COLUMNS)."""
    return np.asarray(report.get("pacer") or [], dtype=np.int64).reshape(-1, N_PACER_COLUMNS)


def go_pacer_rows(report: dict[str, Any]) -> np.ndarray:
    """Go's per-cycle pacer rows from a program report run with ``trace_pacer``.

    Returns
    -------
    ndarray of int64, shape (n, 6)
        ``[gc_number, heap_marked_bytes, next_goal_bytes, stack_scan_bytes,
        globals_scan_bytes, allocs_objects]`` for the cycles seen end one at a
        time (a read that skipped a cycle is dropped: its marked heap is the
        later one's); ``allocs_objects`` is the heap objects allocated when
        the end was seen.
    """
    raw = _pacer_reads(report)
    if raw.shape[0] == 0:
        return raw
    keep = np.ones(raw.shape[0], dtype=bool)
    keep[1:] = np.diff(raw[:, 0]) == 1
    keep &= raw[:, 0] > 0
    return raw[keep]


def pacer_goal(heap_marked: int, stack_scan: int, globals_scan: int, gogc: int) -> int:
    """The goal gcsim's pacer commits at mark termination, with no memory limit.

    ``gcPercentHeapGoal`` with its heapMinimum floor, raised to the sweep
    distance floor (heapLive + 1 MiB at commit; heapLive = the marked heap
    then), as ``heapGoalInternal`` does outside the memory-limit regime.
    """
    from gcsim.engine import pacer as P

    gogc_goal = P.heap_goal_gogc(heap_marked, stack_scan, globals_scan, gogc)
    floor = P.sweep_dist_min_trigger(heap_marked, False)
    goal, _ = P.heap_goal_effective(gogc_goal, P.NO_MEMORY_LIMIT, floor, False, 0)
    return int(goal)


@dataclass
class GoalCheck:
    """Both checks for one GOGC setting; errors are relative, signed."""

    gogc: int
    formula_errors: np.ndarray  # check 1: per Go cycle
    matched_errors: np.ndarray  # check 2: per matched gcsim cycle
    n_go: int
    n_sim: int
    note: str = ""
    rows: list[tuple[int, int, int, int]] = field(default_factory=list)  # check 2 pairs

    @property
    def formula_max(self) -> float:
        return float(np.abs(self.formula_errors).max()) if self.formula_errors.size else np.nan

    @property
    def matched_max(self) -> float:
        return float(np.abs(self.matched_errors).max()) if self.matched_errors.size else np.nan


def check_goals(gogc: int, go_rows: np.ndarray, sim_cycles: np.ndarray) -> GoalCheck:
    """Run both checks (module docstring) for one GOGC.

    Parameters
    ----------
    gogc : int
        The setting's GOGC (not off).
    go_rows : ndarray, shape (n, 6)
        From :func:`go_pacer_rows`.
    sim_cycles : CYCLE_DTYPE[n]
        gcsim's cycle records (``RunResult.cycles``); forced cycles are skipped.
    """
    pred = np.array(
        [pacer_goal(int(m), int(s), int(g), gogc) for _, m, _, s, g, _ in go_rows],
        dtype=np.float64
    )
    go_goal = go_rows[:, 2].astype(np.float64)
    formula = (pred - go_goal) / go_goal if go_goal.size else np.zeros(0)
    late = int(np.sum(np.abs(formula) > 1e-9))
    note = f"{late} of {go_goal.size} Go reads differ from the formula" if late else ""

    sim = sim_cycles[sim_cycles["forced"] == 0]
    matched, pairs = [], []
    go_marked = go_rows[:, 1].astype(np.float64)
    for row in sim:
        if not go_marked.size:
            break
        m = float(row["heap_marked_bytes"])
        j = int(np.argmin(np.abs(go_marked - m)))
        if abs(go_marked[j] - m) <= MATCH_FRAC * go_marked[j]:
            sim_goal = int(row["next_goal_bytes"])
            matched.append((sim_goal - go_goal[j]) / go_goal[j])
            pairs.append((int(m), int(go_marked[j]), sim_goal, int(go_goal[j])))
    return GoalCheck(
        gogc,
        formula,
        np.array(matched, dtype=np.float64),
        int(go_goal.size),
        int(sim.size),
        note,
        pairs,
    )


def go_cycles_after(report: dict[str, Any], n_cycles: int, allocs_objects: int) -> int:
    """How many of a Go run's ``n_cycles`` ended after its first ``allocs_objects``
    heap objects: all less the cycles the last read before that point had seen
    end (every read counts here, also one that skipped a cycle). A read comes at
    most 4096 steps after a cycle's end, so a cycle ending just before the point
    can count as after it (one cycle, rarely)."""
    raw = _pacer_reads(report)
    before = raw[raw[:, 5] < allocs_objects, 0]
    return n_cycles - int(before.max(initial=0))


def sim_cycles_after(sim_cycles: np.ndarray, allocs_objects: int) -> int:
    """How many of gcsim's unforced cycles ended after its first ``allocs_objects``
    allocations (``allocs_end_objects``)."""
    sim = sim_cycles[sim_cycles["forced"] == 0]
    return int(np.sum(sim["allocs_end_objects"] >= allocs_objects))
