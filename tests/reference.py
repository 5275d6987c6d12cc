"""Slow, independent twins of what the engine keeps incrementally (stumpy's naive.py).

The engine tracks reachability through mark bits and heap statistics through
counters it bumps as it goes. The helpers here recompute the same facts from
scratch, from the state arrays alone, in plain NumPy/SciPy (no Numba, no
engine code), so a test can compare the two at any step boundary:

- :func:`reachable` - the object graph walked from the root tables (and the
  runtime's own objects, rooted in its globals);
- :func:`black_to_white` - tri-color violations while marking;
- :func:`heap_counts` - HeapAlloc, object and page counts, per-span and
  per-class allocation counts, free-page and released-page totals;
- :func:`walk_lists` - every mcentral list followed link by link;
- :func:`gogc_next_goal` - Go's GOGC goal formula for one committed cycle.

The object model (gcsim.engine.state): an object is a heap slot; a site with a
rooted lifetime owns a root table (``gc.root_table_slot[k]``) whose pointer
words are ``gc.roots[site_root_base[k]:+site_root_len[k]]``; any other object
with pointer words points through ``heap.edges[slot, j]`` for the ``j`` its
site's refs fill (``j < site_ref_n[site]``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order

from gcsim.engine import state as S
from gcsim.engine.mark import OBLET_SLOT_MASK

PAGE_BYTES = 8192
MiB = 1 << 20
HEAP_MINIMUM_BYTES = 4 * MiB  # defaultHeapMinimum (src/runtime/mgcpacer.go)
SWEEP_MIN_HEAP_DISTANCE_BYTES = MiB  # sweepMinHeapDistance (src/runtime/mgc.go)


# --- workload columns ----------------------------------------------------------------------


def site_col(wl: S.Workload, name: str) -> np.ndarray:
    """Per-site int64 column ``name`` (``"root_base"``, ``"ref_n"``, ...).

    Reads ``wl.site_tab[:, W_<NAME>]`` when the workload packs its per-site
    integers in one table, else the flat ``wl.site_<name>`` array.
    """
    if hasattr(wl, "site_tab"):
        return wl.site_tab[:, getattr(S, "W_" + name.upper())]
    return getattr(wl, "site_" + name)


# --- reachability --------------------------------------------------------------------------


def _graph_edges(st: S.State, wl: S.Workload) -> tuple[np.ndarray, np.ndarray, int]:
    """Directed edges (src, dst) of the object graph, with a virtual root node ``n``."""
    heap, gc = st.heap, st.gc
    n = heap.slot_alloc.shape[0]
    root_base, root_len = site_col(wl, "root_base"), site_col(wl, "root_len")
    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []
    # virtual root -> every root table and the runtime's own objects (no pointers)
    tables = np.concatenate([gc.root_table_slot[gc.root_table_slot >= 0],
                             gc.runtime_slots[gc.runtime_slots >= 0]])
    src.append(np.full(tables.shape[0], n, dtype=np.int64))
    dst.append(tables.astype(np.int64))
    # root table -> the slots its roots hold
    for k in range(gc.root_table_slot.shape[0]):
        t = gc.root_table_slot[k]
        if t < 0:
            continue
        base, length = int(root_base[k]), int(root_len[k])
        r = gc.roots[base : base + length]
        r = r[r >= 0]
        src.append(np.full(r.shape[0], t, dtype=np.int64))
        dst.append(r.astype(np.int64))
    # ordinary pointerful objects -> their filled pointer slots
    m = heap.edges.shape[1]
    if m > 0:
        site = heap.slot_site
        ok = (heap.slot_ptr_words > 0) & (site >= 0)
        nref = np.zeros(n, dtype=np.int64)
        nref[ok] = site_col(wl, "ref_n")[site[ok]]
        cols = np.arange(m)[None, :]
        use = (cols < nref[:, None]) & (heap.edges >= 0)
        rows, js = np.nonzero(use)
        src.append(rows.astype(np.int64))
        dst.append(heap.edges[rows, js].astype(np.int64))
    return np.concatenate(src), np.concatenate(dst), n


def reachable(st: S.State, wl: S.Workload) -> np.ndarray:
    """bool[max_slots]: slots reachable from the root tables (the tables included) and
    the runtime's own objects.

    Follows a freed slot's pointers too if a root still names it: the walk is
    about references, and the caller asserts the targets are allocated.
    """
    src, dst, n = _graph_edges(st, wl)
    g = csr_matrix((np.ones(src.shape[0], dtype=np.int8), (src, dst)), shape=(n + 1, n + 1))
    order = breadth_first_order(g, n, directed=True, return_predecessors=False)
    out = np.zeros(n, dtype=bool)
    order = order[order < n]
    out[order] = True
    return out


def gray_entries(st: S.State) -> np.ndarray:
    """The gray queue's entries (slot, or slot | oblet << OBLET_SHIFT): the span
    queue's at the bottom of ``gc.gray``, the object workbufs' at the top."""
    gray, c = st.gc.gray, st.counters
    top = int(c[S.C_GRAY_OBJ_LEN])
    return np.concatenate([gray[: int(c[S.C_GRAY_LEN])], gray[gray.shape[0] - top:]])


def black_to_white(st: S.State, wl: S.Workload) -> np.ndarray:
    """Pointers (src, dst) from a black object to a white one, as an int64[k, 2] array.

    Black = marked and not on the gray stack; white = unmarked. While marking
    with an insertion + deletion barrier the strong tri-color invariant says
    there are none.
    """
    heap = st.heap
    src, dst, n = _graph_edges(st, wl)
    keep = src < n
    src, dst = src[keep], dst[keep]
    gray = np.zeros(n, dtype=bool)
    gray[gray_entries(st) & OBLET_SLOT_MASK] = True
    black = (heap.slot_mark != 0) & ~gray
    white = heap.slot_mark == 0
    bad = black[src] & white[dst]
    return np.stack([src[bad], dst[bad]], axis=1)


def reachable_naive(st: S.State, wl: S.Workload) -> np.ndarray:
    """:func:`reachable` as a plain breadth-first search (for small states only)."""
    heap, gc = st.heap, st.gc
    n = heap.slot_alloc.shape[0]
    out = np.zeros(n, dtype=bool)
    todo = [int(t) for t in gc.root_table_slot if t >= 0]
    todo += [int(t) for t in gc.runtime_slots if t >= 0]
    for t in todo:
        out[t] = True
    while todo:
        obj = todo.pop()
        site = int(heap.slot_site[obj])
        if site <= -2:
            k = -2 - site
            base = int(site_col(wl, "root_base")[k])
            targets = [int(x) for x in gc.roots[base : base + int(site_col(wl, "root_len")[k])]]
        elif site >= 0 and heap.slot_ptr_words[obj] > 0:
            nref = int(site_col(wl, "ref_n")[site])
            targets = [int(heap.edges[obj, j]) for j in range(nref)]
        else:
            targets = []
        for x in targets:
            if x >= 0 and not out[x]:
                out[x] = True
                todo.append(x)
    return out


# --- heap statistics -------------------------------------------------------------------------


@dataclass
class HeapCounts:
    """Heap statistics recomputed from the arrays."""

    alloc_slots: int  # allocated slots (a tiny block counts once)
    heap_alloc_bytes: int  # sum of elemsize over allocated slots
    pages_inuse: int  # pages of in-use span records
    pages_owned: int  # pages whose page_span names a span record
    pages_released: int  # mapped pages flagged released
    released_but_used: int  # released pages that a span owns (must be 0)
    span_alloc: np.ndarray  # int64[n_span_records]: allocated slots per record
    class_live: np.ndarray  # int64[68]: allocated slots per size class
    freeindex_violations: int  # spans with a free slot below freeindex


def heap_counts(st: S.State) -> HeapCounts:
    """Recompute the heap's statistics from the slot, span and page arrays."""
    heap, c = st.heap, st.counters
    nrec = int(c[S.C_N_SPAN_RECORDS])
    spans = heap.spans[:nrec]
    used = int(c[S.C_N_SLOTS_USED])
    alloc = np.nonzero(heap.slot_alloc[:used])[0]
    owner = heap.slot_span[alloc]
    span_alloc = np.bincount(owner, minlength=nrec).astype(np.int64)
    elemsize = spans["elemsize"][owner]
    classes = spans["spanclass"][owner] >> 1
    class_live = np.bincount(classes, minlength=heap.alloc_by_class.shape[0]).astype(np.int64)
    inuse = spans["state"] == S.SPAN_INUSE
    mapped = int(c[S.C_PAGES_MAPPED])
    owned = heap.page_span[:mapped] >= 0
    released = heap.page_released[:mapped] != 0
    # every slot below freeindex is allocated
    bad_fi = 0
    for s in np.nonzero(inuse & (spans["freeindex"] > 0))[0]:
        b, fi = int(spans[s]["slot_base"]), int(spans[s]["freeindex"])
        if not heap.slot_alloc[b : b + fi].all():
            bad_fi += 1
    return HeapCounts(
        alloc_slots=int(alloc.shape[0]),
        heap_alloc_bytes=int(elemsize.sum()),
        pages_inuse=int(spans["npages"][inuse].sum()),
        pages_owned=int(owned.sum()),
        pages_released=int(released.sum()),
        released_but_used=int((owned & released).sum()),
        span_alloc=span_alloc,
        class_live=class_live,
        freeindex_violations=bad_fi,
    )


