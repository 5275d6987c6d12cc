package main

import (
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"unsafe"
)

// The graph's objects. root holds the graph (a global, so it is reached from
// the data/BSS roots like a Go program's long-lived references).
type (
	leaf16 [16]byte // noscan
	node8  struct{ p [8]unsafe.Pointer }
	node2  struct {
		p   [2]unsafe.Pointer
		pad [48]byte
	} // 64 B with two pointer words, the steady twin's node
)

var (
	root       []unsafe.Pointer
	graphSpans int
)

// countSpans counts the spans (pages, for one-page size classes) that
// objects allocated in order occupy.
func countSpans(objs []unsafe.Pointer) int {
	spans := 0
	prev := uintptr(0)
	for _, p := range objs {
		if a := uintptr(p); a>>13 != prev>>13 {
			spans++
			prev = a
		}
	}
	return spans
}

// buildGraph makes the live graph of one mark experiment (GC off while
// building, so the objects sit in allocation order):
//
//	empty    nothing (the fixed cost of a cycle)
//	nil      root: n nil pointer words
//	noscan   n 16 B noscan objects; root points to each once
//	noscan2  the same objects; root points to each twice (2n words)
//	scan8    n 64 B objects of 8 pointer words, k of them non-nil; root
//	         points to each once
//	scan2    n 64 B objects with 2 pointer words (k <= 2 non-nil)
//
// order "seq": root lists objects in allocation order (noscan2: the list
// twice) and object i points to i+1..i+k, the locality of data built in
// order. "rand": root is shuffled and objects point to random objects.
// It returns the objects, pointers followed and pointer words of the graph;
// graphSpans is set to the spans its small objects fill.
func buildGraph(kind, order string, n, k int) (objects, pointers, words int) {
	rng := xorshift(0x9E3779B97F4A7C15)
	root = nil
	graphSpans = 0
	switch kind {
	case "empty":
		return 0, 0, 0
	case "nil":
		root = make([]unsafe.Pointer, n)
		return 1, 0, n
	case "noscan", "noscan2":
		objs := make([]unsafe.Pointer, n)
		for i := range objs {
			objs[i] = unsafe.Pointer(new(leaf16))
		}
		graphSpans = countSpans(objs)
		if kind == "noscan2" {
			objs = append(objs, objs...)
		}
		if order == "rand" {
			rng.shuffle(objs)
		}
		root = objs
		return 1 + n, len(objs), len(objs)
	case "scan8", "scan2":
		pw := 8
		if kind == "scan2" {
			pw = 2
		}
		if k > pw {
			fail("k=%d > %d pointer words", k, pw)
		}
		objs := make([]unsafe.Pointer, n)
		for i := range objs {
			if kind == "scan8" {
				objs[i] = unsafe.Pointer(new(node8))
			} else {
				objs[i] = unsafe.Pointer(new(node2))
			}
		}
		graphSpans = countSpans(objs)
		for i, p := range objs {
			ptrs := (*[8]unsafe.Pointer)(p)[:pw:pw]
			for j := 0; j < k; j++ {
				if order == "rand" {
					ptrs[j] = objs[rng.intn(n)]
				} else {
					ptrs[j] = objs[(i+1+j)%n]
				}
			}
		}
		if order == "rand" {
			rng.shuffle(objs)
		}
		root = objs
		return 1 + n, n + n*k, n + n*pw
	}
	fail("unknown graph kind %q", kind)
	return
}

// measureGC runs one runtime.GC() and returns what it cost.
func measureGC() map[string]any {
	g0 := readGCCPU()
	f0 := minorFaults()
	c0 := procCPU()
	w0 := nanotime()
	runtime.GC()
	w1 := nanotime()
	c1 := procCPU()
	f1 := minorFaults()
	g1 := readGCCPU()
	return map[string]any{
		"mark_ns": g1.mark - g0.mark, "pause_ns": g1.pause - g0.pause,
		"proc_ns": c1 - c0, "wall_ns": w1 - w0, "faults": f1 - f0,
	}
}

