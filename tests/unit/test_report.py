"""gcsim report: Markdown + HTML of a sweep or run folder, and the citation entry."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from gcsim.cli import main
from gcsim.errors import GcsimError
from gcsim.report import CITATION, bibtex, cite_text, write_report

REPO = Path(__file__).resolve().parents[2]


def test_sweep_report_has_every_section(small_sweep: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(small_sweep)]) == 0
    assert capsys.readouterr().out.split() == [str(small_sweep / "report.md"),
                                               str(small_sweep / "report.html")]
    md = (small_sweep / "report.md").read_text()
    for heading in ("## What was run", "## Figures", "## Results", "## Base config (resolved)",
                    "## Provenance", "## How to cite"):
        assert heading in md, heading
    assert "test sweep" in md  # the sweep's description
    # Every figure the report shows exists.
    images = re.findall(r"!\[[^]]*\]\(([^)]+)\)", md)
    assert len(images) == 10
    assert all((small_sweep / i).exists() for i in images)
    # The aggregated table: one row per point, mean ± CI over the two repeats.
    agg = pd.read_csv(small_sweep / "results_by_point.csv")
    assert len(agg) == 4 and set(agg["n"]) == {2}
    table_rows = [line for line in md.splitlines() if re.match(r"\| (50|200) \| [01] \|", line)]
    assert len(table_rows) == 4 and all("±" in r for r in table_rows)
    # Provenance comes from a run's provenance.json; every run's seed is listed.
    prov = json.loads((small_sweep / "points" / "p0000-r0" / "provenance.json").read_text())
    assert f"Go semantics modelled: `{prov['go_semantics']}`" in md
    assert f"gcsim version: `{prov['gcsim_version']}`" in md
    assert "git commit: `" in md
    for seed in pd.read_parquet(small_sweep / "results.parquet")["seed"]:
        assert str(seed) in md
    assert (small_sweep / "base.toml").read_text().strip() in md
    assert bibtex() in md and cite_text() in md

    page = (small_sweep / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<table>") == 3  # axes, results, seeds
    assert '<img alt="' in page and 'src="figures/gc_cpu.png"' in page
    assert "<h2>How to cite</h2>" in page


def test_run_report(small_sweep: Path, tmp_path: Path) -> None:
    folder = tmp_path / "run"  # a copy: the session's sweep folder stays as the sweep wrote it
    shutil.copytree(small_sweep / "points" / "p0003-r1", folder)
    md_path, html_path = write_report(folder)
    md = md_path.read_text()
    assert "## Summary" in md and "pause_ns_p99" in md and "## How to cite" in md
    assert (folder / "heap.png").exists()  # drawn for the report, the run had none
    assert "<table>" in html_path.read_text()


def test_report_of_something_else_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(GcsimError, match="neither a sweep folder"):
        write_report(tmp_path)


def test_citation_matches_citation_cff() -> None:
    yaml = pytest.importorskip("yaml")
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert cff["title"] == CITATION["title"]
    assert str(cff["version"]) == CITATION["version"]
    assert [a["name"] for a in cff["authors"]] == CITATION["authors"]
    assert cff["license"] == CITATION["license"]
    assert cff["type"] == CITATION["type"]
