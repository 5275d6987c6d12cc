"""Tests for gcsim.config: loading, overrides, validation errors, round trips."""

from __future__ import annotations

import copy
import dataclasses
import tomllib
from pathlib import Path
from typing import Any

import pytest

from gcsim.config import (
    Config,
    CostsConfig,
    Lifetime,
    Ref,
    RunConfig,
    RuntimeConfig,
    SiteConfig,
    SizeDist,
    WorkloadConfig,
    apply_override,
    config_from_dict,
    config_hash,
    config_to_dict,
    dump_config,
    load_config,
)
from gcsim.errors import MISSING, ConfigError
from gcsim.goruntime.costs import COSTS
from gcsim.units import GiB, KiB, MiB

# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def minimal() -> dict[str, Any]:
    """The smallest valid raw config: one fixed-size site."""
    return {"workload": {"sites": [{"name": "a", "size": 64}]}}


def rich() -> dict[str, Any]:
    """A raw config that uses every feature."""
    return {
        "run": {
            "seed": 7,
            "gomaxprocs": 4,
            "clock_hz": 2_000_000_000,
            "duration_s": "off",
            "max_allocs": 1_000_000,
            "quantum_ns": 5_000,
            "timeline_interval_ns": 5_000,
        },
        "runtime": {"gogc": "off", "gomemlimit": "64MiB"},
        "costs": {"alloc_fast_ns": 9, "mark_pointer_ns": 12.5},
        "workload": {
            "compute_ns_per_alloc": 25,
            "globals_bytes": "1MiB",
            "sites": [
                {
                    "name": "root",
                    "weight": 3,
                    "size": {"dist": "uniform", "min_bytes": 32, "max_bytes": "1KiB"},
                    "pointer_words": 4,
                    "lifetime": {"kind": "fifo", "live_objects": 1000},
                    "refs": [
                        {"to": "child", "site": "leaf"},
                        {"to": "random", "site": "cache"},
                        {"to": "nil"},
                    ],
                },
                {
                    "name": "leaf",
                    "weight": 0,
                    "size": {
                        "dist": "choice",
                        "values_bytes": [16, 64, "1KiB"],
                        "weights": [1, 2, 1],
                    },
                    "pointer_density": 0.5,
                },
                {
                    "name": "cache",
                    "size": {"dist": "loguniform", "min_bytes": 8, "max_bytes": "32KiB"},
                    "lifetime": {"kind": "exponential", "mean_allocs": 500},
                },
                {
                    "name": "static.tbl-1",
                    "weight": 0.5,
                    "size": "2KiB",
                    "lifetime": {"kind": "immortal"},
                    "max_allocs": 10,
                },
            ],
        },
    }


def with_site(**fields: Any) -> dict[str, Any]:
    """A raw config whose only site is ``{name: 'a', size: 64}`` updated by ``fields``."""
    site: dict[str, Any] = {"name": "a", "size": 64}
    site.update(fields)
    return {"workload": {"sites": [site]}}


def expect_error(raw: dict[str, Any], key: str, value: Any, *allowed: str) -> ConfigError:
    """Assert config_from_dict(raw) fails on ``key`` and the message names all parts."""
    with pytest.raises(ConfigError) as info:
        config_from_dict(raw)
    err = info.value
    msg = str(err)
    assert err.key == key, msg
    assert f"'{key}'" in msg
    if value is MISSING:
        assert "is missing" in msg
    else:
        assert err.value == value, msg
        assert repr(value) in msg
    for part in allowed:
        assert part in msg, f"{part!r} not in {msg!r}"
    return err


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cfg.toml"
    path.write_text(text)
    return path


# --------------------------------------------------------------------------
# Defaults and successful parses
# --------------------------------------------------------------------------


def test_minimal_config_fills_defaults() -> None:
    cfg = config_from_dict(minimal())
    assert cfg.run == RunConfig()
    assert cfg.run.duration_s == 1.0 and cfg.run.max_allocs is None
    assert cfg.runtime == RuntimeConfig(gogc=100, gomemlimit=None)
    assert cfg.costs == CostsConfig()
    assert cfg.workload.compute_ns_per_alloc == 0.0
    assert cfg.workload.globals_bytes == 158_154
    (site,) = cfg.workload.sites
    assert site == SiteConfig(name="a", size=SizeDist("fixed", 64, 64))
    assert site.pointer_words == 0 and site.pointer_density is None
    assert site.lifetime == Lifetime("transient") and site.refs == () and site.max_allocs is None


