"""The pacer's observable laws on whole runs.

- The GC guide (go.dev/doc/gc-guide): on a steady workload doubling GOGC
  roughly halves GC CPU and doubles the heap overhead (peak heap minus live).
- GOGC=off with GOMEMLIMIT: the heap stays under the limit.
- A live heap above the limit: the GC CPU limiter caps GC near 50 % of CPU
  instead of letting it run away (src/runtime/mgclimit.go).
- Every cycle's next goal is Go's formula applied to what that cycle marked.
"""

from __future__ import annotations

import numpy as np
import pytest

from gcsim.config import config_from_dict
from gcsim.engine import rtmem
from gcsim.metrics.summary import summary
from gcsim.run import simulate
from gcsim.units import MiB


def workload(gogc, gomemlimit="off", live_objects=20_000, duration_s=1.0, compute_ns=400.0,
             gomaxprocs=2) -> dict:
    return {
        "run": {"seed": 5, "gomaxprocs": gomaxprocs, "duration_s": duration_s},
        "runtime": {"gogc": gogc, "gomemlimit": gomemlimit},
        "workload": {
            "compute_ns_per_alloc": compute_ns,
            "sites": [
                {"name": "live", "size": 512, "pointer_words": 8, "weight": 1.0,
                 "lifetime": {"kind": "fifo", "live_objects": live_objects},
                 "refs": [{"to": "random", "site": "live"}]},
                {"name": "garbage", "size": {"dist": "uniform", "min_bytes": 16,
                                             "max_bytes": 2048}, "weight": 6.0},
            ],
        },
    }


def run(raw: dict) -> tuple[dict, np.ndarray]:
    r = simulate(config_from_dict(raw))
    return summary(r), r.cycles


def test_doubling_gogc_halves_gc_cpu_and_doubles_heap_overhead() -> None:
    s100, c100 = run(workload(100, duration_s=1.5, compute_ns=2000.0))
    s200, c200 = run(workload(200, duration_s=1.5, compute_ns=2000.0))
    cpu_ratio = s200["gc_cpu_fraction"] / s100["gc_cpu_fraction"]
    # Overhead: each cycle's peak heap over the live heap the cycle before marked,
    # which sets its goal. Not over the ring's 20 000 objects: their random refs
    # keep more alive, a set that grows through the run (22-26 MB marked, 30 MB at
    # a final forced GC), so a fixed 10.4 MB made the ratio hang on the marking
    # order (1.71 with gray objects in one stack, 1.60 with Go's objects-first).
    over100 = (c100["heap_live_end_bytes"][4:] - c100["heap_marked_bytes"][3:-1]).mean()
    over200 = (c200["heap_live_end_bytes"][4:] - c200["heap_marked_bytes"][3:-1]).mean()
    assert cpu_ratio == pytest.approx(0.5, rel=0.15)
    assert over200 / over100 == pytest.approx(2.0, rel=0.15)


def test_gogc_off_with_memory_limit_stays_under_the_limit() -> None:
    s, cyc = run(workload("off", "64MiB", live_objects=40_000, duration_s=0.5))
    assert s["gc_count"] >= 3
    # The limit is soft: once the heap passes the goal, revise aims 10 % past it
    # (maxOvershoot) and assists take the rest of the mark. The first cycles,
    # with no cons/mark history and marks that assists alone carry (the
    # fractional worker waits for a sysmon turn), end past their goals and the
    # limit, as Go's do: this workload as a Go twin (fixed 1 KiB garbage, nil
    # pointers, go1.27.3, 2026-11-26) peaked at 76-95 MiB in one of gc 3-7 in
    # five of six runs (62 in the sixth), every later cycle ending at or under
    # 57 MiB: at most 1.5x the limit. gcsim's overshoot comes in gc 7-9 (at
    # most 78 MiB; the fractional worker gets no P while both run goroutines),
    # and from the tenth cycle on every cycle ends under the limit. After the
    # overshoot the goal recovers at the next cycle, as Go's does, because
    # each span allocation scavenges mapped memory back under the limit.
    # A later cycle can repeat a smaller overshoot: gc 18 here (seed 5,
    # 2026-11-27) ran a 9.7 ms mark against 3.6 ms for its neighbours while its
    # goal fell from 53.4 to 45.7 MiB as the heap took released pages back; it
    # ended at 63.6 MiB, under the limit, with 44 MiB marked, and the next
    # cycle's goal was back at 53.1 MiB.
    assert np.all(cyc["heap_live_end_bytes"] <= 1.5 * 64 * MiB)
    assert np.all(cyc["heap_live_end_bytes"][10:] <= 64 * MiB)
    goals = cyc["next_goal_bytes"][10:]
    low = np.flatnonzero(goals < 0.75 * 64 * MiB)
    assert low.size <= 0.1 * goals.size
    assert np.all(goals[np.minimum(low + 1, goals.size - 1)] >= 0.75 * 64 * MiB)
    # The goal sits under the limit by the runtime's own memory (rtmem.py), the
    # memory that is mapped but holds no objects (span tails, free slots) and
    # the 3 % headroom, not at GOGC's.
    room = 64 * MiB - rtmem.nonheap_bytes(0, 0, 2)  # the workload runs 2 Ps
    assert 0.85 * room < cyc["next_goal_bytes"][-1] < 0.97 * room


def test_cpu_limiter_caps_gc_when_the_live_heap_exceeds_the_limit() -> None:
    """An 8 MiB limit under a ring of 10 MiB (and more reachable through its
    random refs), one P: GC runs back to back at ~70 % CPU.

    The bucket (GOMAXPROCS x 1 s) fills by GC time minus mutator time, GC
    time counting assists plus the workers' 25 % (mgclimit.go); assists do
    nearly all the marking here (the fractional worker runs only at sysmon's
    preemptions, 20 ms apart), so it is full after about a second. Then each 10 ms
    update that finds it full switches assists off until the next one; with
    them off only the fractional worker marks, up to 1.2 x its 25 % of a
    mark, so the limiter's GC time settles between 30 % and 50 %, not at
    70 %. That time includes the scavenge assists (limiterEventScavengeAssist):
    with the live heap over the limit every span allocation releases the
    free pages, and the page faults that follow are mutator time.
    """
    r = simulate(config_from_dict(workload(100, "8MiB", live_objects=20_000, duration_s=5.0,
                                           compute_ns=50.0, gomaxprocs=1)))
    tl = r.timeline
    hz = r.config.run.clock_hz

    def gc_share(a_s: float, b_s: float) -> float:
        """The limiter's GC time over wall time: marking, pauses, scavenge assists."""
        i, j = np.searchsorted(tl["t_cycles"], [a_s * hz, b_s * hz])
        j -= 1
        cpu = sum(tl[col][j] - tl[col][i] for col in ("gc_cpu_cycles", "scavenge_assist_cycles"))
        return float(cpu / (tl["t_cycles"][j] - tl["t_cycles"][i]))

    assert gc_share(0.0, 1.0) > 0.6  # the bucket is still filling
    assert 0.3 < gc_share(3.5, 5.0) < 0.5  # capped
    assert summary(r)["limiter_cycles"] > 0
    assert summary(r)["background"]["scavenge_assist_released_bytes"] > 0
    # With assists off the heap runs past the limit: the limit is soft.
    assert summary(r)["peak_heap_inuse_bytes"] > 8 * MiB
