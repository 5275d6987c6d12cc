"""Fit the cost table from the records of ``calibration/`` (``gcsim calibrate``).

Each fit takes medians over every repetition of every pass, then takes
differences between experiments so that what an entry does not cover
cancels. Symbols (ns unless noted): ``w`` per pointer word scanned, ``p``
per non-nil pointer followed, ``o`` per pointerful object scanned, ``nso``
per noscan object marked; the model charges a scan object ``o + pw*w + k*p``
and each first pointer to a noscan object ``p + nso`` (gcsim/engine/mark.py).

``METHODS`` states the mapping for every entry; ``fit_costs`` returns the
entries with the raw numbers they come from. An entry is left out (and its
seed stays) when an experiment gives no usable value; the reason is logged.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from gcsim.calibrate import CalibrationError
from gcsim.goruntime import sizeclasses as scl
from gcsim.goruntime.costs import SIZE_SPECIALISED_MAX_BYTES

log = logging.getLogger(__name__)

STACK_GUARD_BYTES = 928  # stackGuard on linux/amd64 (src/runtime/stack.go)
STACK_FRAME_BYTES = 256  # the frame size stack_copy_ns_per_byte is quoted at

METHODS: dict[str, str] = {
    "alloc_fast_ns": "alloc: GC off, process CPU per new(T) minus a store-only loop, minus the "
                     "spans taken (HeapInuse growth) x the refill 'fresh' event cost; relative "
                     "non-negative least squares over all noscan and scan sizes 8 B-32 KiB of "
                     "alloc_ns = intercept + per-byte slope x slot bytes, with one intercept for "
                     "each of mallocgc's paths (size-specialised up to 80 B or not; noscan or "
                     "scan) and one slope for noscan and one for scan objects: the "
                     "size-specialised noscan intercept",
    "alloc_fast_scan_ns": "the size-specialised (<= 80 B) scan intercept of the alloc_fast_ns fit",
    "alloc_small_ns": "the noscan intercept over 80 B of the alloc_fast_ns fit",
    "alloc_small_scan_ns": "the scan intercept over 80 B of the alloc_fast_ns fit",
    "alloc_zero_ns_per_byte": "the noscan slope of the alloc_fast_ns fit",
    "alloc_scan_ns_per_byte": "the scan slope of the alloc_fast_ns fit",
    "alloc_tiny_ns": "alloc: 1, 2, 4, 8 B noscan objects (16, 8, 4, 2 per tiny block); "
                     "per-allocation cost regressed on 1/objects per block: intercept",
    "mcache_refill_ns": "refill 'partial': per-allocation timing after a GC left every span half "
                        "free; median time of the allocations that open a span minus the median "
                        "of the others (16 B, 512 B noscan; 64 B, 256 B scan)",
    "span_alloc_ns": "refill 'fresh' (GC off, spans from the heap's free pages) event cost minus "
                     "mcache_refill_ns",
    "large_alloc_ns": "large: GC off, process CPU per make([]byte, n) for 36 KiB-1 MiB; "
                      "relative least squares of large_alloc_ns + large_alloc_ns_per_byte * "
                      "page-rounded bytes: intercept",
    "large_alloc_ns_per_byte": "the slope of the large_alloc_ns fit (zeroing the object)",
    "mark_object_ns": "mark (Green Tea, GOMAXPROCS=1): process CPU of runtime.GC() over live "
                      "graphs held by a root slice, minus an empty GC and the sweep of the "
                      "graph's spans, per object: 8 Mi nil words (w); 2 Mi 16 B noscan objects "
                      "referenced once (w + p + nso) and twice (2w + 2p + nso); 1 Mi 64 B objects "
                      "of 8 pointer words with k = 0, 2, 4, 8 pointers to the next objects "
                      "(o + 9w + (k + 1)p) and of 2 pointer words (o + 3w + p); objects in "
                      "allocation order. Relative non-negative least squares for w, p, o, nso "
                      "(raw: measured vs model per graph; 'rand' = shuffled graphs, not used)",
    "mark_pointer_ns": "p of the mark_object_ns fit",
    "mark_scan_word_ns": "w of the mark_object_ns fit",
    "mark_noscan_object_ns": "nso of the mark_object_ns fit",
    "mark_object_classic_ns": "o of the mark_object_ns fit on a GOEXPERIMENT=nogreenteagc build, "
                              "w and nso fixed at the Green Tea values (the model shares them), "
                              "p and o by relative non-negative least squares together",
    "mark_pointer_classic_ns": "p of the mark_object_classic_ns fit",
    "mark_root_word_ns": "mark 'empty' of a build with 32 MiB of nil pointer-typed BSS minus "
                         "the plain build, per BSS word",
    "mark_cycle_ns": "stw 'churn': gctrace mark CPU (assist + background + idle) of cycles "
                     "triggered by allocation over a one-object ring at GOMAXPROCS=1, median, "
                     "minus the binary's globals at mark_root_word_ns and the runtime's own "
                     "heap objects (engine/rtmem.py) at mark_object_ns and mark_scan_word_ns "
                     "(raw: the same at GOMAXPROCS=2)",
    "sweep_span_ns": "sweep: 2 Mi 64 B noscan objects, one kept per span; process CPU of "
                     "runtime.GC() minus an empty one, per span, minus the marking of the kept "
                     "object and the per-span goroutine switch of runtime.GC's sweep loop (sched)",
    "sweep_free_span_ns": "sweep: the next runtime.GC(), every span freed; per span, minus the "
                          "sweep loop's goroutine switch (sched)",
    "stw_sweep_term_ns": "stw: gctrace clock 'a' (sweep termination) at GOMAXPROCS=1 of cycles "
                         "triggered by allocation churn over 400k live 64 B objects, median "
                         "(+0.5 us for gctrace's truncation to us), minus stw_per_p_ns "
                         "(raw: also runtime.GC() over an empty heap)",
    "stw_mark_term_ns": "stw: gctrace clock 'c' (mark termination), as stw_sweep_term_ns",
    "stw_per_p_ns": "stw: slope of the median mark-termination pause over GOMAXPROCS = 1, 2, "
                    "4, 8 with the other Ps idle (stop and restart one more P); the extra "
                    "sweep-termination time of waking a mark worker's thread is in raw, "
                    "not in the model",
    "stw_stop_running_ns": "stw: median mark-termination pause at GOMAXPROCS=2 with a "
                           "goroutine spinning on the other P minus the same with it idle",
    "pointer_write_ns": "wb: thread CPU per store of a heap pointer into a 4096-slot heap slice, "
                        "no GC running (the loop included)",
    "write_barrier_ns": "wb: the same stores while another goroutine runs runtime.GC() back to "
                        "back (GOMAXPROCS=2; chunks with the barrier on throughout), minus "
                        "pointer_write_ns; the stored objects are already marked",
    "stack_copy_ns_per_byte": f"stack: thread CPU of a recursion to ~1 MiB of "
                              f"{STACK_FRAME_BYTES} B frames in a new goroutine minus the same "
                              "recursion again, per byte copied (stack sizes before each "
                              "doubling)",
}


def _med(xs: Iterable[float]) -> float:
    a = np.asarray(list(xs), dtype=np.float64)
    return float(np.median(a)) if a.size else float("nan")


def _r(x: float, digits: int = 4) -> float:
    """Round to ``digits`` significant digits (for the raw tables)."""
    return float(f"{x:.{digits}g}") if np.isfinite(x) else float("nan")


def slot_of(size: int, scan: bool) -> tuple[int, int]:
    """(slot bytes, span pages) of a small allocation, Go's size-class rule."""
    if size > scl.MAX_SMALL_ALLOC_BYTES:
        raise ValueError(f"{size} B is a large object")
    s = size + scl.MALLOC_HEADER_BYTES if scan and size > scl.MIN_SIZE_FOR_MALLOC_HEADER_BYTES \
        else size
    if s <= scl.SMALL_SIZE_MAX - 8:
        sc = int(scl.SIZE_TO_CLASS8[(s + 7) >> 3])
    else:
        sc = int(scl.SIZE_TO_CLASS128[(s - scl.SMALL_SIZE_MAX + 127) >> 7])
    return int(scl.CLASS_TO_SIZE_BYTES[sc]), int(scl.CLASS_TO_NPAGES[sc])