def test_rich_config_parses_every_feature() -> None:
    cfg = config_from_dict(rich())
    assert cfg.run == RunConfig(7, 4, 2e9, None, 1_000_000, 5_000, 5_000)
    assert isinstance(cfg.run.clock_hz, float)
    assert cfg.runtime == RuntimeConfig(gogc=None, gomemlimit=64 * MiB)
    assert cfg.costs.ns("alloc_fast_ns") == 9.0
    assert cfg.costs.ns("mark_pointer_ns") == 12.5
    assert cfg.costs.ns("sweep_span_ns") == COSTS["sweep_span_ns"].default_ns
    w = cfg.workload
    assert w.compute_ns_per_alloc == 25.0 and w.globals_bytes == MiB
    root, leaf, cache, static = w.sites
    assert root.size == SizeDist("uniform", 32, KiB)
    assert root.weight == 3.0 and root.pointer_words == 4
    assert root.lifetime == Lifetime("fifo", live_objects=1000)
    assert root.refs == (Ref("child", "leaf"), Ref("random", "cache"), Ref("nil"))
    assert leaf.size == SizeDist("choice", 16, KiB, (16, 64, KiB), (1.0, 2.0, 1.0))
    assert leaf.pointer_words is None and leaf.pointer_density == 0.5
    assert cache.size == SizeDist("loguniform", 8, 32 * KiB)
    assert cache.lifetime == Lifetime("exponential", mean_allocs=500)
    assert static.size == SizeDist("fixed", 2 * KiB, 2 * KiB)
    assert static.lifetime.kind == "immortal" and static.max_allocs == 10


def test_config_from_dict_does_not_modify_its_input() -> None:
    raw = rich()
    before = copy.deepcopy(raw)
    config_from_dict(raw)
    assert raw == before


def test_choice_weights_default_to_equal() -> None:
    cfg = config_from_dict(with_site(size={"dist": "choice", "values_bytes": [8, 16]}))
    assert cfg.workload.sites[0].size.weights == (1.0, 1.0)


def test_max_allocs_alone_is_a_stop_condition() -> None:
    raw = minimal() | {"run": {"duration_s": "off", "max_allocs": 10}}
    cfg = config_from_dict(raw)
    assert cfg.run.duration_s is None and cfg.run.max_allocs == 10


def test_child_only_site_may_have_weight_zero() -> None:
    raw = with_site(pointer_words=1, refs=[{"to": "child", "site": "b"}])
    raw["workload"]["sites"].append({"name": "b", "size": 8, "weight": 0})
    assert config_from_dict(raw).workload.sites[1].weight == 0.0


def test_child_diamond_is_not_a_cycle() -> None:
    sites = [
        {"name": "a", "size": 16, "pointer_words": 2,
         "refs": [{"to": "child", "site": "b"}, {"to": "child", "site": "c"}]},
        {"name": "b", "size": 8, "pointer_words": 1, "refs": [{"to": "child", "site": "d"}]},
        {"name": "c", "size": 8, "pointer_words": 1, "refs": [{"to": "child", "site": "d"}]},
        {"name": "d", "size": 8},
    ]  # fmt: skip
    config_from_dict({"workload": {"sites": sites}})


# --------------------------------------------------------------------------
# Costs
# --------------------------------------------------------------------------


def test_costs_as_dict_has_every_entry_in_table_order() -> None:
    costs = CostsConfig((("mark_pointer_ns", 1.0),))
    d = costs.as_dict()
    assert list(d) == list(COSTS)
    assert d["mark_pointer_ns"] == 1.0
    assert d["alloc_fast_ns"] == COSTS["alloc_fast_ns"].default_ns


def test_costs_normalise_so_equal_tables_compare_equal() -> None:
    name = "alloc_fast_ns"
    default = COSTS[name].default_ns
    assert CostsConfig(((name, default),)) == CostsConfig()
    a = CostsConfig((("mark_pointer_ns", 1.0), ("alloc_fast_ns", 2)))
    b = CostsConfig((("alloc_fast_ns", 2.0), ("mark_pointer_ns", 1)))
    assert a == b


def test_costs_ns_of_unknown_name_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        CostsConfig().ns("no_such_cost_ns")


def test_unknown_cost_suggests_the_closest_name() -> None:
    raw = minimal() | {"costs": {"alloc_fast": 3}}
    expect_error(raw, "costs.alloc_fast", 3, "alloc_fast_ns", "did you mean 'alloc_fast_ns'?")


def test_negative_cost_is_rejected() -> None:
    raw = minimal() | {"costs": {"alloc_fast_ns": -1}}
    expect_error(raw, "costs.alloc_fast_ns", -1, "a number >= 0")


def test_non_number_cost_is_rejected() -> None:
    raw = minimal() | {"costs": {"alloc_fast_ns": "fast"}}
    expect_error(raw, "costs.alloc_fast_ns", "fast", "a number >= 0")


