"""Heap fragmentation, overall and per size class: HeapInuse - HeapAlloc.

HeapInuse counts whole in-use spans, HeapAlloc the slots allocated in them
(dead objects included until their span is swept), so the difference is the
memory spans hold but objects do not: free slots, the tail each span cannot
fill with a whole object, and the unused part of large objects' last page
(runtime/metrics ``/memory/classes/heap/unused:bytes``; mstats.go). Per size
class it shows where a workload's size mix wastes memory: half-empty spans
of a class that churns, or a class whose tail waste is large.

Computed from the final span records (one row per span, no per-object work):
a span in use contributes ``npages x 8 KiB`` to its class's in-use bytes and
``alloc_count x elemsize`` to its allocated bytes. Class 0 holds large
objects (their own spans). Summed over classes the two columns are exactly
MemStats.HeapInuse and HeapAlloc (a test checks it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gcsim.engine.state import SPAN_INUSE
from gcsim.goruntime import sizeclasses as scl

COLUMNS = (
    "class",
    "bytes_per_obj",
    "spans",
    "objects",
    "inuse_bytes",
    "alloc_bytes",
    "frag_bytes",
    "frag_fraction",
)


def class_occupancy(spans: np.ndarray) -> dict[str, np.ndarray]:
    """Per size class (68 rows): in-use spans, objects, in-use and allocated bytes.

    Parameters
    ----------
    spans : SPAN_DTYPE[n]
        The run's span records (free records are skipped).
    """
    n = scl.NUM_SIZE_CLASSES
    live = spans[spans["state"] == SPAN_INUSE]
    cls = (live["spanclass"] >> 1).astype(np.int64)
    inuse = np.bincount(cls, weights=live["npages"] * scl.PAGE_BYTES, minlength=n)
    alloc = np.bincount(cls, weights=live["alloc_count"] * live["elemsize"], minlength=n)
    return {
        "spans": np.bincount(cls, minlength=n).astype(np.int64),
        "objects": np.bincount(cls, weights=live["alloc_count"], minlength=n).astype(np.int64),
        "inuse_bytes": inuse.astype(np.int64),
        "alloc_bytes": alloc.astype(np.int64),
    }


def fragmentation_table(occ: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Tidy columns (``COLUMNS``) for the classes with at least one span in use."""
    rows = np.flatnonzero(occ["spans"] > 0)
    inuse = occ["inuse_bytes"][rows]
    alloc = occ["alloc_bytes"][rows]
    frag = inuse - alloc
    return {
        "class": rows,
        "bytes_per_obj": np.asarray(scl.CLASS_TO_SIZE_BYTES, dtype=np.int64)[rows],
        "spans": occ["spans"][rows],
        "objects": occ["objects"][rows],
        "inuse_bytes": inuse,
        "alloc_bytes": alloc,
        "frag_bytes": frag,
        "frag_fraction": np.where(inuse > 0, frag / np.maximum(inuse, 1), 0.0),
    }


def fragmentation_summary(occ: dict[str, np.ndarray]) -> dict[str, Any]:
    """Overall figures and the per-class rows, for summary.json."""
    inuse = int(occ["inuse_bytes"].sum())
    alloc = int(occ["alloc_bytes"].sum())
    t = fragmentation_table(occ)
    by_class = [
        {k: (float(t[k][i]) if k == "frag_fraction" else int(t[k][i])) for k in COLUMNS}
        for i in range(len(t["class"]))
    ]
    return {
        "heap_inuse_bytes": inuse,
        "heap_alloc_bytes": alloc,
        "frag_bytes": inuse - alloc,
        "frag_fraction": (inuse - alloc) / inuse if inuse else 0.0,
        "by_class": by_class,
    }


def format_fragmentation(t: dict[str, np.ndarray], top: int | None = None) -> str:
    """A text table, worst classes (most wasted bytes) first; ``top`` limits the rows."""
    order = np.argsort(-np.asarray(t["frag_bytes"]), kind="stable")
    if top is not None:
        order = order[:top]
    head = (
        f"{'class':>5} {'bytes/obj':>9} {'spans':>7} {'objects':>10} {'in use KiB':>11} "
        f"{'alloc KiB':>10} {'frag KiB':>9} {'frag %':>6}"
    )
    lines = [head]
    for i in order:
        size = "large" if t["class"][i] == 0 else str(int(t["bytes_per_obj"][i]))
        lines.append(
            f"{int(t['class'][i]):>5} {size:>9} {int(t['spans'][i]):>7} "
            f"{int(t['objects'][i]):>10} {t['inuse_bytes'][i] / 1024:>11.1f} "
            f"{t['alloc_bytes'][i] / 1024:>10.1f} {t['frag_bytes'][i] / 1024:>9.1f} "
            f"{100 * float(t['frag_fraction'][i]):>6.1f}"
        )
    inuse = float(np.sum(t["inuse_bytes"]))
    frag = float(np.sum(t["frag_bytes"]))
    lines.append(
        f"total: {inuse / 2**20:.2f} MiB in use, {frag / 2**20:.2f} MiB not holding "
        f"objects ({100 * frag / inuse if inuse else 0.0:.1f} %)"
    )
    return "\n".join(lines) + "\n"
