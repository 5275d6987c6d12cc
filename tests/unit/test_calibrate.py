"""Tests for gcsim calibrate (issue 6): the TOML file, [costs] from_file, a real run."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from gcsim.calibfit import _stack_copied, fit_costs, slot_of
from gcsim.calibrate import Calibration, plan, read_calibration, write_calibration
from gcsim.cli import main
from gcsim.config import config_from_dict, dump_config, load_config
from gcsim.errors import ConfigError
from gcsim.goruntime import gotool
from gcsim.goruntime.costs import COSTS

CONFIG = """
[costs]
from_file = "{path}"
mark_pointer_ns = 9.0

[[workload.sites]]
name = "a"
size = 64
"""


def _calibration() -> Calibration:
    return Calibration(
        costs={"alloc_fast_ns": 11.5, "mark_pointer_ns": 7.25, "sweep_span_ns": 210.0},
        info={"date": "2026-11-25 19:00 UTC", "go_version": "go1.27.3", "cpu_model": "AMD EPYC",
              "gomaxprocs": "1", "load_average_before": [1.0, 1.5, 2.0], "quick": True},
        entries={"alloc_fast_ns": {"raw": {"per_size": {"noscan_16": {"alloc_ns": 9.1}}},
                                   "method": "intercept"}},
    )


# --------------------------------------------------------------------------
# The TOML file


def test_write_read_round_trip(tmp_path: Path) -> None:
    cal = _calibration()
    path = tmp_path / "sub" / "cal.toml"
    write_calibration(path, cal)
    back = read_calibration(path)
    assert back.costs == cal.costs
    assert back.info == cal.info
    assert back.entries == cal.entries
    doc = tomllib.loads(path.read_text())
    assert set(doc) == {"costs", "calibration"}
    assert not list(tmp_path.glob("sub/.*.tmp"))  # written atomically


def test_written_file_is_a_costs_file_for_configs(tmp_path: Path) -> None:
    write_calibration(tmp_path / "cal.toml", _calibration())
    cfg_path = tmp_path / "run.toml"
    cfg_path.write_text(CONFIG.format(path="cal.toml"))
    cfg = load_config(cfg_path)
    assert cfg.costs.ns("alloc_fast_ns") == 11.5
    assert cfg.costs.ns("sweep_span_ns") == 210.0


# --------------------------------------------------------------------------
# [costs] from_file


def _write_costs(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[costs]\n" + body)
    return path


def test_from_file_is_relative_to_the_config(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _write_costs(tmp_path / "cal" / "costs.toml", "alloc_fast_ns = 11.0\nmark_pointer_ns = 7.0\n")
    cfg_path = tmp_path / "configs" / "run.toml"
    cfg_path.parent.mkdir()
    cfg_path.write_text(CONFIG.format(path="../cal/costs.toml"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cfg = load_config(Path("..") / "configs" / "run.toml")
    assert cfg.costs.ns("alloc_fast_ns") == 11.0  # from the file
    assert cfg.costs.ns("mark_pointer_ns") == 9.0  # the config's own entry wins
    assert cfg.costs.ns("sweep_span_ns") == COSTS["sweep_span_ns"].default_ns


def test_from_file_with_set_is_relative_to_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_costs(tmp_path / "here.toml", "alloc_fast_ns = 13.0\n")
    cfg_path = tmp_path / "configs" / "run.toml"
    cfg_path.parent.mkdir()
    cfg_path.write_text('[[workload.sites]]\nname = "a"\nsize = 64\n')
    monkeypatch.chdir(tmp_path)
    cfg = load_config(cfg_path, ['costs.from_file="here.toml"', "costs.alloc_tiny_ns=4.5"])
    assert cfg.costs.ns("alloc_fast_ns") == 13.0
    assert cfg.costs.ns("alloc_tiny_ns") == 4.5


def test_from_file_unknown_name_names_file_and_key(tmp_path: Path) -> None:
    bad = _write_costs(tmp_path / "bad.toml", "alloc_fast_ns = 11.0\nmark_pointr_ns = 7.0\n")
    cfg_path = tmp_path / "run.toml"
    cfg_path.write_text(CONFIG.format(path="bad.toml"))
    with pytest.raises(ConfigError) as e:
        load_config(cfg_path)
    msg = str(e.value)
    assert str(bad) in msg
    assert "mark_pointr_ns" in msg
    assert "did you mean 'mark_pointer_ns'?" in msg


@pytest.mark.parametrize("body, what", [
    ("alloc_fast_ns = -1.0\n", "a number >= 0"),
    ("alloc_fast_ns = 'fast'\n", "a number >= 0"),
])
def test_from_file_bad_value(tmp_path: Path, body: str, what: str) -> None:
    _write_costs(tmp_path / "bad.toml", body)
    cfg_path = tmp_path / "run.toml"
    cfg_path.write_text(CONFIG.format(path="bad.toml"))
    with pytest.raises(ConfigError, match=what):
        load_config(cfg_path)


def test_from_file_missing_or_not_a_costs_file(tmp_path: Path) -> None:
    cfg_path = tmp_path / "run.toml"
    cfg_path.write_text(CONFIG.format(path="nosuch.toml"))
    with pytest.raises(ConfigError, match="costs.from_file"):
        load_config(cfg_path)
    (tmp_path / "nocosts.toml").write_text("[calibration]\ndate = 'today'\n")
    cfg_path.write_text(CONFIG.format(path="nocosts.toml"))
    with pytest.raises(ConfigError, match=r"a TOML file with a \[costs\] table"):
        load_config(cfg_path)
    with pytest.raises(ConfigError, match="costs.from_file"):
        config_from_dict({"costs": {"from_file": 3},
                          "workload": {"sites": [{"name": "a", "size": 64}]}})


def test_dump_writes_numbers_not_the_path(tmp_path: Path) -> None:
    _write_costs(tmp_path / "costs.toml", "alloc_fast_ns = 11.0\nsweep_span_ns = 222.0\n")
    cfg_path = tmp_path / "run.toml"
    cfg_path.write_text(CONFIG.format(path="costs.toml"))
    cfg = load_config(cfg_path)
    text = dump_config(cfg)
    assert "from_file" not in text
    dumped = tomllib.loads(text)
    assert dumped["costs"]["alloc_fast_ns"] == 11.0
    assert dumped["costs"]["sweep_span_ns"] == 222.0
    assert dumped["costs"]["mark_pointer_ns"] == 9.0
    (tmp_path / "costs.toml").unlink()  # the dump no longer needs the file
    assert config_from_dict(dumped) == cfg


# --------------------------------------------------------------------------
# Fitting helpers


def test_slot_of_follows_the_malloc_header_rule() -> None:
    assert slot_of(64, scan=False) == (64, 1)
    assert slot_of(1024, scan=False) == (1024, 1)
    assert slot_of(1024, scan=True) == (1152, 1)  # + 8 B header over 512 B
    assert slot_of(32760, scan=False) == (32768, 4)
    with pytest.raises(ValueError):
        slot_of(32768, scan=False)


def test_stack_bytes_copied_is_the_sum_of_sizes_before_each_doubling() -> None:
    # 2 KiB -> 4 -> ... -> 1 MiB: copies of 2 KiB + 4 KiB + ... + 512 KiB.
    assert _stack_copied(1_000_000, 2048) == (1 << 20) - 2048
    assert _stack_copied(1_048_000, 2048) == (2 << 20) - 2048  # + guard no longer fits
    assert _stack_copied(100, 2048) == 0


SHIPPED = Path(__file__).resolve().parents[2] / "calibration" / "amd-epyc-go1.27.3.toml"


def _alloc_model_ns(kind: str, size: int) -> float:
    """The engine's small-allocation cost (heap.try_malloc) from the default table."""
    from gcsim.goruntime.costs import SIZE_SPECIALISED_MAX_BYTES

    scan = kind == "scan"
    slot = slot_of(size, scan)[0]
    generic = size > SIZE_SPECIALISED_MAX_BYTES
    base = {(False, False): "alloc_fast_ns", (False, True): "alloc_fast_scan_ns",
            (True, False): "alloc_small_ns", (True, True): "alloc_small_scan_ns"}[generic, scan]
    per_byte = "alloc_scan_ns_per_byte" if scan else "alloc_zero_ns_per_byte"
    return COSTS[base].default_ns + COSTS[per_byte].default_ns * slot