# --------------------------------------------------------------------------
# Unknown keys, at every level
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "bad", "allowed", "suggestion"),
    [
        ((), "rn", "run, runtime, costs, workload", "run"),
        (("run",), "gomaxproc", "gomaxprocs", "gomaxprocs"),
        (("runtime",), "gogcc", "gogc, gomemlimit", "gogc"),
        (("workload",), "site", "sites", "sites"),
        (("workload", "sites", 0), "wieght", "weight", "weight"),
        (("workload", "sites", 0, "size"), "max_byte", "max_bytes", "max_bytes"),
        (("workload", "sites", 0, "lifetime"), "live_object", "live_objects", "live_objects"),
        (("workload", "sites", 0, "refs", 0), "sites", "to, site", "site"),
    ],
)
def test_unknown_key_is_rejected_with_a_suggestion(
    path: tuple[str | int, ...], bad: str, allowed: str, suggestion: str
) -> None:
    raw = with_site(
        size={"dist": "uniform", "min_bytes": 8, "max_bytes": 16},
        pointer_words=1,
        lifetime={"kind": "fifo", "live_objects": 3},
        refs=[{"to": "nil"}],
    )
    table: Any = raw
    for p in path:
        table = table.setdefault(p, {}) if isinstance(p, str) else table[p]
    table[bad] = 5
    dotted = ""
    for p in path:
        dotted = f"{dotted}[{p}]" if isinstance(p, int) else (f"{dotted}.{p}" if dotted else p)
    key = f"{dotted}.{bad}" if dotted else bad
    expect_error(raw, key, 5, allowed, f"did you mean '{suggestion}'?")


def test_unknown_key_without_a_close_match_has_no_hint() -> None:
    raw = minimal() | {"run": {"zzzzzz": 1}}
    err = expect_error(raw, "run.zzzzzz", 1, "seed, gomaxprocs")
    assert err.hint == ""


def test_table_where_a_table_is_expected() -> None:
    expect_error(minimal() | {"run": 3}, "run", 3, "a table")
    expect_error(with_site(lifetime="fifo"), "workload.sites[0].lifetime", "fifo", "a table")


# --------------------------------------------------------------------------
# Wrong types
# --------------------------------------------------------------------------


def test_string_where_integer_expected() -> None:
    raw = minimal() | {"run": {"gomaxprocs": "four"}}
    expect_error(raw, "run.gomaxprocs", "four", "an integer in 1..256")


def test_bool_is_not_an_integer() -> None:
    raw = minimal() | {"run": {"seed": True}}
    expect_error(raw, "run.seed", True, "an integer >= 0")


def test_bool_is_not_a_number() -> None:
    expect_error(with_site(weight=False), "workload.sites[0].weight", False, "a number >= 0")


def test_float_where_integer_expected_is_rejected_even_if_integral() -> None:
    raw = minimal() | {"run": {"gomaxprocs": 2.0}}
    err = expect_error(raw, "run.gomaxprocs", 2.0, "an integer in 1..256")
    assert "write 2, not 2.0" in str(err)
    raw = minimal() | {"run": {"gomaxprocs": 2.5}}
    expect_error(raw, "run.gomaxprocs", 2.5, "an integer in 1..256")


def test_off_where_not_allowed() -> None:
    raw = minimal() | {"run": {"gomaxprocs": "off"}}
    err = expect_error(raw, "run.gomaxprocs", "off", "an integer in 1..256")
    assert "'off' is not accepted" in str(err)


def test_off_is_case_sensitive() -> None:
    raw = minimal() | {"runtime": {"gogc": "OFF"}}
    expect_error(raw, "runtime.gogc", "OFF", "an integer in 0..1_000_000 or 'off'")


def test_preempt_ns_out_of_range() -> None:
    raw = minimal() | {"runtime": {"preempt_ns": -1}}
    expect_error(raw, "runtime.preempt_ns", -1, "a number in 0..1e+12")


def test_float_size_is_rejected() -> None:
    expect_error(with_site(size=64.0), "workload.sites[0].size", 64.0, "a size")


def test_non_finite_numbers_are_rejected() -> None:
    raw = minimal() | {"run": {"clock_hz": float("inf")}}
    expect_error(raw, "run.clock_hz", float("inf"), "a number > 0")


def test_sites_must_be_a_list_of_tables() -> None:
    expect_error({"workload": {"sites": {"name": "a"}}}, "workload.sites", {"name": "a"}, "list")
    expect_error({"workload": {"sites": [3]}}, "workload.sites[0]", 3, "a table")


def test_site_name_must_be_an_identifier() -> None:
    expect_error(with_site(name="9lives"), "workload.sites[0].name", "9lives", "[A-Za-z_]")
    expect_error(with_site(name=5), "workload.sites[0].name", 5, "a site name")


def test_config_must_be_a_table() -> None:
    with pytest.raises(ConfigError):
        config_from_dict([1, 2])  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Out of range
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "key", "value", "allowed"),
    [
        ("run", "seed", -1, "an integer >= 0"),
        ("run", "seed", 2**63, "an integer >= 0"),
        ("run", "gomaxprocs", 0, "an integer in 1..256"),
        ("run", "gomaxprocs", 257, "an integer in 1..256"),
        ("run", "clock_hz", 0, "a number > 0"),
        ("run", "duration_s", 0, "a number > 0 or 'off'"),
        ("run", "max_allocs", 0, "an integer >= 1 or 'off'"),
        ("run", "quantum_ns", 99, "an integer in 100..10_000_000"),
        ("run", "quantum_ns", 10_000_001, "an integer in 100..10_000_000"),
        ("run", "timeline_interval_ns", 9_999, "an integer >= run.quantum_ns (10_000)"),
        ("runtime", "gogc", -1, "an integer in 0..1_000_000 or 'off'"),
        ("runtime", "gogc", 1_000_001, "an integer in 0..1_000_000 or 'off'"),
        ("runtime", "gomemlimit", 0, "a size >= 1 B"),
        ("workload", "compute_ns_per_alloc", -0.5, "a number >= 0"),
        ("workload", "globals_bytes", -1, "a size >= 0 B"),
    ],
)
def test_out_of_range_scalar(table: str, key: str, value: Any, allowed: str) -> None:
    raw = minimal()
    raw.setdefault(table, {})[key] = value
    expect_error(raw, f"{table}.{key}", value, allowed)