_Floats = list[float] | np.ndarray


def _linfit(x: _Floats, y: _Floats, rel: bool = False) -> tuple[float, float]:
    """Least squares y = a + b x (relative errors if ``rel``); returns (a, b)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    A = np.stack([np.ones_like(x), x], axis=1)
    if rel:
        A, y = A / y[:, None], np.ones_like(y)
    (a, b), *_ = np.linalg.lstsq(A, y, rcond=None)
    return float(a), float(b)


class _Fit:
    """Accumulates entries: value, raw numbers, method."""

    def __init__(self) -> None:
        self.costs: dict[str, float] = {}
        self.entries: dict[str, dict[str, Any]] = {}

    def set(self, name: str, value: float, raw: dict[str, Any]) -> None:
        if not np.isfinite(value) or value <= 0:
            log.warning("calibrate: %s fitted to %.4g (not > 0); its default stays", name, value)
            self.entries[name] = {"raw": raw, "method": METHODS[name],
                                  "note": f"fitted {value:.4g} <= 0: not used"}
            return
        self.costs[name] = float(f"{value:.4g}")
        self.entries[name] = {"raw": raw, "method": METHODS[name]}


def fit_costs(records: dict[tuple[str, str], list[dict[str, Any]]],
              traces: dict[tuple[int, str], list[str]]) -> tuple[dict[str, float],
                                                                  dict[str, dict[str, Any]]]:
    """Fit every entry the records allow.

    Parameters
    ----------
    records : dict
        ``(variant, experiment) -> JSON records`` of calibration/ runs.
    traces : dict
        ``(GOMAXPROCS, label) -> stderr texts`` of the ``stw`` runs (gctrace); label
        "0" or "1" spinning goroutines, "live" (allocation-triggered cycles) or "churn"
        (the same over a one-object heap).

    Returns
    -------
    costs : dict of str to float
        Entry name -> ns, in ``COSTS`` order, 4 significant digits.
    entries : dict
        Entry name -> ``{"raw": {...}, "method": str}``.
    """
    from gcsim.goruntime.costs import COSTS

    f = _Fit()
    get = lambda v, e: records.get((v, e), [])  # noqa: E731
    events = _fit_refill(f, get("greentea", "refill"))
    _fit_alloc(f, get("greentea", "alloc"), events)
    _fit_large(f, get("greentea", "large"))
    sched = _med(r["cpu_ns"] / (r["n"] + r["other_spans"]) for r in get("greentea", "sched"))
    gt = _mark_table(get("greentea", "mark"))
    r1 = gt.get(("noscan", "seq", 0), {}).get("per_obj", float("nan"))
    live_span = _fit_sweep(f, get("greentea", "sweep"), sched, r1)
    v = _fit_mark(f, gt, live_span, classic=False, gt=None)
    if v:
        _fit_mark(f, _mark_table(get("classic", "mark")), live_span, classic=True, gt=v)
    _fit_roots(f, get("bigglobals", "mark"), get("greentea", "mark"))
    _fit_wb(f, get("greentea", "wb"))
    _fit_stack(f, get("greentea", "stack"))
    _fit_stw(f, traces)
    _fit_mark_cycle(f, traces, get("greentea", "mark"))
    costs = {n: f.costs[n] for n in COSTS if n in f.costs}
    entries = {n: f.entries[n] for n in COSTS if n in f.entries}
    return costs, entries


# --- allocation ---------------------------------------------------------------


def _fit_refill(f: _Fit, recs: list[dict[str, Any]]) -> float:
    by_mode: dict[str, list[float]] = defaultdict(list)
    raw: dict[str, Any] = {}
    for r in recs:
        if r.get("faults", 0) > r["events"] / 50:
            continue  # page faults in over 2 % of the span openings
        extra = r["event_median_ns"] - r["normal_median_ns"]
        by_mode[r["mode"]].append(extra)
        raw.setdefault(f"{r['mode']}_{r['kind']}_{r['size']}", []).append(_r(extra))
    fresh, partial = _med(by_mode["fresh"]), _med(by_mode["partial"])
    raw = {"event_extra_ns": raw, "fresh_median_ns": _r(fresh), "partial_median_ns": _r(partial)}
    if recs:
        f.set("mcache_refill_ns", partial, raw)
        f.set("span_alloc_ns", fresh - partial, raw)
    return fresh if np.isfinite(fresh) else 0.0


def _fault_free(rounds: list[dict[str, Any]], nbytes: int) -> list[dict[str, Any]]:
    """The rounds that took page faults on under 1 % of the pages they allocated (a
    fault costs more than a whole span), else the one with the fewest."""
    ok = [rd for rd in rounds if rd.get("faults", 0) <= nbytes / 4096 / 100]
    return ok or sorted(rounds, key=lambda rd: rd.get("faults", 0))[:1]


def _alloc_rows(recs: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, float]]:
    """(kind, size) -> medians over all rounds: ns per alloc, base, spans per alloc."""
    acc: dict[tuple[str, int], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in recs:
        key = (r["kind"], r["size"])
        n = r["n"]
        npages = 1 if r["kind"] == "tiny" else slot_of(r["size"], r["kind"] == "scan")[1]
        for rd in _fault_free(r["rounds"], n * r["size"]):
            acc[key]["t"].append(rd["cpu_ns"] / n)
            acc[key]["spans"].append(max(rd["inuse_delta"], 0) / (npages * scl.PAGE_BYTES) / n)
        acc[key]["base"] += [b / n for b in r["base_ns"]]
    return {k: {name: _med(v) for name, v in d.items()} for k, d in acc.items()}


# The small-allocation model: one intercept per path (size-specialised or not,
# noscan or scan) and one slope per slot byte for noscan and for scan objects.
_ALLOC_TERMS = ("alloc_fast_ns", "alloc_fast_scan_ns", "alloc_small_ns", "alloc_small_scan_ns",
                "alloc_zero_ns_per_byte", "alloc_scan_ns_per_byte")


def _alloc_row(kind: str, size: int, slot: int) -> list[float]:
    row = [0.0] * len(_ALLOC_TERMS)
    scan = kind == "scan"
    row[(0 if size <= SIZE_SPECIALISED_MAX_BYTES else 2) + int(scan)] = 1.0
    row[5 if scan else 4] = float(slot)
    return row


def _fit_alloc(f: _Fit, recs: list[dict[str, Any]], event_ns: float) -> None:
    from scipy.optimize import nnls

    rows = _alloc_rows(recs)
    A, ys, keys, table = [], [], [], {}
    for (kind, size), m in sorted(rows.items()):
        c = m["t"] - m["base"] - m["spans"] * event_ns
        table[f"{kind}_{size}"] = {"ns_per_alloc": _r(m["t"]), "loop_ns": _r(m["base"]),
                                   "spans_per_alloc": _r(m["spans"]), "alloc_ns": _r(c)}
        if kind != "tiny" and c > 0:
            A.append(_alloc_row(kind, size, slot_of(size, kind == "scan")[0]))
            ys.append(c)
            keys.append(f"{kind}_{size}")
    M, y = np.asarray(A), np.asarray(ys)
    # Every term needs a measured size; else the fit cannot tell it apart.
    if len(ys) >= len(_ALLOC_TERMS) and np.all((M != 0).sum(axis=0) >= 2):
        sol, _ = nnls(M / y[:, None], np.ones_like(y))  # relative least squares
        for key, model in zip(keys, M @ sol, strict=True):
            table[key]["model_ns"] = _r(model)
        raw = {"per_size": table, "refill_event_ns": _r(event_ns)}
        f.set(_ALLOC_TERMS[0], sol[0], raw)
        for name, v in zip(_ALLOC_TERMS[1:], sol[1:], strict=True):
            f.set(name, v, {"see": "alloc_fast_ns"})
    tiny = [(16 // size, m["t"] - m["base"]) for (kind, size), m in rows.items()
            if kind == "tiny"]
    if len(tiny) >= 2:
        a, b = _linfit([1 / per for per, _ in tiny], [c for _, c in tiny])
        f.set("alloc_tiny_ns", a, {"per_size": {k: v for k, v in table.items()
                                                if k.startswith("tiny")},
                                   "new_block_ns": _r(a + b)})


def _fit_large(f: _Fit, recs: list[dict[str, Any]]) -> None:
    per: dict[int, list[float]] = defaultdict(list)
    for r in recs:
        per[r["size"]] += [rd["cpu_ns"] / r["n"]
                           for rd in _fault_free(r["rounds"], r["n"] * r["size"])]
    if len(per) < 2:
        return
    sizes = sorted(per)
    slots = [-(-s // scl.PAGE_BYTES) * scl.PAGE_BYTES for s in sizes]
    t = [_med(per[s]) for s in sizes]
    a, b = _linfit(slots, t, rel=True)
    raw = {"ns_per_alloc": {str(s): _r(x) for s, x in zip(sizes, t, strict=True)},
           "model_ns": {str(s): _r(a + b * x) for s, x in zip(sizes, slots, strict=True)}}
    f.set("large_alloc_ns", a, raw)
    f.set("large_alloc_ns_per_byte", b, {"see": "large_alloc_ns"})


# --- marking and sweeping -----------------------------------------------------


def _mark_table(recs: list[dict[str, Any]]) -> dict[Any, dict[str, float]]:
    """(kind, order, k) -> medians: proc ns per GC, minus the empty GC; sizes."""
    procs: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    meta: dict[tuple[str, str, int], dict[str, Any]] = {}
    for r in recs:
        key = (r["kind"], "seq" if r["kind"] in ("empty", "nil") else r["order"], r["k"])
        procs[key] += [g["proc_ns"] for g in r["gcs"]]
        meta[key] = r
    base = _med(procs.get(("empty", "seq", 0), [float("nan")]))
    out: dict[Any, dict[str, float]] = {}
    for key, ps in procs.items():
        r = meta[key]
        net = _med(ps) - base
        out[key] = {"net": net, "base": base, "n": r["n"], "words": r["words"],
                    "spans": r.get("spans", 0),
                    "per_obj": net / r["n"] if r["n"] else float("nan")}
    return out


def _fit_sweep(f: _Fit, recs: list[dict[str, Any]], sched: float, mark_ref: float) -> float:
    """Fit the sweep entries; return the cost of sweeping one live span (for mark)."""
    if not recs:
        return 0.0
    sparse = _med((r["sparse"]["proc_ns"] - r["empty"]["proc_ns"]) / r["spans"] for r in recs)
    dead = _med((r["dead"]["proc_ns"] - r["empty"]["proc_ns"]) / r["spans"] for r in recs)
    sched = sched if np.isfinite(sched) else 0.0
    mark_ref = mark_ref if np.isfinite(mark_ref) else 0.0
    raw = {"sparse_gc_ns_per_span": _r(sparse), "dead_gc_ns_per_span": _r(dead),
           "sched_ns_per_span": _r(sched), "mark_kept_object_ns": _r(mark_ref),
           "spans": recs[0]["spans"]}
    f.set("sweep_span_ns", sparse - sched - mark_ref, raw)
    f.set("sweep_free_span_ns", dead - sched, raw)
    return sparse - mark_ref


# Per-object cost of each mark graph in the model's terms: coefficients of
# (w, p, o, nso). A root slice word costs w, plus p if non-nil; a scan object
# costs o + pw * w + k * p; the first pointer to a noscan object adds nso.
def _mark_row(kind: str, k: int) -> list[float]:
    return {"nil": [1, 0, 0, 0], "noscan": [1, 1, 0, 1], "noscan2": [2, 2, 0, 1],
            "scan8": [9, k + 1, 1, 0], "scan2": [3, k + 1, 1, 0]}[kind]


def mark_graph_ns(recs: list[dict[str, Any]], kind: str, order: str, k: int) -> float:
    """A ``mark`` run's cost of one graph: median GC process CPU less the empty GC's,
    ns per object (both graphs must be in ``recs``).

    Raises
    ------
    CalibrationError
        ``recs`` lacks the graph or the empty one.
    """
    t = _mark_table(recs)
    key = (kind, order, k)
    if key not in t or ("empty", "seq", 0) not in t or not t[key]["n"]:
        raise CalibrationError(f"mark records lack the {kind}:{order}:k{k} graph or the empty one")
    return t[key]["net"] / t[key]["n"]


def mark_graph_model_ns(kind: str, k: int, ns: Callable[[str], float], *, classic: bool,
                        spans_per_object: float) -> float:
    """The cost table's price of marking one object of a calibration graph and its
    share of the live spans' sweep, ns: what ``mark_graph_ns`` measures.

    ``ns`` maps a cost entry's name to its value (``CostsConfig.ns``); Green Tea
    and classic share the word and noscan entries (``_fit_mark``).
    """
    sfx = "_classic_ns" if classic else "_ns"
    w, p, o, nso = _mark_row(kind, k)
    return (w * ns("mark_scan_word_ns") + p * ns("mark_pointer" + sfx)
            + o * ns("mark_object" + sfx) + nso * ns("mark_noscan_object_ns")
            + spans_per_object * ns("sweep_span_ns"))


def _fit_mark(f: _Fit, t: dict[Any, dict[str, float]], live_span: float, classic: bool,
              gt: dict[str, float] | None) -> dict[str, float]:
    """Fit the mark entries of one build; return the fitted {w, p, o, nso} of the
    "seq" graphs.

    p is the slope of the 8-pointer-word objects' cost over k, which neither w
    nor o affect; then w, o and nso by relative non-negative least squares
    over all graphs. For the classic build w and nso stay at the Green Tea
    values ``gt`` (the model shares them) and p and o are fitted together:
    classic scans a nil word faster than Green Tea, which with Green Tea's w
    leaves no room for o once p is the slope, so p and o share the difference.
    """
    from scipy.optimize import nnls

    def per(key: tuple[str, str, int]) -> float:
        m = t[key]
        words_or_objs = m["words"] if key[0] == "nil" else m["n"]
        return (m["net"] - m["spans"] * live_span) / words_or_objs

    raw: dict[str, Any] = {"live_span_sweep_ns": _r(live_span)}
    fitted: dict[str, dict[str, float]] = {}
    for order in ("seq", "rand"):
        keys = [key for key in t if key[0] != "empty" and (key[1] == order or key[0] == "nil")]
        ks = sorted(k for kind, _, k in keys if kind == "scan8")
        if len(ks) < 2:
            continue
        p = _linfit(ks, [per(("scan8", order, k)) for k in ks])[1]
        A = np.array([_mark_row(kind, k) for kind, _, k in keys], dtype=np.float64)
        y = np.array([per(key) for key in keys])
        if gt is None:
            rest = y - A[:, 1] * p
            cols = [0, 2, 3]  # w, o, nso
        else:
            rest = y - A[:, 0] * gt["w"] - A[:, 3] * gt["nso"]
            cols = [1, 2]  # p, o
        B = A[:, cols]
        use = (y > 0) & (B.sum(axis=1) > 0)
        sol, _ = nnls(B[use] / y[use, None], rest[use] / y[use])
        v = {"w": gt["w"], "nso": gt["nso"]} if gt is not None else {}
        v.update({"p": p, "p_slope": p})
        v.update({("w", "p", "o", "nso")[c]: float(x) for c, x in zip(cols, sol, strict=True)})
        fitted[order] = v
        model = A @ np.array([v["w"], v["p"], v["o"], v["nso"]])
        raw[order] = {
            "per_object_ns": {f"{kind}_k{k}": {"measured": _r(m), "model": _r(mo)}
                              for (kind, _, k), m, mo in zip(keys, y, model, strict=True)},
            **{name: _r(x) for name, x in v.items()},
        }
    if "seq" not in fitted:
        return {}
    v = fitted["seq"]
    suffix = "_classic_ns" if classic else "_ns"
    f.set("mark_object" + suffix, v["o"], raw)
    f.set("mark_pointer" + suffix, v["p"], {"see": "mark_object" + suffix})
    if not classic:
        f.set("mark_scan_word_ns", v["w"], {"see": "mark_object_ns"})
        f.set("mark_noscan_object_ns", v["nso"], {"see": "mark_object_ns"})
    return v


def _fit_roots(f: _Fit, big: list[dict[str, Any]], plain: list[dict[str, Any]]) -> None:
    big_e = [g["proc_ns"] for r in big if r["kind"] == "empty" for g in r["gcs"]]
    plain_e = [g["proc_ns"] for r in plain if r["kind"] == "empty" for g in r["gcs"]]
    if not big_e or not plain_e:
        return
    words = big[0]["big_globals_words"]
    raw = {"empty_gc_big_ns": _r(_med(big_e)), "empty_gc_plain_ns": _r(_med(plain_e)),
           "words": words, "globals_bytes_big": big[0]["globals_bytes"]}
    f.set("mark_root_word_ns", (_med(big_e) - _med(plain_e)) / words, raw)


def _trace_lines(traces: dict[tuple[int, str], list[str]], key: tuple[int, str],
                 forced: bool) -> list[Any]:
    """The gctrace lines of every run under ``key``, forced or not, each run's first
    two cycles left out (start-up)."""
    from gcsim.metrics.gctrace import parse_gctrace

    return [ln for text in traces.get(key, [])
            for ln in [ln for ln in parse_gctrace(text) if ln.forced == forced][2:]]


def _fit_mark_cycle(f: _Fit, traces: dict[tuple[int, str], list[str]],
                    plain: list[dict[str, Any]]) -> None:
    from gcsim.goruntime.costs import COSTS

    globals_bytes = [r["globals_bytes"] for r in plain if r["kind"] == "empty"]
    if not globals_bytes:
        return
    from gcsim.engine.rtmem import RUNTIME_HEAP_OBJECTS, RUNTIME_HEAP_PTR_WORDS

    def cost(name: str) -> float:
        return f.costs.get(name, COSTS[name].default_ns)

    globals_ns = globals_bytes[0] // 8 * cost("mark_root_word_ns")
    # The runtime's own heap objects, which gcsim marks as objects (engine/rtmem.py).
    runtime_ns = RUNTIME_HEAP_OBJECTS * (cost("mark_object_ns")
                                         + RUNTIME_HEAP_PTR_WORDS * cost("mark_scan_word_ns"))
    per_cycle: dict[int, float] = {}
    raw: dict[str, Any] = {"globals_bytes": globals_bytes[0], "globals_ns": _r(globals_ns),
                           "runtime_heap_ns": _r(runtime_ns)}
    for P in (1, 2):
        cpu = [ln.mark_cpu_ms * 1e6 for ln in _trace_lines(traces, (P, "churn"), forced=False)]
        if cpu:
            per_cycle[P] = _med(cpu) - globals_ns - runtime_ns
            raw[f"p{P}"] = {"mark_cpu_median_ns": _r(_med(cpu)), "cycles": len(cpu),
                            "fixed_ns": _r(per_cycle[P])}
    if 1 in per_cycle:
        f.set("mark_cycle_ns", per_cycle[1], raw)


# --- mutator, stacks, pauses --------------------------------------------------


def _fit_wb(f: _Fit, recs: list[dict[str, Any]]) -> None:
    if not recs:
        return
    off = _med(x / r["chunk"] for r in recs for x in r["off_ns"])
    on = _med(x / r["chunk"] for r in recs for x in r["on_ns"])
    words = _med(x / r["chunk"] for r in recs for x in r["words_ns"])
    raw = {"store_off_ns": _r(off), "store_on_ns": _r(on), "word_store_ns": _r(words),
           "chunks_on": sum(len(r["on_ns"]) for r in recs)}
    f.set("pointer_write_ns", off, raw)
    f.set("write_barrier_ns", on - off, raw)


def _stack_copied(used: int, start: int) -> int:
    """Bytes copied growing a stack from ``start`` until ``used`` fits: the sum of the
    sizes before each doubling (the stack is full when it grows)."""
    size = start
    while size < used + STACK_GUARD_BYTES:
        size *= 2
    return size - start


def _fit_stack(f: _Fit, recs: list[dict[str, Any]]) -> None:
    per_frame: dict[int, list[float]] = defaultdict(list)
    copied: dict[int, int] = {}
    for r in recs:
        copied[r["frame"]] = _stack_copied(r["used_bytes"], r["starting_size"])
        per_frame[r["frame"]].append((r["first_ns"] - r["second_ns"]) / copied[r["frame"]])
    if STACK_FRAME_BYTES not in per_frame:
        return
    frames = sorted(per_frame)
    nsb = [_med(per_frame[fr]) for fr in frames]
    raw: dict[str, Any] = {"ns_per_byte_by_frame": {str(fr): _r(x) for fr, x in
                                                    zip(frames, nsb, strict=True)},
                           "bytes_copied": {str(fr): copied[fr] for fr in frames}}
    if len(frames) >= 2:
        a, b = _linfit([1 / fr for fr in frames], nsb)
        raw["fit_ns_per_byte"] = _r(a)
        raw["fit_ns_per_frame"] = _r(b)
    f.set("stack_copy_ns_per_byte", _med(per_frame[STACK_FRAME_BYTES]), raw)


def _fit_stw(f: _Fit, traces: dict[tuple[int, str], list[str]]) -> None:

    def pauses(key: tuple[int, str]) -> tuple[float, float, int]:
        """Median sweep- and mark-termination pauses, ns. gctrace truncates to whole
        microseconds here, so half a microsecond is added back."""
        # runtime.GC() cycles ("forced") or, for "live", allocation-triggered ones
        lines = _trace_lines(traces, key, forced=key[1] != "live")
        a = [ln.sweep_term_ms * 1e6 + 500 for ln in lines]
        c = [ln.mark_term_ms * 1e6 + 500 for ln in lines]
        return _med(a), _med(c), len(a)

    idle = {P: pauses((P, "0")) for P, k in sorted(traces) if k == "0"}
    if 1 not in idle or len(idle) < 2:
        return
    a2b, c2b, n2b = pauses((2, "1"))
    raw: dict[str, Any] = {f"p{P}_idle": {"sweep_term_ns": _r(a), "mark_term_ns": _r(c),
                                          "cycles": n} for P, (a, c, n) in idle.items()}
    raw["p2_busy"] = {"sweep_term_ns": _r(a2b), "mark_term_ns": _r(c2b), "cycles": n2b}
    # Mark termination grows by the cost of stopping and restarting one more
    # P. Sweep termination also wakes a thread for each idle P that gets a
    # mark worker (~50 us per wake-up here), which the model does not have;
    # it is left in raw.
    Ps = sorted(idle)
    per_p = _linfit(Ps, [idle[P][1] for P in Ps])[1]
    f.set("stw_per_p_ns", per_p, raw)
    # A P running a goroutine has to be preempted and its thread's stop
    # waited for: mark termination with the other P busy minus idle.
    if n2b and 2 in idle:
        f.set("stw_stop_running_ns", c2b - idle[2][1], {"see": "stw_per_p_ns"})
    if not per_p > 0:
        return
    # The fixed parts from cycles triggered by allocation over a live heap
    # when there are any: they pause 2-4x longer than runtime.GC() over an
    # empty heap, and they are what the model simulates.
    a1, c1, n1 = pauses((1, "live"))
    raw["p1_live"] = {"sweep_term_ns": _r(a1), "mark_term_ns": _r(c1), "cycles": n1}
    if not n1:
        a1, c1, _ = idle[1]
    f.set("stw_sweep_term_ns", a1 - per_p, {"see": "stw_per_p_ns"})
    f.set("stw_mark_term_ns", c1 - per_p, {"see": "stw_per_p_ns"})
