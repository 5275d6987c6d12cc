// Command pool is the Go twin of validation/pool/config.toml: a request
// handler that takes its buffers from a sync.Pool, beside garbage that drives
// the GC. It is the steady twin (validation/steady/main.go) plus pools:
//
//  1. One goroutine per P runs mutator steps until its share of max_allocs
//     allocations is made (site objects and New() calls both count, as
//     gcsim's C_ALLOCS does).
//  2. Each step picks a site by weight (xorshift64*, as steady).
//  3. A pooled site with a transient lifetime draws a batch size k from the
//     pool's batch distribution, Gets k objects (New() allocates the site's
//     object through reflect.unsafe_New = mallocgc) and Puts them back in Get
//     order; a pooled fifo site Gets one object, stores it in the
//     goroutine's ring and Puts the object it displaces. zero_on_put clears
//     the object (reflect SetZero) before Put.
//  4. Other sites allocate as in steady.
//
// The report adds pool: {hit_rate, gets, news} (hit_rate = 1 - news/gets).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"gcsim.dev/validation/goreport"
)

//go:linkname unsafe_New reflect.unsafe_New
func unsafe_New(typ unsafe.Pointer) unsafe.Pointer

type site struct {
	Name         string  `json:"name"`
	Weight       float64 `json:"weight"`
	SizeBytes    int     `json:"size_bytes"`
	PointerWords int     `json:"pointer_words"`
	Lifetime     string  `json:"lifetime"` // "transient" or "fifo"
	LiveObjects  int     `json:"live_objects"`
	// Parameters every twin receives (twins.twin_params) that this program has no
	// use for: its config has no per-site limits and no child refs.
	MaxAllocs int64 `json:"max_allocs"`
	Children  []int `json:"children"`
}

type poolParams struct {
	Name         string    `json:"name"`
	Site         string    `json:"site"`
	Enabled      bool      `json:"enabled"`
	ZeroOnPut    bool      `json:"zero_on_put"`
	BatchValues  []int     `json:"batch_values"`
	BatchWeights []float64 `json:"batch_weights"`
}

type params struct {
	Twin              string       `json:"twin"`
	Seed              uint64       `json:"seed"`
	MaxAllocs         int64        `json:"max_allocs"`
	ComputeNsPerAlloc float64      `json:"compute_ns_per_alloc"`
	FinalGC           bool         `json:"final_gc"`
	Sites             []site       `json:"sites"`
	Pools             []poolParams `json:"pools"`
	TracePacer        bool         `json:"trace_pacer"` // always false here
}

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

func abiType(t reflect.Type) unsafe.Pointer {
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&t))[1]
}

