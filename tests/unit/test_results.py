"""The results folder: determinism, reproducibility from config.toml, gctrace and MemStats."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gcsim.cli import main
from gcsim.config import load_config
from gcsim.metrics.gctrace import parse_gctrace_file
from gcsim.results import file_digest
from tests.unit.test_cli import TINY


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    d = tmp_path_factory.mktemp("det")
    cfg = d / "tiny.toml"
    cfg.write_text(TINY)
    a, b = d / "a", d / "b"
    assert main(["run", str(cfg), "--out", str(a), "--quiet"]) == 0
    assert main(["run", str(cfg), "--out", str(b), "--quiet"]) == 0
    return cfg, a, b


def test_same_config_and_seed_give_byte_identical_folders(
    two_runs: tuple[Path, Path, Path],
) -> None:
    _, a, b = two_runs
    names = sorted(f.name for f in a.iterdir())
    assert names == sorted(f.name for f in b.iterdir())
    for name in names:
        if name == "provenance.json":
            continue
        assert file_digest(a / name) == file_digest(b / name), name
    pa = json.loads((a / "provenance.json").read_text())
    pb = json.loads((b / "provenance.json").read_text())
    pa.pop("wall_s"), pb.pop("wall_s"), pa.pop("argv"), pb.pop("argv")
    assert pa == pb


def test_resolved_config_reproduces_the_run(
    two_runs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, a, _ = two_runs
    c = tmp_path / "again"
    assert main(["run", str(a / "config.toml"), "--out", str(c), "--quiet", "--no-plots"]) == 0
    for name in ("gctrace.txt", "cycles.csv", "summary.json", "memstats.json"):
        assert file_digest(a / name) == file_digest(c / name), name
    assert load_config(a / "config.toml") == load_config(c / "config.toml")


def test_gctrace_parses_and_matches_cycles(two_runs: tuple[Path, Path, Path]) -> None:
    _, a, _ = two_runs
    lines = parse_gctrace_file(a / "gctrace.txt")
    cycles = np.genfromtxt(a / "cycles.csv", delimiter=",", names=True)
    assert len(lines) == len(cycles) > 0
    for line, row in zip(lines, cycles, strict=True):
        assert line.gc_number == int(row["gc"])
        assert line.heap_live_mb == int(row["heap_marked_bytes"]) >> 20
        assert line.heap_goal_mb == int(row["heap_goal_bytes"]) >> 20
        assert line.gomaxprocs == 2
        assert line.stacks_mb == 0 and line.globals_mb == 0
        assert not line.forced


def test_cycles_place_each_cycle_in_the_run(two_runs: tuple[Path, Path, Path]) -> None:
    """cycles.csv's allocs_end_objects (the allocations done at mark termination) grows
    with the cycles and sits between the timeline's samples around each cycle's end."""
    _, a, _ = two_runs
    cycles = np.genfromtxt(a / "cycles.csv", delimiter=",", names=True)
    tl = np.genfromtxt(a / "timeline.csv", delimiter=",", names=True, dtype=None,
                       encoding="utf-8")
    total = json.loads((a / "summary.json").read_text())["allocs"]
    done = cycles["allocs_end_objects"]
    assert done[0] > 0 and np.all(np.diff(done) >= 0) and done[-1] <= total
    for t, n in zip(cycles["mark_term_start_s"], done, strict=True):
        before = tl["allocs"][tl["t_s"] <= t]
        after = tl["allocs"][tl["t_s"] >= t]
        assert before.size == 0 or before[-1] <= n
        assert after.size == 0 or n <= after[0]


def test_memstats_invariants(two_runs: tuple[Path, Path, Path]) -> None:
    _, a, _ = two_runs
    m = json.loads((a / "memstats.json").read_text())
    assert m["HeapSys"] == m["HeapInuse"] + m["HeapIdle"]
    assert m["HeapAlloc"] <= m["HeapInuse"]
    assert m["Mallocs"] - m["Frees"] == m["HeapObjects"]
    assert m["HeapReleased"] <= m["HeapIdle"]
    assert len(m["BySize"]) == 61 and m["BySize"][1]["Size"] == 8
    assert m["NumGC"] == len(parse_gctrace_file(a / "gctrace.txt"))
    newest = (m["NumGC"] + 255) % 256
    assert m["PauseNs"][newest] > 0
    assert 0 < m["GCCPUFraction"] < 1
    s = json.loads((a / "summary.json").read_text())
    assert s["gc_count"] == m["NumGC"]
    assert s["pause_ns"]["max"] >= s["pause_ns"]["p99"] >= s["pause_ns"]["p50"] > 0
