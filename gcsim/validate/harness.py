"""``gcsim validate``: placeholder while the harness is written."""

from __future__ import annotations

import argparse
from typing import Any


def add_validate_parser(sub: Any) -> argparse.ArgumentParser:
    v = sub.add_parser("validate", help="compare twin workloads on real Go and on gcsim")
    v.add_argument("names", nargs="*")
    return v


def cmd_validate(args: argparse.Namespace) -> int:
    raise NotImplementedError
