"""``gcsim validate``: the harness on a fake Go program, and once on real Go.

Most tests need no Go: a "Go program" here is a small Python script that
prints canned gctrace lines on stderr and a JSON report on stdout, so the
subprocess, environment, parsing, comparison, thresholds and report writing
are all exercised. The one ``validate``-marked test builds and runs the real
steady twin.
"""

from __future__ import annotations

import csv
import json
import os
import stat
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gcsim.cli import main
from gcsim.config import config_from_dict, load_config
from gcsim.errors import ValidationError
from gcsim.goruntime import gotool
from gcsim.metrics.gctrace import parse_gctrace
from gcsim.validate import compare as C
from gcsim.validate import twins as T

REPO = Path(__file__).resolve().parents[2]
STEADY = REPO / "validation" / "steady"


def _line(n: int, t_ms: int, b_ms: str, h0: int, h1: int, h2: int, goal: int,
          forced: bool = False, cpu: str = "0.50/0.20/0") -> str:
    return (f"gc {n} @{t_ms / 1000:.3f}s 5%: 0.010+{b_ms}+0.005 ms clock, "
            f"0.010+{cpu}+0.005 ms cpu, {h0}->{h1}->{h2} MB, {goal} MB goal, "
            f"0 MB stacks, 0 MB globals, 1 P" + (" (forced)" if forced else ""))


GO_TRACE = "\n".join([
    _line(1, 2, "1.0", 3, 5, 4, 4, cpu="1.0/0.40/0.10"),
    _line(2, 10, "2.0", 7, 9, 5, 8, cpu="1.2/0.40/0"),
    _line(3, 30, "3.0", 9, 11, 5, 10, cpu="1.0/0.40/0.10"),
    _line(4, 50, "4.0", 9, 11, 5, 10, cpu="2.0/0.40/0"),
    _line(5, 70, "5.0", 9, 10, 5, 10, forced=True, cpu="9.0/0/0"),
])
SIM_TRACE = "\n".join([
    _line(1, 1, "0.50", 3, 4, 4, 4),
    _line(2, 4, "1.0", 7, 8, 5, 9),
    _line(3, 9, "1.5", 10, 12, 5, 11),
    _line(4, 14, "2.0", 10, 12, 5, 11),
])


# --------------------------------------------------------------------------
# Parameters, sources, thresholds


def test_params_come_from_the_config() -> None:
    cfg = load_config(STEADY / "config.toml", ["runtime.gogc=50", "run.gomaxprocs=2"])
    p = T.twin_params(cfg, "steady")
    assert p["max_allocs"] == cfg.run.max_allocs == 10_000_000
    assert p["compute_ns_per_alloc"] == cfg.workload.compute_ns_per_alloc == 25.0
    assert p["final_gc"] is False
    assert p["sites"] == [
        {"name": "node", "weight": 1.0, "size_bytes": 64, "pointer_words": 2,
         "lifetime": "fifo", "live_objects": 400_000, "max_allocs": 0, "children": []},
        {"name": "garbage", "weight": 2.0, "size_bytes": 128, "pointer_words": 0,
         "lifetime": "transient", "live_objects": 0, "max_allocs": 0, "children": []},
    ]
    assert p["trace_pacer"] is False
    # GOGC and GOMAXPROCS go through the environment, not the parameters.
    env = T.run_env(cfg.runtime.gogc, cfg.run.gomaxprocs, cfg.runtime.gomemlimit)
    assert env["GOGC"] == "50" and env["GOMAXPROCS"] == "2"
    assert env["GODEBUG"] == "gctrace=1" and env["GOTOOLCHAIN"] == "local"
    assert "GOMEMLIMIT" not in env
    assert T.run_env(None, 1, 64 << 20)["GOGC"] == "off"
    assert T.run_env(None, 1, 64 << 20)["GOMEMLIMIT"] == str(64 << 20)


def test_twins_refuse_idle_ps() -> None:
    """The Go twins run one goroutine per P: fewer mutator Ps cannot be twinned."""
    cfg = load_config(STEADY / "config.toml", ["run.gomaxprocs=2", "workload.mutator_procs=1"])
    with pytest.raises(ValidationError, match="workload.mutator_procs"):
        T.twin_params(cfg, "steady")
    cfg = load_config(STEADY / "config.toml", ["run.gomaxprocs=2", "workload.mutator_procs=2"])
    assert T.twin_params(cfg, "steady")["max_allocs"] == 10_000_000