@pytest.mark.parametrize(
    ("field", "value", "key", "bad", "allowed"),
    [
        ("weight", -1, "weight", -1, "a number >= 0"),
        ("size", 0, "size", 0, "a size in 1 B..1GiB"),
        ("size", GiB + 1, "size", GiB + 1, "a size in 1 B..1GiB"),
        ("size", "2GiB", "size", "2GiB", "a size in 1 B..1GiB"),
        ("pointer_density", 1.5, "pointer_density", 1.5, "a number in 0..1"),
        ("pointer_words", -1, "pointer_words", -1, "an integer >= 0"),
        ("pointer_words", 9, "pointer_words", 9, "an integer in 0..8 (8-byte words"),
        ("max_allocs", 0, "max_allocs", 0, "an integer >= 1 or 'off'"),
    ],
)
def test_out_of_range_site_field(field: str, value: Any, key: str, bad: Any, allowed: str) -> None:
    expect_error(with_site(**{field: value}), f"workload.sites[0].{key}", bad, allowed)


def test_lifetime_parameters_are_range_checked() -> None:
    raw = with_site(lifetime={"kind": "fifo", "live_objects": 0})
    expect_error(raw, "workload.sites[0].lifetime.live_objects", 0, "an integer in 1..100_000_000")
    raw = with_site(lifetime={"kind": "exponential", "mean_allocs": 100_000_001})
    key = "workload.sites[0].lifetime.mean_allocs"
    expect_error(raw, key, 100_000_001, "an integer in 1..100_000_000")


def test_uniform_max_below_min() -> None:
    raw = with_site(size={"dist": "uniform", "min_bytes": 64, "max_bytes": 32})
    expect_error(raw, "workload.sites[0].size.max_bytes", 32, "a size >= min_bytes (64)")


def test_choice_value_out_of_range() -> None:
    raw = with_site(size={"dist": "choice", "values_bytes": [8, 0]})
    expect_error(raw, "workload.sites[0].size.values_bytes[1]", 0, "a size in 1 B..1GiB")


def test_choice_weights_checked() -> None:
    key = "workload.sites[0].size.weights"
    size = {"dist": "choice", "values_bytes": [8, 16], "weights": [1]}
    expect_error(with_site(size=size), key, [1], "a list of 2 numbers")
    size["weights"] = [0, 0]
    expect_error(with_site(size=size), key, [0, 0], "sum > 0")
    size["weights"] = [1, -1]
    expect_error(with_site(size=size), f"{key}[1]", -1, "a number >= 0")
    size["values_bytes"] = []
    del size["weights"]
    expect_error(with_site(size=size), "workload.sites[0].size.values_bytes", [], "non-empty")


# --------------------------------------------------------------------------
# Size strings
# --------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["64MB!", "12XB", "1.5B", "-4KiB", ""])
def test_bad_size_string(bad: str) -> None:
    err = expect_error(with_site(size=bad), "workload.sites[0].size", bad, "a string like '64MiB'")
    assert err.hint  # parse_size's explanation


def test_bad_gomemlimit_string() -> None:
    raw = minimal() | {"runtime": {"gomemlimit": "12XB"}}
    err = expect_error(raw, "runtime.gomemlimit", "12XB", "'64MiB'", "or 'off'")
    assert "unknown unit" in str(err)


def test_size_strings_are_accepted_everywhere_a_size_is() -> None:
    raw = minimal() | {"runtime": {"gomemlimit": "1.5GiB"}}
    raw["workload"]["globals_bytes"] = "4KiB"
    raw["workload"]["sites"][0]["size"] = {"dist": "uniform", "min_bytes": "8", "max_bytes": "1MB"}
    cfg = config_from_dict(raw)
    assert cfg.runtime.gomemlimit == 3 * GiB // 2
    assert cfg.workload.globals_bytes == 4 * KiB
    assert cfg.workload.sites[0].size == SizeDist("uniform", 8, 1_000_000)


# --------------------------------------------------------------------------
# Missing keys, kinds, variants
# --------------------------------------------------------------------------


def test_missing_sites() -> None:
    expect_error({}, "workload.sites", MISSING, "at least one site")
    expect_error({"workload": {"sites": []}}, "workload.sites", [], "at least one site")


def test_missing_site_name_and_size() -> None:
    expect_error({"workload": {"sites": [{"size": 8}]}}, "workload.sites[0].name", MISSING, "name")
    expect_error(
        {"workload": {"sites": [{"name": "a"}]}}, "workload.sites[0].size", MISSING, "size"
    )


