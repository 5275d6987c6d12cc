"""Page faults: a heap page the OS has not backed (fresh growth, or given back
by the scavenger) costs ``page_fault_ns`` when a span first takes it.

Checked on a GOGC=off run, whose heap layout does not depend on time: every
span is new, so every page it takes was just mapped, and the mutator's time
grows by exactly the faulted pages times the entry.
"""

from __future__ import annotations

from gcsim.config import config_from_dict
from gcsim.engine import state as S
from gcsim.metrics.summary import summary
from gcsim.run import prepare, simulate

PAGE = 8192
CLOCK_HZ = 3.0e9


def _config(page_fault_ns: float):
    return config_from_dict({
        "run": {"max_allocs": 50_000, "duration_s": "off", "final_gc": False,
                "clock_hz": CLOCK_HZ},
        "runtime": {"gogc": "off"},
        "costs": {"page_fault_ns": page_fault_ns},
        "workload": {"sites": [{"name": "a", "size": 64}]},
    })


def _run(page_fault_ns: float):
    return simulate(_config(page_fault_ns))


def test_each_fresh_page_is_faulted_once_and_charged_to_the_mutator() -> None:
    free, faulting = _run(0.0), _run(1000.0)
    pages = int(faulting.counters[S.C_PAGES_FAULTED])
    # Every span of the run is fresh: the pages faulted are the pages in use.
    assert pages == int(free.counters[S.C_PAGES_FAULTED]) == int(faulting.counters[S.C_PAGES_INUSE])
    assert pages >= 50_000 * 64 // PAGE
    # The runtime's own objects' pages are faulted at start-up, before the mutator runs.
    st0 = prepare(_config(1000.0))[0]
    at_start = int(st0.counters[S.C_PAGES_FAULTED])
    assert 0 < at_start == int(st0.counters[S.C_PAGES_INUSE])
    extra = int(faulting.counters[S.C_MUTATOR_CYCLES]) - int(free.counters[S.C_MUTATOR_CYCLES])
    assert extra == round((pages - at_start) * 1000.0 * CLOCK_HZ / 1e9)
    assert summary(faulting)["background"]["page_faulted_bytes"] == pages * PAGE