BASE = {
    "run": {"max_allocs": 1000, "duration_s": "off"},
    "workload": {"sites": [{"name": "a", "size": 64, "pointer_words": 1,
                            "lifetime": {"kind": "fifo", "live_objects": 10}}]},
}


@pytest.mark.parametrize(("patch", "key"), [
    ({"run": {"duration_s": 1.0, "max_allocs": "off"}}, "run.max_allocs"),
    ({"size": {"dist": "uniform", "min_bytes": 8, "max_bytes": 64}}, "workload.sites[0].size"),
    ({"pointer_density": 0.5, "pointer_words": None}, "workload.sites[0].pointer_density"),
    ({"refs": [{"to": "random", "site": "a"}]}, "workload.sites[0].refs"),
    ({"pointer_writes_per_alloc": 1.0, "refs": [{"to": "nil"}]},
     "workload.sites[0].pointer_writes_per_alloc"),
])
def test_params_refuse_what_the_go_twins_cannot_do(patch: dict, key: str) -> None:
    raw = json.loads(json.dumps(BASE))
    if "run" in patch:
        raw["run"] = patch["run"]
    else:
        site = raw["workload"]["sites"][0]
        for k, v in patch.items():
            if v is None:
                site.pop(k, None)
            else:
                site[k] = v
    with pytest.raises(ValidationError, match=key.replace("[", r"\[").replace("]", r"\]")):
        T.twin_params(config_from_dict(raw), "x")


def test_source_hash_follows_the_go_sources_only(tmp_path: Path) -> None:
    (tmp_path / "main.go").write_text("package main\nfunc main() {}\n")
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.27\n")
    (tmp_path / "config.toml").write_text("# a\n")
    twin = T.Twin("x", tmp_path)
    h = T.source_hash(twin, "go1.27.3")
    (tmp_path / "config.toml").write_text("# b\n")  # parameters, not the build
    assert T.source_hash(twin, "go1.27.3") == h
    assert T.source_hash(twin, "go1.28.0") != h
    (tmp_path / "main.go").write_text("package main\nfunc main() { println() }\n")
    assert T.source_hash(twin, "go1.27.3") != h


def test_source_hash_follows_the_shared_module_go_mod_replaces(tmp_path: Path) -> None:
    prog, shared = tmp_path / "prog", tmp_path / "goreport"
    prog.mkdir()
    shared.mkdir()
    (prog / "main.go").write_text("package main\nfunc main() {}\n")
    (prog / "go.mod").write_text("module x\n\ngo 1.27\n\nrequire y v0.0.0\n\n"
                                 "replace y => ../goreport\n")
    (shared / "go.mod").write_text("module y\n\ngo 1.27\n")
    (shared / "report.go").write_text("package goreport\n")
    twin = T.Twin("x", prog)
    h = T.source_hash(twin, "go1.27.3")
    (shared / "report.go").write_text("package goreport\n\nfunc F() {}\n")
    assert T.source_hash(twin, "go1.27.3") != h


def test_twin_programs_share_one_report_writer() -> None:
    """validation/program and validation/pool print their JSON line through
    validation/goreport, which their go.mod replaces with the local folder."""
    for name in ("program", "pool"):
        folder = REPO / "validation" / name
        main = (folder / "main.go").read_text()
        assert "goreport.Print(" in main and "func report(" not in main, name
        assert "replace gcsim.dev/validation/goreport => ../goreport" in (
            folder / "go.mod").read_text(), name


def test_thresholds_file_is_checked(tmp_path: Path) -> None:
    f = tmp_path / "t.toml"
    f.write_text("[steady]\ngc_count = 0.1\nheap_goal = 0.05\n")
    assert C.load_thresholds(f) == {"steady": {"gc_count": 0.1, "heap_goal": 0.05}}
    f.write_text("[steady]\ngc_cuont = 0.1\n")
    with pytest.raises(ValidationError, match="gc_cuont: not a figure"):
        C.load_thresholds(f)
    f.write_text("[steady]\ngc_count = -1\n")
    with pytest.raises(ValidationError, match="number >= 0"):
        C.load_thresholds(f)
    assert C.load_thresholds(tmp_path / "missing.toml") == {}
    # The repository's own file parses and names only real twins.
    repo = C.load_thresholds(REPO / "validation" / "thresholds.toml")
    assert set(repo) <= set(T.find_twins(REPO / "validation"))


