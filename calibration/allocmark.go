package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// runAllocMark: the extra cost of an allocation while the GC marks.
//
// GOMAXPROCS=1, GC off. A live graph (1 Mi scan2 objects, 64 MiB) makes each
// mark long; prewarm (after the graph) faults in and frees more heap than the
// experiment uses, and its ballast keeps the scavenger away, so no timed
// allocation takes a page fault (chunks that do are dropped anyway).
// Chunks of allocations are timed by thread CPU: first with the collector
// off (runtime.GC() between every 100, untimed, frees them), then while a
// helper goroutine runs runtime.GC() back to back; a chunk counts as marking
// when the write barrier was on before and after it. The mark workers and
// the helper run on the one P only while this goroutine is descheduled, so
// they take none of its thread's CPU time. With GOGC off the heap goal is
// unbounded and assists do next to nothing (assist_ns, the process's assist
// CPU over the marking phase, says how little); the over-assist each
// goroutine owes at a cycle's first allocation lands in a few chunks, which
// the median leaves out.
func runAllocMark(o options, common map[string]any) {
	debug.SetGCPercent(-1)
	buildGraph("scan2", "seq", 1<<20, 0)
	prewarm(8 * o.budget)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const chunk = 1000
	want := 50 * o.reps
	assist := []metrics.Sample{{Name: "/cpu/classes/gc/mark/assist:cpu-seconds"}}
	for _, size := range intList(o.sizes) {
		c := lookupCase(o.kind, size)
		// c.one, not c.loop: the loop stores each pointer to a global, and that
		// store's write barrier is on while marking (write_barrier_ns).
		var addrs uintptr
		timeChunk := func() (int64, bool) {
			f0 := minorFaults()
			t0 := threadCPU()
			for i := 0; i < chunk; i++ {
				addrs += uintptr(c.one())
			}
			t := threadCPU() - t0
			return t, minorFaults() == f0
		}
		var off, on []int64
		for i := 1; len(off) < want; i++ {
			if t, ok := timeChunk(); ok {
				off = append(off, t)
			}
			if i%100 == 0 {
				sink = nil
				runtime.GC()
			}
			if i > 100*want {
				fail("allocmark: %d of %d chunks of %s/%d without a page fault", len(off), i,
					o.kind, size)
			}
		}
		metrics.Read(assist)
		a0 := assist[0].Value.Float64()
		var stop atomic.Bool
		done := make(chan struct{})
		go func() {
			for !stop.Load() {
				runtime.GC()
			}
			close(done)
		}()
		chunks := 0
		deadline := time.Now().Add(30 * time.Second)
		for len(on) < want && time.Now().Before(deadline) {
			e0 := writeBarrier.enabled
			t, ok := timeChunk()
			chunks++
			if ok && e0 && writeBarrier.enabled {
				on = append(on, t)
			}
		}
		stop.Store(true)
		<-done
		metrics.Read(assist)
		if len(on) < 10 {
			fail("allocmark: only %d marking chunks of %s/%d", len(on), o.kind, size)
		}
		emit(record(common, "kind", o.kind, "size", size, "chunk", chunk,
			"off_median_ns", median(off), "on_median_ns", median(on),
			"off_n", len(off), "on_n", len(on),
			"assist_ns", (assist[0].Value.Float64()-a0)*1e9, "on_allocs", chunks*chunk))
		sink = nil
		allocMarkSink = addrs
	}
	runtime.KeepAlive(root)
}

// allocMarkSink keeps the sum of the allocated addresses live.
var allocMarkSink uintptr
