// Command concmark checks that the mark costs measured with runtime.GC()
// (the `mark` experiment, gcsim's mark_* entries) hold for marking that runs
// concurrently with an allocating goroutine, as in the twins: assists in
// small slices and the fractional worker between allocations, with the
// allocation churn evicting the cache between them.
//
// One process, GOMAXPROCS=1, the steady twin's live heap: 400,000 64 B
// nodes with two pointer words behind a ring of pointers. It alternates two
// kinds of window, so a change in the machine's speed touches both alike:
//
//	forced: five runtime.GC() calls (the goroutine waits; the workers mark);
//	churn:  the steady twin's loop (a node into the ring, twice as often a
//	        128 B garbage object) at GOGC=100 until five cycles ended.
//
// For each window it takes the mark CPU per cycle from runtime/metrics
// (/cpu/classes/gc/mark/{assist,dedicated,idle}) and prints the medians and
// their ratio as JSON. On the 2-CPU AMD EPYC VM (go1.27.3, 2026-11-26) the
// ratio was 1.00-1.08 over four processes: marking during churn costs what a
// forced GC of the same graph costs. Both kinds showed the VM's two speeds:
// ~11.5 ms per cycle (28 ns per node) and, in some windows, 19-22 ms.
//
// Usage (from calibration/): GOTOOLCHAIN=local GOMAXPROCS=1 go run ./concmark
package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sort"
	"unsafe"
)

const (
	liveNodes = 400_000
	windows   = 8 // the first of each kind is a warm-up
	perWindow = 5 // cycles
)

type node struct {
	p   [2]unsafe.Pointer
	pad [48]byte
}

type garbage struct{ b [128]byte }

var (
	ring []unsafe.Pointer
	sink unsafe.Pointer
)

var names = []string{
	"/cpu/classes/gc/mark/assist:cpu-seconds",
	"/cpu/classes/gc/mark/dedicated:cpu-seconds",
	"/cpu/classes/gc/mark/idle:cpu-seconds",
	"/gc/cycles/total:gc-cycles",
}

// markCPU returns the mark CPU so far in seconds and the cycles so far.
func markCPU() (float64, uint64) {
	s := make([]metrics.Sample, len(names))
	for i := range s {
		s[i].Name = names[i]
	}
	metrics.Read(s)
	return s[0].Value.Float64() + s[1].Value.Float64() + s[2].Value.Float64(), s[3].Value.Uint64()
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func main() {
	ring = make([]unsafe.Pointer, liveNodes)
	for i := range ring {
		ring[i] = unsafe.Pointer(new(node))
	}
	cursor := 0
	rng := uint64(88172645463325252)
	var forced, churn []float64 // mark CPU per cycle, ms
	for w := 0; w < windows; w++ {
		m0, _ := markCPU()
		for k := 0; k < perWindow; k++ {
			runtime.GC()
		}
		m1, _ := markCPU()
		if w > 0 {
			forced = append(forced, (m1-m0)/perWindow*1e3)
		}

		m0, c0 := markCPU()
		c1 := c0
		for c1 < c0+perWindow {
			for j := 0; j < 4096; j++ {
				rng ^= rng >> 12
				rng ^= rng << 25
				rng ^= rng >> 27
				if rng%3 == 0 {
					ring[cursor] = unsafe.Pointer(new(node))
					if cursor++; cursor == liveNodes {
						cursor = 0
					}
				} else {
					sink = unsafe.Pointer(new(garbage))
				}
			}
			_, c1 = markCPU()
		}
		m1, c1 = markCPU()
		if w > 0 {
			churn = append(churn, (m1-m0)/float64(c1-c0)*1e3)
		}
	}
	out, _ := json.Marshal(map[string]any{
		"forced_mark_ms": forced, "churn_mark_ms": churn,
		"forced_median_ms": median(forced), "churn_median_ms": median(churn),
		"churn_over_forced": median(churn) / median(forced),
	})
	fmt.Println(string(out))
}
