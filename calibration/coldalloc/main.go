// Command coldalloc checks that the cost table's alloc_* entries hold when
// the heap is far bigger than the cache (gcsim/goruntime/costs.py).
//
// The alloc_* entries come from loops whose heap stays a few MiB (every
// object is garbage at once, calibration/alloc.go), so the slots a loop
// reuses after each GC may still be in the cache. A program whose heap is
// bigger than the cache reuses slots last touched a whole cycle ago; if the
// allocator's zeroing missed on every line, gcsim would need a cost per cold
// line on top of alloc_*.
//
// Each case allocates objects of one size class, each garbage at once,
// beside an untouched pointer-free ballast of L bytes: GOGC=100 then runs a
// GC every ~L bytes of allocation and the allocations cycle through ~L bytes
// of spans, while marking costs one object (the ballast is noscan). Mutator
// CPU per object is runtime/metrics /cpu/classes/user (process time less GC,
// scavenger and idle). A warm-up pass grows the heap to its size and faults
// its pages in; the timed pass allocates 8 L or 256 MiB, whichever is more.
// Rounds go over all (size, L) cases in turn, so a change in the machine's
// speed spreads over all of them; the report is the median per case.
//
// Result on the 2-CPU AMD EPYC VM (go1.27.3, 2026-11-26), medians of five
// rounds, mutator ns per object at L = 1, 4, 16, 64, 256 MiB:
//
//	64 B noscan    34.2  33.0  31.4  25.3  23.7
//	128 B noscan   46.0  40.3  42.0  37.2  26.8
//	512 B noscan   95.7  62.7 107.3 107.5  91.7
//	64 B scan      37.5  31.4  32.5  31.1  25.4
//
// No cold-line cost: the allocator walks a span's slots in address order and
// the hardware prefetcher keeps ahead of it, so a 256 MiB heap allocates as
// cheaply as a 1 MiB one (cheaper: fewer GC cycles, less sweeping per
// object). The table's entries stand for big heaps; no new entry.
//
// Usage (from calibration/): GOTOOLCHAIN=local GOMAXPROCS=1 go run ./coldalloc
package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"unsafe"
)

type scan64 struct {
	a, b unsafe.Pointer
	_    [6]uint64
}

var (
	ballast []byte
	sinkB   []byte
	sinkP   *scan64
)

// churn allocates n objects of the case's kind, each garbage at once.
func churn(kind string, size, n int) {
	switch kind {
	case "noscan":
		for i := 0; i < n; i++ {
			sinkB = make([]byte, size)
		}
	case "scan64":
		for i := 0; i < n; i++ {
			sinkP = new(scan64)
		}
	}
}

var samples = []metrics.Sample{
	{Name: "/cpu/classes/user:cpu-seconds"},
	{Name: "/cpu/classes/gc/total:cpu-seconds"},
	{Name: "/gc/cycles/total:gc-cycles"},
}

func read() (user, gc float64, cycles uint64) {
	metrics.Read(samples)
	return samples[0].Value.Float64(), samples[1].Value.Float64(), samples[2].Value.Uint64()
}

type kase struct {
	kind    string
	size    int
	heapMiB int
	userNs  []float64
	gcNs    []float64
	cycles  []float64
}

func median(x []float64) float64 {
	y := append([]float64(nil), x...)
	sort.Float64s(y)
	return y[len(y)/2]
}

func main() {
	debug.SetGCPercent(100)
	var cases []*kase
	for _, l := range []int{1, 4, 16, 64, 256} {
		for _, k := range []struct {
			kind string
			size int
		}{{"noscan", 64}, {"noscan", 128}, {"noscan", 512}, {"scan64", 64}} {
			cases = append(cases, &kase{kind: k.kind, size: k.size, heapMiB: l})
		}
	}
	const rounds = 5
	for r := 0; r < rounds; r++ {
		for _, c := range cases {
			ballast = nil
			runtime.GC()
			L := c.heapMiB << 20
			ballast = make([]byte, L)
			bytes := max(8*L, 256<<20)
			n := bytes / c.size
			churn(c.kind, c.size, 2*L/c.size+1) // warm-up: grow the heap, fault it in
			u0, g0, n0 := read()
			churn(c.kind, c.size, n)
			u1, g1, n1 := read()
			c.userNs = append(c.userNs, (u1-u0)*1e9/float64(n))
			c.gcNs = append(c.gcNs, (g1-g0)*1e9/float64(n))
			c.cycles = append(c.cycles, float64(n1-n0))
		}
	}
	for _, c := range cases {
		out, _ := json.Marshal(map[string]any{
			"kind": c.kind, "size": c.size, "heap_mib": c.heapMiB,
			"user_ns_per_obj": median(c.userNs), "gc_ns_per_obj": median(c.gcNs),
			"gc_cycles": median(c.cycles), "user_ns_rounds": c.userNs,
		})
		fmt.Println(string(out))
	}
	runtime.KeepAlive(ballast)
}