def test_missing_lifetime_parameter() -> None:
    raw = with_site(lifetime={"kind": "fifo"})
    expect_error(raw, "workload.sites[0].lifetime.live_objects", MISSING, "when kind = 'fifo'")


def test_missing_ref_target() -> None:
    raw = with_site(pointer_words=1, refs=[{"to": "child"}])
    expect_error(raw, "workload.sites[0].refs[0].site", MISSING, "a site name when to = 'child'")
    raw = with_site(pointer_words=1, refs=[{"site": "a"}])
    expect_error(raw, "workload.sites[0].refs[0].to", MISSING, "'nil', 'child', 'random'")


def test_missing_dist() -> None:
    raw = with_site(size={"min_bytes": 8, "max_bytes": 16})
    expect_error(raw, "workload.sites[0].size.dist", MISSING, "'uniform', 'loguniform', 'choice'")


def test_unknown_lifetime_kind_lists_kinds() -> None:
    raw = with_site(lifetime={"kind": "fif0"})
    err = expect_error(
        raw, "workload.sites[0].lifetime.kind", "fif0",
        "'transient', 'fifo', 'exponential', 'immortal'",
    )  # fmt: skip
    assert "did you mean 'fifo'?" in str(err)


def test_unknown_dist_lists_dists() -> None:
    raw = with_site(size={"dist": "normal", "min_bytes": 8, "max_bytes": 16})
    expect_error(raw, "workload.sites[0].size.dist", "normal", "'uniform', 'loguniform', 'choice'")


def test_fixed_dist_in_a_table_points_at_the_plain_form() -> None:
    raw = with_site(size={"dist": "fixed", "min_bytes": 8, "max_bytes": 8})
    err = expect_error(raw, "workload.sites[0].size.dist", "fixed", "'uniform'")
    assert "size = 64" in str(err)


def test_unknown_ref_kind_lists_kinds() -> None:
    raw = with_site(pointer_words=1, refs=[{"to": "parent", "site": "a"}])
    expect_error(raw, "workload.sites[0].refs[0].to", "parent", "'nil', 'child', 'random'")


def test_key_that_does_not_belong_to_the_lifetime_kind() -> None:
    raw = with_site(lifetime={"kind": "fifo", "live_objects": 5, "mean_allocs": 3})
    expect_error(raw, "workload.sites[0].lifetime.mean_allocs", 3, "only kind, live_objects")
    raw = with_site(lifetime={"live_objects": 5})  # kind defaults to transient
    expect_error(raw, "workload.sites[0].lifetime.live_objects", 5, "when kind = 'transient'")


def test_key_that_does_not_belong_to_the_dist() -> None:
    raw = with_site(size={"dist": "choice", "values_bytes": [8], "min_bytes": 8})
    expect_error(raw, "workload.sites[0].size.min_bytes", 8, "when dist = 'choice'")
    raw = with_site(size={"dist": "uniform", "min_bytes": 8, "max_bytes": 9, "weights": [1]})
    expect_error(raw, "workload.sites[0].size.weights", [1], "when dist = 'uniform'")


def test_nil_ref_must_not_name_a_site() -> None:
    raw = with_site(pointer_words=1, refs=[{"to": "nil", "site": "a"}])
    expect_error(raw, "workload.sites[0].refs[0].site", "a", "when to = 'nil'")


def test_immortal_site_needs_max_allocs() -> None:
    raw = with_site(lifetime={"kind": "immortal"})
    expect_error(raw, "workload.sites[0].max_allocs", MISSING, "lifetime.kind = 'immortal'")


def test_both_stop_conditions_off() -> None:
    raw = minimal() | {"run": {"duration_s": "off"}}
    err = expect_error(raw, "run.duration_s", "off", "run.max_allocs")
    assert "at least one of" in str(err)


# --------------------------------------------------------------------------
# Pointers and refs
# --------------------------------------------------------------------------


def test_pointer_words_and_density_are_exclusive() -> None:
    raw = with_site(pointer_words=1, pointer_density=0.5)
    expect_error(raw, "workload.sites[0].pointer_density", 0.5, "pointer_words")


def test_pointer_words_must_fit_the_smallest_object() -> None:
    raw = with_site(size={"dist": "uniform", "min_bytes": 16, "max_bytes": 64}, pointer_words=3)
    expect_error(raw, "workload.sites[0].pointer_words", 3, "0..2", "16 B")


def test_more_refs_than_pointer_words() -> None:
    raw = with_site(pointer_words=1, refs=[{"to": "nil"}, {"to": "nil"}])
    expect_error(raw, "workload.sites[0].refs", "2 refs", "at most 1 ref (")


def test_refs_with_pointer_density_use_the_smallest_object() -> None:
    size = {"dist": "uniform", "min_bytes": 32, "max_bytes": 4096}
    refs = [{"to": "nil"}] * 3  # floor(0.5 * 32 / 8) = 2 words in the smallest object
    raw = with_site(size=size, pointer_density=0.5, refs=refs)
    expect_error(raw, "workload.sites[0].refs", "3 refs", "at most 2 refs", "32 B")
    raw["workload"]["sites"][0]["refs"] = refs[:2]
    config_from_dict(raw)


