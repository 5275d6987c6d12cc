// Command steadyloop measures the steady twin's per-allocation mutator work:
// the part of the twin program's worker loop (validation/steady, worker.run)
// that is not mallocgc, which gcsim's config carries as
// workload.compute_ns_per_alloc.
//
// It runs the twin's loop body with unsafe_New replaced by a load of a
// preallocated object of the site (xorshift64*, the site search, the ring
// store and cursor update all stay), one goroutine, timed by process CPU.
//
// gcsim's cost table already charges, per allocation, the mallocgc fast path
// (alloc_fast_ns, calibrated as new(T) minus a store-only loop, so the call
// itself is in it) and the ring store of a fifo site's object
// (pointer_write_ns; one allocation in three, the node site). So
//
//	compute_ns_per_alloc = noalloc_ns_per_iter - pointer_write_ns / 3
//
// Usage (from calibration/): GOTOOLCHAIN=local go run ./steadyloop [-n N] [-reps 5];
// prints one JSON line. The measurement and the value used are in
// validation/steady/config.toml.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"syscall"
	"unsafe"
)

// The steady twin's sites (validation/steady/config.toml): a 64 B node with
// two pointer words kept in a 400,000-entry FIFO ring, weight 1; a 128 B
// pointer-free buffer, weight 2, dropped at once.
type node struct {
	P0, P1 unsafe.Pointer
	Pad    [48]byte
}

type buf struct{ Pad [128]byte }

func procCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

type worker struct {
	objs    []unsafe.Pointer
	cum     []uint64
	rings   [][]unsafe.Pointer
	cursors []int
	rng     uint64
}

// run is the twin's worker.run with the allocation replaced by a load.
func (w *worker) run(n int64) {
	rng := w.rng
	nSites := len(w.objs)
	for i := int64(0); i < n; i++ {
		rng ^= rng >> 12
		rng ^= rng << 25
		rng ^= rng >> 27
		r := rng * 2685821657736338717
		s := 0
		for s < nSites-1 && r > w.cum[s] {
			s++
		}
		p := w.objs[s]
		if ring := w.rings[s]; ring != nil {
			c := w.cursors[s]
			ring[c] = p
			c++
			if c == len(ring) {
				c = 0
			}
			w.cursors[s] = c
		}
	}
	w.rng = rng
}

func median(x []float64) float64 {
	y := append([]float64(nil), x...)
	sort.Float64s(y)
	return y[len(y)/2]
}

func main() {
	n := flag.Int64("n", 20_000_000, "loop iterations per round")
	reps := flag.Int("reps", 5, "timed rounds, after one warm-up round")
	flag.Parse()
	w := &worker{
		objs:    []unsafe.Pointer{unsafe.Pointer(new(node)), unsafe.Pointer(new(buf))},
		cum:     []uint64{uint64(1.0 / 3.0 * float64(^uint64(0))), ^uint64(0)},
		rings:   [][]unsafe.Pointer{make([]unsafe.Pointer, 400_000), nil},
		cursors: make([]int, 2),
		rng:     0x9E3779B97F4A7C15 + 1,
	}
	var rounds []float64
	for r := 0; r <= *reps; r++ {
		t0 := procCPU()
		w.run(*n)
		if r > 0 {
			rounds = append(rounds, float64(procCPU()-t0)/float64(*n))
		}
	}
	out, _ := json.Marshal(map[string]any{
		"n": *n, "reps": *reps, "noalloc_ns_per_iter": median(rounds), "rounds": rounds,
	})
	fmt.Fprintln(os.Stdout, string(out))
}
