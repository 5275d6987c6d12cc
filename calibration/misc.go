package main

import (
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"
	"unsafe"
)

// writeBarrier is the runtime's flag (mbarrier.go): true from sweep
// termination to mark termination. Read to know whether a timed chunk of
// stores ran with the barrier on.
//
//go:linkname writeBarrier runtime.writeBarrier
var writeBarrier struct {
	enabled bool
	pad     [3]byte
	alignme uint64
}

var ubuf = make([]uintptr, 4096)

//go:noinline
func storePointers(buf []unsafe.Pointer, vals *[2]unsafe.Pointer, m int) {
	for i := 0; i < m; i++ {
		buf[i&4095] = vals[i&1]
	}
}

//go:noinline
func storeWords(m int) {
	for i := 0; i < m; i++ {
		ubuf[i&4095] = uintptr(i)
	}
}

// runWB: heap pointer stores with the write barrier off and on.
//
// The goroutine locked to its thread stores two heap pointers alternately
// into a 4096-slot heap slice (L1-resident) in chunks of `chunk` stores,
// thread CPU per chunk. Off: no GC running. On: another goroutine runs
// runtime.GC() back to back over a random graph of n objects (GOMAXPROCS=2:
// a dedicated worker marks on the other P); only chunks that start and end
// with the barrier on count. The stored objects are marked after the first
// buffer flush, so "on" is the barrier's own cost (gcsim charges shading
// separately). A store loop of plain words gives the loop's own cost.
func runWB(o options, common map[string]any) {
	debug.SetGCPercent(-1)
	buildGraph("scan8", "rand", o.n, 4)
	buf := make([]unsafe.Pointer, 4096)
	vals := &[2]unsafe.Pointer{unsafe.Pointer(new(node8)), unsafe.Pointer(new(node8))}
	runtime.LockOSThread()
	timeChunk := func(f func()) int64 {
		c0 := threadCPU()
		f()
		return threadCPU() - c0
	}
	var off, words, on []int64
	for r := 0; r <= o.reps; r++ {
		off = append(off, timeChunk(func() { storePointers(buf, vals, o.chunk) }))
		words = append(words, timeChunk(func() { storeWords(o.chunk) }))
	}
	var stop atomic.Bool
	var cycles atomic.Int64
	go func() {
		for !stop.Load() {
			runtime.GC()
			cycles.Add(1)
		}
	}()
	skipped := 0
	deadline := time.Now().Add(60 * time.Second)
	for len(on) <= o.reps && time.Now().Before(deadline) {
		e0 := writeBarrier.enabled
		t := timeChunk(func() { storePointers(buf, vals, o.chunk) })
		if e0 && writeBarrier.enabled {
			on = append(on, t)
		} else {
			skipped++
		}
	}
	stop.Store(true)
	if len(on) < 2 {
		fail("wb: the write barrier was never on for a whole chunk (%d skipped)", skipped)
	}
	emit(record(common, "chunk", o.chunk, "n", o.n, "off_ns", off[1:], "words_ns", words[1:],
		"on_ns", on[1:], "skipped", skipped, "gc_cycles", cycles.Load()))
	runtime.KeepAlive(root)
}

var deepest uintptr

//go:noinline
func grow128(d int) uint64 {
	var buf [14]uint64
	buf[d%14] = uint64(d)
	if d == 0 {
		deepest = uintptr(unsafe.Pointer(&buf[0]))
		return buf[0]
	}
	return grow128(d-1) + buf[(d+3)%14]
}

//go:noinline
func grow256(d int) uint64 {
	var buf [30]uint64
	buf[d%30] = uint64(d)
	if d == 0 {
		deepest = uintptr(unsafe.Pointer(&buf[0]))
		return buf[0]
	}
	return grow256(d-1) + buf[(d+3)%30]
}

