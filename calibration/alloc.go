package main

import (
	"runtime"
	"runtime/debug"
	"sort"
	"unsafe"
)

var sink unsafe.Pointer

type allocCase struct {
	loop func(n int)           // n allocations, each stored to sink
	one  func() unsafe.Pointer // one allocation
}

func lookupCase(kind string, size int) allocCase {
	c, ok := allocCases[kind][size]
	if !ok {
		fail("no allocation case %s/%d (see alloc_cases.go)", kind, size)
	}
	return c
}

// storeLoop is the allocation loops without the allocation: the baseline
// subtracted from them.
//
//go:noinline
func storeLoop(n int, p unsafe.Pointer) {
	for i := 0; i < n; i++ {
		sink = p
	}
}

// ballast is a large noscan object that is never touched, so it takes no
// physical memory (fresh pages need no zeroing) and costs one mark per GC.
// It keeps the scavenger away from the free pages the rounds reuse: the
// scavenger retains 110 % of the heap in use at the last mark termination
// (mgcscavenge.go gcPaceScavenger), and with the ballast that exceeds the
// heap's whole footprint.
var ballast []byte

// prewarm maps and faults in `bytes` of heap, then frees it, so the timed
// rounds reuse memory the heap already holds instead of taking page faults
// (the first round of every case is discarded as a second warm-up).
func prewarm(bytes int) {
	ballast = make([]byte, 16*bytes)
	const chunk = 1 << 20
	keep := make([][]byte, 0, bytes/chunk)
	for i := 0; i < bytes/chunk; i++ {
		b := make([]byte, chunk)
		for j := 0; j < chunk; j += 4096 {
			b[j] = 1
		}
		keep = append(keep, b)
	}
	runtime.KeepAlive(keep)
	keep = nil
	runtime.GC()
}

// allocRound runs f with GC off and returns its process CPU time and what
// the heap did meanwhile; then it frees everything with runtime.GC().
//
// GOGC=off keeps the GC and its assists and sweeping out of the timed loop.
// The runtime.GC() afterwards (untimed) frees the round's spans, so the
// next round allocates from swept pages that need zeroing, as a program in
// steady state does. `released` shows whether the scavenger returned any
// of them to the OS meanwhile (see ballast).
func allocRound(f func()) map[string]any {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	f0 := minorFaults()
	c0 := procCPU()
	w0 := nanotime()
	f()
	w1 := nanotime()
	c1 := procCPU()
	f1 := minorFaults()
	runtime.ReadMemStats(&m1)
	sink = nil
	runtime.GC()
	return map[string]any{
		"cpu_ns": c1 - c0, "wall_ns": w1 - w0,
		"inuse_delta": int64(m1.HeapInuse) - int64(m0.HeapInuse),
		"mallocs":     m1.Mallocs - m0.Mallocs,
		"released":    int64(m1.HeapReleased) - int64(m0.HeapReleased),
		"faults":      f1 - f0,
	}
}

// runAlloc: small allocation throughput per size class, GC off.
//
// Per size: rounds of n = budget/size allocations, each its process CPU
// time, the heap-in-use growth (spans taken = growth / span bytes), the page
// faults, and a store-only baseline loop of the same n. Rounds go round
// robin over the sizes (after one warm-up round each), so a change in the
// machine's speed spreads over all sizes. A page fault costs more than a
// whole 8 KiB span, and pages fault again for a while after a run starts
// (the VM faults memory in lazily): gcsim drops rounds with faults.
func runAlloc(o options, common map[string]any) {
	debug.SetGCPercent(-1)
	prewarm(2 * o.budget)
	sizes := intList(o.sizes)
	cases := make([]allocCase, len(sizes))
	ns := make([]int, len(sizes))
	rounds := make([][]map[string]any, len(sizes))
	base := make([][]int64, len(sizes))
	for i, size := range sizes {
		cases[i] = lookupCase(o.kind, size)
		ns[i] = clamp(o.budget/size, 1<<14, 1<<22)
	}
	for r := 0; r <= o.reps; r++ {
		for i := range sizes {
			c, n := cases[i], ns[i]
			rd := allocRound(func() { c.loop(n) })
			c0 := procCPU()
			storeLoop(n, nil)
			b := procCPU() - c0
			if r > 0 {
				rounds[i] = append(rounds[i], rd)
				base[i] = append(base[i], b)
			}
		}
	}
	for i, size := range sizes {
		emit(record(common, "kind", o.kind, "size", size, "n", ns[i], "rounds", rounds[i],
			"base_ns", base[i]))
	}
}