def walk_lists(st: S.State) -> tuple[np.ndarray, list[str]]:
    """Follow every mcentral list from its head.

    Returns ``(lengths, problems)``: ``lengths[spanclass, which]`` counted by
    walking, and a description of each broken link, wrong ``list`` tag,
    foreign span class or span found on two lists.
    """
    heap = st.heap
    spans = heap.spans
    nrec = int(st.counters[S.C_N_SPAN_RECORDS])
    lengths = np.zeros_like(heap.list_len)
    seen = np.full(nrec, -1, dtype=np.int64)
    problems: list[str] = []
    nsc, nl = heap.list_head.shape
    for spc in range(nsc):
        for which in range(nl):
            s = int(heap.list_head[spc, which])
            prev = -1
            while s >= 0:
                if s >= nrec:
                    problems.append(f"list ({spc},{which}) names record {s} >= {nrec}")
                    break
                if seen[s] >= 0:
                    problems.append(f"record {s} reached twice (list ({spc},{which}))")
                    break
                seen[s] = spc * nl + which
                rec = spans[s]
                if int(rec["prev"]) != prev:
                    problems.append(f"record {s}: prev {int(rec['prev'])} != {prev}")
                if int(rec["list"]) != which:
                    problems.append(f"record {s} on list {which} tagged {int(rec['list'])}")
                if int(rec["spanclass"]) != spc:
                    problems.append(f"record {s} of class {int(rec['spanclass'])} on {spc}")
                if int(rec["cached_by"]) >= 0:
                    problems.append(f"record {s} both cached and on list ({spc},{which})")
                lengths[spc, which] += 1
                prev = s
                s = int(rec["next"])
    tagged = np.nonzero(spans["list"][:nrec] != S.L_NONE)[0]
    for s in tagged[seen[tagged] < 0]:
        problems.append(f"record {int(s)} tagged list {int(spans[s]['list'])} but on none")
    return lengths, problems


