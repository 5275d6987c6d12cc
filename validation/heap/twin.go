// Command heaptwin is the real-Go twin of gcsim's heap-validation configs
// (validation/heap/*.toml).
//
// It allocates exactly what the gcsim config describes, keeps every object
// alive the way gcsim's immortal sites do, calls runtime.GC() and prints
// runtime.MemStats as JSON on stdout. The Python side (gcsim/validate/
// heaptwins.py) derives the parameters from the gcsim config and writes them
// to the JSON file named by the only argument, so the two cannot drift.
//
// Parameters (JSON):
//
//	{"seed": 1, "sites": [{"name": "b64", "weight": 1.0,
//	  "sizes_bytes": [64], "size_cdf": [1.0], "pointer_words": [0],
//	  "max_allocs": 1000}, ...]}
//
// What it does, in order:
//
//  1. Read the parameters and build one allocator per (site, size): pointer-free
//     sizes are make([]byte, n) (noscan; under 16 B the tiny allocator);
//     pointerful ones are reflect.New of struct{P [k]*byte; Pad [n-8k]byte},
//     so the runtime sees exactly k pointer words at the front (mallocgc with
//     that type: a malloc header above 512 B, the size class of n or n+8).
//     The root-table holder roots := make([][]unsafe.Pointer, nsites) is
//     allocated here too.
//  2. Read the stats once (the first runtime/metrics read builds its tables),
//     runtime.GC() twice, then ReadMemStats: the baseline. Everything the
//     runtime and step 1 allocated and still hold (about 0.4 MiB of spans
//     holding ~100 KiB: runtime internals, reflect's type cache, the
//     parameters and allocators, which are kept alive to the end) is in it;
//     the caller subtracts it, because gcsim models only the workload.
//  3. For each site in config order, make([]unsafe.Pointer, max_allocs): the
//     root table gcsim allocates at start-up for each immortal site
//     (engine/init.py init_run), an N*8-byte pointerful object.
//  4. Allocate until every site has reached max_allocs, picking the site and
//     the size with the same algorithm as gcsim's engine (engine/loop.py
//     pick_site, draw_size, retire_site; engine/rng.py xorshift64* seeded by
//     splitmix64 of run.seed), and store each object in its site's root table.
//     With today's engine, which draws nothing else for immortal sites
//     without refs, this gives the very same allocation order as gcsim; if
//     the engine's use of its random stream changes, the order is still the
//     same random process, and the final heap differs only by tiny-block
//     packing noise. Fixed-size sites allocate the same multiset either way.
//  5. runtime.GC() (a forced cycle and a complete sweep, gcsim's
//     run.final_gc), ReadMemStats, print {"base": ..., "final": ...}.
//
// Run it with GOMAXPROCS=1 (one mcache, one tiny block, as the gcsim config).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"runtime/metrics"
	"unsafe"
)

type site struct {
	Name         string    `json:"name"`
	Weight       float64   `json:"weight"`
	SizesBytes   []int     `json:"sizes_bytes"`
	SizeCDF      []float64 `json:"size_cdf"`
	PointerWords []int     `json:"pointer_words"`
	MaxAllocs    int       `json:"max_allocs"`
}

type params struct {
	Seed  uint64 `json:"seed"`
	Sites []site `json:"sites"`
}

// xorshift64* over one word, as gcsim's engine/rng.py.
type rng struct{ x uint64 }

func seedRNG(seed uint64) rng {
	z := seed + 0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	z ^= z >> 31
	if z == 0 {
		z = 0x2545F4914F6CDD1D
	}
	return rng{z}
}

func (r *rng) u64() uint64 {
	x := r.x
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	r.x = x
	return x * 2685821657736338717
}

func (r *rng) float() float64 { return float64(r.u64()>>11) * (1.0 / 9007199254740992.0) }

type allocFn func() unsafe.Pointer

var (
	bytePtr = reflect.TypeFor[*byte]()
	byteT   = reflect.TypeFor[byte]()
)

// allocator returns a function allocating one n-byte object with k pointer
// words at its front (k = 0: pointer-free).
func allocator(n, k int) allocFn {
	if k == 0 {
		return func() unsafe.Pointer {
			b := make([]byte, n)
			return unsafe.Pointer(unsafe.SliceData(b))
		}
	}
	if 8*k > n {
		panic(fmt.Sprintf("%d pointer words do not fit %d bytes", k, n))
	}
	fields := []reflect.StructField{{Name: "P", Type: reflect.ArrayOf(k, bytePtr)}}
	if pad := n - 8*k; pad > 0 {
		fields = append(fields, reflect.StructField{Name: "Pad", Type: reflect.ArrayOf(pad, byteT)})
	}
	t := reflect.StructOf(fields)
	// reflect.New looks up *T in reflect's cache and builds it the first
	// time (a few small objects): do that now, before the baseline.
	_ = reflect.PointerTo(t)
	return func() unsafe.Pointer { return reflect.New(t).UnsafePointer() }
}

