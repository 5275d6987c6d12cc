"""The scheduled part of a cycle's mark, for the utilization tests.

gcsim charges the cycle's fixed mark CPU (``mark_cycle_ns``) on the P that
finishes the mark, after the last quantum of scheduled marking and before
mark termination (engine/gccycle.py ``gc_mark_done``). It is background time
and mark-phase time, but not the workers' 25 % schedule, which is what these
tests check; so it is taken out of both.
"""

from __future__ import annotations

import numpy as np

from gcsim.goruntime.costs import COSTS


def scheduled_mark(cyc: np.ndarray, clock_hz: float = 3.0e9) -> tuple[np.ndarray, np.ndarray]:
    """Per cycle: mark wall and background CPU (cycles) without the fixed part."""
    fixed = int(COSTS["mark_cycle_ns"].default_ns * clock_hz / 1e9 + 0.5)
    wall = (cyc["mark_term_start_cycles"] - cyc["mark_start_cycles"]).astype(float) - fixed
    background = cyc["background_cycles"].astype(float) - fixed
    assert np.all(background >= 0), "every concurrent cycle pays the fixed part"
    return wall, background