//go:noinline
func grow1k(d int) uint64 {
	var buf [126]uint64
	buf[d%126] = uint64(d)
	if d == 0 {
		deepest = uintptr(unsafe.Pointer(&buf[0]))
		return buf[0]
	}
	return grow1k(d-1) + buf[(d+3)%126]
}

// runStack: stack growth by copying.
//
// A new goroutine (locked to its thread, GC off so no stack shrinks)
// recurses until about `depth` bytes of frames of `frame` bytes are in use,
// twice: the first time the stack grows by doubling from the starting size,
// copying the used part each time; the second time it is already big. The
// thread CPU difference is the cost of the growths; gcsim counts the bytes
// copied as the sum of the stack sizes before each doubling (the stack is
// full when it grows). Repetitions go round robin over the frame sizes.
func runStack(o options, common map[string]any) {
	debug.SetGCPercent(-1)
	impls := map[int]func(int) uint64{128: grow128, 256: grow256, 1024: grow1k}
	frames := intList(o.frames)
	for r := 0; r <= o.reps; r++ {
		for _, frame := range frames {
			f, ok := impls[frame]
			if !ok {
				fail("stack: frames must be 128, 256 or 1024")
			}
			depth := o.depth / frame
			res := make(chan [3]int64)
			go func() {
				runtime.LockOSThread()
				t0 := threadCPU()
				f(depth)
				t1 := threadCPU()
				f(depth)
				t2 := threadCPU()
				var top uint64
				used := int64(uintptr(unsafe.Pointer(&top)) - deepest)
				res <- [3]int64{t1 - t0, t2 - t1, used}
			}()
			v := <-res
			if r == 0 {
				continue
			}
			emit(record(common, "frame", frame, "depth", depth, "first_ns", v[0],
				"second_ns", v[1], "used_bytes", v[2],
				"starting_size", metricUint("/gc/stack/starting-size:bytes")))
		}
	}
}

var spinSink uint64

//go:noinline
func spinStep(x uint64) uint64 { return x*6364136223846793005 + 1442695040888963407 }

// runSTW: GC pauses, GOMAXPROCS from the environment, k goroutines
// spinning (calling a function, so they can be preempted) as Ps running
// mutator code; the other Ps are idle. With -n 0, `reps` runtime.GC() calls
// over a tiny heap; with -n N, GOGC=100 cycles triggered by allocation
// churn over a ring of N live 64 B objects (the steady twin's shape) until
// `reps` cycles ran. The pauses come from gctrace (clock fields a and c, read
// by gcsim) and MemStats.PauseNs (their sum per cycle).
func runSTW(o options, common map[string]any) {
	var stop atomic.Bool
	for i := 0; i < o.k; i++ {
		go func() {
			x := uint64(i)
			for !stop.Load() {
				x = spinStep(x)
			}
			spinSink += x
		}()
	}
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	if o.n > 0 {
		ring := make([]unsafe.Pointer, o.n)
		for i := range ring {
			ring[i] = unsafe.Pointer(new(node2))
		}
		end := uint64(m0.NumGC) + uint64(o.reps)
		for i := 0; metricUint("/gc/cycles/total:gc-cycles") < end; {
			for j := 0; j < 4096; j++ {
				ring[i] = unsafe.Pointer(new(node2))
				sink = unsafe.Pointer(new([128]byte))
				sink = unsafe.Pointer(new([128]byte))
				if i++; i == len(ring) {
					i = 0
				}
			}
		}
		runtime.KeepAlive(ring)
	} else {
		for r := 0; r < o.reps; r++ {
			runtime.GC()
			time.Sleep(time.Millisecond)
		}
	}
	stop.Store(true)
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	var pauses []uint64
	for c := m0.NumGC + 1; c <= m.NumGC && len(pauses) < 256; c++ {
		pauses = append(pauses, m.PauseNs[(c+255)%256])
	}
	emit(record(common, "reps", o.reps, "k", o.k, "n", o.n, "pause_ns", pauses,
		"first_gc", m0.NumGC+1))
}