type stats struct {
	HeapInuse     uint64     `json:"HeapInuse"`
	HeapAlloc     uint64     `json:"HeapAlloc"`
	HeapObjects   uint64     `json:"HeapObjects"`
	HeapSys       uint64     `json:"HeapSys"`
	Mallocs       uint64     `json:"Mallocs"`
	Frees         uint64     `json:"Frees"`
	TotalAlloc    uint64     `json:"TotalAlloc"`
	NumGC         uint32     `json:"NumGC"`
	NumForcedGC   uint32     `json:"NumForcedGC"`
	TinyAllocs    uint64     `json:"TinyAllocs"`
	BySizeMallocs [61]uint64 `json:"BySizeMallocs"`
}

var tinySample = []metrics.Sample{{Name: "/gc/heap/tiny/allocs:objects"}}

// read fills *s from MemStats and runtime/metrics without allocating.
func read(s *stats) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	metrics.Read(tinySample)
	*s = stats{
		HeapInuse: m.HeapInuse, HeapAlloc: m.HeapAlloc, HeapObjects: m.HeapObjects,
		HeapSys: m.HeapSys, Mallocs: m.Mallocs, Frees: m.Frees, TotalAlloc: m.TotalAlloc,
		NumGC: m.NumGC, NumForcedGC: m.NumForcedGC,
		TinyAllocs: tinySample[0].Value.Uint64(),
	}
	for i, b := range m.BySize {
		s.BySizeMallocs[i] = b.Mallocs
	}
}

var (
	// roots holds each site's root table; the tables themselves are allocated
	// after the baseline, as gcsim allocates them at the start of its run.
	roots [][]unsafe.Pointer
	// base and final are globals so that reading them allocates nothing.
	base, final stats
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: heaptwin PARAMS.json")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var p params
	if err := json.Unmarshal(raw, &p); err != nil {
		fmt.Fprintln(os.Stderr, "bad parameters:", err)
		os.Exit(2)
	}
	n := len(p.Sites)
	allocs := make([][]allocFn, n)
	weight := make([]float64, n)
	for i, s := range p.Sites {
		if len(s.SizesBytes) == 0 || len(s.SizeCDF) != len(s.SizesBytes) ||
			len(s.PointerWords) != len(s.SizesBytes) || s.MaxAllocs < 1 {
			fmt.Fprintf(os.Stderr, "bad site %q\n", s.Name)
			os.Exit(2)
		}
		allocs[i] = make([]allocFn, len(s.SizesBytes))
		for j, sz := range s.SizesBytes {
			allocs[i][j] = allocator(sz, s.PointerWords[j])
		}
		weight[i] = s.Weight
	}
	cdf := make([]float64, n)
	done := make([]int, n)
	roots = make([][]unsafe.Pointer, n)
	r := seedRNG(p.Seed)
	retire := func() {
		acc := 0.0
		for k := range cdf {
			if done[k] < p.Sites[k].MaxAllocs {
				acc += weight[k]
			}
			cdf[k] = acc
		}
	}
	retire()

	read(&base) // the first runtime/metrics read builds its tables: keep that out of the baseline
	runtime.GC()
	runtime.GC()
	read(&base)

	for i, s := range p.Sites {
		roots[i] = make([]unsafe.Pointer, s.MaxAllocs)
	}
	for {
		total := cdf[n-1]
		if total <= 0 {
			break
		}
		u := r.float() * total
		k := 0
		for k < n-1 && u >= cdf[k] {
			k++
		}
		s := &p.Sites[k]
		j := 0
		if len(s.SizesBytes) > 1 {
			v := r.float()
			for j < len(s.SizesBytes)-1 && v >= s.SizeCDF[j] {
				j++
			}
		}
		roots[k][done[k]] = allocs[k][j]()
		done[k]++
		if done[k] >= s.MaxAllocs {
			retire()
		}
	}

	runtime.GC()
	read(&final)
	// The parameters and allocators are in the baseline: keep them alive
	// through the final GC, or their frees would show as workload frees.
	runtime.KeepAlive(&p)
	runtime.KeepAlive(allocs)
	runtime.KeepAlive(weight)
	runtime.KeepAlive(cdf)
	runtime.KeepAlive(done)
	out, _ := json.Marshal(map[string]any{"base": base, "final": final, "go": runtime.Version(),
		"gomaxprocs": runtime.GOMAXPROCS(0)})
	fmt.Println(string(out))
}
