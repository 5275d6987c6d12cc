// Command poolbench times sync.Pool's paths for gcsim's pool cost entries
// (gcsim/goruntime/costs.py pool_*). It is not part of `gcsim calibrate`
// yet; run it by hand and copy the medians into costs.py:
//
//	cd calibration && GOTOOLCHAIN=local GOMAXPROCS=2 go run ./poolbench
//
// Every figure is thread CPU time per operation (CLOCK_THREAD_CPUTIME_ID,
// the goroutine locked to its thread), the median of 15 rounds, with the
// timing loop's own cost (an empty loop) subtracted:
//
//	get_private+put  x := p.Get(); p.Put(x) with one object (private hit)
//	push_head        Put of 4096 objects into a pool whose private is full
//	pop_head         the 4096 Gets that follow (shared popHead hits)
//	victim_get       Put 4096, runtime.GC(), then the 4096 Gets (victim hits,
//	                 each after a failed probe of the primary; GC not timed)
//	miss_pN          Get on an empty pool, New = nil, victimSize already 0,
//	                 at runtime.GOMAXPROCS(N) for N = 1, 2, 4, 8: getSlow
//	                 probes N primary tails
//	clear_4k         clear() of a 4 KiB []byte (zeroing on Put), per byte
package main

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"unsafe"
)

func threadNs() int64 {
	var ts syscall.Timespec
	// CLOCK_THREAD_CPUTIME_ID = 3
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

func median(xs []float64) float64 {
	sort.Float64s(xs)
	return xs[len(xs)/2]
}

const rounds = 15

var sink any

func measure(name string, n int, f func() float64) {
	xs := make([]float64, rounds)
	for r := range xs {
		xs[r] = f()
	}
	fmt.Printf("%-16s %9.3f ns/op  (n=%d, rounds %d)\n", name, median(xs), n, rounds)
}

func main() {
	runtime.LockOSThread()
	const m = 4096
	const reps = 1 << 20
	loop := func() float64 {
		t0 := threadNs()
		for i := 0; i < reps; i++ {
			sink = nil
		}
		return float64(threadNs()-t0) / reps
	}
	measure("empty_loop", reps, loop)
	base := median([]float64{loop(), loop(), loop()})

	measure("get_private+put", reps, func() float64 {
		var p sync.Pool
		p.Put(new([64]byte))
		t0 := threadNs()
		for i := 0; i < reps; i++ {
			x := p.Get()
			p.Put(x)
		}
		return float64(threadNs()-t0)/reps - base
	})
	objs := make([]any, m)
	for i := range objs {
		objs[i] = new([64]byte)
	}
	var popHead []float64
	measure("push_head", m, func() float64 {
		var p sync.Pool
		p.Put(objs[0])
		t0 := threadNs()
		for i := 1; i < m; i++ {
			p.Put(objs[i])
		}
		push := float64(threadNs()-t0)/(m-1) - base
		p.Get() // the private one
		t1 := threadNs()
		for i := 1; i < m; i++ {
			sink = p.Get()
		}
		popHead = append(popHead, float64(threadNs()-t1)/(m-1)-base)
		return push
	})
	fmt.Printf("%-16s %9.3f ns/op\n", "pop_head", median(popHead))
	measure("victim_get", m, func() float64 {
		var p sync.Pool
		for i := 0; i < m; i++ {
			p.Put(objs[i])
		}
		runtime.GC()
		t0 := threadNs()
		for i := 0; i < m; i++ {
			sink = p.Get()
		}
		return float64(threadNs()-t0)/m - base
	})
	for _, procs := range []int{1, 2, 4, 8} {
		old := runtime.GOMAXPROCS(procs)
		measure(fmt.Sprintf("miss_p%d", procs), reps, func() float64 {
			var p sync.Pool
			p.Put(objs[0])
			runtime.GC()
			runtime.GC() // victim dropped; the first Get below sets victimSize = 0
			p.Get()
			t0 := threadNs()
			for i := 0; i < reps/8; i++ {
				sink = p.Get()
			}
			return float64(threadNs()-t0)/(reps/8) - base
		})
		runtime.GOMAXPROCS(old)
	}
	buf := make([]byte, 4096)
	measure("clear_4k/byte", reps/16, func() float64 {
		t0 := threadNs()
		for i := 0; i < reps/16; i++ {
			clear(buf)
		}
		return (float64(threadNs()-t0)/(reps/16) - base) / 4096
	})
}
