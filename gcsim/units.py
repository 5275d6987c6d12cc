"""Units: binary sizes, size strings, and cycles <-> time.

Sizes follow Go's GOMEMLIMIT suffixes (B, KiB, MiB, GiB, TiB; src/runtime/
mgcpacer.go ``readGOMEMLIMIT``); decimal KB/MB/GB are accepted too because users
write them, and mean powers of 1000.
"""

from __future__ import annotations

import re

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30
TiB = 1 << 40

_SUFFIX_BYTES = {
    "": 1,
    "b": 1,
    "kib": KiB,
    "mib": MiB,
    "gib": GiB,
    "tib": TiB,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
}

_SIZE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$")


def parse_size(text: str | int) -> int:
    """Return the number of bytes in ``text`` ("64MiB", "1.5GiB", "4096", 4096).

    Raises ``ValueError`` (with the allowed forms) on anything else, including
    fractional byte counts ("1.5B") and negative numbers.
    """
    if isinstance(text, bool):
        raise ValueError("a size is a byte count or a string like '64MiB', not a boolean")
    if isinstance(text, int):
        if text < 0:
            raise ValueError("a size cannot be negative")
        return text
    m = _SIZE_RE.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a size; write e.g. 4096, '512KiB', '64MiB', '2GiB'")
    number, suffix = m.groups()
    mult = _SUFFIX_BYTES.get(suffix.lower())
    if mult is None:
        raise ValueError(
            f"{text!r} has unknown unit {suffix!r}; use B, KiB, MiB, GiB, TiB (or KB, MB, GB)"
        )
    value = float(number) * mult
    if value != int(value):
        raise ValueError(f"{text!r} is not a whole number of bytes")
    return int(value)


def format_size(n_bytes: int) -> str:
    """Format a byte count with the largest binary unit that keeps it exact."""
    for name, mult in (("TiB", TiB), ("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n_bytes and n_bytes % mult == 0:
            return f"{n_bytes // mult}{name}"
    return str(n_bytes)


def ns_to_cycles(ns: float, clock_hz: float) -> int:
    """Nanoseconds of work at ``clock_hz`` -> whole CPU cycles (rounded, >= 0)."""
    return max(0, int(round(ns * clock_hz / 1e9)))


def cycles_to_s(cycles: int | float, clock_hz: float) -> float:
    """CPU cycles -> seconds at ``clock_hz``."""
    return float(cycles) / clock_hz


def cycles_to_ns(cycles: int | float, clock_hz: float) -> float:
    """CPU cycles -> nanoseconds at ``clock_hz``."""
    return float(cycles) * 1e9 / clock_hz
