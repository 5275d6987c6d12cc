// Command program is the Go side of the twin workloads in validation/<name>/
// whose folder has no main.go of its own: the same workload as the folder's
// config.toml, written as a real Go program.
//
// It reads its parameters from the JSON file named by its only argument; the
// gcsim validate harness writes that file from the gcsim config
// (gcsim/validate/twins.py twin_params, so the two cannot drift), runs this
// program with GOGC, GOMAXPROCS, GOMEMLIMIT and GODEBUG=gctrace=1 set, and
// reads the gctrace lines on stderr and the one JSON line this program prints
// on stdout when it is done.
//
// The workload, as gcsim models it (gcsim/engine/loop.py run_p_quantum):
//
//  1. One goroutine per P (GOMAXPROCS of them) allocates until the run's
//     max_allocs objects are allocated, split evenly; every object counts,
//     children included, and the count is checked before each step, as
//     gcsim checks it.
//  2. Each step picks a site at random by weight among the sites still
//     allocating (a per-goroutine xorshift64* generator; a few ns). A site
//     that reaches its max_allocs stops being picked (gcsim's retire_site);
//     sites of weight 0 are allocated only as children.
//  3. The object is an instance of a struct type built with reflect.StructOf:
//     pointer_words unsafe.Pointer fields and then a byte array up to
//     size_bytes, so Go puts it in the same size class and span class gcsim
//     does. It is allocated through reflect.unsafe_New, which is
//     runtime.mallocgc(size, typ, true), the same call new(T) makes. The
//     program then writes one byte in each 4 KiB page of the object's
//     pointer-free part, as a program uses what it allocates: pages fresh
//     from the OS or back from the scavenger fault there (mallocgc does not
//     clear them), and gcsim charges those faults.
//  4. children[j] >= 0 is a "child" ref: pointer slot j of the object gets a
//     new object of that site, allocated with its parent, depth first, the
//     last slot's subtree first (gcsim's allocation stack). The store goes
//     through the write barrier as gcsim's write_pointer does. Other slots
//     stay nil.
//  5. The object is then published in its site's root table, a
//     make([]unsafe.Pointer, live_objects/GOMAXPROCS) held for the whole run
//     (gcsim allocates the same tables at start-up, engine/init.py):
//     "fifo" overwrites the oldest entry; "immortal" fills the next free
//     entry (max_allocs entries, never overwritten); "exponential" fills the
//     table, then overwrites a uniformly random entry; "transient" objects
//     are dropped at once.
//  6. compute_ns_per_alloc is all the work a step does outside mallocgc, per
//     object: the program times its own loop first, in a child process
//     (measureLoop: the same loop with mallocgc replaced by a load) and spins
//     only the rest before each allocation, children included, so Go does
//     what gcsim charges. The report carries both
//     (loop_ns_per_alloc, spin_ns_per_alloc); a loop slower than the config
//     asks is one the twin cannot honour, and the harness says so.
//
// With trace_pacer, goroutine 0 reads runtime/metrics every 4096 steps and
// records, for each GC cycle it sees end, the exact marked heap, heap goal,
// stack and globals scan bytes (gctrace prints them truncated to MB) and the
// heap objects allocated so far (tiny ones excluded; at most 4096 steps late),
// which places the cycle in the run. A read of the metrics costs ~2 us (go
// test -bench, go1.27.3, busy 2-CPU EPYC), about 1 % of the ~200 us the 4096
// steps take.
//
// If the config asks for run.final_gc, runtime.GC() runs before the final
// statistics are read, as gcsim's final forced cycle.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"gcsim.dev/validation/goreport"
)

// unsafe_New is runtime.reflect_unsafe_New: mallocgc(typ.Size_, typ, true).
//
//go:linkname unsafe_New reflect.unsafe_New
func unsafe_New(typ unsafe.Pointer) unsafe.Pointer

