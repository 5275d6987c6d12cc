"""Rate streams in a workload ([workload.rates]): config, engine, driver."""

from __future__ import annotations

import dataclasses
import tomllib

import numpy as np
import pytest

from gcsim.config import Config, config_from_dict, config_to_dict, dump_config
from gcsim.errors import ConfigError
from gcsim.goruntime.sizeclasses import CLASS_TO_SIZE_BYTES
from gcsim.run import simulate

BASE = """
[run]
gomaxprocs = 1
duration_s = 0.04
[workload]
compute_ns_per_alloc = 2000.0
[[workload.sites]]
name = "small"
size = 64
[[workload.sites]]
name = "big"
weight = 0.0
size = 1024
"""


def cfg(extra: str = "", **run: object) -> Config:
    raw = tomllib.loads(BASE + extra)
    raw["run"].update(run)
    return config_from_dict(raw)


def allocs_between(res, t0_s: float, t1_s: float) -> float:  # type: ignore[no-untyped-def]
    hz = res.config.run.clock_hz
    t = res.timeline["t_cycles"] / hz
    a = res.timeline["allocs"]
    i0, i1 = np.searchsorted(t, t0_s), np.searchsorted(t, t1_s)
    return float(a[i1] - a[i0]) / float(t[i1] - t[i0])


def test_rates_round_trip_through_the_resolved_config() -> None:
    c = cfg("""
[workload.rates]
step_s = 0.005
compute_ns_per_alloc = [{ kind = "step", value = -1500.0, at = 4 },
                        { kind = "oscillate", amplitude = 100.0, period = 3 }]
[workload.rates.site_weights]
big = { kind = "ramp", height = 1.0, length = 8 }
""")
    again = config_from_dict(tomllib.loads(dump_config(c)))
    assert again == c
    assert config_to_dict(again)["workload"]["rates"]["step_s"] == 0.005


def test_a_step_in_compute_changes_the_allocation_rate_as_a_constant_run_would() -> None:
    stepped = simulate(cfg("""
[workload.rates]
step_s = 0.01
compute_ns_per_alloc = { kind = "step", value = -1500.0, at = 2 }
"""))
    slow = simulate(cfg())
    base = cfg()
    fast = simulate(dataclasses.replace(
        base, workload=dataclasses.replace(base.workload, compute_ns_per_alloc=500.0)))
    before, after = allocs_between(stepped, 0.002, 0.018), allocs_between(stepped, 0.022, 0.038)
    assert before == pytest.approx(allocs_between(slow, 0.002, 0.018), rel=0.02)
    assert after == pytest.approx(allocs_between(fast, 0.022, 0.038), rel=0.02)
    assert after > 3 * before


def test_a_site_weight_stream_switches_a_site_on() -> None:
    extra = """
[workload.rates]
step_s = 0.02
[workload.rates.site_weights]
big = { kind = "step", value = 1.0, at = 1 }
small = { kind = "step", value = -1.0, at = 1 }
"""
    sizes = list(CLASS_TO_SIZE_BYTES)
    big, small = sizes.index(1024), sizes.index(64)
    early = simulate(cfg(extra, duration_s=0.02))  # ends at the step's boundary
    assert early.alloc_by_class[big] == 0 and early.alloc_by_class[small] > 0
    late = simulate(cfg(extra))
    assert late.alloc_by_class[big] > 0
    assert late.alloc_by_class[small] == early.alloc_by_class[small]


def test_streams_outlast_the_first_table_in_allocation_bounded_runs() -> None:
    # 1024 rows of 10 us are 10 ms; the run goes on for ~40 ms, so the driver
    # must extend the table (ST_GROW_RATES) and the stream must keep its shape.
    c = cfg("""
[workload.rates]
step_s = 1e-5
compute_ns_per_alloc = { kind = "step", value = -1500.0, at = 3000 }
""", duration_s="off", max_allocs=40_000)
    res = simulate(c)
    assert res.counter("C_RATE_STEP") > 3000
    t_s = res.timeline["t_cycles"] / c.run.clock_hz
    assert t_s[-1] > 0.03
    assert allocs_between(res, 0.032, t_s[-2]) > 3 * allocs_between(res, 0.005, 0.025)


def test_weights_that_all_reach_zero_are_refused_with_the_step() -> None:
    with pytest.raises(ConfigError) as e:
        from gcsim.workload.compile import compile_workload

        compile_workload(cfg("""
[workload.rates]
step_s = 0.01
[workload.rates.site_weights]
small = { kind = "step", value = -1.0, at = 3 }
"""))
    assert e.value.key == "workload.rates.site_weights"
    assert "step 3" in str(e.value) and "t = 0.03 s" in str(e.value)


@pytest.mark.parametrize(("extra", "key"), [
    ("[workload.rates]\nstep_s = 0\n", "workload.rates.step_s"),
    ("[workload.rates]\nstepp_s = 1\n", "workload.rates.stepp_s"),
    ("[workload.rates.site_weights]\nbigg = 1.0\n", "workload.rates.site_weights.bigg"),
    ("[workload.rates]\ncompute_ns_per_alloc = { kind = 'ramp', height = 1.0 }\n",
     "workload.rates.compute_ns_per_alloc.length"),
])
def test_bad_rates_name_the_key(extra: str, key: str) -> None:
    with pytest.raises(ConfigError) as e:
        cfg(extra)
    assert e.value.key == key


TREE = """
[run]
gomaxprocs = 1
clock_hz = 3.0e9
duration_s = "off"
max_allocs = 30_000
[runtime]
gogc = "off"
[workload]
compute_ns_per_alloc = {compute}
[[workload.sites]]
name = "root"
size = 16
pointer_words = 2
lifetime = {{ kind = "fifo", live_objects = 4 }}
refs = [{{ to = "child", site = "leaf" }}, {{ to = "child", site = "leaf" }}]
[[workload.sites]]
name = "leaf"
weight = 0.0
size = 16
pointer_words = 2
"""


def test_compute_is_charged_per_allocation_children_included() -> None:
    # A step allocates a root and its two leaves: three allocations, three
    # computes (README: "mutator work between two allocations"). With GC off
    # nothing else moves, so the mutator clocks differ by exactly allocs x
    # compute (10 ns = 30 cycles at 3 GHz; per-step rounding of the float
    # costs is unchanged by an integer addend).
    runs = [simulate(config_from_dict(tomllib.loads(TREE.format(compute=ns))))
            for ns in (0.0, 10.0)]
    allocs = runs[0].counter("C_ALLOCS")
    assert allocs == runs[1].counter("C_ALLOCS") == 30_000
    extra = runs[1].counter("C_MUTATOR_CYCLES") - runs[0].counter("C_MUTATOR_CYCLES")
    assert extra == 30 * allocs
