// Command gen produces GODEBUG=gctrace=1 output for gcsim's gctrace tests.
//
// What it does, so that every gctrace field takes a non-trivial value:
//
//  1. A 2 MiB global pointer array makes "MB globals" non-zero.
//  2. Four goroutines recurse until each holds a ~1 MiB stack and then block,
//     so "MB stacks" is non-zero while they are alive.
//  3. It churns short-lived garbage while keeping a live set that grows in
//     steps, so the pacer starts automatic cycles with rising heap goals.
//  4. It calls runtime.GC() twice (lines ending "(forced)") and writes the
//     goroutineleak profile once, which runs a forced cycle printed with
//     "(checking for goroutine leaks)" after the U% field.
//
// Its own progress lines also go to stderr, so the captured files mix gc
// lines with ordinary program output, as real logs do.
//
// Regenerate (see ../README.md). Build first and set GODEBUG only on the
// binary: under `GODEBUG=gctrace=1 go run` the compiler prints gc lines too,
// and the build cache replays that stderr on later builds.
//
//	GOTOOLCHAIN=local go build -o /tmp/gctracegen .
//	GOMAXPROCS=1 GODEBUG=gctrace=1 /tmp/gctracegen 2> ../go1.27.3_gomaxprocs1.txt
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

type node struct {
	next *node
	buf  [1000]byte
}

var (
	roots [1 << 18]*node // 2 MiB of pointer globals
	live  []*node        // survives: the live heap grows in steps
	sink  [][]byte       // churn: overwritten, so mostly garbage
)

// deep recurses n frames of ~1 KiB each, then waits for release.
func deep(n int, release <-chan struct{}, ready *sync.WaitGroup) byte {
	var pad [1000]byte
	pad[n%len(pad)] = byte(n)
	if n == 0 {
		ready.Done()
		<-release
		return pad[0]
	}
	return deep(n-1, release, ready) + pad[n%len(pad)]
}

func churn(rounds, keepEvery int) {
	for i := 0; i < rounds; i++ {
		if i%keepEvery == 0 {
			n := &node{}
			live = append(live, n)
			roots[len(live)%len(roots)] = n
		}
		sink = append(sink, make([]byte, 512+i%4096))
		if len(sink) == 256 {
			sink = sink[:0]
		}
	}
}

// logf writes a progress line to stderr. The runtime prints a gc line piece
// by piece with no lock that os.Stderr writers respect, and runtime.GC()
// can return (its waiters are woken in mark termination) while the line is
// still being printed on another P; so wait a little first, or the progress
// text may land in the middle of a gc line.
func logf(format string, args ...any) {
	time.Sleep(20 * time.Millisecond)
	fmt.Fprintf(os.Stderr, "gen: "+format+"\n", args...)
}

func main() {
	logf("start, GOMAXPROCS=%d", runtime.GOMAXPROCS(0))
	release := make(chan struct{})
	var ready, done sync.WaitGroup
	for i := 0; i < 4; i++ {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			deep(1000, release, &ready)
		}()
	}
	ready.Wait()

	churn(8_000, 2)
	logf("phase 1 done")
	churn(16_000, 2)
	logf("phase 2 done, forcing GC")
	runtime.GC()
	live = live[:len(live)/2]
	runtime.GC()
	logf("writing goroutineleak profile")
	if err := pprof.Lookup("goroutineleak").WriteTo(io.Discard, 0); err != nil {
		logf("%v", err)
		os.Exit(1)
	}
	close(release)
	done.Wait()
	churn(8_000, 8)
	logf("done, %d live nodes", len(live))
}
