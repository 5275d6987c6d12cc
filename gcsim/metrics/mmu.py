"""Minimum mutator utilization (MMU) from GC CPU intervals.

What it measures
----------------
For a window length ``w``, the mutator utilization of the window
``[x, x + w]`` is the share of all CPU (GOMAXPROCS Ps together) the program
kept for itself in that window. The *minimum* mutator utilization MMU(w) is
the worst such share over every window position inside the run (Cheng &
Blelloch, "A parallel, real-time garbage collector", PLDI 2001, §5). It turns
a list of pauses and background work into one curve: MMU(w) = 0 up to the
longest pause, and it tends to the overall utilization as w grows to the run.

Input format (the canonical interval triple)
--------------------------------------------
Three float64 arrays ``start_s, end_s, gc_frac`` of equal length ``n``: during
``[start_s[i], end_s[i])`` the GC takes the fraction ``gc_frac[i]`` of the
whole machine (1.0 for a stop-the-world pause; 0.25 + assists/(P × wall) for a
mark phase). Intervals may touch but not overlap; outside them the mutator
has 100 %. :func:`gc_utilization_intervals` builds the triple from per-cycle
records; :func:`normalize_intervals` checks and canonicalises any triple.

The exact algorithm
-------------------
Let ``G(t) = ∫_0^t g(u) du`` be the cumulative GC CPU share (s of whole
machine). ``G`` is piecewise linear with knots at the interval boundaries.

1. Sort the intervals; prefix sums ``C[k] = Σ_{j<k} gc_frac[j]·(end_j − start_j)``
   give ``G`` at every interval start, so
   ``G(t) = C[k] + gc_frac[k]·clip(t − start_k, 0, end_k − start_k)``
   with ``k`` found by ``np.searchsorted`` (vectorised over many ``t``).
2. For a window ``w ≤ T`` the GC time in ``[x, x + w]``,
   ``D(x) = G(x + w) − G(x)``, is piecewise linear in ``x`` with knots where
   ``x`` or ``x + w`` meets a boundary ``b``. A piecewise-linear function on
   ``[0, T − w]`` attains its maximum at a knot or an end, so the candidates
   are ``x ∈ {0, T − w} ∪ {b} ∪ {b − w}`` clipped to ``[0, T − w]``.
3. ``MMU(w) = 1 − max_x D(x) / w`` over the candidates. Windows are handled in
   chunks so the (windows × candidates) work array stays below a few million
   elements; cost is O(m · n log n) for m windows and n intervals.
   ``D`` is taken as ``C[k1] − C[k0]`` plus the two partial intervals, not
   as ``G(x + w) − G(x)``, so long runs lose no precision to cancellation;
   a window inside one interval gets exactly ``gc_frac · w``.

Worked number: one 1 ms pause in a 1 s run gives MMU(0.5 ms) = 0,
MMU(2 ms) = 0.5, MMU(10 ms) = 0.9 and MMU(1 s) = 0.999.

Edge rules
----------
- Window lengths must be finite and > 0.
- Windows with ``w ≥ total_s`` return the overall utilization
  ``1 − G(T)/T`` (the one window that fits, ``[0, T]``, extended by convention
  to longer windows; MMU is undefined there in the paper).
- GC time outside ``[0, total_s]`` is ignored (intervals are clipped): a run
  that ends mid-mark contributes the part inside the run. Zero-length
  intervals (after clipping) are dropped.
- Results are clipped to ``[0, 1]`` to remove floating-point round-off.

MMU is *not* monotone in w in general: pauses at [0, 1) and [2, 3) give
MMU(2) = 0.5 but MMU(3) = 1/3. What does hold: the worst-case GC time in a
window, ``w · (1 − MMU(w))``, is non-decreasing in w, and it is subadditive,
so MMU(k·w) ≥ MMU(w) for integer k ≥ 1 (with k·w ≤ T). A monotone summary is
the "bounded" MMU of Sachindran et al. (OOPSLA 2004), BMU(w) = min over
w' ≥ w of MMU(w'); on a sampled curve ``np.minimum.accumulate(m[::-1])[::-1]``
approximates it.

Simplification: assist and background work inside a mark phase are spread
evenly over that phase (the per-cycle records carry totals, not their timing),
so MMU for windows shorter than a mark phase is an average-case figure for the
concurrent part; STW pauses are exact.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "gc_utilization_intervals",
    "normalize_intervals",
    "mmu",
    "mmu_curve",
]

FloatArray = NDArray[np.float64]

# Upper bound on windows x candidates evaluated at once (float64 elements).
_CHUNK_ELEMENTS = 1 << 22


def _as_1d_float(name: str, values: ArrayLike) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def gc_utilization_intervals(
    sweep_term_start_s: ArrayLike,
    mark_start_s: ArrayLike,
    mark_term_start_s: ArrayLike,
    mark_term_end_s: ArrayLike,
    mark_gc_cpu_s: ArrayLike,
    gomaxprocs: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Build the GC utilization intervals of a run from per-cycle records.

    Each GC cycle contributes three intervals, the three phases gctrace
    reports as ``a+b+c ms clock`` (src/runtime/mgc.go ``gcMarkTermination``):

    1. sweep termination ``[sweep_term_start, mark_start)``: STW, fraction 1;
    2. concurrent mark ``[mark_start, mark_term_start)``: fraction
       ``mark_gc_cpu / (gomaxprocs × (mark_term_start − mark_start))``,
       clipped to [0, 1] (0 for an empty phase);
    3. mark termination ``[mark_term_start, mark_term_end)``: STW, fraction 1.

    Worked number: GOMAXPROCS 4, a 10 ms mark phase with 10 ms dedicated
    worker time and 2 ms assists → fraction 12 / 40 = 0.3.

    Parameters
    ----------
    sweep_term_start_s : float64[n_cycles]
        Start of sweep termination (``tSweepTerm``), simulated seconds.
    mark_start_s : float64[n_cycles]
        End of sweep termination, start of concurrent mark (``tMark``), s.
    mark_term_start_s : float64[n_cycles]
        Start of mark termination (``tMarkTerm``), s.
    mark_term_end_s : float64[n_cycles]
        End of mark termination, world restarted (``tEnd``), s.
    mark_gc_cpu_s : float64[n_cycles]
        CPU seconds the GC took from the mutator during concurrent mark:
        assist + dedicated + fractional worker time. Leave idle-worker time
        out: idle workers run on Ps that had no mutator work, as
        GCCPUFraction leaves it out (reference/go-runtime.md §8.1).
    gomaxprocs : int
        Number of Ps (>= 1).

    Returns
    -------
    start_s, end_s, gc_frac : float64[3 * n_cycles] each
        The canonical interval triple, sorted by start, zero-length intervals
        kept (``mmu`` drops them).

    Raises
    ------
    ValueError
        If the arrays differ in length, are not finite, a cycle's times are
        not ordered, CPU time is negative, or ``gomaxprocs < 1``.
    """
    if gomaxprocs < 1:
        raise ValueError(f"gomaxprocs must be >= 1, got {gomaxprocs}")
    t0 = _as_1d_float("sweep_term_start_s", sweep_term_start_s)
    t1 = _as_1d_float("mark_start_s", mark_start_s)
    t2 = _as_1d_float("mark_term_start_s", mark_term_start_s)
    t3 = _as_1d_float("mark_term_end_s", mark_term_end_s)
    cpu = _as_1d_float("mark_gc_cpu_s", mark_gc_cpu_s)
    n = t0.size
    if not (t1.size == t2.size == t3.size == cpu.size == n):
        raise ValueError("per-cycle arrays must all have the same length")
    if np.any(t1 < t0) or np.any(t2 < t1) or np.any(t3 < t2):
        raise ValueError(
            "each cycle needs sweep_term_start <= mark_start <= mark_term_start <= mark_term_end"
        )
    if np.any(cpu < 0):
        raise ValueError("mark_gc_cpu_s must be >= 0")

    mark_wall = t2 - t1
    capacity = gomaxprocs * mark_wall
    frac = np.divide(cpu, capacity, out=np.zeros(n), where=capacity > 0)
    np.clip(frac, 0.0, 1.0, out=frac)

    start = np.column_stack([t0, t1, t2]).ravel()
    end = np.column_stack([t1, t2, t3]).ravel()
    gc_frac = np.column_stack([np.ones(n), frac, np.ones(n)]).ravel()
    order = np.argsort(start, kind="stable")
    return start[order], end[order], gc_frac[order]


