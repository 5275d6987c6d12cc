"""gcsim.sweep: sweep files, seeds, parallel runs, resume after kill -9, Dask, tables, plots."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gcsim.cli import main
from gcsim.errors import ConfigError, GcsimError
from gcsim.sweep import (
    COMPLETE,
    derive_seed,
    flatten_summary,
    is_finished,
    load_sweep,
    run_sweep,
)
from gcsim.sweepplots import HEATMAPS, VS_FIGURES, folder_figures, make_sweep_figures
from tests.unit.conftest import SWEEP_FILE, write_sweep

REPO = Path(__file__).resolve().parents[2]
DENS = "workload.sites[0].pointer_density"


def _sweep_text(axes: str, extra: str = "") -> str:
    return f'base = "base.toml"\n{extra}\n[axes]\n{axes}\n'


# --------------------------------------------------------------------------
# The sweep file
# --------------------------------------------------------------------------


def test_ranges_expand_to_exact_values(tmp_path: Path) -> None:
    s = load_sweep(write_sweep(tmp_path, _sweep_text(
        '"runtime.gogc" = { start = 25, stop = 800, num = 6, scale = "log" }\n'
        f'"{DENS}" = {{ start = 0.0, stop = 1.0, num = 5 }}\n'
        '"workload.compute_ns_per_alloc" = { start = 0.0, stop = 0.3, step = 0.1 }\n')))
    assert [a.values for a in s.axes] == [
        (25, 50, 100, 200, 400, 800), (0.0, 0.25, 0.5, 0.75, 1.0), (0.0, 0.1, 0.2, 0.3)]
    assert all(type(v) is int for v in s.axes[0].values)
    assert s.n_points == 6 * 5 * 4
    assert len(s.tasks()) == s.n_points


@pytest.mark.parametrize(("sweep_text", "key", "words"), [
    ('base = "base.toml"\nrepeat = 2\n', "repeat", "did you mean 'repeats'"),
    ('repeats = 2\n', "base", "is missing"),
    ('base = "nope.toml"\n', "base", "a readable config file"),
    ('base = "base.toml"\nrepeats = 0\n', "repeats", "1..10_000"),
    ('base = "base.toml"\nseeds = "shared"\n', "seeds", "'independent', 'common'"),
    (_sweep_text('"runtime.gogc" = []'), 'axes."runtime.gogc"', "non-empty list"),
    (_sweep_text('"runtime.gogc" = [50, 50]'), 'axes."runtime.gogc"', "appears twice"),
    (_sweep_text('"runtime.gogc" = 100'), 'axes."runtime.gogc"', "range table"),
    (_sweep_text('"runtime.gogc" = { start = 1, stop = 2 }'), 'axes."runtime.gogc"',
     "exactly one of 'num' and 'step'"),
    (_sweep_text('"runtime.gogc" = { start = 0, stop = 800, num = 3, scale = "log" }'),
     'axes."runtime.gogc"', "start > 0"),
    (_sweep_text('"runtime.gogc" = { start = 1, stop = 3, num = 5 }'), 'axes."runtime.gogc"',
     "values stay distinct"),
    (_sweep_text('"runtime.gogc" = { start = 1, stop = 9, nm = 5 }'), 'axes."runtime.gogc".nm',
     "did you mean 'num'"),
    (_sweep_text('"runtime.gogc" = { start = 10, stop = 1, step = 1 }'),
     'axes."runtime.gogc".step', "sign of stop - start"),
    # Bad axis values get the config's own errors, with the point in the hint.
    (_sweep_text('"runtime.gogc" = [100, -5]'), "runtime.gogc", "sweep point runtime.gogc = -5"),
    (_sweep_text('"runtime.gogcc" = [100]'), "runtime.gogcc", "did you mean 'gogc'"),
    (_sweep_text(f'"{DENS}" = [0.5, 1.5]'), DENS, "0..1"),
])
def test_bad_sweep_files_name_the_key(tmp_path: Path, sweep_text: str, key: str,
                                      words: str) -> None:
    from tests.unit.conftest import SWEEP_BASE

    with pytest.raises(ConfigError) as e:
        load_sweep(write_sweep(tmp_path, sweep_text, SWEEP_BASE))
    assert e.value.key == key
    assert words in str(e.value)


def test_bad_sweep_file_exits_2_with_one_paragraph(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    p = write_sweep(tmp_path, _sweep_text('"runtime.gogc" = [100, -5]'))
    assert main(["sweep", str(p), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "config key 'runtime.gogc' = -5" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_seeds_follow_the_documented_rule(tmp_path: Path) -> None:
    s = load_sweep(write_sweep(tmp_path))
    tasks = s.tasks()
    for t in tasks:
        h = hashlib.sha256(f"gcsim-sweep-seed/v1/7/{t.point}/{t.repeat}".encode()).digest()
        assert t.seed == int.from_bytes(h[:8], "little") >> 1 == derive_seed(7, t.point, t.repeat)
        assert t.config.run.seed == t.seed
        assert 0 <= t.seed < 2**63
    assert len({t.seed for t in tasks}) == len(tasks)
    assert [t.id for t in tasks[:3]] == ["p0000-r0", "p0000-r1", "p0001-r0"]
    assert tasks[2].config.runtime.gogc == 50
    assert tasks[2].config.workload.sites[0].pointer_density == 1.0
    assert [t.seed for t in s.tasks()] == [t.seed for t in tasks]  # deterministic

    common = load_sweep(write_sweep(tmp_path / "c", SWEEP_FILE.replace(
        "repeats = 2", 'repeats = 2\nseeds = "common"')))
    by_repeat: dict[int, set[int]] = {}
    for t in common.tasks():
        by_repeat.setdefault(t.repeat, set()).add(t.seed)
    assert all(len(v) == 1 for v in by_repeat.values()) and len(by_repeat) == 2


def test_seed_axis_sets_the_seed_directly(tmp_path: Path) -> None:
    s = load_sweep(write_sweep(tmp_path, _sweep_text('"run.seed" = [3, 4]')))
    assert [t.seed for t in s.tasks()] == [3, 4]
    assert [t.config.run.seed for t in s.tasks()] == [3, 4]


def test_set_and_repeats_override_the_file(tmp_path: Path) -> None:
    s = load_sweep(write_sweep(tmp_path), ["run.duration_s=0.005"], repeats=3)
    assert s.repeats == 3 and s.base.run.duration_s == 0.005
    assert all(t.config.run.duration_s == 0.005 for t in s.tasks())


def test_flatten_summary_joins_nested_keys() -> None:
    s = {"gc_count": 3, "pause_ns": {"p99": 1.5, "max": 2.0}, "mmu": {"10ms": 0.5},
         "gogc": "off", "gomemlimit_bytes": None, "by_size": [1, 2]}
    assert flatten_summary(s) == {"gc_count": 3, "pause_ns_p99": 1.5, "pause_ns_max": 2.0,
                                  "mmu_10ms": 0.5, "gogc": "off", "gomemlimit_bytes": None}


# --------------------------------------------------------------------------
# Running, tables, resume
# --------------------------------------------------------------------------


def test_small_sweep_end_to_end(small_sweep: Path) -> None:
    csv = pd.read_csv(small_sweep / "results.csv")
    pq = pd.read_parquet(small_sweep / "results.parquet")
    assert len(csv) == len(pq) == 8
    pd.testing.assert_frame_equal(csv, pq, check_dtype=False)
    assert list(pq.columns[:6]) == ["point", "repeat", "id", "seed", "runtime.gogc", DENS]
    for col in ("pause_ns_p99", "mmu_1ms", "mmu_10ms", "mmu_100ms", "gc_cpu_percent",
                "peak_heap_inuse_bytes", "allocs_per_s", "wall_s", "config_hash"):
        assert col in pq.columns
    assert sorted(set(zip(pq["runtime.gogc"], pq[DENS], strict=True))) == [
        (50, 0.0), (50, 1.0), (200, 0.0), (200, 1.0)]
    for _, row in pq.iterrows():
        folder = small_sweep / "points" / row["id"]
        assert (folder / COMPLETE).exists()
        summ = flatten_summary(json.loads((folder / "summary.json").read_text()))
        for k, v in summ.items():
            assert row[k] == v or (v is None and pd.isna(row[k])), k
        cfg = (folder / "config.toml").read_text()
        assert f"seed = {row['seed']}" in cfg and f"gogc = {row['runtime.gogc']}" in cfg
        assert not (folder / "heap.png").exists()  # point plots are off by default
    # More GOGC, fewer collections: a sanity check that the axis reached the runs.
    mean_gcs = pq.groupby("runtime.gogc")["gc_count"].mean()
    assert mean_gcs[50] > mean_gcs[200]
    assert not list((small_sweep / "points").glob(".*"))


def test_rerun_of_a_finished_sweep_redoes_nothing(small_sweep: Path, tmp_path: Path) -> None:
    spec = json.loads((small_sweep / "sweep.json").read_text())
    assert spec["n_points"] == 4 and spec["repeats"] == 2
    markers = {p: p.stat().st_mtime_ns for p in small_sweep.glob("points/*/COMPLETE")}
    sweep = load_sweep(small_sweep.parent / "spec" / "sweep.toml")
    out = run_sweep(sweep, small_sweep, jobs=2, plots=False, progress=False)
    assert (out.n_runs, out.n_done_before, out.n_run_now) == (8, 8, 0)
    assert {p: p.stat().st_mtime_ns for p in small_sweep.glob("points/*/COMPLETE")} == markers


def test_more_repeats_keep_the_runs_done_and_other_sweeps_are_refused(tmp_path: Path,
                                                                      warm_engine: None) -> None:
    spec = write_sweep(tmp_path / "spec", _sweep_text('"runtime.gogc" = [100]',
                                                      "repeats = 1"))
    out = tmp_path / "out"
    first = run_sweep(load_sweep(spec), out, jobs=1, plots=False, progress=False)
    assert (first.n_run_now, len(pd.read_csv(out / "results.csv"))) == (1, 1)
    marker = out / "points" / "p0000-r0" / COMPLETE
    before = marker.stat().st_mtime_ns
    again = run_sweep(load_sweep(spec, repeats=2), out, jobs=1, plots=False, progress=False)
    assert (again.n_done_before, again.n_run_now) == (1, 1)
    assert marker.stat().st_mtime_ns == before
    assert len(pd.read_csv(out / "results.csv")) == 2
    other = write_sweep(tmp_path / "other", _sweep_text('"runtime.gogc" = [300]'))
    with pytest.raises(GcsimError, match="different sweep"):
        run_sweep(load_sweep(other), out, jobs=1, plots=False, progress=False)


def test_issue_9_resume_after_kill_9_redoes_no_finished_run(tmp_path: Path,
                                                            warm_engine: None) -> None:
    spec = write_sweep(tmp_path / "spec", SWEEP_FILE.replace("repeats = 2", "repeats = 4"))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "gcsim", "sweep", str(spec), "--out", str(out),
           "--jobs", "2", "--no-plots", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 300
    while not list(out.glob("points/*/COMPLETE")):
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "no run finished in 300 s"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    time.sleep(0.5)  # orphaned workers would write nothing anyway: only the coordinator writes
    done = {p.parent.name: (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in out.glob("points/*/COMPLETE")}
    assert 1 <= len(done) < 16, "kill the sweep between its first and last run"
    assert not (out / "results.csv").exists()

    res = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert f"resumed: {len(done)} of 16 runs were already done" in res.stdout
    assert f"ran {16 - len(done)} runs" in res.stdout
    after = {p.parent.name: (p.stat().st_ino, p.stat().st_mtime_ns)
             for p in out.glob("points/*/COMPLETE")}
    assert len(after) == 16
    assert {k: after[k] for k in done} == done  # no finished run was redone
    table = pd.read_parquet(out / "results.parquet")
    assert sorted(table["id"]) == sorted(after)
    assert not list((out / "points").glob(".*"))
    sweep = load_sweep(spec)
    assert all(is_finished(out / "points", t) for t in sweep.tasks())


def test_dask_cluster_gives_the_same_table(small_sweep: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    sweep = load_sweep(small_sweep.parent / "spec" / "sweep.toml")
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=None) as cluster:
        run_sweep(sweep, tmp_path / "dask", scheduler=cluster.scheduler_address,
                  plots=False, progress=False)
    local = pd.read_parquet(small_sweep / "results.parquet").drop(columns="wall_s")
    remote = pd.read_parquet(tmp_path / "dask" / "results.parquet").drop(columns="wall_s")
    pd.testing.assert_frame_equal(local, remote)
    for i in local["id"]:
        for name in ("cycles.csv", "gctrace.txt", "summary.json", "config.toml"):
            a = (small_sweep / "points" / i / name).read_bytes()
            assert a == (tmp_path / "dask" / "points" / i / name).read_bytes(), (i, name)


def test_unreachable_scheduler_is_a_clear_error(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr("gcsim.sweep.DASK_CONNECT_TIMEOUT_S", 1.0)
    sweep = load_sweep(write_sweep(tmp_path / "spec", _sweep_text('"runtime.gogc" = [100]')))
    with pytest.raises(GcsimError, match="Dask scheduler"):
        run_sweep(sweep, tmp_path / "o", scheduler="tcp://127.0.0.1:1", plots=False,
                  progress=False)


# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------


def _synthetic_table(n_gogc: int = 3, n_dens: int = 2, repeats: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for p, (g, d) in enumerate((g, d) for g in [25 * 2**i for i in range(n_gogc)]
                               for d in np.linspace(0, 1, n_dens)):
        for r in range(repeats):
            cpu = 30.0 / (g / 25) * (1 + d) * (1 + 0.05 * rng.standard_normal())
            rows.append({
                "point": p, "repeat": r, "id": f"p{p:04d}-r{r}", "seed": p * 10 + r,
                "runtime.gogc": g, DENS: float(d), "gc_count": 100 // g + 1,
                "gc_cpu_percent": cpu, "mutator_utilization": 1 - cpu / 100,
                "allocs_per_s": 2e6 * (1 - cpu / 100),
                "peak_heap_inuse_bytes": (1 + g / 100) * 20 * 2**20,
                "mean_heap_marked_bytes": 20 * 2**20, "pause_ns_p99": 24000.0 + d,
                "pause_ns_max": 30000.0, "mmu_1ms": 0.5, "mmu_10ms": 0.7, "mmu_100ms": 0.8,
                "wall_s": 1.0})
    return pd.DataFrame(rows)


def test_each_sweep_figure_has_labels_and_one_series_per_density() -> None:
    figs = make_sweep_figures(_synthetic_table(3, 4), ["runtime.gogc", DENS], n_repeats=2)
    assert set(figs) == set(VS_FIGURES) | set(HEATMAPS)
    for name, panels in VS_FIGURES.items():
        axes = [a for a in figs[name].axes if a.get_label() != "<colorbar>"]
        assert len(axes) == len(panels), name
        for ax in axes:
            assert ax.get_xlabel() == "GOGC (%)" and ax.get_xscale() == "log"
            assert ax.get_ylabel(), name
            assert len(ax.containers) == 4, name  # one errorbar series per density
            xs = ax.containers[0].lines[0].get_xdata()
            assert list(xs) == [25, 50, 100]
        legend = axes[-1].get_legend()
        assert legend is not None and len(legend.get_texts()) == 4
    assert figs["gc_cpu"].axes[0].containers[0].has_yerr  # noisy, two repeats: error bars
    assert not figs["mmu"].axes[0].containers[0].has_yerr  # constant: none
    assert "µs" in figs["pauses"].axes[0].get_ylabel()
    assert figs["peak_heap"].axes[1].get_ylabel() == "peak heap / mean live heap (×)"
    for name in HEATMAPS:
        ax = figs[name].axes[0]
        assert len(ax.images) == 1 and ax.images[0].get_array().shape == (4, 3)
        assert ax.get_xlabel() == "GOGC (%)" and "pointer density" in ax.get_ylabel()
        assert figs[name].axes[1].get_ylabel()  # the colorbar names metric and unit


def test_gogc_only_sweep_has_one_series_and_no_heatmaps() -> None:
    df = _synthetic_table(4, 1, repeats=1).drop(columns=DENS)
    figs = make_sweep_figures(df, ["runtime.gogc"], n_repeats=1)
    assert set(figs) == set(VS_FIGURES)
    ax = figs["gc_cpu"].axes[0]
    assert len(ax.containers) == 1 and not ax.containers[0].has_yerr
    assert ax.get_legend() is None


def test_sweep_figures_from_the_sweep_folder(small_sweep: Path, tmp_path: Path) -> None:
    names = [*VS_FIGURES, *HEATMAPS, "mmu_curves", "pause_cdf"]
    for name in names:
        for ext in ("png", "pdf"):
            f = small_sweep / "figures" / f"{name}.{ext}"
            assert f.exists() and f.stat().st_size > 1000, f
    df = pd.read_parquet(small_sweep / "results.parquet")
    run_dirs = {i: small_sweep / "points" / i for i in df["id"]}
    figs = make_sweep_figures(df, ["runtime.gogc", DENS], n_repeats=2, run_dirs=run_dirs)
    assert len(figs["gc_cpu"].axes[0].containers) == 2
    mmu_ax = figs["mmu_curves"].axes[0]
    assert len(mmu_ax.lines) == 2 and mmu_ax.get_xlabel() == "window (s)"
    assert len(figs["pause_cdf"].axes[0].lines) == 2
    # gcsim plot DIR redraws the same set into another folder.
    assert main(["plot", str(small_sweep), "--out", str(tmp_path / "figs")]) == 0
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == sorted(
        f"{n}.{e}" for n in names for e in ("png", "pdf"))


def test_plot_of_a_run_folder_redraws_from_the_csvs(small_sweep: Path, tmp_path: Path) -> None:
    written = folder_figures(small_sweep / "points" / "p0001-r0", tmp_path)
    assert sorted(p.name for p in written) == sorted(
        f"{n}.{e}" for n in ("heap", "pauses", "mmu") for e in ("png", "pdf"))
    assert all(p.stat().st_size > 1000 for p in written)
    with pytest.raises(GcsimError, match="neither a sweep folder"):
        folder_figures(tmp_path)