def test_refs_without_pointer_words_are_rejected() -> None:
    expect_error(with_site(refs=[{"to": "nil"}]), "workload.sites[0].refs", "1 refs", "at most 0")


def test_ref_to_unknown_site_suggests() -> None:
    raw = with_site(pointer_words=1, refs=[{"to": "child", "site": "laef"}])
    raw["workload"]["sites"].append({"name": "leaf", "size": 8})
    err = expect_error(raw, "workload.sites[0].refs[0].site", "laef", "a, leaf")
    assert "did you mean 'leaf'?" in str(err)


def test_random_ref_to_transient_site() -> None:
    raw = with_site(pointer_words=1, refs=[{"to": "random", "site": "b"}])
    raw["workload"]["sites"].append({"name": "b", "size": 8})
    expect_error(raw, "workload.sites[0].refs[0].site", "b", "not 'transient'")


def test_child_cycle_names_the_ref() -> None:
    sites = [
        {"name": "a", "size": 8, "pointer_words": 1, "refs": [{"to": "child", "site": "b"}]},
        {"name": "b", "size": 8, "pointer_words": 1, "refs": [{"to": "child", "site": "a"}]},
    ]
    err = expect_error({"workload": {"sites": sites}}, "workload.sites[1].refs[0].site", "a")
    assert "a -> b -> a" in str(err)


def test_child_self_cycle() -> None:
    raw = with_site(pointer_words=1, refs=[{"to": "child", "site": "a"}])
    err = expect_error(raw, "workload.sites[0].refs[0].site", "a")
    assert "a -> a" in str(err)


def test_random_refs_may_form_cycles() -> None:
    life = {"kind": "fifo", "live_objects": 4}
    sites = [
        {"name": "a", "size": 8, "pointer_words": 1, "lifetime": life,
         "refs": [{"to": "random", "site": "b"}]},
        {"name": "b", "size": 8, "pointer_words": 1, "lifetime": life,
         "refs": [{"to": "random", "site": "a"}]},
    ]  # fmt: skip
    config_from_dict({"workload": {"sites": sites}})


def test_duplicate_site_names() -> None:
    raw = with_site()
    raw["workload"]["sites"].append({"name": "a", "size": 16})
    err = expect_error(raw, "workload.sites[1].name", "a", "a name no other site uses")
    assert "workload.sites[0]" in str(err)


def test_all_weights_zero() -> None:
    expect_error(with_site(weight=0), "workload.sites", "1 sites, all with weight 0", "weight > 0")


# --------------------------------------------------------------------------
# load_config and overrides
# --------------------------------------------------------------------------

TOML_TEXT = """
[run]
gomaxprocs = 2

[runtime]
gogc = 100

[[workload.sites]]
name = "a"
size = "1KiB"

[[workload.sites]]
name = "b"
size = { dist = "uniform", min_bytes = 8, max_bytes = "1KiB" }
"""


def test_load_config_reads_toml(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, TOML_TEXT))
    assert cfg.run.gomaxprocs == 2
    assert cfg.workload.sites[0].size.min_bytes == KiB


def test_load_config_accepts_str_path(tmp_path: Path) -> None:
    assert load_config(str(write(tmp_path, TOML_TEXT))).run.gomaxprocs == 2


def test_load_config_applies_overrides_in_order(tmp_path: Path) -> None:
    path = write(tmp_path, TOML_TEXT)
    cfg = load_config(
        path,
        [
            "run.gomaxprocs=8",
            "runtime.gogc=off",
            'runtime.gomemlimit="64MiB"',
            "workload.globals_bytes=4KiB",
            "workload.sites[0].weight=2",
            "workload.sites.1.weight = 0.5",
            'workload.sites[1].lifetime={kind="fifo", live_objects=5}',
            "workload.sites[0].size={ dist = 'choice', values_bytes = [16, 32] }",
            "costs.alloc_fast_ns=9",
            "run.gomaxprocs=4",
        ],
    )
    assert cfg.run.gomaxprocs == 4
    assert cfg.runtime == RuntimeConfig(gogc=None, gomemlimit=64 * MiB)
    assert cfg.workload.globals_bytes == 4 * KiB
    a, b = cfg.workload.sites
    assert a.weight == 2.0 and b.weight == 0.5
    assert b.lifetime == Lifetime("fifo", live_objects=5)
    assert a.size.values_bytes == (16, 32)
    assert cfg.costs.ns("alloc_fast_ns") == 9.0


def test_override_of_unknown_key_is_the_unknown_key_error(tmp_path: Path) -> None:
    path = write(tmp_path, TOML_TEXT)
    with pytest.raises(ConfigError) as info:
        load_config(path, ["run.gomaxproc=4"])
    assert info.value.key == "run.gomaxproc"
    assert "did you mean 'gomaxprocs'?" in str(info.value)
    with pytest.raises(ConfigError) as info:
        load_config(path, ["workload.sites[0].wieght=4"])
    assert info.value.key == "workload.sites[0].wieght"
    with pytest.raises(ConfigError) as info:
        load_config(path, ["rn.seed=4"])
    assert info.value.key == "rn" and "did you mean 'run'?" in str(info.value)


