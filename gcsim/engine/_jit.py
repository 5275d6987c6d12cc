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
