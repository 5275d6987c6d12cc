// Command calibrate measures what the Go runtime's memory system costs on
// this machine, for gcsim's cost table (gcsim/goruntime/costs.py).
//
// `gcsim calibrate` (gcsim/calibrate.py) builds this program three ways
// (plain, GOEXPERIMENT=nogreenteagc, and -tags bigglobals), runs one
// experiment per invocation, and fits the cost entries from the JSON lines
// each experiment prints on stdout:
//
//	calibrate EXPERIMENT [-n N] [-reps R] [-sizes LIST] ...
//
// Experiments (each names its method at the top of its function):
//
//	alloc   small allocation per size class, noscan/scan/tiny, GC off   (alloc.go)
//	refill  per-allocation timing: the allocations that open a span     (alloc.go)
//	large   large (> 32760 B) allocation, GC off                       (alloc.go)
//	mark    runtime.GC() over live graphs (-graphs kind:order:n:k,...)  (mark.go)
//	sweep   runtime.GC() after all but one object per span died, then all (mark.go)
//	sched   the Gosched round trips runtime.GC's sweep loop adds        (mark.go)
//	wb      pointer stores with the write barrier off and on            (misc.go)
//	stack   stack growth by copying                                     (misc.go)
//	stw     GC pauses: runtime.GC() on an empty heap, or cycles
//	        triggered by allocation over a live ring (-n)               (misc.go)
//
// Times are CPU time (clock_gettime CLOCK_PROCESS_CPUTIME_ID, or
// CLOCK_THREAD_CPUTIME_ID where the code under test runs on a locked
// thread), so a busy machine stretches them less than wall time. A GC's
// records also carry runtime/metrics' mark time (/cpu/classes/gc/*), which
// the runtime measures as the wall time its workers ran, and the wall time:
// on this project's shared VM the metrics read up to 2x the process CPU.
// Repetitions go round robin over the cases of one invocation, so a change
// in the machine's speed spreads over all of them.
//
// Linux only (the CPU clocks). The program prints nothing on stderr itself:
// with GODEBUG=gctrace=1 stderr holds only the runtime's gc lines.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// Set by bigglobals.go in a -tags bigglobals build.
var (
	globalsProbe    unsafe.Pointer
	bigGlobalsWords int
)

//go:linkname nanotime runtime.nanotime
func nanotime() int64

func clockNs(clock uintptr) int64 {
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clock, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		fail("clock_gettime(%d): %v", clock, errno)
	}
	return ts.Nano()
}

// procCPU is the CPU time (user + sys) of the whole process, ns.
func procCPU() int64 { return clockNs(2) } // CLOCK_PROCESS_CPUTIME_ID

// threadCPU is the CPU time of the calling thread, ns; lock the goroutine
// to its thread (runtime.LockOSThread) before using it.
func threadCPU() int64 { return clockNs(3) } // CLOCK_THREAD_CPUTIME_ID

// minorFaults is the process's minor page faults so far (getrusage).
func minorFaults() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return -1
	}
	return ru.Minflt
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "calibrate: "+format+"\n", args...)
	os.Exit(2)
}

// emit prints one JSON record on stdout.
func emit(rec map[string]any) {
	b, err := json.Marshal(rec)
	if err != nil {
		fail("%v", err)
	}
	os.Stdout.Write(append(b, '\n'))
}

// gcCPU reads the runtime's GC CPU classes, ns.
type gcCPU struct{ mark, pause, total int64 }

var gcSamples = []metrics.Sample{
	{Name: "/cpu/classes/gc/mark/assist:cpu-seconds"},
	{Name: "/cpu/classes/gc/mark/dedicated:cpu-seconds"},
	{Name: "/cpu/classes/gc/mark/idle:cpu-seconds"},
	{Name: "/cpu/classes/gc/pause:cpu-seconds"},
	{Name: "/cpu/classes/gc/total:cpu-seconds"},
}

func readGCCPU() gcCPU {
	metrics.Read(gcSamples)
	ns := func(i int) int64 { return int64(gcSamples[i].Value.Float64() * 1e9) }
	return gcCPU{mark: ns(0) + ns(1) + ns(2), pause: ns(3), total: ns(4)}
}

func metricUint(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// xorshift is the programs' random generator (xorshift64*).
type xorshift uint64

func (x *xorshift) next() uint64 {
	v := uint64(*x)
	v ^= v >> 12
	v ^= v << 25
	v ^= v >> 27
	*x = xorshift(v)
	return v * 2685821657736338717
}

func (x *xorshift) intn(n int) int { return int(x.next() % uint64(n)) }

func (x *xorshift) shuffle(p []unsafe.Pointer) {
	for i := len(p) - 1; i > 0; i-- {
		j := x.intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
}

func intList(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil {
			fail("bad integer %q in %q", f, s)
		}
		out = append(out, v)
	}
	return out
}

type options struct {
	n      int
	reps   int
	k      int
	kind   string
	sizes  string
	graphs string
	budget int // bytes per allocation round
	frames string
	depth  int
	chunk  int
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: calibrate EXPERIMENT [flags]")
	}
	exp := os.Args[1]
	var o options
	fs := flag.NewFlagSet(exp, flag.ExitOnError)
	fs.IntVar(&o.n, "n", 0, "objects: sweep, sched, wb graph, stw live ring")
	fs.IntVar(&o.reps, "reps", 5, "measured repetitions")
	fs.IntVar(&o.k, "k", 0, "spinning goroutines (stw)")
	fs.StringVar(&o.kind, "kind", "noscan", "object kind (alloc, large, refill)")
	fs.StringVar(&o.sizes, "sizes", "", "comma-separated sizes (alloc, large, refill)")
	fs.StringVar(&o.graphs, "graphs", "empty:seq:0:0", "kind:order:n:k,... (mark)")
	fs.IntVar(&o.budget, "budget", 64<<20, "bytes allocated per round (alloc, large)")
	fs.StringVar(&o.frames, "frames", "128,256,1024", "frame bytes (stack)")
	fs.IntVar(&o.depth, "depth", 1<<20, "stack bytes to grow to (stack)")
	fs.IntVar(&o.chunk, "chunk", 1<<20, "stores per timed chunk (wb)")
	fs.Parse(os.Args[2:])
	common := map[string]any{"exp": exp, "gomaxprocs": runtime.GOMAXPROCS(0),
		"go_version": runtime.Version(), "big_globals_words": bigGlobalsWords}
	runs := map[string]func(options, map[string]any){
		"alloc": runAlloc, "refill": runRefill, "large": runLarge,
		"mark": runMark, "sweep": runSweep, "sched": runSched,
		"wb": runWB, "stack": runStack, "stw": runSTW, "allocmark": runAllocMark,
		"refillpar": runRefillPar, "corun": runCorun,
	}
	run, ok := runs[exp]
	if !ok {
		fail("unknown experiment %q", exp)
	}
	run(o, common)
	runtime.KeepAlive(globalsProbe)
}

// record copies the common fields into a new record.
func record(common map[string]any, kv ...any) map[string]any {
	r := make(map[string]any, len(common)+len(kv)/2)
	for k, v := range common {
		r[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		r[kv[i].(string)] = kv[i+1]
	}
	return r
}