# --------------------------------------------------------------------------
# The comparison, on hand-made traces


def _go_report(pause_ns: list[int], frac: float = 0.05, stack: int = 32768) -> dict:
    return {"memstats": {"GCCPUFraction": frac, "StackInuse": stack, "NumGC": 5},
            "pause_ns": pause_ns, "metrics": {"/gc/scan/globals:bytes": 160_000},
            "cpu_ns": 900_000_000, "elapsed_ns": 1}


def test_compare_figures_by_hand() -> None:
    sim = C.SideFigures(parse_gctrace(SIM_TRACE), 0.10, np.array([10e3, 20e3, 30e3, 40e3]))
    go = [C.go_side(parse_gctrace(GO_TRACE), _go_report([15e3, 15e3, 25e3, 35e3, 100e3])),
          C.go_side(parse_gctrace(GO_TRACE), _go_report([15e3] * 5, frac=0.07))]
    rows = {r.figure: r for r in C.compare(sim, go)}
    # No stacks in gcsim yet, no pools anywhere: those rows are left out.
    assert list(rows) == ["gc_count", "heap_goal", "peak_heap", "gc_cpu", "mark_wall",
                          "mark_cpu", "pause_p50", "pause_max"]
    assert rows["gc_count"].predicted == 4 and rows["gc_count"].measured == [5, 5]
    assert rows["gc_count"].rel_error == pytest.approx(-0.2)
    # Goals matched by cycle number, forced gc 5 left out: 4/4, 9/8, 11/10, 11/10.
    g = rows["heap_goal"]
    assert g.rel_error == pytest.approx(np.median([0, 1 / 8, 0.1, 0.1]))
    assert g.predicted == pytest.approx(10.0) and g.measured == [9.0, 9.0]
    assert rows["peak_heap"].predicted == 12 and rows["peak_heap"].measured == [11, 11]
    assert rows["gc_cpu"].predicted == pytest.approx(10.0)
    assert rows["gc_cpu"].measured_median == pytest.approx(6.0)
    assert rows["gc_cpu"].rel_error == pytest.approx(10 / 6 - 1)
    # Median mark clock of unforced cycles: sim (1.0, 1.5) -> 1.25, Go 2.5.
    assert rows["mark_wall"].predicted == pytest.approx(1.25)
    assert rows["mark_wall"].measured == [2.5, 2.5]
    # Median assist + background + idle CPU of unforced cycles: sim 0.70 each;
    # Go 1.5, 1.6, 1.5, 2.4 -> 1.55 (the forced cycle's 9.0 left out).
    assert rows["mark_cpu"].predicted == pytest.approx(0.70)
    assert rows["mark_cpu"].measured == [pytest.approx(1.55)] * 2
    assert rows["mark_cpu"].rel_error == pytest.approx(0.70 / 1.55 - 1)
    assert rows["pause_p50"].predicted == pytest.approx(0.025)
    assert rows["pause_p50"].measured == [pytest.approx(0.025), pytest.approx(0.015)]
    assert rows["pause_max"].measured == [pytest.approx(0.1), pytest.approx(0.015)]
    assert rows["pause_max"].rel_error == pytest.approx(0.04 / 0.0575 - 1)
    # Thresholds: only figures that have one are checked.
    failed = C.check_thresholds(list(rows.values()), {"gc_count": 0.1, "heap_goal": 0.2})
    assert failed == ["GC cycles: error -20.0 % exceeds 10 %"]


def test_go_side_falls_back_to_gctrace_pauses() -> None:
    side = C.go_side(parse_gctrace(GO_TRACE), {"memstats": {}})
    assert side.pause_ns == pytest.approx([15e3] * 5)
    assert side.gc_cpu_fraction is None and side.scalar("gc_cpu") is None


