package main

import (
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"unsafe"
)

// runRefillPar: what a span refill costs while another P allocates too
// (by hand; GOMAXPROCS >= 2).
//
// The steady twin's Go side at GOMAXPROCS=2 spends about twice the CPU per
// object in mcache refills that it spends at 1 (tools/perfsplit.py,
// 2026-11-27: 6-11 against 4-6 ns an object, in runs interleaved with P=1
// runs), where gcsim's Ps pay the same as one P alone. This checks whether the
// runtime's shared allocator state does that by itself: the refill
// experiment's "fresh" timing (each allocation alone; the ones that open a
// span from the heap's free pages, GC off), once with the other Ps idle and
// once while a helper goroutine allocates the same size class on another P
// (both then refill from the same mcentral and take pages from the one
// mheap). The two alternate within each round, so the machine's drift falls
// on both. prewarm faults in room for both goroutines' spans first; rounds
// that took page faults say so (faults).
func runRefillPar(o options, common map[string]any) {
	if runtime.GOMAXPROCS(0) < 2 {
		fail("refillpar needs GOMAXPROCS >= 2")
	}
	debug.SetGCPercent(-1)
	prewarm(8 * o.budget)
	refillRounds(o, common, []string{"alone", "contended"},
		func(t *allocTimer, c allocCase, n int, mode string) (int, []int64, []int64, int64, []any) {
			var stop atomic.Bool
			done := make(chan int)
			if mode == "contended" {
				started := make(chan struct{})
				go func() {
					close(started)
					k := 0
					for !stop.Load() {
						refillParSink = c.one()
						k++
					}
					done <- k
				}()
				<-started
			}
			m, evt, norm, faults := t.timeEach(c, n, "fresh")
			helper := 0
			if mode == "contended" {
				stop.Store(true)
				helper = <-done
			}
			refillParSink = nil
			runtime.GC()
			return m, evt, norm, faults, []any{"helper_allocs", helper}
		})
}

// refillParSink keeps the helper's allocations from being optimized away.
var refillParSink unsafe.Pointer
