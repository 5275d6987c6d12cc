"""Goroutine stacks in Go's words: the stack-overflow report and the stack figures of a run.

The fatal report reproduces what ``newstack`` prints before it throws
(src/runtime/stack.go): the limit line, the ``sp=... stack=[lo, hi]`` line and
``fatal error: stack overflow``. Addresses are the simulated arena's, placed
at Go's linux/amd64 arena base 0xc000000000, so ``hi - sp`` is the goroutine's
used bytes plus the failed call's return address and morestack's, as Go prints it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gcsim.config import Config
from gcsim.engine import stackstate as K
from gcsim.engine.state import C_MAX_STACK_SCAN_BYTES, C_STACK_PAGES

ARENA_BASE = 0xC000000000  # first heap arena on linux/amd64 (malloc.go arena hints)
PAGE_BYTES = 8192


def limit_printed(max_stack_bytes: int) -> int:
    """The number newstack prints: maxstacksize, or maxstackceiling when that is lower."""
    return min(max_stack_bytes, K.MAX_STACK_CEILING_BYTES)


def fatal_lines(max_stack_bytes: int, lo: int, size: int, used: int) -> list[str]:
    """Go's three lines before the traceback (the first and last are the message)."""
    lo_addr = ARENA_BASE + lo
    hi = lo_addr + size
    # morestack records f's SP (its return address pushed: used + 8) and newstack
    # prints one word lower, "the call to morestack cost a word".
    sp = hi - used - 16
    return [
        f"runtime: goroutine stack exceeds {limit_printed(max_stack_bytes)}-byte limit",
        f"runtime: sp={sp:#x} stack=[{lo_addr:#x}, {hi:#x}]",
        "fatal error: stack overflow",
    ]


def _group_of(cfg: Config, g: int) -> str:
    first = 0
    for grp in cfg.workload.goroutines:
        if g < first + grp.count:
            return grp.name
        first += grp.count
    return "?"


def fatal_report(cfg: Config, stk: K.Stacks) -> dict[str, Any]:
    """Where the run died: goroutine, depth, sizes, Go's message lines."""
    k = stk.k
    g = int(k[K.K_OVERFLOW_G])
    lines = fatal_lines(cfg.runtime.max_stack_bytes, int(k[K.K_OVERFLOW_LO]),
                        int(k[K.K_OVERFLOW_SIZE]), int(k[K.K_OVERFLOW_USED]))
    return {
        "error": "stack overflow",
        "message": lines,
        "goroutine": int(k[K.K_OVERFLOW_GOID]),
        "group": _group_of(cfg, g),
        "depth": int(k[K.K_OVERFLOW_DEPTH]),
        "frame_bytes": int(k[K.K_OVERFLOW_FRAME]),
        "used_bytes": int(k[K.K_OVERFLOW_USED]),
        "stack_bytes": int(k[K.K_OVERFLOW_SIZE]),
        "requested_stack_bytes": int(k[K.K_OVERFLOW_NEWSIZE]),
        "max_stack_bytes": cfg.runtime.max_stack_bytes,
        "t_s": float(k[K.K_OVERFLOW_CYCLES]) / cfg.run.clock_hz,
        "exit_status": 2,  # throw -> exit(2) (src/runtime/panic.go fatalthrow)
    }


def fatal_text(fatal: dict[str, Any]) -> str:
    """fatal_error.txt: Go's lines and the goroutine that died."""
    return "\n".join([
        *fatal["message"],
        "",
        f"goroutine {fatal['goroutine']} [running]: group {fatal['group']!r}, "
        f"depth {fatal['depth']} frames of {fatal['frame_bytes']} B, "
        f"{fatal['used_bytes']} B used of a {fatal['stack_bytes']} B stack, "
        f"needed {fatal['requested_stack_bytes']} B",
        f"exit status {fatal['exit_status']}",
    ]) + "\n"


def stack_stats(cfg: Config, stk: K.Stacks, counters: np.ndarray) -> dict[str, Any]:
    """The stack figures of a run at its end (summary.json's ``stacks``)."""
    k = stk.k
    return {
        "goroutines": int(stk.g_used.shape[0]),
        "stack_inuse_bytes": int(counters[C_STACK_PAGES]) * PAGE_BYTES,
        "peak_stack_inuse_bytes": int(k[K.K_PEAK_STACK_PAGES]) * PAGE_BYTES,
        "allocated_stack_bytes": int(counters[C_MAX_STACK_SCAN_BYTES]),
        "used_stack_bytes": int(stk.g_used.sum()),
        "max_stack_bytes": cfg.runtime.max_stack_bytes,
        "starting_stack_bytes": int(k[K.K_STARTING_SIZE]),
        "grows": int(k[K.K_GROWS]),
        "shrinks": int(k[K.K_SHRINKS]),
        "copied_bytes": int(k[K.K_COPY_BYTES]),
        "growth_copy_s": float(k[K.K_COPY_CYCLES]) / cfg.run.clock_hz,
        "calls": int(k[K.K_CALLS]),
        "goroutine_exits": int(k[K.K_EXITS]),
        "stack_values": int(k[K.K_STACK_VALUES]),
        "stack_value_bytes": int(k[K.K_STACK_VALUE_BYTES]),
    }