def test_notes_say_when_the_go_loop_costs_more_than_the_config_charges() -> None:
    from types import SimpleNamespace

    from gcsim.validate.harness import LOOP_SLACK_NS, _run_notes

    cfg = load_config(STEADY / "config.toml", ["workload.compute_ns_per_alloc=10"])

    def run(loop_ns: float) -> SimpleNamespace:
        return SimpleNamespace(wall_s=1.0,
                               report={"cpu_ns": int(1e9), "loop_ns_per_alloc": loop_ns})

    assert not any("loop" in n for n in _run_notes(cfg, [run(9.0), run(10.0 + LOOP_SLACK_NS)]))
    notes = [n for n in _run_notes(cfg, [run(9.0), run(14.5)]) if "loop" in n]
    assert len(notes) == 1
    assert "9.0, 14.5 ns per object" in notes[0] and "compute_ns_per_alloc = 10" in notes[0]
    assert "4.5 ns more work per object" in notes[0]


def test_notes_say_when_go_marked_at_another_speed() -> None:
    from gcsim.validate.harness import _mark_speed_note, mark_ms_per_mib

    def trace(cpu: str, marked: list[int]) -> list:
        return parse_gctrace("\n".join(
            f"gc {n} @0.{n:03d}s 5%: 0.010+2.0+0.005 ms clock, 0.010+{cpu}/0+0.005 ms cpu, "
            f"9->11->{h2} MB, 10 MB goal, 0 MB stacks, 0 MB globals, 1 P"
            for n, h2 in enumerate(marked, start=1)))

    # (assist + background + idle) / H2 over cycles 4..: 3.0 ms / 10 MiB.
    sim = trace("2.0/1.0", [5, 5, 5, 10, 10, 10])
    assert mark_ms_per_mib(sim) == pytest.approx(0.3)
    assert mark_ms_per_mib(sim[:3]) is None  # warm-up only
    same = trace("2.1/1.1", [5, 5, 5, 10, 10, 10])  # 0.32: within 15 %
    assert _mark_speed_note(sim, [same, same]) is None
    slow = trace("3.5/1.5", [5, 5, 5, 10, 10, 10])  # 0.50
    note = _mark_speed_note(sim, [same, slow])
    assert note is not None and "Go 0.320, 0.500 ms, gcsim 0.300 ms" in note


def test_stack_and_pool_rows_appear_when_both_sides_have_them() -> None:
    sim = C.SideFigures(parse_gctrace(SIM_TRACE), 0.1, np.array([1e4]), stack_inuse_bytes=65536,
                        pool_hit_rate=0.9)
    rep = _go_report([1e4]) | {"pool": {"hit_rate": 0.8}}
    rows = {r.figure: r for r in C.compare(sim, [C.go_side(parse_gctrace(GO_TRACE), rep)])}
    assert rows["stack_inuse"].predicted == 64 and rows["stack_inuse"].measured == [32]
    assert rows["pool_hit_rate"].rel_error == pytest.approx(0.125)


def test_run_time_row_compares_wall_times_when_the_program_reports_one() -> None:
    sim = C.SideFigures(parse_gctrace(SIM_TRACE), 0.1, np.array([1e4]), run_time_s=1.2)
    go = C.go_side(parse_gctrace(GO_TRACE), _go_report([1e4]) | {"elapsed_ns": 1_500_000_000})
    rows = {r.figure: r for r in C.compare(sim, [go])}
    assert rows["run_time"].measured == [1.5]
    assert rows["run_time"].rel_error == pytest.approx(-0.2)
    report = _go_report([1e4])
    del report["elapsed_ns"]
    silent = C.go_side(parse_gctrace(GO_TRACE), report)
    assert "run_time" not in {r.figure for r in C.compare(sim, [silent])}


# --------------------------------------------------------------------------
# The whole harness with a fake Go program

FAKE_CONFIG = """
[run]
seed = 1
gomaxprocs = 1
duration_s = "off"
max_allocs = 150_000
[runtime]
gogc = 100
[workload]
compute_ns_per_alloc = 50.0
[[workload.sites]]
name = "node"
size = 64
pointer_words = 2
lifetime = { kind = "fifo", live_objects = 5000 }
[[workload.sites]]
name = "garbage"
weight = 2.0
size = 128
"""

