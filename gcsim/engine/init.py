"""Start of a run: the pacer's first goal and trigger, the root tables and the
runtime's own heap objects (rtmem.py).

A Go program that keeps N live objects of a kind holds them in a heap object
of its own (``ring := make([]*T, N)`` reachable from a global). gcsim
allocates one such root table per site with a rooted lifetime, as the program
would at start-up, so its bytes count in the heap and its pointer words in
the scan work exactly as the real program's do.
"""

from __future__ import annotations

import numpy as np

from gcsim.engine._jit import kernel
from gcsim.engine.gccycle import commit_pacer
from gcsim.engine.heap import mallocgc
from gcsim.engine.loop import apply_rate_step
from gcsim.engine.pacer import GO15_INITIAL_TRIGGER_RATIO, heap_minimum
from gcsim.engine.rtmem import RUNTIME_HEAP_OBJECT_BYTES, RUNTIME_HEAP_PTR_WORDS
from gcsim.engine.state import (
    C_FREE_PAGE_HINT,
    C_LAST_HEAP_MARKED_BYTES,
    C_NEXT_SAMPLE_CYCLES,
    F_TRIGGER_RATIO,
    NO_DENSE_SCAN,
    PACER_GO15,
    W_ROOT_LEN,
)


@kernel
def init_run(st, wl, rp, tab, costs):
    """Commit the initial pacer state; allocate the root tables and the runtime's own
    objects on P 0."""
    c = st.counters
    c[C_FREE_PAGE_HINT] = 0
    c[C_NEXT_SAMPLE_CYCLES] = 0
    if rp.pacer == PACER_GO15:
        # Go <= 1.17 primed heapMarked so that the first trigger is heapMinimum.
        st.fstate[F_TRIGGER_RATIO] = GO15_INITIAL_TRIGGER_RATIO
        if rp.gogc >= 0:
            primed = heap_minimum(rp.gogc) / (1.0 + GO15_INITIAL_TRIGGER_RATIO)
            c[C_LAST_HEAP_MARKED_BYTES] = int(primed)
    commit_pacer(st, rp, False, 0)
    apply_rate_step(st, wl, 0)
    out_cost = np.zeros(1)
    # The runtime's objects come first: Go allocates them before main runs.
    for i in range(st.gc.runtime_slots.shape[0]):
        st.gc.runtime_slots[i] = mallocgc(st.heap, c, tab, costs, 0, RUNTIME_HEAP_OBJECT_BYTES,
                                          RUNTIME_HEAP_PTR_WORDS, out_cost)
    # Go's are of many types and sizes, a few to a span, scanned object by object
    # (their measured scan work is under their bytes); these fill whole spans of
    # one class, so those spans are kept off the packed span scan.
    for i in range(st.gc.runtime_slots.shape[0]):
        st.heap.spans[st.heap.slot_span[st.gc.runtime_slots[i]]]["dense_scan_min"] = \
            NO_DENSE_SCAN
    for k in range(wl.site_tab.shape[0]):
        n = wl.site_tab[k, W_ROOT_LEN]
        if n > 0:
            slot = mallocgc(st.heap, c, tab, costs, 0, n * 8, n, out_cost)
            st.heap.slot_site[slot] = -2 - k
            st.gc.root_table_slot[k] = slot