// runLarge: large allocation throughput, GC off (as runAlloc).
func runLarge(o options, common map[string]any) {
	debug.SetGCPercent(-1)
	prewarm(2 * o.budget)
	sizes := intList(o.sizes)
	fs := make([]func(), len(sizes))
	ns := make([]int, len(sizes))
	rounds := make([][]map[string]any, len(sizes))
	for i, size := range sizes {
		n := clamp(o.budget/size, 64, 1<<16)
		ns[i] = n
		if o.kind == "scan" {
			fs[i] = func() {
				for j := 0; j < n; j++ {
					s := make([]unsafe.Pointer, size/8)
					sink = unsafe.Pointer(&s[0])
				}
			}
		} else {
			fs[i] = func() {
				for j := 0; j < n; j++ {
					s := make([]byte, size)
					sink = unsafe.Pointer(&s[0])
				}
			}
		}
	}
	for r := 0; r <= o.reps; r++ {
		for i := range sizes {
			if rd := allocRound(fs[i]); r > 0 {
				rounds[i] = append(rounds[i], rd)
			}
		}
	}
	for i, size := range sizes {
		emit(record(common, "kind", o.kind, "size", size, "n", ns[i], "rounds", rounds[i]))
	}
}

// runRefill: the extra time of the allocations that open a new span.
//
// Each allocation is timed alone (runtime.nanotime around it). For one-page
// size classes an allocation opens a new span exactly when its address is
// on another page than the previous one's. Two sources of spans:
//
//	fresh:   GC off, the heap's free pages: mcache.refill + mcentral.cacheSpan
//	         + mheap.alloc (gcsim: mcache_refill_ns + span_alloc_ns);
//	partial: after a runtime.GC() that left every span half free, the spans
//	         come from mcentral's partial swept list (gcsim: mcache_refill_ns).
//
// The medians of the two groups' times are robust to the occasional
// preemption or interrupt that lands inside one timing. Repetitions go
// round robin over sizes and modes; each record has its page faults.
func runRefill(o options, common map[string]any) {
	debug.SetGCPercent(-1)
	prewarm(o.budget)
	refillRounds(o, common, []string{"fresh", "partial"},
		func(t *allocTimer, c allocCase, n int, mode string) (int, []int64, []int64, int64, []any) {
			m, evt, norm, faults := t.timeEach(c, n, mode)
			return m, evt, norm, faults, []any{"normal_mean_ns", trimmedMean(norm, 0.001)}
		})
}

// refillRounds runs one timing of every size and mode per round, round robin,
// and emits a record of each; round 0 is a warm-up whose records are dropped.
// timeOne returns what allocTimer.timeEach does plus the record's extra fields.
func refillRounds(o options, common map[string]any, modes []string,
	timeOne func(t *allocTimer, c allocCase, n int, mode string) (int, []int64, []int64, int64, []any)) {
	sizes := intList(o.sizes)
	t := newAllocTimer(sizes, o.budget)
	for r := 0; r <= o.reps; r++ {
		for _, size := range sizes {
			c := lookupCase(o.kind, size)
			n := clamp(o.budget/size/2, 1<<12, 1<<20)
			for _, mode := range modes {
				m, evt, norm, faults, extra := timeOne(t, c, n, mode)
				if r == 0 {
					continue
				}
				kv := []any{"kind", o.kind, "size", size, "mode", mode, "n", m,
					"faults", faults, "events", len(evt), "event_median_ns", median(evt),
					"event_p25_ns", quantile(evt, 0.25), "event_p75_ns", quantile(evt, 0.75),
					"normal_median_ns", median(norm)}
				emit(record(common, append(kv, extra...)...))
			}
		}
	}
}