// spin does n iterations of a dependent multiply-add chain from x; the
// caller keeps the result in its own worker, since a sink shared by the
// goroutines would bounce a cache line between the Ps on every object.
func spin(x uint64, n int) uint64 {
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

// probeSink keeps spinIterations' probe from being optimized away.
var probeSink uint64

func spinIterations(ns float64) int {
	if ns <= 0 {
		return 0
	}
	const probe = 1 << 22
	t0 := time.Now()
	probeSink = spin(probeSink, probe)
	perIter := float64(time.Since(t0).Nanoseconds()) / probe
	return int(ns/perIter + 0.5)
}

// sitePool is a site's pool, or nil.
type sitePool struct {
	pool    *sync.Pool
	enabled bool
	zero    bool
	rtype   reflect.Type
	values  []int
	cum     []uint64
	news    atomic.Int64
}

// A worker's hot fields sit on cache lines no other worker writes.
type worker struct {
	_       [64]byte
	sink    uint64 // spin's result
	types   []unsafe.Pointer
	pools   []*sitePool
	cum     []uint64
	rings   [][]unsafe.Pointer
	cursors []int
	allocs  int64
	rng     uint64
	spinN   int
	gets    int64
	_       [64]byte
}

func (w *worker) next() uint64 {
	w.rng ^= w.rng >> 12
	w.rng ^= w.rng << 25
	w.rng ^= w.rng >> 27
	return w.rng * 2685821657736338717
}

func pick(cum []uint64, r uint64) int {
	s := 0
	for s < len(cum)-1 && r > cum[s] {
		s++
	}
	return s
}

// get is pool.Get (or New() without the pool); it returns the object and
// whether it was a heap allocation.
func (w *worker) get(sp *sitePool, s int) (unsafe.Pointer, bool) {
	w.gets++
	if !sp.enabled {
		sp.news.Add(1)
		return unsafe_New(w.types[s]), true
	}
	before := sp.news.Load()
	x := sp.pool.Get().(unsafe.Pointer)
	return x, sp.news.Load() != before
}

func (w *worker) put(sp *sitePool, x unsafe.Pointer) {
	if !sp.enabled {
		return
	}
	if sp.zero {
		reflect.NewAt(sp.rtype, x).Elem().SetZero()
	}
	sp.pool.Put(x)
}

func (w *worker) run() {
	held := make([]unsafe.Pointer, 0, 4096)
	for made := int64(0); made < w.allocs; {
		if w.spinN > 0 {
			w.sink = spin(w.sink, w.spinN)
		}
		s := pick(w.cum, w.next())
		sp := w.pools[s]
		switch {
		case sp != nil && w.rings[s] == nil:
			k := sp.values[pick(sp.cum, w.next())]
			if len(sp.values) == 1 {
				k = sp.values[0]
			}
			held = held[:0]
			for i := 0; i < k; i++ {
				x, isNew := w.get(sp, s)
				if isNew {
					made++
				}
				held = append(held, x)
			}
			for _, x := range held {
				w.put(sp, x)
			}
		case sp != nil:
			x, isNew := w.get(sp, s)
			if isNew {
				made++
			}
			ring := w.rings[s]
			c := w.cursors[s]
			old := ring[c]
			ring[c] = x
			if c++; c == len(ring) {
				c = 0
			}
			w.cursors[s] = c
			if old != nil {
				w.put(sp, old)
			}
		default:
			p := unsafe_New(w.types[s])
			made++
			if ring := w.rings[s]; ring != nil {
				c := w.cursors[s]
				ring[c] = p
				if c++; c == len(ring) {
					c = 0
				}
				w.cursors[s] = c
			}
		}
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pool: "+format+"\n", args...)
	os.Exit(2)
}

func cumulative(ws []float64) []uint64 {
	var total float64
	for _, w := range ws {
		total += w
	}
	cum := make([]uint64, len(ws))
	acc := 0.0
	for i, w := range ws {
		acc += w
		if i == len(ws)-1 || acc >= total {
			cum[i] = ^uint64(0)
		} else {
			cum[i] = uint64(acc / total * float64(^uint64(0)))
		}
	}
	return cum
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: pool PARAMS.json")
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
	procs := runtime.GOMAXPROCS(0)
	types := make([]unsafe.Pointer, len(prm.Sites))
	rtypes := make([]reflect.Type, len(prm.Sites))
	weights := make([]float64, len(prm.Sites))
	index := map[string]int{}
	for i, s := range prm.Sites {
		if s.Lifetime != "transient" && s.Lifetime != "fifo" {
			fail("site %q: lifetime %q not supported (transient, fifo)", s.Name, s.Lifetime)
		}
		rtypes[i] = objType(s)
		types[i] = abiType(rtypes[i])
		weights[i] = s.Weight
		index[s.Name] = i
	}
	pools := make([]*sitePool, len(prm.Sites))
	for _, pp := range prm.Pools {
		s, ok := index[pp.Site]
		if !ok || len(pp.BatchValues) == 0 || len(pp.BatchValues) != len(pp.BatchWeights) {
			fail("pool %q: bad site or batch", pp.Name)
		}
		sp := &sitePool{enabled: pp.Enabled, zero: pp.ZeroOnPut, rtype: rtypes[s],
			values: pp.BatchValues, cum: cumulative(pp.BatchWeights)}
		typ := types[s]
		sp.pool = &sync.Pool{New: func() any {
			sp.news.Add(1)
			return unsafe_New(typ)
		}}
		pools[s] = sp
	}
	cum := cumulative(weights)
	spinN := spinIterations(prm.ComputeNsPerAlloc)
	workers := make([]*worker, procs)
	for g := range workers {
		w := &worker{types: types, pools: pools, cum: cum, rng: prm.Seed*0x9E3779B97F4A7C15 + uint64(g) + 1,
			spinN: spinN, cursors: make([]int, len(prm.Sites)+16)[8 : 8+len(prm.Sites)], rings: make([][]unsafe.Pointer, len(prm.Sites))}
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
	goreport.Start()
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
	var gets, news int64
	for _, w := range workers {
		gets += w.gets
	}
	for _, sp := range pools {
		if sp != nil {
			news += sp.news.Load()
		}
	}
	poolReport := map[string]any{"gets": gets, "news": news}
	if gets > 0 {
		poolReport["hit_rate"] = 1 - float64(news)/float64(gets)
	}
	goreport.Print(prm.Twin, procs, prm.MaxAllocs, elapsed, map[string]any{"pool": poolReport})
	runtime.KeepAlive(workers)
}
