"""Rate streams (gcsim/workload/streams.py) against the semantics of Go's
float64Stream combinators in src/runtime/mgcpacer_test.go, written out here
as the closures they are."""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest

from gcsim.errors import ConfigError
from gcsim.workload.streams import parse_stream, stream_to_toml, values


def go_like(n: int, f) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.array([f() for _ in range(n)])


def go_ramp(height: float, length: int):  # type: ignore[no-untyped-def]
    cycle = 0

    def f() -> float:
        nonlocal cycle
        h = height * cycle / length
        if cycle < length:
            cycle += 1
        return h

    return f


def go_oscillate(amp: float, phase: float, period: int):  # type: ignore[no-untyped-def]
    cycle = 0

    def f() -> float:
        nonlocal cycle
        p = cycle / period * 2 * math.pi + phase
        cycle += 1
        if cycle == period:
            cycle = 0
        return math.sin(p) * amp

    return f


def go_delay(f, k: int):  # type: ignore[no-untyped-def]
    zeroes = 0

    def g() -> float:
        nonlocal zeroes
        if zeroes < k:
            zeroes += 1
            return 0.0
        return f()

    return g


def test_constant_number() -> None:
    assert (values(parse_stream(33.0, "k"), 5) == 33.0).all()


def test_ramp_matches_go() -> None:
    s = parse_stream({"kind": "ramp", "height": -1.0, "length": 12}, "k")
    np.testing.assert_array_equal(values(s, 40), go_like(40, go_ramp(-1.0, 12)))


def test_oscillate_matches_go() -> None:
    s = parse_stream({"kind": "oscillate", "amplitude": 13.0, "period": 8, "phase": 0.5}, "k")
    np.testing.assert_allclose(
        values(s, 50), go_like(50, go_oscillate(13.0, 0.5, 8)), rtol=0, atol=1e-12
    )


def test_delayed_ramp_plus_constant_is_gos_step_alloc() -> None:
    # constant(33).sum(ramp(66, 1).delay(50))
    s = parse_stream([33.0, {"kind": "ramp", "height": 66.0, "length": 1, "delay": 50}], "k")
    ramp = go_delay(go_ramp(66.0, 1), 50)
    np.testing.assert_array_equal(values(s, 100), 33.0 + go_like(100, ramp))
    v = values(s, 100)
    assert v[50] == 33.0 and v[51] == 99.0


def test_unit_is_one_impulse_and_step_holds() -> None:
    unit = values(parse_stream({"kind": "unit", "value": 0.5, "delay": 3}, "k"), 6)
    np.testing.assert_array_equal(unit, [0, 0, 0, 0.5, 0, 0])
    step = values(parse_stream({"kind": "step", "value": 2.0, "at": 2}, "k"), 5)
    np.testing.assert_array_equal(step, [0, 0, 2, 2, 2])


def test_random_is_bounded_seeded_and_offset() -> None:
    s = parse_stream({"kind": "random", "amplitude": 7.0, "seed": 0x53, "offset": 165.0}, "k")
    v = values(s, 2000)
    assert v.min() >= 158.0 and v.max() < 172.0
    assert abs(v.mean() - 165.0) < 0.5
    np.testing.assert_array_equal(v, values(s, 2000))


def test_modifiers_quantize_toward_zero_and_clamp() -> None:
    s = parse_stream(
        {"kind": "ramp", "height": -5000.0, "length": 4, "quantize": 2048.0, "min": -3000.0}, "k"
    )
    # -1250 -> -0 ; -2500 -> -2048 ; -3750 -> -2048 -> clamp ok ; -5000 -> -4096 -> -3000
    np.testing.assert_array_equal(values(s, 5), [0, 0, -2048, -2048, -3000])


@pytest.mark.parametrize("n", [1, 7, 64])
def test_a_longer_prefix_extends_a_shorter_one(n: int) -> None:
    s = parse_stream(
        [
            1.0,
            {"kind": "oscillate", "amplitude": 2.0, "period": 5},
            {"kind": "random", "amplitude": 1.0, "seed": 9, "delay": 3},
        ],
        "k",
    )
    np.testing.assert_array_equal(values(s, n), values(s, 2 * n)[:n])


def test_toml_round_trip() -> None:
    raw = [
        2.0,
        {"kind": "ramp", "height": -1.0, "length": 12},
        {"kind": "sum", "terms": [1.0, {"kind": "unit", "value": 14.0}], "delay": 25},
    ]
    s = parse_stream(raw, "k")
    import tomli_w

    text = tomli_w.dumps({"x": stream_to_toml(s)})
    assert parse_stream(tomllib.loads(text)["x"], "k") == s


@pytest.mark.parametrize(
    ("raw", "key", "words"),
    [
        ({"kind": "rampp"}, "k.kind", "'ramp'"),
        ({"kind": "ramp", "height": 1.0}, "k.length", "length"),
        ({"kind": "ramp", "height": 1.0, "length": 0}, "k.length", ">= 1"),
        ({"kind": "constant", "value": 1.0, "dely": 3}, "k.dely", "delay"),
        ({"kind": "step", "value": 1.0, "at": 1.5}, "k.at", "integer"),
        ([], "k", "non-empty"),
        ("fast", "k", "stream"),
        ([1.0, {"kind": "random", "amplitude": "x"}], "k[1].amplitude", "number"),
    ],
)
def test_bad_streams_name_the_key(raw: object, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_stream(raw, "k")
    assert e.value.key == key
    assert words in str(e.value)
