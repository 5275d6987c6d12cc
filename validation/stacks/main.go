// Stack twin: goroutine stacks in real Go, for gcsim's stack model (issue 7).
//
// Usage (one JSON line on stdout unless the program dies):
//
//	stacktwin frame VARIANT               per-call stack bytes of the variant's two recursions
//	stacktwin overflow VARIANT FILE [MAX] recurse until "fatal error: stack overflow"; the
//	                                      depth reached is kept in FILE (8 bytes, mmap'd)
//	stacktwin inuse VARIANT G R           StackInuse before and after G goroutines sit at depth R
//	stacktwin shrink VARIANT G R B N      G goroutines go to depth R, park at depth B; then N
//	                                      runtime.GC() calls, StackInuse after each
//
// VARIANT is 64, 1k or 16k: the size class of the frame (a local byte array of 48,
// 1000 or 16360 bytes; the real per-call bytes are measured by "frame").
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"unsafe"
)

var (
	depth    int64
	limit    int64 = 1 << 62
	counter  *int64
	addrs    [3]uintptr
	argAddrs [3]uintptr
	record   bool
	sink     byte
	scratch  int64
)

// rec64 is the overflow recursion: no arguments, so "go rec64()" starts it
// directly (no wrapper frame) and the stack holds only newproc1's 32 bytes above it.
//
//go:noinline
func rec64() {
	var buf [48]byte
	depth++
	*counter = depth
	if depth <= 2 {
		addrs[depth] = uintptr(unsafe.Pointer(&buf[0]))
	}
	buf[depth%48] = byte(depth)
	if depth < limit {
		rec64()
	}
	sink += buf[(depth+1)%48]
}

// recArg64 recurses to target, then parks at depth blockAt on the way back up.
//
//go:noinline
func recArg64(d, target, blockAt int64, ready *sync.WaitGroup, release chan struct{}) {
	var buf [48]byte
	if d <= 2 && record {
		argAddrs[d] = uintptr(unsafe.Pointer(&buf[0]))
	}
	buf[d%48] = byte(d)
	if d < target {
		recArg64(d+1, target, blockAt, ready, release)
	}
	if d == blockAt {
		ready.Done()
		<-release
	}
	sink += buf[(d+1)%48]
}

// rec1k is the overflow recursion: no arguments, so "go rec1k()" starts it
// directly (no wrapper frame) and the stack holds only newproc1's 32 bytes above it.
//
//go:noinline
func rec1k() {
	var buf [1000]byte
	depth++
	*counter = depth
	if depth <= 2 {
		addrs[depth] = uintptr(unsafe.Pointer(&buf[0]))
	}
	buf[depth%1000] = byte(depth)
	if depth < limit {
		rec1k()
	}
	sink += buf[(depth+1)%1000]
}

// recArg1k recurses to target, then parks at depth blockAt on the way back up.
//
//go:noinline
func recArg1k(d, target, blockAt int64, ready *sync.WaitGroup, release chan struct{}) {
	var buf [1000]byte
	if d <= 2 && record {
		argAddrs[d] = uintptr(unsafe.Pointer(&buf[0]))
	}
	buf[d%1000] = byte(d)
	if d < target {
		recArg1k(d+1, target, blockAt, ready, release)
	}
	if d == blockAt {
		ready.Done()
		<-release
	}
	sink += buf[(d+1)%1000]
}

// rec16k is the overflow recursion: no arguments, so "go rec16k()" starts it
// directly (no wrapper frame) and the stack holds only newproc1's 32 bytes above it.
//
//go:noinline
func rec16k() {
	var buf [16360]byte
	depth++
	*counter = depth
	if depth <= 2 {
		addrs[depth] = uintptr(unsafe.Pointer(&buf[0]))
	}
	buf[depth%16360] = byte(depth)
	if depth < limit {
		rec16k()
	}
	sink += buf[(depth+1)%16360]
}

// recArg16k recurses to target, then parks at depth blockAt on the way back up.
//
//go:noinline
func recArg16k(d, target, blockAt int64, ready *sync.WaitGroup, release chan struct{}) {
	var buf [16360]byte
	if d <= 2 && record {
		argAddrs[d] = uintptr(unsafe.Pointer(&buf[0]))
	}
	buf[d%16360] = byte(d)
	if d < target {
		recArg16k(d+1, target, blockAt, ready, release)
	}
	if d == blockAt {
		ready.Done()
		<-release
	}
	sink += buf[(d+1)%16360]
}

func pick(v string) (func(), func(d, target, blockAt int64, ready *sync.WaitGroup, release chan struct{})) {
	switch v {
	case "64":
		return rec64, recArg64
	case "1k":
		return rec1k, recArg1k
	case "16k":
		return rec16k, recArg16k
	}
	fmt.Fprintln(os.Stderr, "unknown variant", v)
	os.Exit(2)
	return nil, nil
}

func num(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	return n
}

func stackInuse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.StackInuse
}

func emit(v any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

// spawn starts g goroutines that recurse to r and park at depth b; it returns when all parked.
func spawn(rec func(d, target, blockAt int64, ready *sync.WaitGroup, release chan struct{}), g, r, b int64) {
	var ready sync.WaitGroup
	release := make(chan struct{})
	ready.Add(int(g))
	for i := int64(0); i < g; i++ {
		go rec(1, r, b, &ready, release)
	}
	ready.Wait()
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: stacktwin frame|overflow|inuse|shrink VARIANT ...")
		os.Exit(2)
	}
	rec, recArg := pick(os.Args[2])
	counter = &scratch
	switch os.Args[1] {
	case "frame":
		// Each recursion runs twice on one goroutine: the first grows the stack so
		// that the second, which records the frames' addresses, does not move it.
		done := make(chan struct{})
		go func() {
			limit = 3
			rec()
			depth, limit = 0, 2
			rec()
			var ready sync.WaitGroup
			ready.Add(2)
			release := make(chan struct{})
			close(release)
			recArg(1, 3, 3, &ready, release)
			record = true
			recArg(1, 2, 2, &ready, release)
			close(done)
		}()
		<-done
		emit(map[string]any{
			"frame_bytes":     int64(addrs[1] - addrs[2]),
			"arg_frame_bytes": int64(argAddrs[1] - argAddrs[2]),
			"go":              runtime.Version(),
		})
	case "overflow":
		f, err := os.OpenFile(os.Args[3], os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		if err == nil {
			err = f.Truncate(8)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		mem, err := syscall.Mmap(int(f.Fd()), 0, 8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		counter = (*int64)(unsafe.Pointer(&mem[0]))
		if len(os.Args) > 4 {
			debug.SetMaxStack(int(num(os.Args[4])))
		}
		done := make(chan struct{})
		go rec()
		<-done // never closed: the recursion dies with "fatal error: stack overflow"
	case "inuse":
		g, r := num(os.Args[3]), num(os.Args[4])
		runtime.GC()
		base := stackInuse()
		spawn(recArg, g, r, r)
		emit(map[string]any{"base": base, "after": stackInuse(), "go": runtime.Version()})
	case "shrink":
		g, r, b, n := num(os.Args[3]), num(os.Args[4]), num(os.Args[5]), num(os.Args[6])
		runtime.GC()
		base := stackInuse()
		spawn(recArg, g, r, b)
		seq := []uint64{stackInuse()}
		for i := int64(0); i < n; i++ {
			runtime.GC()
			seq = append(seq, stackInuse())
		}
		emit(map[string]any{"base": base, "after_gc": seq, "go": runtime.Version()})
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(2)
	}
}