def test_override_value_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, TOML_TEXT), ["run.gomaxprocs=off"])
    assert info.value.key == "run.gomaxprocs" and info.value.value == "off"


def test_malformed_override(tmp_path: Path) -> None:
    path = write(tmp_path, TOML_TEXT)
    with pytest.raises(ConfigError) as info:
        load_config(path, ["run.gomaxprocs"])
    assert "dotted.key=VALUE" in str(info.value)
    with pytest.raises(ConfigError, match="dotted key"):
        load_config(path, ["run..seed=1"])


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[run]\ngomaxprocs = = 2\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert str(path) in msg and "line 2" in msg and "valid TOML" in msg


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.toml")
    assert "nope.toml" in str(info.value)


def test_apply_override_returns_a_new_dict() -> None:
    raw = rich()
    before = copy.deepcopy(raw)
    out = apply_override(raw, "workload.sites[1].size.weights", [1, 1, 1])
    assert raw == before
    assert out["workload"]["sites"][1]["size"]["weights"] == [1, 1, 1]
    assert out["workload"]["sites"][0] is not raw["workload"]["sites"][0]


def test_apply_override_creates_missing_tables() -> None:
    out = apply_override(minimal(), "runtime.gogc", 50)
    assert out["runtime"] == {"gogc": 50}
    assert config_from_dict(out).runtime.gogc == 50


def test_apply_override_index_forms_agree() -> None:
    a = apply_override(rich(), "workload.sites[2].weight", 9)
    b = apply_override(rich(), "workload.sites.2.weight", 9)
    assert a == b and a["workload"]["sites"][2]["weight"] == 9


def test_apply_override_index_out_of_range() -> None:
    with pytest.raises(ConfigError) as info:
        apply_override(minimal(), "workload.sites[3].weight", 1)
    assert info.value.key == "workload.sites[3]" and "has 1" in str(info.value)


def test_apply_override_name_on_a_list_or_scalar() -> None:
    with pytest.raises(ConfigError) as info:
        apply_override(minimal(), "workload.sites.weight", 1)
    assert "workload.sites[0].weight" in str(info.value)
    with pytest.raises(ConfigError) as info:
        apply_override(minimal() | {"run": {"seed": 1}}, "run.seed.x", 1)
    assert info.value.key == "run.seed"
    with pytest.raises(ConfigError):
        apply_override(minimal(), "run[0]", 1)


# --------------------------------------------------------------------------
# Resolved dict, dump, hash, round trips
# --------------------------------------------------------------------------


def test_config_to_dict_is_resolved() -> None:
    d = config_to_dict(config_from_dict(minimal()))
    assert d["run"] == {
        "seed": 1,
        "gomaxprocs": 1,
        "clock_hz": 3e9,
        "duration_s": 1.0,
        "max_allocs": "off",
        "quantum_ns": 10_000,
        "timeline_interval_ns": 1_000_000,
        "final_gc": False,
    }
    assert d["runtime"] == {"gogc": 100, "gomemlimit": "off", "greentea": True,
                            "packed_span_scan": False, "gcstoptheworld": 0,
                            "write_barrier": True, "pacer": "go1.18", "pool_victim": True,
                            "max_stack_bytes": 1_000_000_000, "shrink_stacks": True,
                            "adaptive_stack_start": True, "preempt_ns": 10_000_000.0}
    assert d["costs"] == {name: e.default_ns for name, e in COSTS.items()}
    assert d["workload"]["globals_bytes"] == 158_154
    site = d["workload"]["sites"][0]
    assert site == {
        "name": "a",
        "weight": 1.0,
        "size": 64,
        "pointer_words": 0,
        "lifetime": {"kind": "transient"},
        "refs": [],
        "pointer_writes_per_alloc": 0.0,
        "escape": 1.0,
    }


def test_config_to_dict_writes_off_and_omits_optional_site_fields() -> None:
    d = config_to_dict(config_from_dict(rich()))
    assert d["run"]["duration_s"] == "off"
    assert d["runtime"]["gogc"] == "off" and d["runtime"]["gomemlimit"] == 64 * MiB
    assert d["workload"]["globals_bytes"] == MiB
    root, leaf, _, static = d["workload"]["sites"]
    assert "pointer_density" not in root and "max_allocs" not in root
    assert "pointer_words" not in leaf and leaf["pointer_density"] == 0.5
    assert leaf["size"] == {
        "dist": "choice",
        "values_bytes": [16, 64, 1024],
        "weights": [1.0, 2.0, 1.0],
    }
    assert root["size"] == {"dist": "uniform", "min_bytes": 32, "max_bytes": 1024}
    assert static["size"] == 2048 and static["max_allocs"] == 10
    assert root["refs"][2] == {"to": "nil"}


