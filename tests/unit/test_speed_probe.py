"""The speed probe's reference graph: its measured cost and the cost table's price of
it are the calibration fit's own numbers, so the ref_mark row compares like with like."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gcsim import calibfit
from gcsim.calibrate import CalibrationError, refit
from gcsim.config import CostsConfig
from gcsim.goruntime import gotool
from gcsim.validate import compare as C
from gcsim.validate.speedprobe import REFERENCE_GRAPH, SpeedProbe, objects_per_span

REPO = Path(__file__).resolve().parents[2]
RECORDS = REPO / "calibration" / "amd-epyc-go1.27.3.records.json"


def _greentea_mark_records() -> list[dict]:
    recs = json.loads(RECORDS.read_text())["records"]
    return [r for r in recs if r["exp"] == "mark" and r["variant"] == "greentea"]


def test_measured_side_is_the_fits_per_object_cost() -> None:
    # The fit subtracts the live spans' sweep (live_span_sweep_ns per span) from
    # the GC's cost above an empty GC; the probe keeps it and prices it instead.
    kind, order, _, k = REFERENCE_GRAPH
    recs = _greentea_mark_records()
    raw = refit(json.loads(RECORDS.read_text()), {}).entries["mark_object_ns"]["raw"]
    graph = next(r for r in recs if (r["kind"], r["order"], r["k"]) == (kind, order, k))
    spans_per_object = graph["spans"] / graph["n"]
    assert objects_per_span(greentea=True) == 124 and objects_per_span(greentea=False) == 126
    assert spans_per_object == pytest.approx(1 / 124, rel=0.001)
    measured = calibfit.mark_graph_ns(recs, kind, order, k)
    fit = raw[order]["per_object_ns"][f"{kind}_k{k}"]["measured"]
    assert measured - spans_per_object * raw["live_span_sweep_ns"] == pytest.approx(fit, abs=0.01)
    # 2026-11-25 (the shipped table's day): 33.2 ns an object.
    assert measured == pytest.approx(33.18, abs=0.01)


def test_model_side_is_the_cost_tables_price() -> None:
    costs = CostsConfig()
    gt = calibfit.mark_graph_model_ns("scan2", 0, costs.ns, classic=False,
                                      spans_per_object=1 / 124)
    # A root word and two nil pointer words scanned, one pointer followed, one object.
    words = 3 * costs.ns("mark_scan_word_ns")
    assert gt == pytest.approx(words + costs.ns("mark_pointer_ns") + costs.ns("mark_object_ns")
                               + costs.ns("sweep_span_ns") / 124)
    classic = calibfit.mark_graph_model_ns("scan2", 0, costs.ns, classic=True,
                                           spans_per_object=1 / 128)
    assert classic == pytest.approx(words + costs.ns("mark_pointer_classic_ns")
                                    + costs.ns("mark_object_classic_ns")
                                    + costs.ns("sweep_span_ns") / 128)
    assert SpeedProbe(Path("unused"), classic=False).model_ns(costs) == pytest.approx(gt)
    # Against the shipped day's measurement (33.18 ns): the table's price is 7.3 % lower,
    # the fit's residual on this graph.
    assert gt / 33.18 - 1 == pytest.approx(-0.073, abs=0.002)


def test_records_without_the_graph_are_refused() -> None:
    recs = [r for r in _greentea_mark_records() if r["kind"] != "empty"]
    with pytest.raises(CalibrationError, match="scan2:seq:k0 graph or the empty one"):
        calibfit.mark_graph_ns(recs, "scan2", "seq", 0)


def test_probe_row() -> None:
    row = C.probe_row(30.0, [40.0, 50.0, 45.0])
    assert (row.figure, row.predicted, row.measured_median) == ("ref_mark", 30.0, 45.0)
    assert row.rel_error == pytest.approx(-1 / 3)
    assert (row.label, row.unit) == ("reference graph mark, per object", "ns")


@pytest.mark.validate
def test_probe_on_real_go() -> None:
    go, version = gotool.find_go(), gotool.go_version()
    if go is None or version is None:
        pytest.skip("no Go toolchain (pip install 'gcsim[validate]')")
    probe = SpeedProbe.build(go, version, greentea=True)
    ns = probe.measure_ns()
    # 28-51 ns an object on the 2-CPU EPYC VM (2026-11-27); anything in 10..300 is a
    # machine marking the graph, not a broken measurement.
    assert 10 < ns < 300


def test_a_failing_probe_says_how_to_skip_it(tmp_path: Path) -> None:
    from gcsim.errors import ValidationError

    exe = tmp_path / "calibrate"
    exe.write_text("#!/bin/sh\necho 'mark: out of memory' >&2\nexit 3\n")
    exe.chmod(0o755)
    expected = r"(?s)speed probe: .*out of memory.*--no-speed-probe"
    with pytest.raises(ValidationError, match=expected):
        SpeedProbe(exe, classic=False).measure_ns()