# --- pacer -------------------------------------------------------------------------------------


def gogc_next_goal(heap_marked: int, stack_scan: int, globals_bytes: int, gogc: int) -> int:
    """The goal ``commit`` sets at mark termination with no memory limit.

    ``gcPercentHeapGoal`` = H_m + (H_m + S_s + S_g) * GOGC / 100, at least
    ``heapMinimum`` = 4 MiB * GOGC / 100; ``heapGoalInternal`` then lifts it
    to ``sweepDistMinTrigger`` = heapLive + 1 MiB, heapLive being H_m right
    after ``resetLive`` (sweeping has only just begun).
    """
    goal = heap_marked + (heap_marked + stack_scan + globals_bytes) * gogc // 100
    goal = max(goal, HEAP_MINIMUM_BYTES * gogc // 100)
    return max(goal, heap_marked + SWEEP_MIN_HEAP_DISTANCE_BYTES)


MIN_RUNWAY_BYTES = 64 << 10  # heapGoalInternal's minRunway (src/runtime/mgcpacer.go)


def goal_in_force(committed_goal: int, triggered: int) -> int:
    """The goal while a cycle runs: ``heapGoalInternal`` keeps it at least
    ``minRunway`` past heapLive at the trigger (``c.triggered``)."""
    return max(committed_goal, triggered + MIN_RUNWAY_BYTES)
