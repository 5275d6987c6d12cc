// Command hdrmark measures what marking costs for small objects bigger than
// 512 B, the cost table's mark_header_object_ns and mark_header_page_ns
// (gcsim/goruntime/costs.py).
//
// Go gives a pointerful small object over 512 B a malloc header (mallocgc:
// heapBitsInSpan is size <= 512): scanning it reads the header, then the
// type's pointer mask, then the object, and Green Tea's span-batched path
// is for the small objects only. The calibration graphs (calibration/mark.go)
// use 16 B and 64 B objects, so the fitted per-object costs miss this.
//
// Each round builds, for each size, 20 000 objects of two pointer words (the
// rest padding) held by a root slice, collects once to sweep, then times one
// runtime.GC() by its mark CPU (runtime/metrics /cpu/classes/gc/mark/*, which
// leaves the sweep out: runtime.GC sweeps every span before it returns, one
// span per object at 8 KiB). Seven rounds, medians; the extra over the 64 B
// object is fitted as h + p x min(1, size/4096): a fixed part per header
// object and a part that grows with the 4 KiB pages the object spreads over
// until each object has a page of its own.
//
// On the 2-CPU AMD EPYC VM (go1.27.3, 2026-11-26) one process's fit moves
// (h 64-92, p 73-98), so the table takes medians over eight processes, in ns
// per object: 64 B 36.4, 1 KiB 129.8, 2 KiB 166.0, 4 KiB 199.2, 8 KiB 199.2
// (512 B, no header: 38-59); extra over 64 B: 93.4, 129.6, 162.8, 162.8; fit
// h = 77.5, p = 86.7. The memlimit_over twin (8 KiB nodes) shows ~140-150 ns a
// node in gctrace.
//
// Usage (from calibration/): GOTOOLCHAIN=local GOMAXPROCS=1 go run ./hdrmark
package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"unsafe"
)

const (
	objects = 20_000
	rounds  = 7
)

var (
	root  []unsafe.Pointer
	sizes = []int{64, 512, 1024, 2048, 4096, 8192}
	names = []string{
		"/cpu/classes/gc/mark/assist:cpu-seconds",
		"/cpu/classes/gc/mark/dedicated:cpu-seconds",
		"/cpu/classes/gc/mark/idle:cpu-seconds",
	}
)

// markNS returns the mark CPU so far, ns.
func markNS() float64 {
	s := make([]metrics.Sample, len(names))
	for i := range s {
		s[i].Name = names[i]
	}
	metrics.Read(s)
	return (s[0].Value.Float64() + s[1].Value.Float64() + s[2].Value.Float64()) * 1e9
}

// objType is struct{ p [2]unsafe.Pointer; pad [size-16]byte }: two pointer
// words, then padding to size bytes.
func objType(size int) reflect.Type {
	return reflect.StructOf([]reflect.StructField{
		{Name: "P", Type: reflect.TypeFor[[2]unsafe.Pointer]()},
		{Name: "Pad", Type: reflect.ArrayOf(size-16, reflect.TypeFor[byte]())},
	})
}

func build(size int) {
	t := objType(size)
	root = make([]unsafe.Pointer, objects)
	for i := range root {
		root[i] = reflect.New(t).UnsafePointer() // mallocgc with the type, as new(T)
	}
}

// timedGC returns the mark CPU of one runtime.GC(), ns.
func timedGC() float64 {
	m0 := markNS()
	runtime.GC()
	return markNS() - m0
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func main() {
	debug.SetGCPercent(-1)
	perSize := map[int][]float64{}
	var empty []float64
	for r := 0; r < rounds; r++ {
		root = nil
		runtime.GC()
		empty = append(empty, timedGC())
		for _, size := range sizes {
			build(size)
			runtime.GC()
			perSize[size] = append(perSize[size], timedGC())
			root = nil
		}
	}
	e := median(empty)
	ns := map[string]float64{}
	for _, size := range sizes {
		ns[fmt.Sprint(size)] = (median(perSize[size]) - e) / objects
	}
	// Least squares of extra = h + p x min(1, size/4096) over the header sizes.
	var xs, ys []float64
	for _, size := range sizes[2:] {
		xs = append(xs, min(1, float64(size)/4096))
		ys = append(ys, ns[fmt.Sprint(size)]-ns["64"])
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i] / float64(len(xs))
		my += ys[i] / float64(len(ys))
	}
	var sxx, sxy float64
	for i := range xs {
		sxx += (xs[i] - mx) * (xs[i] - mx)
		sxy += (xs[i] - mx) * (ys[i] - my)
	}
	p := sxy / sxx
	out, _ := json.Marshal(map[string]any{"ns_per_object": ns,
		"mark_header_object_ns": my - p*mx, "mark_header_page_ns": p})
	fmt.Println(string(out))
}
