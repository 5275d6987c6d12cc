"""The exceptions gcsim raises at its boundaries.

The CLI prints any ``GcsimError`` as one paragraph (``--debug`` adds the
traceback); everything else is a bug.
"""

from __future__ import annotations

from typing import Any


class GcsimError(Exception):
    """Base class of every error gcsim reports to a user."""


class ConfigError(GcsimError):
    """A config key has a bad value, a wrong type, or does not exist.

    Parameters
    ----------
    key : str
        Dotted path of the offending key, e.g. ``"runtime.gogc"`` or
        ``"workload.sites[1].lifetime.kind"``.
    value : Any
        The value found (use ``MISSING`` for a required key that is absent).
    allowed : str
        What would have been accepted, in words a user understands.
    hint : str, optional
        Extra advice, e.g. ``"did you mean 'gomaxprocs'?"``.
    """

    def __init__(self, key: str, value: Any, allowed: str, hint: str = "") -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        self.hint = hint
        shown = "is missing" if value is MISSING else f"= {value!r} is not allowed"
        msg = f"config key '{key}' {shown}: expected {allowed}"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


class SimulationError(GcsimError):
    """The engine stopped in a state the driver cannot continue from."""


class FatalGoError(SimulationError):
    """The simulated program died the way real Go dies (e.g. stack overflow).

    ``go_message`` holds the lines Go itself prints, one per line.
    """

    def __init__(self, go_message: str, detail: str = "") -> None:
        self.go_message = go_message
        self.detail = detail
        super().__init__(go_message + (f"\n{detail}" if detail else ""))


class ValidationError(GcsimError):
    """A comparison against real Go could not be made or failed its threshold."""
