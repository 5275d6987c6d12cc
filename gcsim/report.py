"""``gcsim report DIR``: one Markdown and one HTML report of a results folder.

For a sweep folder the report holds, in order: what was swept (axes, repeats,
seed rule), the figures of ``DIR/figures`` (drawn first if missing), the
results table aggregated over repeats (mean ± 95 % CI half-width, also
written as ``DIR/results_by_point.csv``), the resolved base config, the
provenance of the runs (gcsim version, git commit, the Go semantics modelled,
read from a run's ``provenance.json``; every run's seed) and how to cite
gcsim. For a run folder it holds the summary, the three run figures, the
config and provenance.

The HTML is the Markdown rendered by Python-Markdown (``tables``,
``fenced_code``, ``md_in_html``) in a small self-contained page; figures are
linked by relative path, so the folder can be moved or zipped as a whole.

The citation below must match ``CITATION.cff`` at the repository root (a test
checks it).
"""

from __future__ import annotations

import html
import json
import math
import os
from pathlib import Path
from typing import Any

import gcsim
from gcsim.errors import GcsimError

#: The citation of gcsim; keep in step with CITATION.cff.
CITATION: dict[str, Any] = {
    "title": "gcsim: a cycle-level model of the Go runtime's memory system",
    "version": gcsim.__version__,
    "authors": ["The gcsim developers"],
    "license": "BSD-3-Clause",
    "type": "software",
}

#: Sweep figures in report order, with their captions.
FIGURE_CAPTIONS = {
    "throughput": "Throughput: mutator utilization (share of GOMAXPROCS × wall time "
                  "left to the program) and allocation rate.",
    "gc_cpu": "GC CPU as GCCPUFraction counts it (pauses × GOMAXPROCS + mark workers "
              "+ assists).",
    "peak_heap": "Peak HeapInuse, and as a multiple of the mean live heap (the heap marked "
                 "at each GC), as in Hertz & Berger, OOPSLA 2005.",
    "pauses": "p99 and maximum stop-the-world pause.",
    "mmu": "Minimum mutator utilization at 1, 10 and 100 ms windows.",
    "mmu_curves": "MMU curves of repeat 0, one per GOGC value.",
    "pause_cdf": "Pause CDFs of repeat 0, one per GOGC value.",
    "heatmap_gc_cpu": "GC CPU (%) over GOGC × pointer density.",
    "heatmap_peak_heap": "Peak heap in use (MiB) over GOGC × pointer density.",
    "heatmap_pause_p99": "p99 pause over GOGC × pointer density.",
}

# (results column, header, scale); pause columns take the unit chosen by
# sweepplots.derive_columns.
TABLE_COLUMNS = [
    ("gc_count", "GCs", 1.0),
    ("gc_cpu_percent", "GC CPU (%)", 1.0),
    ("mutator_utilization_pct", "mutator util. (%)", 1.0),
    ("allocs_per_s_m", "allocs (M/s)", 1.0),
    ("peak_heap_inuse_mib", "peak heap (MiB)", 1.0),
    ("peak_over_live", "peak / live (×)", 1.0),
    ("pause_p99", "p99 pause", 1.0),
    ("pause_max", "max pause", 1.0),
    ("mmu_1ms", "MMU 1 ms", 1.0),
    ("mmu_10ms", "MMU 10 ms", 1.0),
    ("mmu_100ms", "MMU 100 ms", 1.0),
]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 72rem;
       margin: 2rem auto; padding: 0 1rem; line-height: 1.45; color: #222; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; border: 1px solid #eee; }
