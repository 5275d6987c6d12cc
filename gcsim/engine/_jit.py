"""The one place Numba options live (sgkit's ``accelerate.py`` pattern).

Every kernel in ``gcsim.engine`` is decorated with :func:`kernel`. Caching is on
by default (``cache=True``: compiled code is kept beside the sources, so a
second process starts warm); ``GCSIM_NO_CACHE=1`` turns it off, e.g. to time a
cold compile. ``NUMBA_DISABLE_JIT=1`` runs everything as plain Python, which the
coverage run uses.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import numba

F = TypeVar("F", bound=Callable[..., Any])

_CACHE = os.environ.get("GCSIM_NO_CACHE", "") not in ("1", "true", "yes")


def kernel(fn: F) -> F:
    """Compile ``fn`` in nopython mode with gcsim's standard options."""
    return numba.njit(cache=_CACHE, nogil=True, error_model="numpy")(fn)  # type: ignore[return-value]


def hot_kernel(fn: F) -> F:
    """Like :func:`kernel`, and inlined into its callers at Numba IR level.

    For the per-allocation and per-object path. A Numba call passes each
    NamedTuple argument flattened, every array as its full struct, so a call
    that takes the heap or the workload tuple costs 100-200 ns (measured:
    ``draw_size`` 150 ns called, under 1 ns inlined). Inlining removes the
    call; the price is compile time, so only small, hot functions use it.
    """
    return numba.njit(  # type: ignore[return-value]
        cache=_CACHE, nogil=True, error_model="numpy", inline="always"
    )(fn)
