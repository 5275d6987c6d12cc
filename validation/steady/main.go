// Command steady is the Go twin of validation/steady/config.toml: steady
// allocation churn over a fixed live set, with no mutator work between
// allocations.
//
// It reads its parameters from the JSON file named by its only argument; the
// gcsim validate harness writes that file from the gcsim config (so the two
// cannot drift), runs this program with GOGC, GOMAXPROCS and
// GODEBUG=gctrace=1 set, and reads the gctrace lines on stderr and the one
// JSON line this program prints on stdout when it is done.
//
// The workload, as gcsim models it (gcsim/engine/loop.py run_p_quantum):
//
//  1. One goroutine per P (GOMAXPROCS of them) allocates until the run's
//     max_allocs allocations are done, split evenly.
//  2. Each allocation picks a site at random by weight (a per-goroutine
//     xorshift generator; a few ns).
//  3. The object is an instance of a struct type built with reflect.StructOf:
//     pointer_words unsafe.Pointer fields (left nil, as gcsim leaves slots
//     without refs nil) and then a byte array up to size_bytes, so Go puts it
//     in the same size class and span class gcsim does. It is allocated
//     through reflect.unsafe_New, which is runtime.mallocgc(size, typ, true),
//     the same call new(T) makes.
//  4. A "fifo" site's object replaces the oldest one in the goroutine's ring,
//     a make([]unsafe.Pointer, live_objects/GOMAXPROCS) held for the whole
//     run (gcsim's root table); a "transient" object is dropped at once.
//  5. compute_ns_per_alloc > 0 spins a calibrated loop between allocations.
//
// If the config asks for run.final_gc, runtime.GC() runs before the final
// statistics are read, as gcsim's final forced cycle.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// unsafe_New is runtime.reflect_unsafe_New: mallocgc(typ.Size_, typ, true).
//
//go:linkname unsafe_New reflect.unsafe_New
func unsafe_New(typ unsafe.Pointer) unsafe.Pointer

type site struct {
	Name         string  `json:"name"`
	Weight       float64 `json:"weight"`
	SizeBytes    int     `json:"size_bytes"`
	PointerWords int     `json:"pointer_words"`
	Lifetime     string  `json:"lifetime"` // "transient" or "fifo"
	LiveObjects  int     `json:"live_objects"`
}

type params struct {
	Twin              string  `json:"twin"`
	Seed              uint64  `json:"seed"`
	MaxAllocs         int64   `json:"max_allocs"`
	ComputeNsPerAlloc float64 `json:"compute_ns_per_alloc"`
	FinalGC           bool    `json:"final_gc"`
	Sites             []site  `json:"sites"`
}

// objType builds the struct type of a site's objects.
func objType(s site) reflect.Type {
	var fields []reflect.StructField
	for i := 0; i < s.PointerWords; i++ {
		fields = append(fields, reflect.StructField{
			Name: fmt.Sprintf("P%d", i), Type: reflect.TypeFor[unsafe.Pointer]()})
	}
	if pad := s.SizeBytes - 8*s.PointerWords; pad > 0 {
		fields = append(fields, reflect.StructField{Name: "Pad", Type: reflect.ArrayOf(pad, reflect.TypeFor[byte]())})
	}
	if len(fields) == 0 {
		fields = append(fields, reflect.StructField{Name: "Pad", Type: reflect.TypeFor[[1]byte]()})
	}
	return reflect.StructOf(fields)
}

// abiType is the *abi.Type inside a reflect.Type (its interface data word).
func abiType(t reflect.Type) unsafe.Pointer {
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&t))[1]
}

var spinSink uint64

// spin does n iterations of a dependent multiply-add chain.
func spin(n int) {
	x := spinSink
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	spinSink = x
}

// spinIterations returns the iterations of spin that take about ns nanoseconds.
func spinIterations(ns float64) int {
	if ns <= 0 {
		return 0
	}
	const probe = 1 << 22
	t0 := time.Now()
	spin(probe)
	perIter := float64(time.Since(t0).Nanoseconds()) / probe
	return int(ns/perIter + 0.5)
}

type worker struct {
	types   []unsafe.Pointer
	cum     []uint64 // cumulative site weights scaled to 2^64-1
	rings   [][]unsafe.Pointer
	cursors []int
	allocs  int64
	rng     uint64
	spinN   int
}