def _round_trip_cases() -> list[dict[str, Any]]:
    gogc_off = apply_override(minimal(), "runtime.gogc", "off")
    alloc_stop = apply_override(
        apply_override(minimal(), "run.duration_s", "off"), "run.max_allocs", 123
    )
    density = with_site(
        size={"dist": "loguniform", "min_bytes": 8, "max_bytes": 100}, pointer_density=0.3
    )
    return [minimal(), rich(), gogc_off, alloc_stop, density]


@pytest.mark.parametrize("raw", _round_trip_cases())
def test_round_trip_through_toml(raw: dict[str, Any]) -> None:
    cfg = config_from_dict(raw)
    text = dump_config(cfg)
    again = config_from_dict(tomllib.loads(text))
    assert again == cfg
    assert dump_config(again) == text
    assert config_hash(again) == config_hash(cfg)


def test_round_trip_through_load_config(tmp_path: Path) -> None:
    cfg = config_from_dict(rich())
    assert load_config(write(tmp_path, dump_config(cfg))) == cfg


def test_dump_key_order_is_stable() -> None:
    text = dump_config(config_from_dict(rich()))
    order = [text.index(h) for h in ("[run]", "[runtime]", "[costs]", "[workload]")]
    assert order == sorted(order)
    run = text[text.index("[run]") : text.index("[runtime]")]
    assert run.index("seed") < run.index("gomaxprocs") < run.index("timeline_interval_ns")


def test_config_hash_is_sha256_and_sensitive() -> None:
    a = config_from_dict(minimal())
    b = config_from_dict(apply_override(minimal(), "run.seed", 2))
    assert len(config_hash(a)) == 64 and int(config_hash(a), 16) >= 0
    assert config_hash(a) != config_hash(b)
    assert config_hash(a) == config_hash(config_from_dict(minimal()))


def test_hash_ignores_int_vs_float_spelling() -> None:
    a = config_from_dict(apply_override(minimal(), "run.clock_hz", 2_000_000_000))
    b = config_from_dict(apply_override(minimal(), "run.clock_hz", 2e9))
    assert config_hash(a) == config_hash(b)
    c = dataclasses.replace(a, run=dataclasses.replace(a.run, clock_hz=2_000_000_000))
    assert config_hash(c) == config_hash(a)


# --------------------------------------------------------------------------
# Direct construction
# --------------------------------------------------------------------------


def test_replace_revalidates() -> None:
    cfg = config_from_dict(rich())
    with pytest.raises(ConfigError) as info:
        dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, gomaxprocs=0))
    assert info.value.key == "run.gomaxprocs"
    sites = list(cfg.workload.sites)
    sites[1] = dataclasses.replace(sites[1], name="root")
    with pytest.raises(ConfigError) as info:
        dataclasses.replace(cfg, workload=dataclasses.replace(cfg.workload, sites=tuple(sites)))
    assert info.value.key == "workload.sites[1].name"


def test_direct_construction_equals_parsed() -> None:
    site = SiteConfig(name="a", size=SizeDist("fixed", 64, 64))
    cfg = Config(RunConfig(), RuntimeConfig(), CostsConfig(), WorkloadConfig(sites=(site,)))
    assert cfg == config_from_dict(minimal())


def test_config_fields_must_have_their_types() -> None:
    with pytest.raises(TypeError):
        Config(RunConfig(), RuntimeConfig(), CostsConfig(), None)  # type: ignore[arg-type]


def test_configs_are_frozen() -> None:
    cfg = config_from_dict(minimal())
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.run.seed = 3  # type: ignore[misc]


def test_final_gc_must_be_a_boolean() -> None:
    raw = minimal()
    raw.setdefault("run", {})["final_gc"] = "yes"
    with pytest.raises(ConfigError) as e:
        config_from_dict(raw)
    assert e.value.key == "run.final_gc" and "true or false" in str(e.value)


def test_runtime_collector_knobs_validate() -> None:
    for key, bad, allowed in (("gcstoptheworld", 2, "0"), ("greentea", 1, "true or false"),
                              ("packed_span_scan", "auto", "true or false"),
                              ("write_barrier", "no", "true or false")):
        with pytest.raises(ConfigError) as e:
            config_from_dict(apply_override(minimal(), f"runtime.{key}", bad))
        assert e.value.key == f"runtime.{key}" and allowed in str(e.value)


def test_pointer_writes_need_refs_and_a_rooted_lifetime() -> None:
    raw = with_site(pointer_writes_per_alloc=1.0)
    with pytest.raises(ConfigError) as e:
        config_from_dict(raw)
    assert e.value.key == "workload.sites[0].pointer_writes_per_alloc"


def test_mutator_procs() -> None:
    """workload.mutator_procs: "all" (default) or 1..256 Ps with a goroutine (issue 4)."""
    assert config_from_dict(minimal()).workload.mutator_procs is None
    raw = minimal()
    raw["workload"]["mutator_procs"] = 1
    cfg = config_from_dict(raw)
    assert cfg.workload.mutator_procs == 1
    assert config_from_dict(config_to_dict(cfg)) == cfg
    for bad in (0, 257, "some", 1.5, True):
        raw["workload"]["mutator_procs"] = bad
        with pytest.raises(ConfigError, match="workload.mutator_procs"):
            config_from_dict(raw)