type site struct {
	Name         string  `json:"name"`
	Weight       float64 `json:"weight"`
	SizeBytes    int     `json:"size_bytes"`
	PointerWords int     `json:"pointer_words"`
	Lifetime     string  `json:"lifetime"`     // transient, fifo, immortal or exponential
	LiveObjects  int     `json:"live_objects"` // root-table entries (0 for transient)
	MaxAllocs    int64   `json:"max_allocs"`   // 0: no cap
	Children     []int   `json:"children"`     // per pointer slot: child site index, -1 nil
}

type params struct {
	Twin              string  `json:"twin"`
	Seed              uint64  `json:"seed"`
	MaxAllocs         int64   `json:"max_allocs"`
	ComputeNsPerAlloc float64 `json:"compute_ns_per_alloc"`
	FinalGC           bool    `json:"final_gc"`
	TracePacer        bool    `json:"trace_pacer"`
	Sites             []site  `json:"sites"`
}

// objType builds the struct type of a site's objects.
func objType(s site) reflect.Type {
	var fields []reflect.StructField
	for i := 0; i < s.PointerWords; i++ {
		fields = append(fields, reflect.StructField{
			Name: fmt.Sprintf("P%d", i), Type: reflect.TypeFor[unsafe.Pointer]()})
	}
	if pad := s.SizeBytes - 8*s.PointerWords; pad > 0 {
		fields = append(fields, reflect.StructField{Name: "Pad", Type: reflect.ArrayOf(pad, reflect.TypeFor[byte]())})
	}
	if len(fields) == 0 {
		fields = append(fields, reflect.StructField{Name: "Pad", Type: reflect.TypeFor[[1]byte]()})
	}
	return reflect.StructOf(fields)
}

// abiType is the *abi.Type inside a reflect.Type (its interface data word).
func abiType(t reflect.Type) unsafe.Pointer {
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&t))[1]
}

