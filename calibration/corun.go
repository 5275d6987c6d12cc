package main

import (
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"unsafe"
)

// runCorun: what the mutator's allocation churn costs while another P runs
// the same churn (by hand; GOMAXPROCS >= 2).
//
// The steady twin's Go side has shown 0-45 % more mutator CPU per object at
// GOMAXPROCS=2 than at 1, over runs interleaved a few seconds apart
// (tools/perfsplit.py), where gcsim's Ps each pay what one P alone pays. This
// asks whether two cores running the allocation path side by side slow each
// other on this machine (shared cache, memory bandwidth, the allocator's
// shared state): each step allocates a 64 B node with two pointer words into
// a FIFO ring of -n entries (the oldest node dies) and two 128 B pointer-free
// buffers that die at once, as the steady twin does. Chunks of 1000 steps
// are timed by thread CPU, in windows of 5 that alternate between "alone"
// (the helper goroutine parked) and "corun" (a helper on the other P runs the
// same churn over its own ring).
//
// GC off inside windows, so a chunk is the program loop and mallocgc with
// its refills from swept spans. Between windows an untimed runtime.GC() frees
// the garbage and sweeps every span, so each window allocates into memory the
// heap already holds; chunks that took page faults are dropped. extra_frac is
// the median over window pairs of (corun median / alone median - 1).
//
// The collector is kept out on purpose: with it on, an "alone" window
// inherits the trigger the pacer set for twice the allocation rate in the
// corun window before it, so its assists are fewer, and the comparison
// measures the pacer, not the machine.
func runCorun(o options, common map[string]any) {
	if runtime.GOMAXPROCS(0) < 2 {
		fail("corun needs GOMAXPROCS >= 2")
	}
	if o.n <= 0 {
		fail("corun needs -n RING (live nodes per goroutine)")
	}
	debug.SetGCPercent(-1)
	prewarm(8 * o.budget)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const chunk = 1000
	const window = 5
	pairs := 10 * o.reps

	var stop atomic.Bool
	start := make(chan struct{})
	running := make(chan struct{})
	done := make(chan int)
	go func() {
		c := newChurn(o.n, 2)
		for range start {
			k := 0
			// Timing starts once this goroutine runs: on a fast machine five
			// chunks end before an idle P wakes to run it.
			running <- struct{}{}
			for !stop.Load() {
				c.steps(100)
				k += 100
			}
			done <- k
		}
	}()
	c := newChurn(o.n, 1)
	for i := 0; i < 4*o.n; i += chunk {
		c.steps(chunk) // fill the ring and warm the spans
	}
	runtime.GC()

	timeWindow := func() ([]int64, int) {
		return faultFreeWindow(window, func() (int64, bool) {
			return timeFaultFree(func() { c.steps(chunk) })
		}, "corun")
	}
	var alone, corun, extra []int64
	var fracs []float64
	helperSteps, dropped := 0, 0
	for p := 0; p < pairs; p++ {
		w, d := timeWindow()
		dropped += d
		runtime.GC()
		aMed := median(w)
		alone = append(alone, w...)

		stop.Store(false)
		start <- struct{}{}
		<-running
		w, d = timeWindow()
		dropped += d
		stop.Store(true)
		helperSteps += <-done
		runtime.GC()
		cMed := median(w)
		corun = append(corun, w...)
		extra = append(extra, int64(cMed-aMed))
		fracs = append(fracs, cMed/aMed-1)
	}
	close(start)
	emit(record(common, "ring", o.n, "chunk", chunk, "window", window,
		"alone_median_ns", median(alone)/chunk, "corun_median_ns", median(corun)/chunk,
		"extra_ns", median(extra)/chunk, "extra_frac", median(fracs),
		"extra_windows_ns", extra, "alone_n", len(alone), "corun_n", len(corun),
		"dropped_chunks", dropped, "helper_steps", helperSteps))
}

// churn is the steady twin's step without its site draw: a 64 B node into a
// FIFO ring, two 128 B buffers that die at once.
type churn struct {
	ring []*scan64
	i    int
	sum  uintptr
}

func newChurn(n int, seed uintptr) *churn {
	return &churn{ring: make([]*scan64, n), sum: seed}
}

//go:noinline
func (c *churn) steps(n int) {
	for k := 0; k < n; k++ {
		node := new(scan64)
		c.ring[c.i] = node
		c.i++
		if c.i == len(c.ring) {
			c.i = 0
		}
		b1 := new([128]byte)
		b2 := new([128]byte)
		b1[0] = byte(k)
		b2[0] = byte(k)
		c.sum += uintptr(unsafe.Pointer(b1)) ^ uintptr(unsafe.Pointer(b2))
	}
}