FAKE_PROGRAM = """#!{python}
import json, os, sys
params = json.load(open(sys.argv[1]))
assert params["sites"][0]["live_objects"] == 5000, params
sys.stderr.write({trace!r} + "\\n")
report = {{"memstats": {{"GCCPUFraction": 0.05, "StackInuse": 32768, "NumGC": 5}},
          "pause_ns": [15000, 15000, 25000, 35000, 100000],
          "metrics": {{"/gc/scan/globals:bytes": 200000}}, "cpu_ns": 1,
          "env": {{k: os.environ.get(k) for k in ("GOGC", "GOMAXPROCS", "GODEBUG")}}}}
print("some program output")
print(json.dumps(report))
"""


@pytest.fixture()
def fake_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A twins folder with one twin whose 'Go program' is a Python script."""
    root = tmp_path / "twins"
    twin = root / "fake"
    twin.mkdir(parents=True)
    (twin / "config.toml").write_text(FAKE_CONFIG)
    (twin / "main.go").write_text("package main\n")
    exe = tmp_path / "fake-go-program"
    exe.write_text(FAKE_PROGRAM.format(python=sys.executable, trace=GO_TRACE))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(gotool, "find_go", lambda: Path("/fake/go"))
    monkeypatch.setattr(gotool, "go_version", lambda: "go1.27.3")
    monkeypatch.setattr(T, "build_twin", lambda twin, go, version: (exe, False))
    return root


def test_harness_end_to_end_on_a_fake_go(fake_go: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str],
                                         warm_engine: None) -> None:
    (fake_go / "thresholds.toml").write_text("[fake]\nheap_goal = 10.0\n")
    out = tmp_path / "out"
    code = main(["validate", "fake", "--twins", str(fake_go), "--out", str(out),
                 "--no-speed-probe",
                 "--repeat", "2", "--gogc", "100,200"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "all figures within their thresholds" in printed.out
    for tag in ("fake-gogc100-p1", "fake-gogc200-p1"):
        run = out / "runs" / tag
        assert json.loads((run / "params.json").read_text())["twin"] == "fake"
        rep = json.loads((run / "go-2.json").read_text())
        assert rep["env"] == {"GOGC": tag.split("gogc")[1].split("-")[0], "GOMAXPROCS": "1",
                              "GODEBUG": "gctrace=1"}
        assert (run / "go-1.stderr.txt").read_text().startswith("gc 1 @0.002s")
        assert (run / "gcsim" / "summary.json").is_file()
        assert (out / "figures" / f"{tag}.png").stat().st_size > 0
    with open(out / "validation.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {(r["gogc"], r["figure"]) for r in rows} >= {("100", "gc_count"), ("200", "heap_goal")}
    gc = next(r for r in rows if r["figure"] == "gc_count" and r["gogc"] == "100")
    assert gc["measured_median"] == "5.0" and gc["repeats"] == "2"
    goal = next(r for r in rows if r["figure"] == "heap_goal" and r["gogc"] == "100")
    assert goal["threshold"] == "10.0" and goal["status"] == "ok"
    md = (out / "validation.md").read_text()
    for text in ("- date: ", "- Go: go1.27.3", "- machine: ", "- gcsim: 0.1.0, commit ",
                 "| fake | 100 | 1 | GC cycles |", "figures/fake-gogc100-p1.png",
                 "workload.globals_bytes = 158154 but the Go program scans 200000 B"):
        assert text in md, text


def test_a_figure_over_threshold_exits_1_and_names_it(fake_go: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str],
                                                      warm_engine: None) -> None:
    # A continuous figure: gcsim's GC CPU fraction cannot equal the fake's 5 %
    # exactly, where a cycle count can (gcsim runs 5 cycles on this config too).
    (fake_go / "thresholds.toml").write_text("[fake]\ngc_cpu = 0.0\n")
    code = main(["validate", "--twins", str(fake_go), "--out", str(tmp_path / "o"),
                 "--no-speed-probe",
                 "--repeat", "1", "--no-plots"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL fake GOGC=100 GOMAXPROCS=1: GC CPU fraction: error" in out
    assert "| FAIL |" in (tmp_path / "o" / "validation.md").read_text()


class _FakeProbe:
    """Stands in for speedprobe.SpeedProbe: measurements from a list, a fixed model."""

    def __init__(self, values: list[float]) -> None:
        self.values = list(values)
        self.costs_seen: list[float] = []

    def measure_ns(self) -> float:
        return self.values.pop(0)

    def model_ns(self, costs: object) -> float:
        self.costs_seen.append(costs.ns("mark_object_ns"))  # type: ignore[attr-defined]
        return 30.0


def test_speed_probe_row_and_cost_file(fake_go: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str],
                                       warm_engine: None) -> None:
    # Two Go runs: a probe before each and one after the last, in that order.
    probe = _FakeProbe([40.0, 45.0, 60.0])
    from gcsim.validate import harness as H

    monkeypatch.setattr(H, "_speed_probe", lambda go, version, greentea, log: probe)
    costs = tmp_path / "cal.toml"
    costs.write_text("[costs]\nmark_object_ns = 9.5\n")
    out = tmp_path / "o"
    code = main(["validate", "fake", "--twins", str(fake_go), "--out", str(out), "--repeat",
                 "2", "--no-plots", "--costs", str(costs)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert probe.values == [] and set(probe.costs_seen) == {9.5}  # the file's table
    with open(out / "validation.csv", newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["figure"] == "ref_mark")
    assert (row["predicted"], row["measured_median"], row["repeats"]) == ("30.0", "45.0", "3")
    assert float(row["rel_error"]) == pytest.approx(30 / 45 - 1)
    assert row["threshold"] == "" and row["note"] == "3 probes around the Go runs"
    md = (out / "validation.md").read_text()
    assert f"cost table: {costs}" in md
    assert "reference graph mark, per object | 30.00 ns | 45.00 [40.00..60.00] ns" in md
    # gcsim's run used the file's entry (its dumped config carries the numbers).
    dumped = (out / "runs" / "fake-gogc100-p1" / "gcsim" / "config.toml").read_text()
    assert "mark_object_ns = 9.5" in dumped


def test_set_overrides_reach_both_sides(fake_go: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str],
                                       warm_engine: None) -> None:
    """--set changes the config of both sides: gcsim's run and the Go twin's parameters;
    the setting's own GOGC wins over a --set one, and the header records the overrides."""
    out = tmp_path / "o"
    code = main(["validate", "fake", "--twins", str(fake_go), "--out", str(out), "--repeat",
                 "1", "--no-plots", "--no-speed-probe", "--gogc", "200",
                 "--set", "workload.compute_ns_per_alloc=40", "--set", "runtime.gogc=50"])
    assert code == 0, capsys.readouterr().err
    run = out / "runs" / "fake-gogc200-p1"
    assert json.loads((run / "params.json").read_text())["compute_ns_per_alloc"] == 40.0
    dumped = load_config(run / "gcsim" / "config.toml")
    assert dumped.workload.compute_ns_per_alloc == 40.0 and dumped.runtime.gogc == 200
    md = (out / "validation.md").read_text()
    assert ("- config overrides (both sides): workload.compute_ns_per_alloc=40 "
            "runtime.gogc=50") in md
    assert main(["validate", "fake", "--twins", str(fake_go), "--no-speed-probe",
                 "--set", "run.nosuch=1"]) == 2
    assert "run.nosuch" in capsys.readouterr().err