// spin does n iterations of a dependent multiply-add chain from x and
// returns the result, which the caller keeps in memory of its own: a shared
// sink written by every goroutine bounced one cache line between the Ps on
// each object and made the mutator at GOMAXPROCS=2 1.5-2x slower per object
// than at 1.
func spin(x uint64, n int) uint64 {
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

// probeSink keeps spinIterations' probe from being optimized away.
var probeSink uint64

// spinIterations returns the iterations of spin that take about ns nanoseconds.
func spinIterations(ns float64) int {
	if ns <= 0 {
		return 0
	}
	const probe = 1 << 22
	t0 := time.Now()
	probeSink = spin(probeSink, probe)
	perIter := float64(time.Since(t0).Nanoseconds()) / probe
	return int(ns/perIter + 0.5)
}

const (
	lifeTransient = iota
	lifeFIFO
	lifeImmortal
	lifeExponential
)

var lifetimes = map[string]int{"transient": lifeTransient, "fifo": lifeFIFO,
	"immortal": lifeImmortal, "exponential": lifeExponential}

// pacerNames are the runtime/metrics read for each cycle with trace_pacer.
var pacerNames = []string{
	"/gc/cycles/total:gc-cycles",
	"/gc/heap/live:bytes",
	"/gc/heap/goal:bytes",
	"/gc/scan/stack:bytes",
	"/gc/scan/globals:bytes",
	"/gc/heap/allocs:objects",
}

// A worker's hot fields (rng, done, sink) and its small per-site slices
// (lineAlone) sit on cache lines no other worker writes.
type worker struct {
	_        [64]byte
	sink     uint64 // spin's result
	types    []unsafe.Pointer
	touch    [][2]int // per site: first byte past the pointer words, object size
	children [][]int
	life     []int
	weights  []float64
	caps     []int64 // this goroutine's share of each site's max_allocs, -1 none
	cum      []uint64
	rings    [][]unsafe.Pointer
	cursors  []int
	counts   []int64
	allocs   int64 // objects to allocate
	done     int64
	rng      uint64
	spinN    int
	trace    bool
	samples  []metrics.Sample
	lastGC   uint64
	pacer    [][]uint64       // per observed cycle end: pacerNames values
	dry      []unsafe.Pointer // measureLoop: one preallocated object per site
	_        [64]byte
}

// lineAlone returns n 8-byte words with a cache line of padding on each side.
func lineAlone[T int | int64 | uint64](n int) []T {
	return make([]T, n+16)[8 : 8+n : 8+n]
}

func (w *worker) next() uint64 {
	// xorshift64*
	w.rng ^= w.rng >> 12
	w.rng ^= w.rng << 25
	w.rng ^= w.rng >> 27
	return w.rng * 2685821657736338717
}

// rebuild sets the cumulative weights, scaled to 2^64-1, of the sites still
// allocating; it returns false when none is.
func (w *worker) rebuild() bool {
	var total float64
	for i, wt := range w.weights {
		if w.caps[i] < 0 || w.counts[i] < w.caps[i] {
			total += wt
		}
	}
	if total <= 0 {
		return false
	}
	acc := 0.0
	last := -1
	for i, wt := range w.weights {
		if w.caps[i] < 0 || w.counts[i] < w.caps[i] {
			acc += wt
			if wt > 0 {
				last = i
			}
		}
		w.cum[i] = uint64(acc / total * float64(^uint64(0)))
	}
	for i := last; i < len(w.cum); i++ {
		w.cum[i] = ^uint64(0)
	}
	return true
}

// alloc allocates one object of site s and, depth first, its children.
func (w *worker) alloc(s int) unsafe.Pointer {
	if w.spinN > 0 {
		w.sink = spin(w.sink, w.spinN)
	}
	var p unsafe.Pointer
	if w.dry != nil {
		p = w.dry[s]
	} else {
		p = unsafe_New(w.types[s])
		// Use the object as a program would: a write to each 4 KiB page of
		// its pointer-free part. mallocgc does not zero memory fresh from the
		// OS (go1.27 also skips it for spans whose pages were all scavenged),
		// so these writes are where such pages fault, which gcsim charges
		// when the span takes the pages. Not in measureLoop: its loop runs
		// sites past their max_allocs, and the stores are a few ns a page.
		for off := w.touch[s][0]; off < w.touch[s][1]; off += 4096 {
			*(*byte)(unsafe.Add(p, off)) = 1
		}
	}
	w.done++
	ch := w.children[s]
	for j := len(ch) - 1; j >= 0; j-- {
		if ch[j] >= 0 {
			*(*unsafe.Pointer)(unsafe.Add(p, 8*j)) = w.alloc(ch[j])
		}
	}
	return p
}

func (w *worker) samplePacer() {
	metrics.Read(w.samples)
	n := w.samples[0].Value.Uint64()
	if n == w.lastGC {
		return
	}
	w.lastGC = n
	row := make([]uint64, len(w.samples))
	for i := range w.samples {
		row[i] = w.samples[i].Value.Uint64()
	}
	w.pacer = append(w.pacer, row)
}

func (w *worker) run() {
	nSites := len(w.types)
	if !w.rebuild() {
		return
	}
	for steps := 0; w.done < w.allocs; steps++ {
		if w.trace && steps&4095 == 0 {
			w.samplePacer()
		}
		r := w.next()
		s := 0
		for s < nSites-1 && r > w.cum[s] {
			s++
		}
		p := w.alloc(s)
		if ring := w.rings[s]; ring != nil {
			c := w.cursors[s]
			switch w.life[s] {
			case lifeFIFO:
				ring[c] = p
				if c++; c == len(ring) {
					c = 0
				}
			case lifeImmortal:
				ring[c] = p
				// The site's cap stops it at the end of its table; only
				// measureLoop, which has no caps, wraps.
				if c++; c == len(ring) {
					c = 0
				}
			case lifeExponential:
				if c < len(ring) {
					ring[c] = p
					c++
				} else {
					ring[int((w.next()>>32)*uint64(len(ring))>>32)] = p
				}
			}
			w.cursors[s] = c
		}
		w.counts[s]++
		if w.caps[s] >= 0 && w.counts[s] >= w.caps[s] && !w.rebuild() {
			break
		}
	}
	if w.trace {
		w.samplePacer()
	}
}

func procCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// measureLoop returns the CPU time per object of w's loop with mallocgc
// replaced by a load of one preallocated object per site: the site draw, the
// children, the root-table store and the counters, what gcsim's config has to
// count as compute. It runs in the measuring child (loopInChild), with GC
// off, on w's own root tables. Median of five rounds of 2^20 objects after a
// warm-up round (~0.1 s in all).
func measureLoop(w *worker) float64 {
	const perRound = 1 << 20
	nSites := len(w.types)
	dry := &worker{types: w.types, touch: w.touch, children: w.children, life: w.life, weights: w.weights,
		caps: make([]int64, nSites), cum: make([]uint64, nSites), rings: w.rings,
		cursors: make([]int, nSites), counts: make([]int64, nSites), rng: w.rng,
		dry: make([]unsafe.Pointer, nSites)}
	for i := range dry.caps {
		dry.caps[i] = -1
		dry.dry[i] = unsafe_New(w.types[i])
	}
	var rounds []float64
	for r := 0; r <= 5; r++ {
		dry.done, dry.allocs = 0, perRound
		t0 := procCPU()
		dry.run()
		if t1 := procCPU(); r > 0 && t0 >= 0 && t1 >= t0 {
			rounds = append(rounds, float64(t1-t0)/float64(dry.done))
		}
	}
	if len(rounds) == 0 {
		return 0
	}
	sort.Float64s(rounds)
	return rounds[len(rounds)/2]
}

// measureEnv set makes the program time its loop (measureLoop), print
// {"loop_ns_per_alloc": ns} and exit, without running the workload.
const measureEnv = "GCSIM_TWIN_MEASURE_LOOP"

// loopInChild runs this program with measureEnv set and the same arguments
// and returns the loop time it prints. Its gctrace output is dropped.
func loopInChild() float64 {
	exe, err := os.Executable()
	if err != nil {
		fail("timing the loop: %v", err)
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), measureEnv+"=1")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) { // the child's own message is its last stderr line
			lines := strings.Split(strings.TrimSpace(string(ee.Stderr)), "\n")
			err = fmt.Errorf("%v: %s", err, lines[len(lines)-1])
		}
		fail("timing the loop: %v", err)
	}
	var r struct {
		LoopNs float64 `json:"loop_ns_per_alloc"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		fail("timing the loop: %v in %q", err, out)
	}
	return r.LoopNs
}

// share is goroutine g's part of n split evenly over procs goroutines.
func share(n int64, g, procs int) int64 {
	k := n / int64(procs)
	if int64(g) < n%int64(procs) {
		k++
	}
	return k
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "program: "+format+"\n", args...)
	os.Exit(2)
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: program PARAMS.json")
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail("%v", err)
	}
	var prm params
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&prm); err != nil {
		fail("%s: %v", os.Args[1], err)
	}
	if prm.MaxAllocs <= 0 || len(prm.Sites) == 0 {
		fail("%s: need max_allocs > 0 and at least one site", os.Args[1])
	}
	var total float64
	for _, s := range prm.Sites {
		if s.Weight < 0 || s.SizeBytes < 1 || s.PointerWords < 0 || 8*s.PointerWords > s.SizeBytes {
			fail("site %q: bad weight, size or pointer words", s.Name)
		}
		life, ok := lifetimes[s.Lifetime]
		if !ok {
			fail("site %q: lifetime %q not supported", s.Name, s.Lifetime)
		}
		if (life == lifeTransient) != (s.LiveObjects == 0) {
			fail("site %q: live_objects %d does not fit lifetime %q", s.Name, s.LiveObjects, s.Lifetime)
		}
		if len(s.Children) > s.PointerWords {
			fail("site %q: %d children for %d pointer words", s.Name, len(s.Children), s.PointerWords)
		}
		for _, c := range s.Children {
			if c >= len(prm.Sites) {
				fail("site %q: child site %d out of range", s.Name, c)
			}
		}
		total += s.Weight
	}
	if total <= 0 {
		fail("no site has a weight > 0")
	}
	// The loop is timed in a child process (this program again, with
	// measureEnv set), so this process's heap and GC start exactly as the
	// workload does: its root tables trigger the first cycle at a low GOGC,
	// which marks while the workers allocate, as gcsim's does.
	// Everything slow happens before the root tables exist.
	measuring := os.Getenv(measureEnv) != ""
	loopNs, spinNs, spinN := 0.0, 0.0, 0
	if measuring {
		debug.SetGCPercent(-1) // no cycle during the timing
	} else {
		loopNs = loopInChild()
		spinNs = max(0, prm.ComputeNsPerAlloc-loopNs)
		spinN = spinIterations(spinNs)
	}
	procs := runtime.GOMAXPROCS(0)
	nSites := len(prm.Sites)
	types := make([]unsafe.Pointer, nSites)
	touch := make([][2]int, nSites)
	children := make([][]int, nSites)
	life := make([]int, nSites)
	weights := make([]float64, nSites)
	for i, s := range prm.Sites {
		types[i] = abiType(objType(s))
		touch[i] = [2]int{8 * s.PointerWords, s.SizeBytes}
		children[i] = s.Children
		life[i] = lifetimes[s.Lifetime]
		weights[i] = s.Weight
	}

	// Workers and their root tables: each site's entries and max_allocs, split
	// evenly over the Ps.
	workers := make([]*worker, procs)
	for g := range workers {
		w := &worker{types: types, touch: touch, children: children, life: life, weights: weights,
			caps: lineAlone[int64](nSites), cum: lineAlone[uint64](nSites),
			rings: make([][]unsafe.Pointer, nSites), cursors: lineAlone[int](nSites),
			counts: lineAlone[int64](nSites), allocs: share(prm.MaxAllocs, g, procs),
			rng:   prm.Seed*0x9E3779B97F4A7C15 + uint64(g) + 1,
			trace: prm.TracePacer && g == 0}
		for i, s := range prm.Sites {
			w.caps[i] = -1
			if s.MaxAllocs > 0 {
				w.caps[i] = share(s.MaxAllocs, g, procs)
			}
			if n := int(share(int64(s.LiveObjects), g, procs)); n > 0 {
				w.rings[i] = make([]unsafe.Pointer, n)
			}
		}
		if w.trace {
			w.samples = make([]metrics.Sample, len(pacerNames))
			for i, n := range pacerNames {
				w.samples[i].Name = n
			}
		}
		workers[g] = w
	}

	// Every worker runs the same loop; spin the rest of compute_ns_per_alloc.
	if measuring {
		out, _ := json.Marshal(map[string]float64{"loop_ns_per_alloc": measureLoop(workers[0])})
		fmt.Println(string(out))
		return
	}
	for _, w := range workers {
		w.spinN = spinN
	}

	goreport.Start()
	start := time.Now()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if prm.FinalGC {
		runtime.GC()
	}
	// with trace_pacer: [gc cycles, heap live, goal, stack scan, globals scan] per cycle end
	goreport.Print(prm.Twin, procs, prm.MaxAllocs, elapsed, map[string]any{"pacer": workers[0].pacer,
		"loop_ns_per_alloc": loopNs, "spin_ns_per_alloc": spinNs})
	runtime.KeepAlive(workers)
}
