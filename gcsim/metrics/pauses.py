"""Pause statistics and Go's GCCPUFraction.

Two pause populations exist in Go (reference/go-runtime.md §8.1, facts 17):
``MemStats.PauseNs`` holds one value per GC cycle, the *sum* of that cycle's
STW pauses, while the runtime/metrics histogram ``/sched/pauses/total/gc:seconds``
has one sample per *individual* pause (sweep termination and mark termination
separately). :func:`pause_percentiles` summarises whichever array it is given;
callers say which in their labels.

:func:`gc_cpu_fraction` is ``MemStats.GCCPUFraction`` (§8.1, fact 19):

    (GC total CPU − idle-mark CPU) / (GOMAXPROCS × elapsed wall time)

where GC total CPU = STW pause wall × GOMAXPROCS + assist + dedicated +
fractional + idle mark time (the ``/cpu/classes/gc/total:cpu-seconds`` sum);
write barriers and sweeping are not counted. Worked number: GOMAXPROCS 4 over
1 s (4 CPU-s available), 0.1 ms of STW (0.4 ms CPU), 30 ms dedicated, 9.6 ms
assists and 20 ms idle marking → GC total 60 ms, fraction
(60 − 20) / 4000 = 0.01.
"""

from __future__ import annotations

from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["PAUSE_SUMMARY_KEYS", "pause_percentiles", "gc_cpu_fraction"]

#: Keys of the dict returned by :func:`pause_percentiles`, in report order.
PAUSE_SUMMARY_KEYS: tuple[str, ...] = (
    "count",
    "total",
    "mean",
    "p50",
    "p90",
    "p99",
    "p999",
    "max",
)

_PERCENTILES: dict[str, float] = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p999": 99.9}


def pause_percentiles(pauses_ns: ArrayLike) -> dict[str, float]:
    """Summarise pause lengths: percentiles, max, mean, count and total.

    Percentiles use NumPy's ``'linear'`` method (type 7 of Hyndman & Fan, the
    NumPy default): for sorted ``x`` of length n, quantile q sits at
    position ``q·(n − 1)`` with linear interpolation between neighbours. So
    ``p50`` of [1, 2, 3, 4] is 2.5 and ``p999`` of a 1000-sample array lies
    between the two largest values.

    Parameters
    ----------
    pauses_ns : int64 or float64 [n]
        Pause lengths, nanoseconds (>= 0); individual STW pauses or per-cycle
        sums, see the module docstring.

    Returns
    -------
    dict[str, float]
        Keys :data:`PAUSE_SUMMARY_KEYS`: ``count`` (int, number of pauses),
        ``total`` (ns, sum), ``mean`` (ns), ``p50``, ``p90``, ``p99``,
        ``p999``, ``max`` (ns). Values are plain Python numbers (JSON-ready).
        An empty input gives ``count == 0`` and every other value 0.0.

    Raises
    ------
    ValueError
        If the input is not 1-D, or has NaN, infinite or negative values.

    Examples
    --------
    >>> s = pause_percentiles([10, 20, 30, 40])
    >>> s["p50"], s["max"], s["count"], s["total"]
    (25.0, 40.0, 4, 100.0)
    """
    x = np.asarray(pauses_ns, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"pauses_ns must be a 1-D array, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("pauses_ns contains NaN or infinite values")
    if np.any(x < 0):
        raise ValueError("pauses_ns must be >= 0")

    summary: dict[str, float] = {key: 0.0 for key in PAUSE_SUMMARY_KEYS}
    summary["count"] = int(x.size)
    if x.size == 0:
        return summary
    qs = np.percentile(x, list(_PERCENTILES.values()), method="linear")
    for key, q in zip(_PERCENTILES, qs, strict=True):
        summary[key] = float(q)
    summary["max"] = float(x.max())
    summary["total"] = float(x.sum())
    summary["mean"] = summary["total"] / x.size
    return summary


@overload
def gc_cpu_fraction(
    gc_cpu_ns: float, idle_mark_ns: float, gomaxprocs: int, elapsed_ns: float
) -> float: ...


@overload
def gc_cpu_fraction(
    gc_cpu_ns: NDArray[np.number], idle_mark_ns: ArrayLike, gomaxprocs: int, elapsed_ns: ArrayLike
) -> NDArray[np.float64]: ...


def gc_cpu_fraction(
    gc_cpu_ns: ArrayLike, idle_mark_ns: ArrayLike, gomaxprocs: int, elapsed_ns: ArrayLike
) -> float | NDArray[np.float64]:
    """Go's ``MemStats.GCCPUFraction``: share of available CPU used by the GC.

    ``(gc_cpu_ns − idle_mark_ns) / (gomaxprocs × elapsed_ns)``, as computed in
    mark termination (src/runtime/mgc.go ``gcMarkTermination``:
    ``(GCTotalTime − GCIdleTime) / TotalTime``).

    Parameters
    ----------
    gc_cpu_ns : float or float64[k]
        Cumulative GC CPU time since start, ns: STW pause wall × GOMAXPROCS +
        assist + dedicated + fractional + idle mark worker time.
    idle_mark_ns : float or float64[k]
        Cumulative idle mark worker time included in ``gc_cpu_ns``, ns
        (0 <= idle_mark_ns <= gc_cpu_ns).
    gomaxprocs : int
        Number of Ps (>= 1); assumed constant over the run.
    elapsed_ns : float or float64[k]
        Wall time since program start, ns (> 0). Arrays give the running
        value, e.g. at each mark termination for gctrace's ``U%`` column
        (``int(fraction × 100)``).

    Returns
    -------
    float or float64[k]
        The fraction, in [0, 1] for consistent inputs; a plain float when
        every input is a scalar.

    Raises
    ------
    ValueError
        If ``gomaxprocs < 1``, ``elapsed_ns <= 0``, times are negative or not
        finite, or idle time exceeds total GC time.
    """
    if gomaxprocs < 1:
        raise ValueError(f"gomaxprocs must be >= 1, got {gomaxprocs}")
    gc = np.asarray(gc_cpu_ns, dtype=np.float64)
    idle = np.asarray(idle_mark_ns, dtype=np.float64)
    elapsed = np.asarray(elapsed_ns, dtype=np.float64)
    for name, arr in (("gc_cpu_ns", gc), ("idle_mark_ns", idle), ("elapsed_ns", elapsed)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinite values")
    if np.any(elapsed <= 0):
        raise ValueError("elapsed_ns must be > 0")
    if np.any(gc < 0) or np.any(idle < 0):
        raise ValueError("gc_cpu_ns and idle_mark_ns must be >= 0")
    if np.any(idle > gc):
        raise ValueError("idle_mark_ns cannot exceed gc_cpu_ns (idle time is part of GC time)")
    frac = (gc - idle) / (gomaxprocs * elapsed)
    if frac.ndim == 0:
        return float(frac)
    return frac
