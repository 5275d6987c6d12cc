package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// runAllocMark: the extra cost of an allocation while the GC marks
// (gcmarknewobject, the cost table's alloc_black_ns).
//
// GOMAXPROCS=1, GC off. A live graph (1 Mi scan2 objects, 64 MiB) makes each
// mark long; prewarm (after the graph) faults in and frees more heap than the
// experiment uses, and its ballast keeps the scavenger away, so no timed
// allocation takes a page fault (chunks that do are dropped anyway).
//
// Chunks of allocations are timed by thread CPU in windows that alternate:
// an off window times `window` chunks with the collector idle, then frees
// them with an untimed runtime.GC() (which marks the same graph, so both
// kinds of window allocate into memory the marker has just swept through);
// an on window wakes a helper goroutine that runs runtime.GC() back to back
// and times chunks until `window` of them began and ended with the write
// barrier on. The mark workers and the helper run on the one P only while
// this goroutine is descheduled, so they take none of its thread's CPU time.
// The machine's speed drifts by tens of percent within minutes on a shared
// VM; alternating windows a few milliseconds long puts both kinds in the same
// moment, and extra_ns is the median over window pairs of the difference of
// their medians. With GOGC off the heap goal is unbounded and assists do next
// to nothing (assist_ns, the process's assist CPU over the on windows, says
// how little); the over-assist each goroutine owes at a cycle's first
// allocation lands in a few chunks, which the medians leave out.
func runAllocMark(o options, common map[string]any) {
	debug.SetGCPercent(-1)
	buildGraph("scan2", "seq", 1<<20, 0)
	prewarm(8 * o.budget)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const chunk = 1000
	const window = 5 // chunks per window
	pairs := 10 * o.reps
	assist := []metrics.Sample{{Name: "/cpu/classes/gc/mark/assist:cpu-seconds"}}
	for _, size := range intList(o.sizes) {
		c := lookupCase(o.kind, size)
		// c.one, not c.loop: the loop stores each pointer to a global, and that
		// store's write barrier is on while marking (write_barrier_ns).
		var addrs uintptr
		timeChunk := func() (int64, bool) {
			return timeFaultFree(func() {
				for i := 0; i < chunk; i++ {
					addrs += uintptr(c.one())
				}
			})
		}
		start := make(chan struct{})
		stopped := make(chan struct{})
		var marking atomic.Bool
		go func() {
			for range start {
				for marking.Load() {
					runtime.GC()
				}
				stopped <- struct{}{}
			}
		}()
		var off, on, extra []int64
		var assistNs float64
		onChunks := 0
		deadline := time.Now().Add(60 * time.Second)
		for p := 0; p < pairs; p++ {
			w, _ := faultFreeWindow(window, timeChunk,
				fmt.Sprintf("allocmark: off-chunks of %s/%d", o.kind, size))
			sink = nil
			runtime.GC()
			offMed := median(w)
			off = append(off, w...)

			metrics.Read(assist)
			a0 := assist[0].Value.Float64()
			marking.Store(true)
			start <- struct{}{}
			w = w[:0]
			for len(w) < window && time.Now().Before(deadline) {
				e0 := writeBarrier.enabled
				t, ok := timeChunk()
				onChunks++
				if ok && e0 && writeBarrier.enabled {
					w = append(w, t)
				}
			}
			marking.Store(false)
			<-stopped
			metrics.Read(assist)
			assistNs += (assist[0].Value.Float64() - a0) * 1e9
			sink = nil
			runtime.GC()
			if len(w) < window {
				fail("allocmark: only %d marking chunks of %s/%d in a window", len(w), o.kind, size)
			}
			on = append(on, w...)
			extra = append(extra, int64(median(w)-offMed))
		}
		close(start)
		emit(record(common, "kind", o.kind, "size", size, "chunk", chunk, "window", window,
			"off_median_ns", median(off), "on_median_ns", median(on),
			"extra_ns", median(extra)/chunk, "extra_windows_ns", extra,
			"off_n", len(off), "on_n", len(on),
			"assist_ns", assistNs, "on_allocs", onChunks*chunk))
		allocMarkSink = addrs
	}
	runtime.KeepAlive(root)
}

// allocMarkSink keeps the sum of the allocated addresses live.
var allocMarkSink uintptr
