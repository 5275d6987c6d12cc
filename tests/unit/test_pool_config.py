"""``[[workload.pools]]`` and ``runtime.pool_victim``: parsing, errors, round trip,
compilation into the engine's tables (gcsim/workload/pools.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gcsim.config import config_from_dict, config_to_dict, load_config
from gcsim.engine import poolstate as PS
from gcsim.engine import state as S
from gcsim.errors import ConfigError
from gcsim.workload.compile import compile_workload, step_objects
from gcsim.workload.pools import compile_pools, without_pools


def raw(**pool: Any) -> dict[str, Any]:
    return {
        "workload": {
            "sites": [
                {"name": "buf", "size": 4096, "lifetime": {"kind": "fifo", "live_objects": 4}},
                {"name": "tmp", "size": 512},
                {"name": "g", "size": 64},
            ],
            "pools": [{"name": "p", "site": "buf", **pool}],
        }
    }


def test_defaults_and_round_trip() -> None:
    cfg = config_from_dict(raw())
    p = cfg.workload.pools[0]
    assert (p.enabled, p.zero_on_put, p.batch_values) == (True, False, (1,))
    assert cfg.runtime.pool_victim is True
    d = config_to_dict(cfg)
    assert d["workload"]["pools"] == [
        {"name": "p", "site": "buf", "enabled": True, "zero_on_put": False, "batch": 1}
    ]
    assert config_from_dict(d) == cfg


def test_configs_without_pools_dump_no_pools_key() -> None:
    d = config_to_dict(config_from_dict({"workload": {"sites": [{"name": "a", "size": 8}]}}))
    assert "pools" not in d["workload"]


@pytest.mark.parametrize(
    ("pool", "key", "text"),
    [
        ({"site": "buff"}, "workload.pools[0].site", "did you mean 'buf'"),
        ({"site": "buf", "batch": 2}, "workload.pools[0].batch", "lifetime.kind is 'fifo'"),
        ({"site": "tmp", "batch": 0}, "workload.pools[0].batch", "1..4_096"),
        (
            {"site": "tmp", "batch": {"values": [1, 2], "weights": [1]}},
            "workload.pools[0].batch.weights",
            "2 numbers",
        ),
        ({"site": "tmp", "zero_on_put": 1}, "workload.pools[0].zero_on_put", "true or false"),
        ({"site": "tmp", "sise": 1}, "workload.pools[0].sise", "did you mean 'site'"),
    ],
)
def test_errors_name_the_key(pool: dict[str, Any], key: str, text: str) -> None:
    r = raw()
    r["workload"]["pools"] = [{"name": "p", **pool}]
    with pytest.raises(ConfigError) as e:
        config_from_dict(r)
    assert key in str(e.value) and text in str(e.value)


def test_pooled_site_must_be_poolable() -> None:
    r = raw()
    r["workload"]["sites"][0]["size"] = {"dist": "uniform", "min_bytes": 8, "max_bytes": 64}
    with pytest.raises(ConfigError, match="fixed size"):
        config_from_dict(r)
    r = raw()
    r["workload"]["pools"].append({"name": "q", "site": "buf"})
    with pytest.raises(ConfigError, match="no other pool uses"):
        config_from_dict(r)


def test_set_override_disables_a_pool(tmp_path: Any) -> None:
    import tomli_w

    f = tmp_path / "c.toml"
    f.write_text(tomli_w.dumps(raw()))
    cfg = load_config(f, ["workload.pools[0].enabled=false", "runtime.pool_victim=false"])
    assert not cfg.workload.pools[0].enabled and not cfg.runtime.pool_victim
    assert not without_pools(config_from_dict(raw())).workload.pools[0].enabled


def test_compile_marks_pooled_site_and_batch_table() -> None:
    r = raw()
    r["workload"]["pools"] = [
        {
            "name": "p",
            "site": "tmp",
            "zero_on_put": True,
            "batch": {"values": [1, 64], "weights": [3, 1]},
        }
    ]
    cfg = config_from_dict(r)
    wl, _ = compile_workload(cfg)
    assert wl.site_tab[:, S.W_POOL].tolist() == [-1, -1, -1]
    pools = compile_pools(cfg, wl.site_tab)
    assert wl.site_tab[:, S.W_POOL].tolist() == [-1, 0, -1]
    assert pools.params[0, PS.PP_SITE] == 1 and pools.params[0, PS.PP_ZERO_ON_PUT] == 1
    assert pools.batch_values.tolist() == [1, 64]
    assert np.allclose(pools.batch_cdf, [0.75, 1.0])
    assert pools.held.shape == (64,)
    assert step_objects(cfg) == 64  # one use may New 64 objects
    # Costs: ns at 3 GHz.
    ns = cfg.costs.ns("pool_get_private_ns")
    assert pools.cost[PS.PCOST_GET_PRIVATE] == pytest.approx(3 * ns)
