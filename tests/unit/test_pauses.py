"""Tests for gcsim.metrics.pauses: pause summary and GCCPUFraction."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gcsim.metrics.pauses import PAUSE_SUMMARY_KEYS, gc_cpu_fraction, pause_percentiles


def test_percentiles_on_known_array() -> None:
    # 0..1000 ns: linear percentiles are q * 1000 exactly.
    s = pause_percentiles(np.arange(1001, dtype=np.int64))
    assert s["p50"] == 500.0
    assert s["p90"] == 900.0
    assert s["p99"] == 990.0
    assert s["p999"] == pytest.approx(999.0)
    assert s["max"] == 1000.0
    assert s["mean"] == 500.0
    assert s["count"] == 1001
    assert s["total"] == 500500.0


def test_percentiles_interpolate_linearly() -> None:
    # [10, 20, 30, 40]: position q*(n-1) = 1.5 for p50 -> 25; p90 at 2.7 -> 37;
    # p99 at 2.97 -> 39.7; p999 at 2.997 -> 39.97.
    s = pause_percentiles([40, 10, 30, 20])
    assert s["p50"] == pytest.approx(25.0)
    assert s["p90"] == pytest.approx(37.0)
    assert s["p99"] == pytest.approx(39.7)
    assert s["p999"] == pytest.approx(39.97)
    assert (s["max"], s["count"], s["total"], s["mean"]) == (40.0, 4, 100.0, 25.0)


def test_percentiles_match_numpy_linear() -> None:
    x = np.random.default_rng(3).lognormal(np.log(20e3), 1.0, 777)
    s = pause_percentiles(x)
    want = np.percentile(x, [50, 90, 99, 99.9], method="linear")
    np.testing.assert_allclose([s["p50"], s["p90"], s["p99"], s["p999"]], want, rtol=1e-15)


def test_single_pause() -> None:
    s = pause_percentiles([12_345])
    assert all(s[k] == 12_345.0 for k in ("p50", "p90", "p99", "p999", "max", "mean", "total"))
    assert s["count"] == 1


def test_empty_input_gives_zeros() -> None:
    s = pause_percentiles(np.array([], dtype=np.int64))
    assert tuple(s) == PAUSE_SUMMARY_KEYS
    assert s["count"] == 0
    assert all(s[k] == 0.0 for k in PAUSE_SUMMARY_KEYS)


def test_summary_is_json_ready() -> None:
    s = pause_percentiles(np.array([1, 2, 3], dtype=np.int64))
    assert isinstance(s["count"], int)
    assert all(type(s[k]) is float for k in PAUSE_SUMMARY_KEYS if k != "count")
    json.dumps(s)


@pytest.mark.parametrize(
    ("bad", "match"),
    [([1.0, -1.0], ">= 0"), ([1.0, np.nan], "NaN"), ([[1.0, 2.0]], "1-D")],
)
def test_percentiles_reject_bad_input(bad: list[float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        pause_percentiles(bad)


def test_gc_cpu_fraction_closed_form() -> None:
    # GOMAXPROCS 4 over 1 s: STW 0.1 ms wall -> 0.4 ms CPU, 30 ms dedicated,
    # 9.6 ms assist, 20 ms idle: (60 - 20) ms / 4000 ms = 0.01.
    gc_total_ns = 0.1e6 * 4 + 30e6 + 9.6e6 + 20e6
    got = gc_cpu_fraction(gc_total_ns, 20e6, 4, 1e9)
    assert isinstance(got, float)
    assert got == pytest.approx(0.01)


def test_gc_cpu_fraction_idle_excluded_and_stw_scaled() -> None:
    # Only STW: a 1 ms pause at GOMAXPROCS 8 in 100 ms -> 8 ms / 800 ms = 1 %.
    assert gc_cpu_fraction(8e6, 0.0, 8, 100e6) == pytest.approx(0.01)
    # Only idle marking: the fraction is 0.
    assert gc_cpu_fraction(5e6, 5e6, 2, 100e6) == 0.0


def test_gc_cpu_fraction_vectorised() -> None:
    gc = np.array([10e6, 30e6, 50e6])
    idle = np.array([0.0, 10e6, 10e6])
    elapsed = np.array([1e9, 2e9, 4e9])
    got = gc_cpu_fraction(gc, idle, 2, elapsed)
    np.testing.assert_allclose(got, [0.005, 0.005, 0.005])


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((1.0, 0.0, 0, 1.0), "gomaxprocs"),
        ((1.0, 0.0, 1, 0.0), "elapsed_ns"),
        ((1.0, 2.0, 1, 1.0), "cannot exceed"),
        ((-1.0, 0.0, 1, 1.0), ">= 0"),
        ((np.nan, 0.0, 1, 1.0), "NaN"),
    ],
)
def test_gc_cpu_fraction_rejects_bad_input(
    args: tuple[float, float, int, float], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        gc_cpu_fraction(*args)