def test_a_missing_cost_file_is_refused(fake_go: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "fake", "--twins", str(fake_go), "--no-speed-probe",
                 "--costs", str(tmp_path / "nope.toml")]) == 2
    assert f"--costs {tmp_path / 'nope.toml'}: no such file" in capsys.readouterr().err


def test_missing_go_exits_2_with_the_install_hint(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(gotool, "find_go", lambda: None)
    assert main(["validate", "steady"]) == 2
    err = capsys.readouterr().err
    assert "install the validate extra: pip install 'gcsim[validate]'" in err
    assert "Traceback" not in err


def test_unknown_twin_and_bad_options(fake_go: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "nosuch", "--twins", str(fake_go)]) == 2
    assert "unknown twin(s) nosuch; twins in" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["validate", "--gogc", "100,lots"])
    with pytest.raises(SystemExit):
        main(["validate", "--gomaxprocs", "0"])


# --------------------------------------------------------------------------
# Real Go


@pytest.mark.validate
def test_steady_on_real_go(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           warm_engine: None) -> None:
    """steady at GOGC=100, GOMAXPROCS=1, one Go run, end to end (~30 s warm)."""
    if gotool.find_go() is None or gotool.go_version() is None:
        pytest.skip("no Go toolchain (pip install 'gcsim[validate]')")
    t0 = time.perf_counter()
    code = main(["validate", "steady", "--gogc", "100", "--gomaxprocs", "1", "--repeat", "1",
                 "--out", str(tmp_path / "v")])
    printed = capsys.readouterr()
    print(printed.out, printed.err, f"wall {time.perf_counter() - t0:.1f} s", sep="\n")
    assert code == 0, printed.out + printed.err
    with open(tmp_path / "v" / "validation.csv", newline="") as f:
        rows = {r["figure"]: r for r in csv.DictReader(f)}
    assert set(rows) >= {"gc_count", "heap_goal", "peak_heap", "gc_cpu", "mark_wall",
                         "pause_p50", "pause_max"}
    rep = json.loads((tmp_path / "v" / "runs" / "steady-gogc100-p1" / "go-1.json").read_text())
    assert rep["go_version"] == gotool.go_version()
    assert rep["memstats"]["Mallocs"] >= 10_000_000  # the program did the allocations
    # The twin timed its own loop and spun the rest of compute_ns_per_alloc.
    assert rep["loop_ns_per_alloc"] > 0
    assert rep["spin_ns_per_alloc"] == pytest.approx(max(0.0, 25.0 - rep["loop_ns_per_alloc"]))
    assert os.path.getsize(tmp_path / "v" / "figures" / "steady-gogc100-p1.png") > 0


