"""The gcsim command as a user meets it: errors, run output, sizeclasses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gcsim.cli import main

TINY = """
[run]
gomaxprocs = 2
duration_s = 0.02
[workload]
compute_ns_per_alloc = 50.0
[[workload.sites]]
name = "buf"
size = { dist = "uniform", min_bytes = 8, max_bytes = 2048 }
[[workload.sites]]
name = "node"
weight = 0.5
size = 64
pointer_words = 2
lifetime = { kind = "fifo", live_objects = 5000 }
refs = [{ to = "random", site = "node" }]
"""


@pytest.fixture()
def tiny_config(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.toml"
    p.write_text(TINY)
    return p


# One case per config error class: (override, key the message must name, words it must show).
ERROR_CASES = [
    ("run.gomaxproc=2", "run.gomaxproc", "gomaxprocs"),  # unknown key, with suggestion
    ('run.gomaxprocs="two"', "run.gomaxprocs", "two"),  # wrong type
    ("run.gomaxprocs=0", "run.gomaxprocs", "0"),  # out of range
    ('runtime.gomemlimit="64MB!"', "runtime.gomemlimit", "64MB!"),  # bad size string
    ("run.gomaxprocs=off", "run.gomaxprocs", "off"),  # "off" where not allowed
    ('workload.sites[0].lifetime.kind="forever"', "workload.sites[0].lifetime.kind", "fifo"),
]


@pytest.mark.parametrize(("override", "key", "shown"), ERROR_CASES)
def test_config_errors_name_the_key_without_traceback(
    tiny_config: Path, override: str, key: str, shown: str
) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gcsim",
            "run",
            str(tiny_config),
            "--set",
            override,
            "--out",
            str(tiny_config.parent / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert key in proc.stderr
    assert shown in proc.stderr
    assert not (tiny_config.parent / "out").exists()


def test_unknown_key_in_file_suggests_closest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(TINY.replace("gomaxprocs = 2", "gomaxprocz = 2"))
    assert main(["run", str(p)]) == 2
    err = capsys.readouterr().err
    assert "run.gomaxprocz" in err and "did you mean 'gomaxprocs'" in err


def test_missing_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml" in capsys.readouterr().err


def test_run_writes_complete_folder_and_prints_summary(
    tiny_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "res"
    assert (
        main(["run", str(tiny_config), "--out", str(out), "--quiet", "--set", "runtime.gogc=50"])
        == 0
    )
    text = capsys.readouterr().out
    for words in ("GC cycles:", "GC CPU:", "pause p50 / p99 / max:", "peak heap in use:"):
        assert words in text
    expected = {
        "config.toml",
        "provenance.json",
        "gctrace.txt",
        "cycles.csv",
        "timeline.csv",
        "memstats.json",
        "summary.json",
        "heap.png",
        "mmu.png",
        "pauses.png",
    }
    assert expected <= {f.name for f in out.iterdir()}
    assert "gogc = 50" in (out / "config.toml").read_text()
    assert not any(f.name.startswith(".") for f in tmp_path.iterdir())


def test_seed_flag_overrides(tiny_config: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    assert (
        main(["run", str(tiny_config), "--out", str(out), "--quiet", "--no-plots", "--seed", "7"])
        == 0
    )
    assert "seed = 7" in (out / "config.toml").read_text()


def test_sizeclasses_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sizeclasses"]) == 0
    out = capsys.readouterr().out
    assert "class  bytes/obj" in out and "32768" in out
    assert main(["sizeclasses", "--format", "csv"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert len(rows) == 68  # header + classes 1..67
    assert main(["sizeclasses", "--format", "xml"]) == 2
    assert "table" in capsys.readouterr().err
