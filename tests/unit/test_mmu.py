"""Tests for gcsim.metrics.mmu: closed forms, brute force, edge rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gcsim.metrics import mmu as mmu_mod
from gcsim.metrics.mmu import gc_utilization_intervals, mmu, mmu_curve, normalize_intervals

Interval = tuple[float, float, float]


# --------------------------------------------------------------------------
# Pure-Python reference (slow, small inputs only)


def _gc_in_window(intervals: list[Interval], x: float, w: float) -> float:
    """GC CPU (s of whole machine) inside [x, x + w], by direct overlap."""
    total = 0.0
    for s, e, f in intervals:
        overlap = min(e, x + w) - max(s, x)
        if overlap > 0:
            total += f * overlap
    return total


def _brute_mmu(intervals: list[Interval], total: float, w: float, step: float) -> float:
    """MMU(w) as the minimum over window starts on a grid of ``step`` plus T - w."""
    if w >= total:
        return 1.0 - _gc_in_window(intervals, 0.0, total) / total
    span = total - w
    n = int(math.floor(span / step + 1e-9))
    starts = [k * step for k in range(n + 1)] + [span]
    return min(1.0 - _gc_in_window(intervals, x, w) / w for x in starts)


def _arrays(intervals: list[Interval]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not intervals:
        return np.empty(0), np.empty(0), np.empty(0)
    s, e, f = zip(*intervals, strict=True)
    return np.array(s, float), np.array(e, float), np.array(f, float)


# Interval sets built from (gap, length, fraction) triples laid end to end.
_FRACS = st.sampled_from([0.0, 0.125, 0.25, 0.3, 0.5, 0.75, 1.0])


@st.composite
def _integer_intervals(draw: st.DrawFn) -> tuple[list[Interval], int]:
    """Integer-aligned intervals in [0, T]: a unit grid hits every candidate."""
    parts = draw(
        st.lists(st.tuples(st.integers(0, 4), st.integers(1, 5), _FRACS), min_size=0, max_size=6)
    )
    t, out = 0, []
    for gap, length, frac in parts:
        t += gap
        out.append((float(t), float(t + length), frac))
        t += length
    total = t + draw(st.integers(0 if out else 1, 5))
    return out, total


@st.composite
def _float_intervals(draw: st.DrawFn) -> tuple[list[Interval], float]:
    parts = draw(
        st.lists(
            st.tuples(
                st.floats(0.0, 2.0),
                st.floats(0.01, 2.0),
                st.floats(0.0, 1.0),
            ),
            min_size=1,
            max_size=5,
        )
    )
    t, out = 0.0, []
    for gap, length, frac in parts:
        t += gap
        out.append((t, t + length, frac))
        t += length
    total = t + draw(st.floats(0.0, 2.0))
    return out, total


# --------------------------------------------------------------------------
# Closed forms


def test_single_pause_closed_form() -> None:
    # One STW pause of p = 1 ms at 0.5 s in a T = 1 s run:
    # MMU(w) = max(0, 1 - p/w) for w <= T, and 1 - p/T for w >= T.
    p, total = 1e-3, 1.0
    w = np.array([1e-4, 5e-4, 1e-3, 1.5e-3, 2e-3, 1e-2, 0.5, 1.0, 3.0])
    got = mmu([0.5], [0.5 + p], [1.0], total, w)
    want = np.where(w < total, np.maximum(0.0, 1.0 - p / w), 1.0 - p / total)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert got[0] == 0.0 and got[2] == 0.0  # w < p and w == p: a window fits inside


@settings(deadline=None, max_examples=200)
@given(
    p=st.floats(1e-6, 1.0),
    where=st.floats(0.0, 1.0),
    slack=st.floats(0.0, 10.0),
    w_frac=st.floats(1e-3, 1.5),
)
def test_single_pause_anywhere(p: float, where: float, slack: float, w_frac: float) -> None:
    # Pause at any position (also touching 0 or T): the formula does not care.
    total = p + slack
    start = where * slack
    w = w_frac * total
    got = float(mmu([start], [start + p], [1.0], total, [w])[0])
    want = max(0.0, 1.0 - p / min(w, total))
    assert got == pytest.approx(want, abs=1e-9)


@settings(deadline=None, max_examples=200)
@given(
    period=st.floats(0.01, 1.0),
    duty=st.floats(0.01, 0.9),
    n=st.integers(1, 30),
    w_frac=st.floats(0.001, 1.0),
)
def test_periodic_pauses_closed_form(period: float, duty: float, n: int, w_frac: float) -> None:
    # Pauses of length p at k*P, k = 0..n-1, T = n*P. A window w = k*P + r
    # (0 <= r < P) holds at most k*p + min(r, p) of GC, attained by starting
    # at a pause: MMU(w) = 1 - (k*p + min(r, p)) / w.
    p = duty * period
    total = n * period
    starts = np.arange(n) * period
    w = w_frac * total
    k = math.floor(w / period + 1e-12)
    r = max(0.0, w - k * period)
    want = 1.0 - (k * p + min(r, p)) / w
    got = float(mmu(starts, starts + p, np.ones(n), total, [w])[0])
    assert got == pytest.approx(want, abs=1e-9)


def test_periodic_pauses_at_whole_periods() -> None:
    # 10 µs pause every 1 ms: any whole number of periods gives 1 - p/P = 0.99.
    period, p, n = 1e-3, 1e-5, 100
    starts = np.arange(n) * period
    w = np.array([1, 2, 7, 50, 100]) * period
    got = mmu(starts, starts + p, np.ones(n), n * period, w)
    np.testing.assert_allclose(got, 0.99, atol=1e-9)


def test_constant_background_fraction() -> None:
    # 25 % background marking over [10, 60) in a 100 s run: every window that
    # fits in the mark phase sees 0.75; longer ones dilute it.
    got = mmu([10.0], [60.0], [0.25], 100.0, [1e-3, 1.0, 10.0, 50.0, 60.0, 80.0, 100.0])
    want = [0.75, 0.75, 0.75, 0.75, 1 - 12.5 / 60, 1 - 12.5 / 80, 1 - 12.5 / 100]
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_pauses_around_background_phase() -> None:
    # STW 1 ms, mark 10 ms at 25 %, STW 1 ms (a Go cycle). Windows of 2 ms
    # starting at the first pause: 1 ms + 0.25 ms GC -> 0.375.
    s = [0.0, 0.001, 0.011]
    e = [0.001, 0.011, 0.012]
    f = [1.0, 0.25, 1.0]
    got = mmu(np.array(s) + 1, np.array(e) + 1, f, 2.0, [0.001, 0.002, 0.012])
    np.testing.assert_allclose(got, [0.0, 0.375, 1 - 0.0045 / 0.012], atol=1e-12)


# --------------------------------------------------------------------------
# Exact algorithm vs brute force


@settings(deadline=None, max_examples=300)
@given(data=_integer_intervals(), w=st.integers(1, 45))
def test_matches_brute_force_on_integer_grid(data: tuple[list[Interval], int], w: int) -> None:
    # With integer boundaries and windows every candidate start is an integer,
    # so the unit-grid brute force is exact.
    intervals, total = data
    got = float(mmu(*_arrays(intervals), total, [w])[0])
    want = _brute_mmu(intervals, float(total), float(w), 1.0)
    assert got == pytest.approx(want, abs=1e-12)


@settings(deadline=None, max_examples=150)
@given(data=_float_intervals(), w_frac=st.floats(0.01, 1.2))
def test_matches_brute_force_on_fine_grid(
    data: tuple[list[Interval], float], w_frac: float
) -> None:
    # The utilization of [x, x+w] moves at most |dx|/w as x moves, so a grid of
    # step h is within h/(2w) of the true minimum and never below it.
    intervals, total = data
    w = w_frac * total
    h = total / 1000
    got = float(mmu(*_arrays(intervals), total, [w])[0])
    brute = _brute_mmu(intervals, total, w, h)
    assert got <= brute + 1e-9
    assert brute - got <= h / (2 * w) + 1e-9


def test_chunking_does_not_change_results(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    edges = np.sort(rng.uniform(0, 10, 40))
    s, e = edges[0::2], edges[1::2]
    f = rng.uniform(0, 1, s.size)
    w = np.geomspace(1e-3, 12, 37)
    whole = mmu(s, e, f, 10.0, w)
    monkeypatch.setattr(mmu_mod, "_CHUNK_ELEMENTS", 1)
    np.testing.assert_array_equal(mmu(s, e, f, 10.0, w), whole)


# --------------------------------------------------------------------------
# What is (and is not) monotone


def test_mmu_is_not_monotone_in_general() -> None:
    # Pauses [0,1) and [2,3): a 2 s window holds 1 s of GC, a 3 s window 2 s.
    got = mmu([0.0, 2.0], [1.0, 3.0], [1.0, 1.0], 100.0, [2.0, 3.0])
    np.testing.assert_allclose(got, [0.5, 1 / 3], atol=1e-12)
    assert got[1] < got[0]


@settings(deadline=None, max_examples=100)
@given(data=_float_intervals())
def test_worst_gc_time_is_monotone_and_subadditive(data: tuple[list[Interval], float]) -> None:
    # Max GC time in a window, w * (1 - MMU(w)), is non-decreasing in w (a
    # longer window contains a shorter one), and MMU(k*w) >= MMU(w) for
    # integer k (a k*w window is k windows of length w).
    intervals, total = data
    s, e, f = _arrays(intervals)
    w = np.linspace(total / 50, total, 50)
    m = mmu(s, e, f, total, w)
    worst = w * (1 - m)
    assert np.all(np.diff(worst) >= -1e-9)
    for k in (2, 3, 5):
        short = w[w * k <= total]
        assert np.all(mmu(s, e, f, total, k * short) >= mmu(s, e, f, total, short) - 1e-9)


@settings(deadline=None, max_examples=100)
@given(data=_float_intervals(), w_frac=st.floats(0.001, 3.0))
def test_values_in_unit_interval(data: tuple[list[Interval], float], w_frac: float) -> None:
    intervals, total = data
    got = mmu(*_arrays(intervals), total, [w_frac * total])
    assert np.all((got >= 0) & (got <= 1))


# --------------------------------------------------------------------------
# Edge rules and validation


def test_no_gc_gives_full_utilization() -> None:
    got = mmu([], [], [], 5.0, [0.1, 1.0, 10.0])
    np.testing.assert_array_equal(got, [1.0, 1.0, 1.0])


def test_long_windows_give_overall_utilization() -> None:
    got = mmu([1.0, 5.0], [2.0, 6.0], [1.0, 0.5], 10.0, [10.0, 20.0, 1e9])
    np.testing.assert_allclose(got, 1 - 1.5 / 10, atol=1e-12)


def test_preserves_window_shape_and_accepts_unsorted_input() -> None:
    got = mmu([5.0, 1.0], [6.0, 2.0], [1.0, 1.0], 10.0, np.array([[0.5, 2.0], [3.0, 4.0]]))
    assert got.shape == (2, 2)
    np.testing.assert_allclose(got, [[0.0, 0.5], [1 - 1 / 3, 0.75]], atol=1e-12)


def test_intervals_are_clipped_to_the_run() -> None:
    # A mark phase running past the end counts only inside [0, T].
    got = mmu([8.0], [15.0], [1.0], 10.0, [1.0, 10.0])
    np.testing.assert_allclose(got, [0.0, 0.8], atol=1e-12)
    s, e, f = normalize_intervals([-1.0, 8.0, 20.0], [0.0, 15.0, 30.0], [1, 1, 1], 10.0)
    np.testing.assert_array_equal(s, [8.0])
    np.testing.assert_array_equal(e, [10.0])


def test_adjacent_intervals_are_allowed() -> None:
    got = mmu([1.0, 2.0], [2.0, 3.0], [1.0, 0.5], 10.0, [2.0])
    np.testing.assert_allclose(got, [0.25], atol=1e-12)


@pytest.mark.parametrize(
    ("s", "e", "f", "total", "w", "match"),
    [
        ([0.0, 1.5], [2.0, 3.0], [1.0, 1.0], 10.0, [1.0], "overlap"),
        ([0.0], [1.0], [1.5], 10.0, [1.0], r"\[0, 1\]"),
        ([2.0], [1.0], [1.0], 10.0, [1.0], "start_s <= end_s"),
        ([0.0], [1.0], [1.0], 0.0, [1.0], "total_s"),
        ([0.0], [1.0], [1.0], 10.0, [0.0], "windows_s"),
        ([0.0], [1.0], [1.0], 10.0, [np.nan], "windows_s"),
        ([0.0], [np.inf], [1.0], 10.0, [1.0], "NaN or infinite"),
        ([0.0, 1.0], [1.0], [1.0], 10.0, [1.0], "same length"),
    ],
)
def test_rejects_bad_input(
    s: list[float], e: list[float], f: list[float], total: float, w: list[float], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        mmu(s, e, f, total, w)


# --------------------------------------------------------------------------
# Building intervals from cycle records; the plotting curve


def test_gc_utilization_intervals_from_cycles() -> None:
    # GOMAXPROCS 4, 10 ms mark with 10 ms dedicated + 2 ms assist -> 0.3.
    s, e, f = gc_utilization_intervals(
        sweep_term_start_s=[1.0, 2.0],
        mark_start_s=[1.0001, 2.0001],
        mark_term_start_s=[1.0101, 2.0001],  # second cycle: empty mark phase
        mark_term_end_s=[1.0102, 2.0002],
        mark_gc_cpu_s=[0.012, 0.0],
        gomaxprocs=4,
    )
    np.testing.assert_allclose(s, [1.0, 1.0001, 1.0101, 2.0, 2.0001, 2.0001])
    np.testing.assert_allclose(e, [1.0001, 1.0101, 1.0102, 2.0001, 2.0001, 2.0002])
    np.testing.assert_allclose(f, [1.0, 0.3, 1.0, 1.0, 0.0, 1.0])
    # Feeds straight into mmu (the zero-length mark phase is dropped).
    assert mmu(s, e, f, 3.0, [1e-5])[0] == 0.0


def test_gc_utilization_intervals_clips_fraction_and_validates() -> None:
    _, _, f = gc_utilization_intervals([0.0], [0.0], [1.0], [1.0], [10.0], 2)
    assert f[1] == 1.0
    with pytest.raises(ValueError, match="gomaxprocs"):
        gc_utilization_intervals([0.0], [0.0], [1.0], [1.0], [0.1], 0)
    with pytest.raises(ValueError, match="sweep_term_start"):
        gc_utilization_intervals([1.0], [0.5], [1.0], [1.0], [0.1], 1)
    with pytest.raises(ValueError, match=">= 0"):
        gc_utilization_intervals([0.0], [0.5], [1.0], [1.0], [-0.1], 1)


def test_mmu_curve_spans_shortest_pause_to_run() -> None:
    s = [0.1, 0.1001, 0.2]
    e = [0.1001, 0.11, 0.2005]
    f = [1.0, 0.25, 1.0]
    w, m = mmu_curve(s, e, f, 1.0, n=40)
    assert w.shape == m.shape == (40,)
    assert w[0] == pytest.approx(1e-4)
    assert w[-1] == pytest.approx(1.0)
    assert np.all(np.diff(np.log(w)) > 0)
    np.testing.assert_allclose(m, mmu(s, e, f, 1.0, w))
    assert m[0] == 0.0


def test_mmu_curve_without_pauses() -> None:
    w, m = mmu_curve([], [], [], 2.0, n=5)
    assert w[0] == pytest.approx(2e-6) and w[-1] == pytest.approx(2.0)
    np.testing.assert_array_equal(m, 1.0)
    w, m = mmu_curve([0.0], [1.0], [0.25], 2.0, n=5)  # only a mark phase
    assert w[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="n must be"):
        mmu_curve([], [], [], 2.0, n=1)
