"""Goroutines and their stacks as arrays: the ``Stacks`` tuple, its columns and counters.

``State.stk`` holds everything issue 7 adds (the kernels are in ``stacks.py``):
the goroutine groups of the workload (read-only), one row per goroutine, the
stack pools per order and the per-P stack caches. A run without
``[[workload.goroutines]]`` has zero goroutines and every stack path is
skipped.

Addresses: a stack is named by its first byte in the simulated arena,
``base_page * 8192 + offset``; its span record is ``page_span[addr >> 13]``.
Sizes are bytes; "used" is Go's ``hi - sp``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# --- Go's constants (linux/amd64; reference/go-runtime.md §6.1) ----------------------------

FIXED_STACK_BYTES = 2048  # fixedStack: the smallest stack (stack.go)
STACK_GUARD_BYTES = 928  # stackGuard = stackNosplit 800 + StackSmall 128 (stack.go)
STACK_NOSPLIT_BYTES = 800  # stackNosplit: shrinkstack keeps this much headroom
STACK_SMALL_BYTES = 128  # abi.StackSmall: frames up to this skip the frame-size check
NUM_STACK_ORDERS = 4  # _NumStackOrders on linux: 2, 4, 8, 16 KiB stacks are pooled
STACK_CACHE_BYTES = 32768  # _StackCacheSize: pool span size and per-P cache high water
MAX_STACK_CEILING_BYTES = 2_000_000_000  # maxstackceiling = 2 x 1e9 (proc.go main)
# newproc1 leaves 4 words (totalSize, 32 B on amd64) above the first frame; the
# goexit return PC it pushes below them is the first call's return address,
# counted in that call's frame bytes (proc.go newproc1, gostartcallfn).
G_ENTRY_USED_BYTES = 32
STACKS_PER_SPAN_MAX = STACK_CACHE_BYTES // FIXED_STACK_BYTES  # 16 stacks of 2 KiB

# --- goroutine group table ``grp[group, GR_*]`` --------------------------------------------

GR_COUNT = 0  # goroutines of the group alive at once
GR_EXCURSIONS = 1  # excursions before the goroutine is done, -1 = forever
GR_AFTER = 2  # AFTER_*: what a done goroutine does
GR_BLOCK_DEPTH = 3  # AFTER_BLOCK: frames it keeps while parked
GR_FIRST_G = 4  # first goroutine row of the group
N_GR = 5

AFTER_EXIT = 0  # exits; a new goroutine of the group replaces it (a recycled G)
AFTER_BLOCK = 1  # parks for good at GR_BLOCK_DEPTH frames

# Distribution rows in ``dist_tab`` (columns are state.W_SIZE_DIST..W_CHOICE_N, so
# loop.draw_size reads them): row 2*group = frame bytes, 2*group + 1 = depth in frames.

# --- run parameters ``params[SP_*]`` ----------------------------------------------------------

SP_MAX_STACK_BYTES = 0  # maxstacksize (runtime.max_stack_bytes)
SP_SHRINK = 1  # 1 = shrink at GC (runtime.shrink_stacks; 0 = gcshrinkstackoff=1)
SP_ADAPTIVE = 2  # 1 = adaptive starting size (GODEBUG adaptivestackstart=1)
N_SP = 3

# --- counters ``k[K_*]`` ----------------------------------------------------------------------

K_STARTING_SIZE = 0  # startingStackSize, bytes
K_NEXT_GOID = 1  # goroutine id the next new goroutine gets
K_CURSOR = 2  # round-robin: the goroutine the next mutator step tries first
K_FREE_REC = 3  # free stack span records, linked through spans["next"], -1 = none
K_LARGE_PARKED = 4  # stackLarge: freed large spans kept until the cycle ends, linked, -1
K_SCANNED_BYTES = 5  # Σ used of stacks scanned this cycle (p.scannedStackSize)
K_SCANNED_STACKS = 6  # stacks scanned this cycle (p.scannedStacks)
K_GROWS = 7  # copystack calls from newstack
K_SHRINKS = 8  # copystack calls from shrinkstack
K_COPY_BYTES = 9  # used bytes copied by all copystacks
K_CALLS = 10  # calls made by all goroutines
K_EXITS = 11  # goroutines that exited
K_STACK_VALUES = 12  # values that did not escape (placed in a frame, not the heap)
K_STACK_VALUE_BYTES = 13
K_PEAK_STACK_PAGES = 14  # most stack pages in use at once
K_OVERFLOW_G = 15  # goroutine row whose growth hit the limit, -1 = none
K_OVERFLOW_GOID = 16
K_OVERFLOW_DEPTH = 17  # frames on its stack when the call failed
K_OVERFLOW_USED = 18  # used bytes (hi - sp) at the failing call
K_OVERFLOW_SIZE = 19  # stack size, bytes (the largest that existed)
K_OVERFLOW_NEWSIZE = 20  # the size newstack asked for
K_OVERFLOW_FRAME = 21  # frame bytes of the failing call
K_OVERFLOW_LO = 22  # the stack's first byte (arena address)
K_OVERFLOW_CYCLES = 23  # simulated time of the overflow
K_COPY_CYCLES = 24  # mutator cycles spent in copystack for growth
N_K = 25

# Goroutine directions
DIR_BLOCKED = 0
DIR_DOWN = 1
DIR_UP = -1


class Stacks(NamedTuple):
    """Goroutines, their stacks, the stack pools and caches (see module doc)."""

    k: np.ndarray  # int64[N_K]: counters K_*
    params: np.ndarray  # int64[N_SP]: SP_*
    grp: np.ndarray  # int64[n_groups, N_GR]
    grp_calls: np.ndarray  # float64[n_groups]: calls + returns per step the goroutine runs
    dist_tab: np.ndarray  # int64[2 * n_groups, state.N_W]: frame and depth distributions
    choice_vals: np.ndarray  # int64[n_choices]: values of "choice" distributions
    choice_cdf: np.ndarray  # float64[n_choices]
    site_escape: np.ndarray  # float64[n_sites]: probability a site's value escapes
    g_group: np.ndarray  # int64[G]
    g_goid: np.ndarray  # int64[G]: goroutine id (new goroutines take the next)
    g_lo: np.ndarray  # int64[G]: stack address (first byte)
    g_size: np.ndarray  # int64[G]: stack bytes (hi - lo), a power of two
    g_used: np.ndarray  # int64[G]: hi - sp, bytes
    g_depth: np.ndarray  # int64[G]: frames of the current excursion on the stack
    g_target: np.ndarray  # int64[G]: depth the current excursion descends to
    g_frame: np.ndarray  # int64[G]: bytes one call of the current excursion takes
    g_dir: np.ndarray  # int64[G]: DIR_*
    g_left: np.ndarray  # int64[G]: excursions left including the current one, -1 forever
    pool_head: np.ndarray  # int64[NUM_STACK_ORDERS]: stackpool span with free stacks, -1
    cache: np.ndarray  # int64[P, NUM_STACK_ORDERS, 16]: per-P cached stack addresses
    cache_n: np.ndarray  # int64[P, NUM_STACK_ORDERS]: entries in each cache


def new_stacks(*, gomaxprocs: int, params: np.ndarray, grp: np.ndarray, grp_calls: np.ndarray,
               dist_tab: np.ndarray, choice_vals: np.ndarray, choice_cdf: np.ndarray,
               site_escape: np.ndarray) -> Stacks:
    """Empty stack state for the groups in ``grp`` (goroutines start in stacks.init)."""
    n_g = int(grp[:, GR_COUNT].sum()) if grp.shape[0] else 0
    k = np.zeros(N_K, dtype=np.int64)
    k[K_STARTING_SIZE] = FIXED_STACK_BYTES
    k[K_NEXT_GOID] = 1
    k[K_FREE_REC] = -1
    k[K_LARGE_PARKED] = -1
    k[K_OVERFLOW_G] = -1

    def g_arr(fill: int = 0) -> np.ndarray:
        return np.full(n_g, fill, dtype=np.int64)

    return Stacks(
        k=k, params=params.astype(np.int64), grp=grp.astype(np.int64),
        grp_calls=grp_calls.astype(np.float64), dist_tab=dist_tab.astype(np.int64),
        choice_vals=choice_vals.astype(np.int64), choice_cdf=choice_cdf.astype(np.float64),
        site_escape=site_escape.astype(np.float64),
        g_group=g_arr(), g_goid=g_arr(), g_lo=g_arr(-1), g_size=g_arr(), g_used=g_arr(),
        g_depth=g_arr(), g_target=g_arr(), g_frame=g_arr(), g_dir=g_arr(), g_left=g_arr(),
        pool_head=np.full(NUM_STACK_ORDERS, -1, dtype=np.int64),
        cache=np.zeros((gomaxprocs, NUM_STACK_ORDERS, STACKS_PER_SPAN_MAX), dtype=np.int64),
        cache_n=np.zeros((gomaxprocs, NUM_STACK_ORDERS), dtype=np.int64),
    )


def empty_stacks(gomaxprocs: int, n_sites: int) -> Stacks:
    """No goroutines (a workload without [[workload.goroutines]]); every value escapes."""
    from gcsim.engine.state import N_W

    params = np.zeros(N_SP, dtype=np.int64)
    params[SP_MAX_STACK_BYTES] = 1_000_000_000
    return new_stacks(
        gomaxprocs=gomaxprocs, params=params, grp=np.zeros((0, N_GR), dtype=np.int64),
        grp_calls=np.zeros(0), dist_tab=np.zeros((0, N_W), dtype=np.int64),
        choice_vals=np.zeros(1, dtype=np.int64), choice_cdf=np.ones(1),
        site_escape=np.ones(n_sites),
    )