// allocTimer holds the per-allocation time buffers, allocated once so that
// the timed rounds do not grow the heap themselves.
type allocTimer struct {
	d  []int64
	ev []bool
}

func newAllocTimer(sizes []int, budget int) *allocTimer {
	maxN := 0
	for _, size := range sizes {
		maxN = max(maxN, clamp(budget/size/2, 1<<12, 1<<20))
	}
	return &allocTimer{make([]int64, maxN), make([]bool, maxN)}
}

// timeEach times allocations of c one by one ("fresh": n into spans taken
// from the heap's free pages; "partial": 2n allocated first, every other one
// kept, runtime.GC(), then 0.9 n into the half-free swept spans) and splits
// the times into the allocations that opened a span (a new 8 KiB block of
// addresses) and the rest; m is how many were timed, faults the page faults
// meanwhile. It frees what it allocated with runtime.GC() before returning.
func (t *allocTimer) timeEach(c allocCase, n int, mode string) (m int, evt, norm []int64,
	faults int64) {
	d, ev := t.d, t.ev
	m = n
	var keep []unsafe.Pointer
	if mode == "partial" {
		// 2n objects, every other one kept: after runtime.GC() every
		// span they filled is half free.
		keep = make([]unsafe.Pointer, n)
		for i := 0; i < 2*n; i++ {
			p := c.one()
			if i%2 == 0 {
				keep[i/2] = p
			}
		}
		runtime.GC()
		m = n * 9 / 10 // stay within the freed slots
	}
	f0 := minorFaults()
	prev := uintptr(0)
	for i := 0; i < m; i++ {
		t0 := nanotime()
		p := c.one()
		t1 := nanotime()
		d[i] = t1 - t0
		a := uintptr(p)
		ev[i] = a>>13 != prev>>13
		prev = a
		sink = p
	}
	faults = minorFaults() - f0
	runtime.KeepAlive(keep)
	keep = nil
	sink = nil
	runtime.GC()
	evt, norm = split(d[1:m], ev[1:m])
	return m, evt, norm, faults
}

func split(d []int64, ev []bool) (evt, norm []int64) {
	for i, x := range d {
		if ev[i] {
			evt = append(evt, x)
		} else {
			norm = append(norm, x)
		}
	}
	return evt, norm
}

func quantile[T int64 | float64](x []T, q float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := append([]T(nil), x...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[int(q*float64(len(s)-1))])
}

func median[T int64 | float64](x []T) float64 { return quantile(x, 0.5) }

// timeFaultFree times f by this thread's CPU; ok is false if the process took a
// page fault meanwhile (one fault costs more than a chunk of allocations).
func timeFaultFree(f func()) (ns int64, ok bool) {
	f0 := minorFaults()
	t0 := threadCPU()
	f()
	ns = threadCPU() - t0
	return ns, minorFaults() == f0
}

// faultFreeWindow times chunks until n of them took no page fault; it fails
// after 100 n tries. dropped counts the chunks left out.
func faultFreeWindow(n int, chunk func() (int64, bool), what string) (w []int64, dropped int) {
	for tries := 0; len(w) < n; tries++ {
		if tries > 100*n {
			fail("%s: no chunk without a page fault in %d tries", what, 100*n)
		}
		if t, ok := chunk(); ok {
			w = append(w, t)
		} else {
			dropped++
		}
	}
	return w, dropped
}

// trimmedMean drops the top `frac` of the samples (preemptions) and averages.
func trimmedMean(x []int64, frac float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := append([]int64(nil), x...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	s = s[:len(s)-int(frac*float64(len(s)))]
	var sum int64
	for _, v := range s {
		sum += v
	}
	return float64(sum) / float64(len(s))
}

func clamp(v, lo, hi int) int {
	return max(lo, min(v, hi))
}