func (w *worker) run() {
	rng := w.rng
	nSites := len(w.types)
	for i := int64(0); i < w.allocs; i++ {
		if w.spinN > 0 {
			spin(w.spinN)
		}
		// xorshift64*
		rng ^= rng >> 12
		rng ^= rng << 25
		rng ^= rng >> 27
		r := rng * 2685821657736338717
		s := 0
		for s < nSites-1 && r > w.cum[s] {
			s++
		}
		p := unsafe_New(w.types[s])
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

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "steady: "+format+"\n", args...)
	os.Exit(2)
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: steady PARAMS.json")
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail("%v", err)
	}
	var prm params
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&prm); err != nil {
		fail("%s: %v", os.Args[1], err)
	}
	if prm.MaxAllocs <= 0 || len(prm.Sites) == 0 {
		fail("%s: need max_allocs > 0 and at least one site", os.Args[1])
	}
	var total float64
	for _, s := range prm.Sites {
		if s.Weight < 0 || s.SizeBytes < 1 || s.PointerWords < 0 || 8*s.PointerWords > s.SizeBytes {
			fail("site %q: bad weight, size or pointer words", s.Name)
		}
		if s.Lifetime != "transient" && s.Lifetime != "fifo" {
			fail("site %q: lifetime %q not supported (transient, fifo)", s.Name, s.Lifetime)
		}
		total += s.Weight
	}
	if total <= 0 {
		fail("no site has a weight > 0")
	}
	procs := runtime.GOMAXPROCS(0)
	types := make([]unsafe.Pointer, len(prm.Sites))
	cum := make([]uint64, len(prm.Sites))
	acc := 0.0
	for i, s := range prm.Sites {
		types[i] = abiType(objType(s))
		acc += s.Weight
		if i == len(prm.Sites)-1 || acc >= total {
			cum[i] = ^uint64(0)
		} else {
			cum[i] = uint64(acc / total * float64(^uint64(0)))
		}
	}
	spinN := spinIterations(prm.ComputeNsPerAlloc)

	// Workers and their rings: the live set, split evenly over the Ps.
	workers := make([]*worker, procs)
	for g := range workers {
		w := &worker{types: types, cum: cum, rng: prm.Seed*0x9E3779B97F4A7C15 + uint64(g) + 1,
			spinN: spinN, cursors: make([]int, len(prm.Sites)), rings: make([][]unsafe.Pointer, len(prm.Sites))}
		w.allocs = prm.MaxAllocs / int64(procs)
		if int64(g) < prm.MaxAllocs%int64(procs) {
			w.allocs++
		}
		for i, s := range prm.Sites {
			if s.Lifetime == "fifo" {
				n := s.LiveObjects / procs
				if g < s.LiveObjects%procs {
					n++
				}
				if n > 0 {
					w.rings[i] = make([]unsafe.Pointer, n)
				}
			}
		}
		workers[g] = w
	}

	start := time.Now()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if prm.FinalGC {
		runtime.GC()
	}
	report(prm, procs, elapsed)
	runtime.KeepAlive(workers)
}

// report prints one JSON line: MemStats (Go's field names), a few
// runtime/metrics values, and the run's own figures.
func report(prm params, procs int, elapsed time.Duration) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	names := []string{
		"/gc/heap/goal:bytes",
		"/gc/scan/globals:bytes",
		"/gc/scan/stack:bytes",
		"/gc/scan/heap:bytes",
		"/gc/cycles/total:gc-cycles",
		"/cpu/classes/gc/total:cpu-seconds",
		"/cpu/classes/gc/pause:cpu-seconds",
		"/cpu/classes/gc/mark/assist:cpu-seconds",
		"/cpu/classes/gc/mark/dedicated:cpu-seconds",
		"/cpu/classes/gc/mark/idle:cpu-seconds",
		"/cpu/classes/total:cpu-seconds",
		"/memory/classes/heap/objects:bytes",
		"/sched/gomaxprocs:threads",
	}
	samples := make([]metrics.Sample, len(names))
	for i, n := range names {
		samples[i].Name = n
	}
	metrics.Read(samples)
	m := map[string]any{}
	for _, s := range samples {
		switch s.Value.Kind() {
		case metrics.KindUint64:
			m[s.Name] = s.Value.Uint64()
		case metrics.KindFloat64:
			m[s.Name] = s.Value.Float64()
		}
	}
	n := int(ms.NumGC)
	if n > len(ms.PauseNs) {
		n = len(ms.PauseNs)
	}
	pauses := make([]uint64, 0, n)
	for k := int(ms.NumGC) - n; k < int(ms.NumGC); k++ {
		pauses = append(pauses, ms.PauseNs[k%len(ms.PauseNs)])
	}
	// Process CPU time: on a busy machine the program gets less than one CPU
	// per P and every wall-clock figure (mark time, pauses) stretches.
	var ru syscall.Rusage
	cpuNs := int64(-1)
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		cpuNs = ru.Utime.Nano() + ru.Stime.Nano()
	}
	out := map[string]any{
		"cpu_ns":     cpuNs, // user + sys of the whole process, -1 if unknown
		"twin":       prm.Twin,
		"go_version": runtime.Version(),
		"gomaxprocs": procs,
		"allocs":     prm.MaxAllocs,
		"elapsed_ns": elapsed.Nanoseconds(),
		"pause_ns":   pauses, // per cycle, oldest first (the last 256 cycles)
		"metrics":    m,
		"memstats": map[string]any{
			"Alloc": ms.Alloc, "TotalAlloc": ms.TotalAlloc, "Sys": ms.Sys,
			"Mallocs": ms.Mallocs, "Frees": ms.Frees, "HeapAlloc": ms.HeapAlloc,
			"HeapSys": ms.HeapSys, "HeapIdle": ms.HeapIdle, "HeapInuse": ms.HeapInuse,
			"HeapReleased": ms.HeapReleased, "HeapObjects": ms.HeapObjects,
			"StackInuse": ms.StackInuse, "StackSys": ms.StackSys, "NextGC": ms.NextGC,
			"PauseTotalNs": ms.PauseTotalNs, "NumGC": ms.NumGC,
			"NumForcedGC": ms.NumForcedGC, "GCCPUFraction": ms.GCCPUFraction,
		},
	}
	b, err := json.Marshal(out)
	if err != nil {
		fail("%v", err)
	}
	os.Stdout.Write(append(b, '\n'))
}