def test_match_speed_adds_rows_at_the_go_runs_speed(fake_go: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   warm_engine: None) -> None:
    """--match-speed: a second gcsim run with its costs scaled to the Go runs' speed
    (speedmatch.py), its rows beside the others without thresholds, the factors in the
    notes; the threshold verdicts stay on the unscaled run."""
    from gcsim.validate.harness import mark_cpu_ms_per_cycle

    exe = tmp_path / "fake-go-program"
    exe.write_text(exe.read_text().replace(
        '"cpu_ns": 1,', '"cpu_ns": 30000000, "allocs": 150000,').replace(
        '"metrics": {"/gc/scan/globals:bytes": 200000}',
        f'"metrics": {{"/gc/scan/globals:bytes": 200000, "{C.GC_TOTAL_METRIC}": 0.006}}'))
    (fake_go / "thresholds.toml").write_text("[fake]\ngc_count = 0.5\n")
    out = tmp_path / "o"
    code = main(["validate", "fake", "--twins", str(fake_go), "--out", str(out), "--repeat", "1",
                 "--no-plots", "--no-speed-probe", "--match-speed"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "gcsim speed-matched (mark x " in printed.err
    with open(out / "validation.csv", newline="") as f:
        rows = {r["figure"]: r for r in csv.DictReader(f)}
    assert rows["gc_count"]["threshold"] == "0.5" and rows["gc_count"]["status"] == "ok"
    m = rows["matched_gc_count"]
    assert m["threshold"] == "" and m["status"] == "" and m["measured_median"] == "5.0"
    assert "matched_mark_cpu" in rows and "matched_heap_goal" in rows
    # The factors: Go's one unforced cycle after the warm-up (4) marked for 2.4 ms of
    # CPU; (30 - 6) ms of CPU outside the GC over 150,000 objects is 160 ns an object.
    run = out / "runs" / "fake-gogc100-p1"
    sim_lines = parse_gctrace((run / "gcsim" / "gctrace.txt").read_text())
    k_mark = 2.4 / mark_cpu_ms_per_cycle(sim_lines)
    matched = load_config(run / "gcsim-matched" / "config.toml")
    plain = load_config(run / "gcsim" / "config.toml")
    assert matched.costs.ns("mark_object_ns") == pytest.approx(k_mark * plain.costs.ns(
        "mark_object_ns"))
    assert matched.costs.ns("stw_per_p_ns") == plain.costs.ns("stw_per_p_ns")
    k_mut = matched.workload.compute_ns_per_alloc / plain.workload.compute_ns_per_alloc
    assert matched.costs.ns("alloc_fast_ns") == pytest.approx(k_mut * plain.costs.ns(
        "alloc_fast_ns"))
    md = (out / "validation.md").read_text()
    assert f"mark_* costs x {k_mark:.3f}" in md and "GC cycles, speed-matched |" in md
    assert "CPU per object outside the GC: Go 160.0 ns" in md