def normalize_intervals(
    start_s: ArrayLike,
    end_s: ArrayLike,
    gc_frac: ArrayLike,
    total_s: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Check an interval triple and put it in canonical form for ``mmu``.

    Clips every interval to ``[0, total_s]``, drops zero-length ones and
    sorts by start.

    Parameters
    ----------
    start_s, end_s : float64[n]
        Interval bounds, simulated seconds; ``start_s <= end_s``.
    gc_frac : float64[n]
        Fraction of all CPU taken by the GC in each interval, in [0, 1].
    total_s : float
        Run length, simulated seconds (> 0).

    Returns
    -------
    start_s, end_s, gc_frac : float64[k] each
        Sorted, clipped, non-empty intervals (k <= n).

    Raises
    ------
    ValueError
        On mismatched lengths, non-finite values, ``start > end``, fractions
        outside [0, 1], ``total_s <= 0`` or overlapping intervals.
    """
    if not (np.isfinite(total_s) and total_s > 0):
        raise ValueError(f"total_s must be finite and > 0, got {total_s}")
    s = _as_1d_float("start_s", start_s)
    e = _as_1d_float("end_s", end_s)
    f = _as_1d_float("gc_frac", gc_frac)
    if not (s.size == e.size == f.size):
        raise ValueError("start_s, end_s and gc_frac must have the same length")
    if np.any(s > e):
        raise ValueError("every interval needs start_s <= end_s")
    if np.any((f < 0) | (f > 1)):
        raise ValueError("gc_frac must lie in [0, 1]")

    s = np.clip(s, 0.0, total_s)
    e = np.clip(e, 0.0, total_s)
    keep = e > s
    s, e, f = s[keep], e[keep], f[keep]
    order = np.argsort(s, kind="stable")
    s, e, f = s[order], e[order], f[order]
    if s.size > 1 and np.any(s[1:] < e[:-1]):
        i = int(np.argmax(s[1:] < e[:-1]))
        raise ValueError(f"GC intervals overlap: [{s[i]}, {e[i]}) and [{s[i + 1]}, {e[i + 1]})")
    return s, e, f


def _gc_in_windows(
    x: FloatArray, w: FloatArray, start: FloatArray, end: FloatArray, frac: FloatArray
) -> FloatArray:
    """GC CPU (s of whole machine) inside each window ``[x, x + w]``.

    ``start, end, frac`` are canonical intervals with a dummy ``[0, 0)`` first,
    so every ``t >= 0`` has an interval ``k`` with ``start[k] <= t``. With
    ``C[k]`` the GC time before interval ``k``,
    ``G(t) = C[k] + frac[k]·clip(t − start[k], 0, end[k] − start[k])``; the
    window's GC is ``G(x + w) − G(x)``, taken as a difference of prefix sums
    plus the two partial intervals so that nothing large cancels. A window
    inside one interval gets ``frac · w`` exactly (0 inside a pause stays 0).
    ``x`` and ``w`` broadcast together.
    """
    length = end - start
    prefix = np.concatenate(([0.0], np.cumsum(frac * length)))
    t = x + w
    k0 = np.searchsorted(start, x, side="right") - 1
    k1 = np.searchsorted(start, t, side="right") - 1
    in0 = np.clip(x - start[k0], 0.0, length[k0])
    in1 = np.clip(t - start[k1], 0.0, length[k1])
    gc = (prefix[k1] - prefix[k0]) + (frac[k1] * in1 - frac[k0] * in0)
    inside_one = (k0 == k1) & (x >= start[k0]) & (t <= end[k0])
    return np.where(inside_one, frac[k0] * w, gc)


def mmu(
    start_s: ArrayLike,
    end_s: ArrayLike,
    gc_frac: ArrayLike,
    total_s: float,
    windows_s: ArrayLike,
) -> FloatArray:
    """Exact minimum mutator utilization for each window length.

    See the module docstring for the algorithm and the edge rules.

    Parameters
    ----------
    start_s, end_s : float64[n]
        GC interval bounds, simulated seconds (canonical triple, any order).
    gc_frac : float64[n]
        Fraction of all CPU (all GOMAXPROCS Ps) the GC takes in each
        interval, in [0, 1]; 1.0 for stop-the-world pauses.
    total_s : float
        Run length, simulated seconds (> 0); windows slide inside [0, total_s].
    windows_s : float64[m] (or scalar)
        Window lengths, seconds (> 0).

    Returns
    -------
    float64[m]
        MMU(w) in [0, 1] for each window, same shape as ``windows_s``.

    Raises
    ------
    ValueError
        On invalid intervals (see :func:`normalize_intervals`) or windows
        that are not finite and > 0.

    Examples
    --------
    >>> mmu([0.5], [0.501], [1.0], 1.0, [0.0005, 0.002, 1.0]).round(6)
    array([0.   , 0.5  , 0.999])
    """
    s, e, f = normalize_intervals(start_s, end_s, gc_frac, total_s)
    w_in = np.asarray(windows_s, dtype=np.float64)
    w_flat = w_in.ravel()
    if not np.all(np.isfinite(w_flat) & (w_flat > 0)):
        raise ValueError("windows_s must be finite and > 0")
    out = np.ones(w_flat.size)
    if s.size == 0:
        return out.reshape(w_in.shape)

    T = float(total_s)
    gc_total = float(np.sum(f * (e - s)))
    # Dummy [0, 0) first: every window edge t >= 0 then has an interval k
    # with start[k] <= t (stable sort kept it ahead of a real start at 0).
    s0 = np.concatenate(([0.0], s))
    e0 = np.concatenate(([0.0], e))
    f0 = np.concatenate(([0.0], f))

    long_w = w_flat >= T
    out[long_w] = 1.0 - gc_total / T

    idx = np.flatnonzero(~long_w)
    if idx.size:
        bounds = np.unique(np.concatenate((s, e)))
        n_cand = 2 * bounds.size + 2
        chunk = max(1, _CHUNK_ELEMENTS // n_cand)
        for lo in range(0, idx.size, chunk):
            sel = idx[lo : lo + chunk]
            w = w_flat[sel][:, None]  # (c, 1)
            hi = T - w
            x = np.concatenate(
                (
                    np.zeros_like(w),
                    hi,
                    np.broadcast_to(bounds, (w.shape[0], bounds.size)),
                    bounds[None, :] - w,
                ),
                axis=1,
            )
            x = np.clip(x, 0.0, hi)
            gc_in_window = _gc_in_windows(x, w, s0, e0, f0)
            out[sel] = 1.0 - gc_in_window.max(axis=1) / w[:, 0]

    np.clip(out, 0.0, 1.0, out=out)
    return out.reshape(w_in.shape)


def mmu_curve(
    start_s: ArrayLike,
    end_s: ArrayLike,
    gc_frac: ArrayLike,
    total_s: float,
    n: int = 100,
) -> tuple[FloatArray, FloatArray]:
    """MMU at ``n`` log-spaced windows from the shortest pause to the run length.

    The smallest window is the shortest stop-the-world interval
    (``gc_frac == 1``, after clipping to the run); without one, the shortest
    GC interval; without any GC, ``total_s × 1e-6``. The largest is
    ``total_s``. If both coincide, a single window is returned.

    Parameters
    ----------
    start_s, end_s : float64[k]
        GC interval bounds, simulated seconds.
    gc_frac : float64[k]
        GC share of all CPU in each interval, in [0, 1].
    total_s : float
        Run length, simulated seconds (> 0).
    n : int, default 100
        Number of windows (>= 2).

    Returns
    -------
    windows_s : float64[n]
        Window lengths, seconds, increasing geometrically.
    mmu_values : float64[n]
        MMU at each window, in [0, 1].
    """
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    s, e, f = normalize_intervals(start_s, end_s, gc_frac, total_s)
    lengths = e - s
    stw = lengths[f >= 1.0]
    if stw.size:
        w_min = float(stw.min())
    elif lengths.size:
        w_min = float(lengths.min())
    else:
        w_min = float(total_s) * 1e-6
    w_max = float(total_s)
    windows = np.array([w_max]) if w_min >= w_max else np.geomspace(w_min, w_max, n)
    return windows, mmu(s, e, f, total_s, windows)
