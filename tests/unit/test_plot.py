"""Tests for gcsim.plot: each plot on synthetic data, saved and inspected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from PIL import Image

from gcsim.metrics.mmu import mmu_curve
from gcsim.plot import (
    STYLE,
    new_figure,
    plot_heap_timeline,
    plot_mmu,
    plot_pause_distribution,
    save_figure,
)
from gcsim.units import MiB

META = {"config_hash": "0123456789abcdef", "gcsim_version": "0.1.0"}


def _png_text(path: Path) -> dict[str, str]:
    with Image.open(path) as im:
        im.load()
        return dict(im.text)  # type: ignore[attr-defined]


def _sawtooth(n: int = 400) -> tuple[np.ndarray, ...]:
    """Heap grows from 20 to 40 MiB, then drops back: 4 GC cycles over 1 s."""
    t = np.linspace(0.0, 1.0, n)
    phase = (t * 4) % 1.0
    alloc = (20 + 20 * phase) * MiB
    inuse = alloc + 4 * MiB
    goal = np.full(n, 40.0 * MiB)
    gc_start = np.array([0.25, 0.5, 0.75])
    return t, inuse, alloc, goal, gc_start


def _saved(fig: Figure, tmp_path: Path, name: str) -> Path:
    paths = save_figure(fig, tmp_path / name, META)
    assert paths == [tmp_path / f"{name}.png"]
    assert paths[0].stat().st_size > 0
    assert _png_text(paths[0])["config_hash"] == META["config_hash"]
    return paths[0]


def test_heap_timeline(tmp_path: Path) -> None:
    fig, ax = new_figure()
    t, inuse, alloc, goal, gc_start = _sawtooth()
    assert plot_heap_timeline(ax, t, inuse, alloc, goal, gc_start) is ax
    assert ax.get_xlabel() == "simulated time (s)"
    assert ax.get_ylabel() == "heap (MiB)"
    assert [ln.get_label() for ln in ax.lines] == ["HeapInuse", "HeapAlloc", "heap goal"]
    alloc_line = np.asarray(ax.lines[1].get_ydata(), dtype=float)
    np.testing.assert_allclose(alloc_line, alloc / MiB)  # binary MiB
    markers = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(markers) == 1 and len(markers[0].get_segments()) == gc_start.size
    legend = ax.get_legend()
    assert legend is not None and len(legend.get_texts()) == 4
    assert ax.get_ylim()[0] == 0.0
    _saved(fig, tmp_path, "heap")


def test_heap_timeline_gap_for_missing_goal(tmp_path: Path) -> None:
    fig, ax = new_figure()
    t, inuse, alloc, goal, gc_start = _sawtooth(50)
    goal[10:20] = np.inf  # e.g. GOGC=off for a while
    plot_heap_timeline(ax, t, inuse, alloc, goal, gc_start)
    assert np.isnan(np.asarray(ax.lines[2].get_ydata(), dtype=float)).any()
    _saved(fig, tmp_path, "heap_gap")
    with pytest.raises(ValueError, match="heap_alloc_bytes"):
        plot_heap_timeline(ax, t, inuse, alloc[:-1], goal, gc_start)


def test_mmu_plot(tmp_path: Path) -> None:
    fig, ax = new_figure()
    starts = np.arange(10) * 0.1
    for frac in (0.25, 0.5):
        s = np.concatenate((starts, starts + 1e-4, starts + 0.0101))
        e = np.concatenate((starts + 1e-4, starts + 0.0101, starts + 0.0102))
        f = np.concatenate((np.ones(10), np.full(10, frac), np.ones(10)))
        w, m = mmu_curve(s, e, f, 1.0, n=60)
        assert plot_mmu(ax, w, m, label=f"mark {frac:.0%}") is ax
    assert len(ax.lines) == 2
    assert ax.get_xscale() == "log"
    assert ax.get_ylim() == (0.0, 1.0)
    assert ax.get_xlabel() == "window (s)"
    assert ax.get_ylabel() == "minimum mutator utilization"
    legend = ax.get_legend()
    assert legend is not None and len(legend.get_texts()) == 2
    _saved(fig, tmp_path, "mmu")


def test_mmu_plot_rejects_bad_input() -> None:
    _, ax = new_figure()
    with pytest.raises(ValueError, match="shape"):
        plot_mmu(ax, [1.0, 2.0], [0.5])
    with pytest.raises(ValueError, match="> 0"):
        plot_mmu(ax, [0.0, 2.0], [0.5, 0.6])


def test_pause_distribution_wide_range_is_log(tmp_path: Path) -> None:
    fig, ax = new_figure()
    pauses_ns = np.random.default_rng(0).lognormal(np.log(20e3), 1.2, 300)
    assert plot_pause_distribution(ax, pauses_ns, label="GOGC=100") is ax
    assert len(ax.lines) == 1
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "pause (µs)"
    assert ax.get_ylabel() == "fraction of pauses ≤ x"
    x = np.asarray(ax.lines[0].get_xdata(), dtype=float)
    y = np.asarray(ax.lines[0].get_ydata(), dtype=float)
    assert x[0] == pytest.approx(pauses_ns.min() / 1e3)  # µs
    assert x[-1] == pytest.approx(pauses_ns.max() / 1e3)
    assert y[0] == 0.0 and y[-1] == 1.0 and np.all(np.diff(y) > 0)
    _saved(fig, tmp_path, "pauses_log")


def test_pause_distribution_narrow_range_is_linear(tmp_path: Path) -> None:
    fig, ax = new_figure()
    plot_pause_distribution(ax, np.linspace(10e3, 50e3, 100))
    plot_pause_distribution(ax, np.linspace(20e3, 60e3, 100))
    assert len(ax.lines) == 2
    assert ax.get_xscale() == "linear"
    assert ax.get_legend() is None  # no labels given
    _saved(fig, tmp_path, "pauses_lin")


def test_pause_distribution_empty_and_forced_scale(tmp_path: Path) -> None:
    fig, ax = new_figure()
    plot_pause_distribution(ax, [], log_x=False)
    assert len(ax.lines) == 0
    assert [t.get_text() for t in ax.texts] == ["no pauses"]
    assert ax.get_xlabel() == "pause (µs)"
    _saved(fig, tmp_path, "pauses_empty")
    _, ax2 = new_figure()
    plot_pause_distribution(ax2, np.linspace(10e3, 50e3, 10), log_x=True)
    assert ax2.get_xscale() == "log"


def test_save_figure_png_and_pdf(tmp_path: Path) -> None:
    fig, ax = new_figure()
    plot_mmu(ax, [1e-3, 1e-2, 1e-1], [0.0, 0.5, 0.9])
    out = tmp_path / "sub" / "mmu.gogc100"
    paths = save_figure(fig, out, META, pdf=True)
    assert paths == [tmp_path / "sub" / "mmu.gogc100.png", tmp_path / "sub" / "mmu.gogc100.pdf"]
    text = _png_text(paths[0])
    assert text["config_hash"] == META["config_hash"]
    assert text["gcsim_version"] == "0.1.0"
    pdf_bytes = paths[1].read_bytes()
    assert pdf_bytes.startswith(b"%PDF")
    assert b"config_hash=0123456789abcdef" in pdf_bytes
    assert b"CreationDate" not in pdf_bytes
    # Atomic writes leave no temp files behind.
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == [
        "mmu.gogc100.pdf",
        "mmu.gogc100.png",
    ]
    with Image.open(paths[0]) as im:
        assert im.format == "PNG"
        assert im.size[0] > 500  # rendered at STYLE's savefig.dpi
    assert STYLE["savefig.dpi"] >= 150


def test_save_figure_overwrites_and_rejects_bad_metadata(tmp_path: Path) -> None:
    fig, ax = new_figure()
    plot_pause_distribution(ax, [1e3, 2e3])
    save_figure(fig, tmp_path / "p", {"config_hash": "a"})
    save_figure(fig, tmp_path / "p", {"config_hash": "b"})
    assert _png_text(tmp_path / "p.png")["config_hash"] == "b"
    with pytest.raises(ValueError, match="str"):
        save_figure(fig, tmp_path / "q", {"config_hash": 3})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="PNG keyword"):
        save_figure(fig, tmp_path / "q", {"": "x"})
    assert not (tmp_path / "q.png").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
