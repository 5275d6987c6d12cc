"""Rate streams: sequences of numbers that vary a workload over time.

A stream is the value of some workload quantity (an allocation rate, a
site's weight, a scannable fraction, stack bytes, ...) at steps 0, 1, 2, ...
The vocabulary is the one Go's own pacer tests build their scenarios from
(``float64Stream`` in ``src/runtime/mgcpacer_test.go``): ``constant``,
``unit``, ``ramp``, ``oscillate``, ``random``, combined by summing and
shaped by ``delay``, ``scale``, ``offset``, ``quantize``, ``min``, ``max``.
``step`` is sugar for the step change those tests write as
``ramp(h, 1).delay(n)``. Every kind is evaluated vectorised: ``values(n)`` is
the first ``n`` steps, and a longer prefix extends a shorter one exactly, so
the engine can ask for more steps as a run goes on.

In TOML a stream is one of

- a number: a constant;
- a table ``{ kind = "...", <parameters>, <modifiers> }``;
- an array of streams: their sum (Go's ``.sum``).

=============  ===============================  =======================================
kind           parameters                       value at step i
=============  ===============================  =======================================
constant       value                            value
unit           value                            value at i = 0, then 0
step           value, at                        0 before ``at``, value from ``at`` on
ramp           height, length                   height * min(i, length) / length
oscillate      amplitude, period, phase = 0     amplitude * sin(2 pi (i mod period) /
                                                period + phase)
random         amplitude, seed = 0              uniform in [-amplitude, amplitude)
=============  ===============================  =======================================

Modifiers apply in this order, whatever their order in the table: ``delay``
(that many zero steps first, then the stream from its step 0), ``scale``,
``offset``, ``quantize`` (toward zero to a multiple), ``min`` and ``max``
(clamps). ``random`` draws from NumPy's PCG64 seeded with ``seed``, not Go's
math/rand, so Go's random scenarios are matched by their statistics, not
value for value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gcsim.errors import ConfigError

__all__ = ["KINDS", "MODIFIERS", "Stream", "parse_stream", "stream_to_toml", "values"]

# kind -> (required parameters, optional parameters with defaults)
KINDS: dict[str, tuple[tuple[str, ...], dict[str, float]]] = {
    "constant": (("value",), {}),
    "unit": (("value",), {}),
    "step": (("value", "at"), {}),
    "ramp": (("height", "length"), {}),
    "oscillate": (("amplitude", "period"), {"phase": 0.0}),
    "random": (("amplitude",), {"seed": 0}),
}
MODIFIERS = ("delay", "scale", "offset", "quantize", "min", "max")
_INT_PARAMS = ("at", "length", "period", "seed", "delay")


@dataclass(frozen=True)
class Stream:
    """A stream: a sum of ``terms`` when ``kind == "sum"``, else one kind with
    its ``params`` (sorted name/value pairs); ``mods`` are the modifiers, applied
    after the terms are summed."""

    kind: str
    params: tuple[tuple[str, float], ...] = ()
    mods: tuple[tuple[str, float], ...] = ()
    terms: tuple[Stream, ...] = ()

    def param(self, name: str) -> float:
        return dict(self.params)[name]

    @property
    def is_constant(self) -> bool:
        """True when every step has the same value (nothing varies over time)."""
        if self.kind == "sum":
            return all(t.is_constant for t in self.terms) and "delay" not in dict(self.mods)
        return self.kind == "constant" and "delay" not in dict(self.mods)


def constant(value: float) -> Stream:
    return Stream("constant", (("value", float(value)),))


def parse_stream(raw: Any, key: str) -> Stream:
    """Validate a TOML stream (number, table or array) at dotted ``key``."""
    if isinstance(raw, bool):
        raise ConfigError(key, raw, _ALLOWED)
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise ConfigError(key, raw, "a finite number")
        return constant(raw)
    if isinstance(raw, list):
        if not raw:
            raise ConfigError(key, raw, "a non-empty array of streams (summed)")
        return Stream("sum", terms=tuple(parse_stream(r, f"{key}[{i}]") for i, r in enumerate(raw)))
    if not isinstance(raw, dict):
        raise ConfigError(key, raw, _ALLOWED)
    kind = raw.get("kind")
    if kind not in KINDS and kind != "sum":
        raise ConfigError(f"{key}.kind", raw.get("kind"), "one of " + ", ".join(map(repr, KINDS)))
    mods = tuple(sorted((m, _number(raw[m], f"{key}.{m}", m)) for m in MODIFIERS if m in raw))
    if kind == "sum":
        terms = raw.get("terms")
        if not isinstance(terms, list) or not terms:
            raise ConfigError(f"{key}.terms", terms, "a non-empty array of streams")
        _check_names(raw, key, ("kind", "terms", *MODIFIERS))
        base = parse_stream(terms, f"{key}.terms")
        return Stream("sum", mods=mods, terms=base.terms)
    required, optional = KINDS[kind]
    _check_names(raw, key, ("kind", *required, *optional, *MODIFIERS))
    params = []
    for name in required:
        if name not in raw:
            raise ConfigError(
                f"{key}.{name}",
                raw.get(name, "<missing>"),
                f"a number (kind {kind!r} needs {', '.join(required)})",
            )
        params.append((name, _number(raw[name], f"{key}.{name}", name)))
    for name, default in optional.items():
        params.append((name, _number(raw.get(name, default), f"{key}.{name}", name)))
    if kind == "ramp" and dict(params)["length"] < 1:
        raise ConfigError(f"{key}.length", raw["length"], "an integer >= 1 (steps)")
    if kind == "oscillate" and dict(params)["period"] < 1:
        raise ConfigError(f"{key}.period", raw["period"], "an integer >= 1 (steps)")
    return Stream(kind, tuple(sorted(params)), mods)


_ALLOWED = "a number, a { kind = ... } stream table, or an array of streams (summed)"


def _check_names(raw: dict[str, Any], key: str, allowed: tuple[str, ...]) -> None:
    import difflib

    for name in raw:
        if name not in allowed:
            close = difflib.get_close_matches(name, allowed, n=1)
            hint = f"did you mean '{close[0]}'?" if close else ""
            raise ConfigError(
                f"{key}.{name}", raw[name], "one of the keys " + ", ".join(allowed), hint
            )


def _number(v: Any, key: str, name: str) -> float:
    if name in _INT_PARAMS:
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ConfigError(key, v, "an integer >= 0")
        return float(v)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ConfigError(key, v, "a finite number")
    if name == "quantize" and v <= 0:
        raise ConfigError(key, v, "a number > 0")
    return float(v)


def values(s: Stream, n: int) -> np.ndarray:
    """The stream's first ``n`` steps as float64[n]."""
    i = np.arange(n, dtype=np.float64)
    if s.kind == "sum":
        out = np.zeros(n)
        for t in s.terms:
            out += values(t, n)
        return _modify(out, s.mods, s)
    p = dict(s.params)
    delay = int(dict(s.mods).get("delay", 0))
    m = max(n - delay, 0)
    j = i[:m]
    if s.kind == "constant":
        base = np.full(m, p["value"])
    elif s.kind == "unit":
        base = np.where(j == 0, p["value"], 0.0)
    elif s.kind == "step":
        base = np.where(j >= p["at"], p["value"], 0.0)
    elif s.kind == "ramp":
        base = p["height"] * np.minimum(j, p["length"]) / p["length"]
    elif s.kind == "oscillate":
        period = p["period"]
        base = np.sin(np.mod(j, period) / period * 2.0 * np.pi + p["phase"]) * p["amplitude"]
    elif s.kind == "random":
        rng = np.random.Generator(np.random.PCG64(int(p["seed"])))
        base = (rng.random(m) - 0.5) * 2.0 * p["amplitude"]
    else:  # pragma: no cover - parse_stream admits only the kinds above
        raise AssertionError(s.kind)
    out = np.concatenate([np.zeros(n - m), base])
    return _modify(out, s.mods, s, delayed=True)