pre { background: #f6f8fa; padding: 0.75rem; overflow-x: auto; font-size: 0.8rem; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; }
"""


def cite_text() -> str:
    """The citation as one line of text."""
    c = CITATION
    return f"{', '.join(c['authors'])}. {c['title']}. Version {c['version']}. {c['license']}."


def bibtex() -> str:
    """The citation as a BibTeX ``@software`` entry."""
    c = CITATION
    authors = " and ".join("{" + a + "}" for a in c["authors"])
    return (f"@software{{gcsim,\n  author  = {{{authors}}},\n  title   = {{{c['title']}}},\n"
            f"  version = {{{c['version']}}},\n  license = {{{c['license']}}}\n}}")


def _cite_section() -> list[str]:
    return ["## How to cite", "",
            "If you use these results, please cite gcsim (the entry in `CITATION.cff`):", "",
            f"> {cite_text()}", "", "```bibtex", bibtex(), "```", ""]


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    esc = [[c.replace("|", "\\|") for c in r] for r in [header, *rows]]
    out = ["| " + " | ".join(esc[0]) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in esc[1:]]
    return out + [""]


def _num(v: Any, ci: float | None = None) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if x != x:  # NaN
        return "–"
    s = f"{x:.4g}"
    # Show the CI only when it would move the 4 significant digits printed.
    last_digit = 10.0 ** (math.floor(math.log10(abs(x))) - 3) if x else 1e-12
    if ci is not None and ci >= 0.5 * last_digit:
        s += f" ± {ci:.2g}"
    return s


def _provenance_lines(prov: dict[str, Any]) -> list[str]:
    keys = [("gcsim_version", "gcsim version"), ("git_commit", "git commit"),
            ("go_semantics", "Go semantics modelled"), ("collector", "collector modelled"),
            ("python", "Python"), ("numpy", "NumPy"), ("numba", "Numba"),
            ("platform", "platform")]
    return [f"- {label}: `{prov.get(k) if prov.get(k) is not None else 'unknown'}`"
            for k, label in keys]


def sweep_report_markdown(out: Path) -> str:
    """The Markdown report of a sweep folder (figures drawn if missing)."""
    from gcsim.sweepplots import aggregate, axis_label, derive_columns, load_sweep_table

    df, spec = load_sweep_table(out)
    keys = [a["key"] for a in spec["axes"]]
    fig_dir = out / "figures"
    if not any(fig_dir.glob("*.png")):
        from gcsim.sweepplots import sweep_figures

        sweep_figures(out)
    d, pause_unit = derive_columns(df)
    repeats = spec.get("repeats", 1)
    lines = [f"# gcsim sweep report: {out.resolve().name}", ""]
    if spec.get("description"):
        lines += [spec["description"], ""]
    lines += ["## What was run", "",
              f"{spec['n_points']} grid points × {repeats} repeats = "
              f"{spec['n_points'] * repeats} runs ({len(df)} finished). "
              "Each point is the base config below with the axis values set.", ""]
    lines += _md_table(["axis", "values"],
                       [[f"`{a['key']}`", ", ".join(_num(v) for v in a["values"])]
                        for a in spec["axes"]])
    lines += [f"Seeds (`seeds = \"{spec['seeds']}\"`, base seed {spec['base_seed']}): "
              f"`{spec['seed_rule']}`. Every run's seed is in the `seed` column of "
              "`results.csv` and in the list under Provenance.", ""]

    lines += ["## Figures", ""]
    for name, caption in FIGURE_CAPTIONS.items():
        if (fig_dir / f"{name}.png").exists():
            lines += [f"### {name}", "", f"![{caption}](figures/{name}.png)", "",
                      f"{caption} [PDF](figures/{name}.pdf)", ""]

    cols = [c for c, _, _ in TABLE_COLUMNS]
    agg = aggregate(d, keys, cols) if keys else aggregate(d.assign(_all=0), ["_all"], cols)
    agg.to_csv(out / "results_by_point.csv", index=False)
    header = [axis_label(k) for k in keys] + ["runs"] + [
        f"{h} ({pause_unit})" if c.startswith("pause") else h for c, h, _ in TABLE_COLUMNS]
    rows = []
    for _, r in agg.iterrows():
        rows.append([_num(r[k]) for k in keys] + [str(int(r["n"]))]
                    + [_num(r[c] * s, r[f"{c}_ci"] * s if repeats > 1 else None)
                       for c, _, s in TABLE_COLUMNS])
    ci = " ± the 95 % confidence interval of the mean (Student t)" if repeats > 1 else ""
    lines += ["## Results", "",
              f"Mean over repeats{ci}. One row per run is in `results.csv` / "
              "`results.parquet`; this table is `results_by_point.csv`.", ""]
    lines += _md_table(header, rows)

    base = (out / "base.toml").read_text() if (out / "base.toml").exists() else ""
    lines += ["## Base config (resolved)", "", "Every default filled in; `gcsim run` on it "
              "reproduces a point once the axis values and seed are set.", "",
              "```toml", base.rstrip(), "```", ""]

    prov = _first_provenance(out, list(df["id"]))
    wall = float(df["wall_s"].sum()) if "wall_s" in df else float("nan")
    lines += ["## Provenance", ""] + _provenance_lines(prov) + [
        f"- sweep identity: `{spec.get('identity', '')}`",
        f"- base config hash: `{spec.get('base_config_hash', '')}`",
        f"- total run wall time: {wall:.1f} s over {len(df)} runs", ""]
    seeds = _md_table(["run", *[f"`{k}`" for k in keys], "seed"],
                      [[r["id"], *[_num(r[k]) for k in keys], str(r["seed"])]
                       for _, r in df.iterrows()])
    lines += ['<details markdown="1"><summary>Seeds of every run</summary>', "", *seeds,
              "</details>", ""]
    lines += _cite_section()
    return "\n".join(lines)


def _first_provenance(out: Path, ids: list[str]) -> dict[str, Any]:
    for i in ids:
        p = out / "points" / i / "provenance.json"
        if p.exists():
            return dict(json.loads(p.read_text()))
    return {}


def run_report_markdown(folder: Path) -> str:
    """The Markdown report of a single run folder."""
    summ = json.loads((folder / "summary.json").read_text())
    prov = (json.loads((folder / "provenance.json").read_text())
            if (folder / "provenance.json").exists() else {})
    if not (folder / "heap.png").exists():
        from gcsim.sweepplots import run_folder_figures

        run_folder_figures(folder)
    from gcsim.sweep import flatten_summary

    lines = [f"# gcsim run report: {folder.resolve().name}", "", "## Summary", ""]
    lines += _md_table(["metric", "value"],
                       [[k, _num(v)] for k, v in flatten_summary(summ).items()])
    lines += ["## Figures", ""]
    for name, caption in (("heap", "Heap over simulated time, with the goal and GC starts."),
                          ("pauses", "Pause CDF."), ("mmu", "Minimum mutator utilization.")):
        if (folder / f"{name}.png").exists():
            lines += [f"![{caption}]({name}.png)", "", caption, ""]
    cfg = (folder / "config.toml").read_text() if (folder / "config.toml").exists() else ""
    lines += ["## Config (resolved)", "", "```toml", cfg.rstrip(), "```", ""]
    lines += ["## Provenance", ""] + _provenance_lines(prov) + [
        f"- seed: `{prov.get('seed')}`", f"- config hash: `{prov.get('config_hash')}`", ""]
    lines += _cite_section()
    return "\n".join(lines)


def markdown_to_html(md: str, title: str) -> str:
    """A self-contained HTML page of the Markdown report."""
    import markdown

    body = markdown.markdown(md, extensions=["tables", "fenced_code", "md_in_html"])
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
            f"<body>\n{body}\n</body>\n</html>\n")


def write_report(folder: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` into a sweep or run folder.

    Returns
    -------
    (Path, Path)
        The Markdown and HTML files.
    """
    from gcsim.sweep import _write_atomic

    d = Path(folder)
    if (d / "sweep.json").exists():
        md = sweep_report_markdown(d)
        title = f"gcsim sweep report: {d.resolve().name}"
    elif (d / "summary.json").exists():
        md = run_report_markdown(d)
        title = f"gcsim run report: {d.resolve().name}"
    else:
        raise GcsimError(f"{d} is neither a sweep folder (sweep.json) nor a run folder "
                         "(summary.json)")
    md_path, html_path = d / "report.md", d / "report.html"
    _write_atomic(md_path, md)
    _write_atomic(html_path, markdown_to_html(md, title))
    return md_path, html_path