// runMark: runtime.GC() over live graphs, GOMAXPROCS=1, GC otherwise off.
// -graphs lists kind:order:n:k; repetitions go round robin over them, so a
// change in the machine's speed spreads over all graphs: build the graph, one
// runtime.GC() to sweep the previous graph's garbage, one measured.
// gcsim fits the cost per object, per pointer and per word from the
// differences between graphs (process CPU; mark_ns is runtime/metrics'
// wall-clock view of the same marking).
func runMark(o options, common map[string]any) {
	debug.SetGCPercent(-1)
	type graph struct {
		kind, order                     string
		n, k                            int
		objects, pointers, words, spans int
		gcs                             []map[string]any
	}
	var graphs []*graph
	for _, spec := range strings.Split(o.graphs, ",") {
		f := strings.Split(spec, ":")
		if len(f) != 4 {
			fail("bad graph %q (want kind:order:n:k)", spec)
		}
		n, _ := strconv.Atoi(f[2])
		k, _ := strconv.Atoi(f[3])
		graphs = append(graphs, &graph{kind: f[0], order: f[1], n: n, k: k})
	}
	for r := 0; r <= o.reps; r++ {
		for _, g := range graphs {
			g.objects, g.pointers, g.words = buildGraph(g.kind, g.order, g.n, g.k)
			g.spans = graphSpans
			runtime.GC()
			if m := measureGC(); r > 0 {
				g.gcs = append(g.gcs, m)
			}
		}
	}
	root = nil
	for _, g := range graphs {
		emit(record(common, "kind", g.kind, "order", g.order, "n", g.n, "k", g.k,
			"objects", g.objects, "pointers", g.pointers, "words", g.words, "spans", g.spans,
			"globals_bytes", metricUint("/gc/scan/globals:bytes"), "gcs", g.gcs))
	}
}

// runSweep: the sweeping a runtime.GC() does after objects die.
//
// Per repetition: allocate n 64 B noscan objects (GC off) and keep only the
// first object of each span, then
//
//	GC "sparse": marks one object per span and sweeps every span, each of
//	             which stays in use with one object (gcsim: sweep_span_ns);
//	GC "dead":   after dropping those, sweeps and frees every span
//	             (gcsim: sweep_free_span_ns);
//	GC "empty":  nothing to mark or sweep (the fixed part).
//
// Process CPU throughout: the marking in "sparse" is one pointer and one
// noscan object per span, which gcsim subtracts using the "mark" results;
// runtime.GC's own sweep loop yields after every span, which the "sched"
// experiment measures.
func runSweep(o options, common map[string]any) {
	debug.SetGCPercent(-1)
	for r := 0; r <= o.reps; r++ {
		keep := make([]unsafe.Pointer, 0, o.n/64+1)
		prev := uintptr(0)
		for i := 0; i < o.n; i++ {
			p := unsafe.Pointer(new([64]byte))
			if a := uintptr(p); a>>13 != prev>>13 {
				keep = append(keep, p)
				prev = a
			} else {
				sink = p
			}
		}
		sink = nil
		spans := len(keep)
		sparse := measureGC()
		runtime.KeepAlive(keep)
		keep = nil
		dead := measureGC()
		empty := measureGC()
		if r == 0 {
			continue
		}
		emit(record(common, "n", o.n, "spans", spans, "sparse", sparse, "dead", dead,
			"empty", empty))
	}
}

// runSched: the cost per span of the goroutine switches in runtime.GC()'s
// sweep loop, without the sweeping. runtime.GC sweeps one span and calls
// Gosched; the background sweeper, runnable too, sweeps ten and yields
// (mgcsweep.go bgsweep, goschedIfBusy). Two goroutines do the same with no
// work; CPU / (their iterations as spans) is the overhead per span.
func runSched(o options, common map[string]any) {
	for r := 0; r <= o.reps; r++ {
		stop := make(chan struct{})
		done := make(chan int)
		go func() {
			spans := 0
			for {
				select {
				case <-stop:
					done <- spans
					return
				default:
				}
				spans += 10
				runtime.Gosched()
			}
		}()
		runtime.Gosched()
		c0 := procCPU()
		for i := 0; i < o.n; i++ {
			runtime.Gosched()
		}
		c1 := procCPU()
		close(stop)
		other := <-done
		alone0 := procCPU()
		for i := 0; i < o.n; i++ {
			runtime.Gosched()
		}
		alone1 := procCPU()
		if r == 0 {
			continue
		}
		emit(record(common, "n", o.n, "other_spans", other, "cpu_ns", c1-c0,
			"alone_cpu_ns", alone1-alone0))
	}
}