def test_alloc_model_follows_gos_measured_cost_per_size() -> None:
    """Real Go's new(T) per size and kind (the shipped calibration's raw table) against the
    engine's cost: one intercept per mallocgc path and a noscan and a scan slope.

    The single line this replaced (one intercept, one slope for all) was off by 19 % at
    the median size and up to 52 % (96 B and 128 B scan objects, -52 and -45 %); the
    split model's median is 9.5 %, its worst 16 KiB noscan (-33 %, a size Go measured
    above its neighbours' trend).
    """
    table = tomllib.loads(SHIPPED.read_text())
    per_size = table["calibration"]["entries"]["alloc_fast_ns"]["raw"]["per_size"]
    errors = {}
    for key, row in per_size.items():
        kind, size = key.split("_")
        if kind == "tiny":
            continue
        errors[key] = _alloc_model_ns(kind, int(size)) / row["alloc_ns"] - 1
    assert len(errors) == 28
    assert max(abs(e) for e in errors.values()) < 0.35, errors
    assert sorted(abs(e) for e in errors.values())[len(errors) // 2] < 0.12, errors
    for key in ("scan_96", "scan_128", "scan_256", "scan_512", "noscan_96", "noscan_128"):
        assert abs(errors[key]) < 0.16, (key, errors[key])


TABLES = sorted(SHIPPED.parent.glob("amd-epyc-*.toml"))


@pytest.mark.parametrize("table", TABLES, ids=[t.stem for t in TABLES])
def test_every_calibration_table_is_the_fit_of_its_records(table: Path) -> None:
    """``--refit`` of each table in calibration/ gives its numbers back, so every table
    there can be traced to the Go runs beside it; the first is costs.py's defaults."""
    import json

    from gcsim.calibrate import refit

    records = table.with_name(table.stem + ".records.json")
    cal = refit(json.loads(records.read_text()), {})
    assert cal.costs == read_calibration(table).costs
    if table == SHIPPED:
        assert all(COSTS[n].default_ns == v for n, v in cal.costs.items())


def test_fit_without_records_sets_nothing() -> None:
    costs, entries = fit_costs({}, {})
    assert costs == {} and entries == {}


def test_plan_covers_every_experiment_and_build() -> None:
    for quick in (True, False):
        steps = plan(quick)
        assert {s.exp for s in steps} == {"alloc", "refill", "large", "mark", "sweep", "sched",
                                          "wb", "stack", "stw"}
        assert {s.variant for s in steps} == {"greentea", "classic", "bigglobals"}


# --------------------------------------------------------------------------
# Real Go

# Calibrated entries are differences of CPU times on a shared machine, and a
# --quick run (half-size graphs, fewer sizes, one pass) is noisier than the
# full run behind the defaults. Each entry must keep the order of magnitude
# (a unit slip, ns vs us or per byte vs per word, is 8x-1000x off). The split
# of a cost into parts is the noisiest: on the project's machine quick runs
# put mark_object_ns at 0.16x-2.8x of the default, span_alloc_ns at
# 0.45x-2.5x and large_alloc_ns (a 40 KiB allocation less its zeroing) at
# 0.09x-1.4x, or <= 0 (then the file leaves them out), so for those the sum
# the model charges is checked instead.
PLAUSIBLE = (0.1, 10.0)
SPLIT = {"mark_object_ns", "mark_object_classic_ns", "mark_pointer_classic_ns",
         "mark_noscan_object_ns", "span_alloc_ns", "large_alloc_ns"}
SUMS = {  # what the model charges for one thing: entry -> weight
    "a 64 B two-pointer-word object marked through a root (Green Tea)":
        {"mark_object_ns": 1, "mark_scan_word_ns": 3, "mark_pointer_ns": 1},
    "the same, classic": {"mark_object_classic_ns": 1, "mark_scan_word_ns": 3,
                          "mark_pointer_classic_ns": 1},
    "a 16 B noscan object marked through a root":
        {"mark_scan_word_ns": 1, "mark_pointer_ns": 1, "mark_noscan_object_ns": 1},
    "a span from the heap": {"mcache_refill_ns": 1, "span_alloc_ns": 1},
    "a 40 KiB large allocation": {"large_alloc_ns": 1, "alloc_zero_ns_per_byte": 40960},
}


@pytest.mark.validate
def test_calibrate_quick_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``gcsim calibrate --quick``: every entry it writes is > 0 and plausible."""
    if gotool.find_go() is None or gotool.go_version() is None:
        pytest.skip("no Go toolchain (pip install 'gcsim[validate]')")
    out = tmp_path / "cal.toml"
    code = main(["calibrate", "--quick", "--out", str(out)])
    printed = capsys.readouterr()
    print(printed.out, printed.err, sep="\n")
    assert code == 0, printed.err
    cal = read_calibration(out)
    assert len(cal.costs) >= 15, sorted(set(COSTS) - set(cal.costs))
    lo, hi = PLAUSIBLE
    for name, value in cal.costs.items():
        default = COSTS[name].default_ns
        assert value > 0, name
        assert name in SPLIT or lo * default <= value <= hi * default, (name, value, default)
        assert cal.entries[name]["method"]
    for what, parts in SUMS.items():
        measured = sum(w * cal.costs.get(n, COSTS[n].default_ns) for n, w in parts.items())
        default = sum(w * COSTS[n].default_ns for n, w in parts.items())
        assert lo * default <= measured <= hi * default, (what, measured, default)
    assert cal.info["go_version"] == gotool.go_version()
    assert cal.info["quick"] is True
    assert cal.info["cpu_model"] and cal.info["load_average_before"] is not None
    assert (tmp_path / "cal.records.json").is_file()
    # The file works as a config's cost table.
    cfg_path = tmp_path / "run.toml"
    cfg_path.write_text('[costs]\nfrom_file = "cal.toml"\n'
                        '[[workload.sites]]\nname = "a"\nsize = 64\n')
    cfg = load_config(cfg_path)
    assert cfg.costs.as_dict() == {**{n: e.default_ns for n, e in COSTS.items()}, **cal.costs}


@pytest.mark.validate
def test_allocmark_by_hand_experiment_runs_clean() -> None:
    """The by-hand ``allocmark`` experiment (calibration/README.md; it measured
    ``alloc_black_ns``) runs and its marking chunks are what it says: no assists to
    speak of, and windows of both kinds in pairs. Its result, a CPU-time difference
    of ~10-25 ns that one window pair can put anywhere in -20..+35 ns, is read by
    hand: no bound here."""
    from gcsim.calibrate import build, calibration_root, run_experiment

    go, version = gotool.find_go(), gotool.go_version()
    if go is None or version is None:
        pytest.skip("no Go toolchain (pip install 'gcsim[validate]')")
    exe = build(calibration_root(), go, version, "greentea")
    recs, _ = run_experiment(exe, "allocmark", ("-kind", "noscan", "-sizes", "128", "-reps", "1",
                                                "-budget", str(32 << 20)))
    (r,) = recs
    assert r["off_n"] == r["on_n"] == 50 and len(r["extra_windows_ns"]) == 10
    assert r["assist_ns"] / r["on_allocs"] < 1.0
    assert r["off_median_ns"] > 0 and r["on_median_ns"] > 0 and r["chunk"] == 1000


@pytest.mark.validate
def test_refillpar_by_hand_experiment_runs_clean() -> None:
    """The by-hand ``refillpar`` experiment (calibration/README.md) runs at GOMAXPROCS=2,
    its helper really allocates beside the contended rounds and not beside the others,
    and both kinds of round time the same span-opening allocations. Its result, a
    refill 5-20 % dearer with the helper, is read by hand: no bound here. At
    GOMAXPROCS=1 it refuses to run."""
    from gcsim.calibrate import CalibrationError, build, calibration_root, run_experiment

    go, version = gotool.find_go(), gotool.go_version()
    if go is None or version is None:
        pytest.skip("no Go toolchain (pip install 'gcsim[validate]')")
    exe = build(calibration_root(), go, version, "greentea")
    args = ("-kind", "scan", "-sizes", "64", "-reps", "1", "-budget", str(8 << 20))
    recs, _ = run_experiment(exe, "refillpar", args, gomaxprocs=2)
    by_mode = {r["mode"]: r for r in recs}
    assert set(by_mode) == {"alone", "contended"}
    assert by_mode["alone"]["helper_allocs"] == 0 < by_mode["contended"]["helper_allocs"]
    assert by_mode["alone"]["events"] == by_mode["contended"]["events"] > 0
    assert all(r["event_median_ns"] > r["normal_median_ns"] > 0 for r in recs)
    with pytest.raises(CalibrationError, match="GOMAXPROCS >= 2"):
        run_experiment(exe, "refillpar", args, gomaxprocs=1)


@pytest.mark.validate
def test_corun_by_hand_experiment_runs_clean() -> None:
    """The by-hand ``corun`` experiment (calibration/README.md) times the same number of
    churn chunks with the helper parked and with it churning beside them, and the helper
    really churns. Its result, that two cores running the allocation path side by side do
    not slow each other here (within a few per cent), is read by hand: no bound here. It
    refuses GOMAXPROCS=1 and a missing ring size."""
    from gcsim.calibrate import CalibrationError, build, calibration_root, run_experiment

    go, version = gotool.find_go(), gotool.go_version()
    if go is None or version is None:
        pytest.skip("no Go toolchain (pip install 'gcsim[validate]')")
    exe = build(calibration_root(), go, version, "greentea")
    args = ("-n", "20000", "-reps", "1", "-budget", str(8 << 20))
    (rec,), _ = run_experiment(exe, "corun", args, gomaxprocs=2)
    assert rec["alone_n"] == rec["corun_n"] == 50
    assert len(rec["extra_windows_ns"]) == 10
    assert rec["helper_steps"] > 0
    assert rec["alone_median_ns"] > 0 and rec["corun_median_ns"] > 0
    with pytest.raises(CalibrationError, match="GOMAXPROCS >= 2"):
        run_experiment(exe, "corun", args, gomaxprocs=1)
    with pytest.raises(CalibrationError, match="-n RING"):
        run_experiment(exe, "corun", args[2:], gomaxprocs=2)
