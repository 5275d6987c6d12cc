// Command scavenge measures what returning free heap pages to the OS costs,
// the cost table's scavenge_ns_per_page (gcsim/goruntime/costs.py).
//
// Each round maps and touches 512 MiB of heap in 64 KiB blocks, drops it,
// collects twice (so every page is free and swept), and then times
// debug.FreeOSMemory, which scavenges every free page, against a plain
// runtime.GC. The difference over the pages released (HeapReleased growth,
// in 8 KiB runtime pages) is the per-page cost of scavenging: madvise plus
// the page allocator's bookkeeping. Wall time, one goroutine; the median
// round is printed last as JSON.
//
// Usage (from calibration/): GOTOOLCHAIN=local go run ./scavenge
package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
	"time"
)

var keep [][]byte

func released() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapReleased
}

func main() {
	var perPage []float64
	for rep := 0; rep < 5; rep++ {
		keep = make([][]byte, 0, 8192)
		for i := 0; i < 8192; i++ {
			b := make([]byte, 64<<10)
			for j := 0; j < len(b); j += 4096 {
				b[j] = 1
			}
			keep = append(keep, b)
		}
		keep = nil
		runtime.GC()
		runtime.GC()
		r0 := released()
		t0 := time.Now()
		debug.FreeOSMemory()
		free := time.Since(t0)
		r1 := released()
		t1 := time.Now()
		runtime.GC()
		gc := time.Since(t1)
		pages := float64(r1-r0) / 8192
		ns := float64(free-gc) / pages
		perPage = append(perPage, ns)
		fmt.Printf("released %d MiB: FreeOSMemory %v, GC %v, %.0f ns per 8 KiB page\n",
			(r1-r0)>>20, free, gc, ns)
	}
	sort.Float64s(perPage)
	out, _ := json.Marshal(map[string]any{"scavenge_ns_per_page": perPage[len(perPage)/2],
		"rounds": perPage, "go_version": runtime.Version()})
	fmt.Println(string(out))
}