def _modify(
    out: np.ndarray, mods: tuple[tuple[str, float], ...], s: Stream, delayed: bool = False
) -> np.ndarray:
    m = dict(mods)
    if "delay" in m and not delayed:
        d = int(m["delay"])
        out = np.concatenate([np.zeros(min(d, out.size)), out[: max(out.size - d, 0)]])
    if "scale" in m:
        out = out * m["scale"]
    if "offset" in m:
        out = out + m["offset"]
    if "quantize" in m:
        q = m["quantize"]
        out = np.trunc(out / q) * q
    if "min" in m:
        out = np.maximum(out, m["min"])
    if "max" in m:
        out = np.minimum(out, m["max"])
    return out


def stream_to_toml(s: Stream) -> Any:
    """The TOML value that parses back to ``s`` (a number for a plain constant)."""
    if s.kind == "constant" and not s.mods:
        return s.param("value")
    if s.kind == "sum":
        terms = [stream_to_toml(t) for t in s.terms]
        if not s.mods:
            return terms
        return {"kind": "sum", "terms": terms, **_mods_toml(s.mods)}
    d: dict[str, Any] = {"kind": s.kind}
    for name, v in s.params:
        d[name] = int(v) if name in _INT_PARAMS else v
    d.update(_mods_toml(s.mods))
    return d


def _mods_toml(mods: tuple[tuple[str, float], ...]) -> dict[str, Any]:
    return {name: int(v) if name in _INT_PARAMS else v for name, v in mods}
