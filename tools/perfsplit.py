"""Split a Go twin's CPU by runtime component, per allocated object, beside gcsim's.

Why
    A twin's figures say *that* gcsim's mutator is cheaper or dearer than Go's,
    not *where*. This tool runs the twin's Go program under ``perf record``,
    sorts every sample of the program's process (not its loop-timing child) by
    the function it landed in, and prints ns per allocated object for each part
    of the runtime next to what gcsim charges for the same part. It is how the
    2026-11-27 notes of issues 4 and 5 split the steady twin's mutator gap
    (sweeping, allocation, allocate-black, page faults, refills).

Usage (Linux, perf installed and allowed: root or kernel.perf_event_paranoid <= 1)::

    GOTOOLCHAIN=local python tools/perfsplit.py steady --gogc 100 --gomaxprocs 1 \
        [--set workload.sites.0.lifetime.live_objects=10000] [--freq 4999] [--runs 2]

Reading it
    Sampling attributes time to the function a sample lands in ("self" time):
    a cache miss shows in the function that waits for it, which need not be
    the one that caused it (an atomic waits for earlier stores). Samples carry
    a few per cent of overhead and the machine's speed drifts, so compare
    parts within one run, and runs made minutes apart with care. gcsim's side
    is exact for compute, sweeping, page faults and allocate-black (its own
    accounting, or event counts times the cost table); "malloc + refill +
    writes" is the rest of gcsim's mutator CPU. Both sides count every
    thread: sweeping by the background sweeper and at gcStart included.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

# First match wins; patterns are searched in the symbol name.
CATEGORIES: list[tuple[str, str]] = [
    ("alloc_black", r"^runtime\.gcmarknewobject$"),
    ("malloc", r"^runtime\.(malloc|memclrNoHeapPointers|heapSetType|nextFreeFast|newobject|"
               r"publicationBarrier|writeHeapBits|deductAssistCredit)|^reflect\.unsafe_New"),
    ("write_barrier", r"gcWriteBarrier|wbBuf"),
    ("sweep", r"sweep|Sweep|moveInlineMarks|newMarkBits|newAllocBits|refillAllocCache|"
              r"nextFreeIndex|countAlloc|tryAcquire"),
    ("refill", r"\(\*mcache\)|\(\*mcentral\)|\(\*mheap\)|allocSpan|pageAlloc|pallocBits|"
               r"initSpan|\(\*mspan\)\.init|nextFree$|fixalloc|summarize|pageCache|"
               r"freeSpan|allocNeedsZero|recordspan"),
    ("scavenge", r"scaveng|sysUnused|sysUsed|madvise"),
    ("mark", r"scan|Scan|gcDrain|greyobject|findObject|markBits|typePointers|markroot|"
             r"spanQueue|spanSPMC|spanSet|gcFlush|putfull|getempty|trygetfull|gcWork|"
             r"gcBgMarkWorker|gcMark|tryGetSpan|ptrmask|extractHeapBits|shade"),
    ("program", r"^main\."),
]


def categorize(sym: str, kernel: bool) -> str:
    if kernel:
        return "kernel"
    for name, pat in CATEGORIES:
        if re.search(pat, sym):
            return name
    return "other"


def perf_samples(data: Path) -> Counter[tuple[int, str]]:
    """(pid, category) -> samples, from ``perf script``."""
    out = subprocess.run(["perf", "script", "-i", str(data), "-F", "pid,ip,sym,dso"],
                         capture_output=True, text=True, check=True).stdout
    counts: Counter[tuple[int, str]] = Counter()
    for line in out.splitlines():
        m = re.match(r"\s*(\d+)\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$", line)
        if not m:
            continue
        pid, sym, dso = int(m[1]), m[2].split("+")[0], m[3]
        counts[(pid, categorize(sym, "kernel" in dso))] += 1
    return counts


def go_split(exe: Path, params: Path, env: dict[str, str], freq: int) -> dict[str, float]:
    """One perf run of the twin: ns per object by category, and the report's totals."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "perf.data"
        proc = subprocess.run(["perf", "record", "-q", "-F", str(freq), "-o", str(data),
                               str(exe), str(params)], env=env, capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            sys.exit(f"perf record failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if not lines:
            sys.exit(f"perfsplit: {exe.name} printed no JSON report:\n{proc.stderr[-2000:]}")
        report = json.loads(lines[-1])
        counts = perf_samples(data)
    by_pid = Counter[int]()
    for (pid, _), n in counts.items():
        by_pid[pid] += n
    main = max(by_pid, key=lambda p: by_pid[p])  # the workload; its loop-timing child is short
    allocs = report["allocs"]
    ns_per_sample = report["cpu_ns"] / by_pid[main]  # RUSAGE_SELF: the process, not the child
    split = {cat: n * ns_per_sample / allocs for (pid, cat), n in counts.items() if pid == main}
    m = report["metrics"]
    split["_total"] = report["cpu_ns"] / allocs
    split["_gc_metric"] = m["/cpu/classes/gc/total:cpu-seconds"] * 1e9 / allocs
    split["_gc_cycles"] = m["/gc/cycles/total:gc-cycles"]
    return split


def sim_split(cfg) -> dict[str, float]:  # noqa: ANN001 - gcsim Config
    """gcsim's CPU per object, split where its counters allow.

    Sweeping is all of it (lazy, proportional, background, and gcStart's
    leftovers), as Go's samples of sweeping code are from any thread; the
    rest of the mutator's CPU, after compute, its own sweeping, page faults,
    allocate-black and scavenge assists, is the allocation paths, refills and
    pointer writes.
    """
    from gcsim.metrics import summary as M
    from gcsim.run import simulate
    from gcsim.validate.speedmatch import sim_cpu_ns_per_alloc

    r = simulate(cfg)
    s = M.summary(r)
    hz = cfg.run.clock_hz
    n = r.counter("C_ALLOCS")
    costs = cfg.costs.as_dict()
    bg = s["background"]
    per_obj = 1e9 / n  # seconds -> ns per object
    outside = (bg["bg_sweep_cpu_s"] + bg["leftover_sweep_cpu_s"]) * per_obj  # not mutator CPU
    out = {
        "program": cfg.workload.compute_ns_per_alloc,
        "sweep": bg["sweep_cpu_s"] * per_obj,
        "kernel": r.counter("C_PAGES_FAULTED") * costs["page_fault_ns"] / n,
        "alloc_black": s["black_allocs"] * costs["alloc_black_ns"] / n,
        "scavenge": (bg["scavenge_assist_cpu_s"] + bg["scavenge_bg_cpu_s"]) * per_obj,
    }
    mut = r.counter("C_MUTATOR_CYCLES") / hz * per_obj
    out["malloc + refill + writes"] = (mut - sum(out.values()) + outside
                                       + bg["scavenge_bg_cpu_s"] * per_obj)
    outside_gc, gc = sim_cpu_ns_per_alloc(r)
    out["_total"] = outside_gc + gc
    out["_gc_metric"] = gc
    out["_gc_cycles"] = s["gc_count"]
    return out


def main(argv: list[str] | None = None) -> int:
    from gcsim.goruntime import gotool
    from gcsim.validate import twins as T

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("twin", help="a folder of validation/ (steady, mixed, ...)")
    ap.add_argument("--gogc", default="100", help="GOGC for both sides (default 100)")
    ap.add_argument("--gomaxprocs", type=int, default=1)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a config override for both sides (repeatable)")
    ap.add_argument("--freq", type=int, default=4999, help="perf samples per second")
    ap.add_argument("--runs", type=int, default=2, help="Go runs (each printed)")
    a = ap.parse_args(argv)
    if shutil.which("perf") is None:
        sys.exit("perfsplit: no perf on PATH")
    twins = T.find_twins(T.default_twins_root())
    if a.twin not in twins:
        sys.exit(f"perfsplit: no twin {a.twin!r}; there are: {', '.join(sorted(twins))}")
    twin = twins[a.twin]
    cfg = T.load_twin_config(twin, [f"runtime.gogc={a.gogc}",
                                    f"run.gomaxprocs={a.gomaxprocs}", *a.set])
    go, version = gotool.find_go(), gotool.go_version()
    if go is None or version is None:
        sys.exit("perfsplit: no Go toolchain (pip install 'gcsim[validate]')")
    exe, _ = T.build_twin(twin, go, version)
    env = T.run_env(cfg.runtime.gogc, a.gomaxprocs, cfg.runtime.gomemlimit)
    with tempfile.TemporaryDirectory() as tmp:
        params = Path(tmp) / "params.json"
        params.write_text(json.dumps(T.twin_params(cfg, twin.name)))
        gos = [go_split(exe, params, env, a.freq) for _ in range(a.runs)]
    sim = sim_split(cfg)
    cats = ["program", "malloc", "alloc_black", "write_barrier", "refill", "sweep", "kernel",
            "scavenge", "mark", "other", "malloc + refill + writes"]
    head = f"{'ns per object':26s}" + "".join(f"{'Go ' + str(i + 1):>9s}" for i in range(len(gos)))
    print(f"{a.twin}, GOGC={a.gogc}, GOMAXPROCS={a.gomaxprocs} {' '.join(a.set)}")
    print(head + f"{'gcsim':>9s}")
    for c in cats:
        vals = [g.get(c) for g in gos] + [sim.get(c)]
        if all(v is None for v in vals):
            continue
        print(f"{c:26s}" + "".join(f"{v:9.1f}" if v is not None else f"{'':9s}" for v in vals))
    for key, label in (("_total", "process CPU"), ("_gc_metric", "GC CPU (runtime/metrics)"),
                       ("_gc_cycles", "GC cycles")):
        print(f"{label:26s}" + "".join(f"{g[key]:9.1f}" for g in gos) + f"{sim[key]:9.1f}")
    print("Go's 'mark' is the samples in marking code (assists run inside mallocgc); gcsim's "
          "'malloc + refill + writes' is the rest of its mutator CPU.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
