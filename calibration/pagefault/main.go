// Command pagefault measures what the first touch of a heap page costs, the
// cost table's page_fault_ns (gcsim/goruntime/costs.py).
//
// Go maps heap memory read-write and lets the kernel back it on first touch
// (mem_linux.go sysMap, sysUsed); memory the scavenger returned with
// MADV_DONTNEED is backed again the same way. With transparent huge pages off
// for the heap (this machine: "madvise", and go1.27 does not madvise its
// heap), every 4 KiB page of a fresh or scavenged run takes one minor fault:
// the kernel zeroes a page and maps it.
//
// Each round maps 256 MiB of anonymous memory, writes one word per 4 KiB page
// (faulting it in), writes the same words again (no faults), and unmaps it.
// The difference of the two passes in process CPU time (user + sys), per
// 8 KiB runtime page (two OS pages), is the cost. Seven rounds; the median is
// printed last as JSON.
//
// With -between N each touch is followed by N random reads of a 64 MiB table,
// as a program does other work between its faults (the kernel's fault path
// and the page tables then leave the cache between faults); both passes do
// the reads, so the difference is still the faults. On 2026-11-27 (same VM,
// slow hour): 5545 ns per page with nothing between, 6109-6426 with 16, 64
// and 256 reads (up to ~25 us of cache misses) between; a second run 5187
// and 5859 (64 reads). Spread-out faults cost 10-15 % more than back-to-back
// ones, within the machine's drift, so one entry serves both.
//
// Usage (from calibration/): GOTOOLCHAIN=local go run ./pagefault [-between N]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"syscall"
)

const (
	arenaBytes  = 256 << 20
	osPageBytes = 4096
	rtPageBytes = 8192 // runtime page (_PageSize)
)

func procCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fmt.Fprintln(os.Stderr, "pagefault: getrusage:", err)
		os.Exit(2)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// work is the table the -between reads go to: 64 MiB, past the last-level cache.
var work []uint64

var workSink uint64

func touch(b []byte, between int, seed uint64) int64 {
	x, s := seed, uint64(0)
	mask := uint64(len(work) - 1)
	t0 := procCPU()
	for i := 0; i < len(b); i += osPageBytes {
		b[i] = 1
		for k := 0; k < between; k++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			s += work[x&mask]
		}
	}
	t := procCPU() - t0
	workSink += s
	return t
}

func main() {
	between := flag.Int("between", 0, "random reads of a 64 MiB table after each touch")
	flag.Parse()
	if *between > 0 {
		work = make([]uint64, 8<<20)
		for i := range work {
			work[i] = uint64(i)
		}
	}
	var perPage []float64
	for rep := 0; rep < 7; rep++ {
		b, err := syscall.Mmap(-1, 0, arenaBytes, syscall.PROT_READ|syscall.PROT_WRITE,
			syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			fmt.Fprintln(os.Stderr, "pagefault: mmap:", err)
			os.Exit(2)
		}
		first := touch(b, *between, uint64(rep+1))
		again := touch(b, *between, uint64(rep+1))
		if err := syscall.Munmap(b); err != nil {
			fmt.Fprintln(os.Stderr, "pagefault: munmap:", err)
			os.Exit(2)
		}
		ns := float64(first-again) / (arenaBytes / rtPageBytes)
		perPage = append(perPage, ns)
		fmt.Printf("256 MiB: first touch %.1f ms, again %.1f ms: %.0f ns per 8 KiB page\n",
			float64(first)/1e6, float64(again)/1e6, ns)
	}
	sort.Float64s(perPage)
	thp, _ := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	out, _ := json.Marshal(map[string]any{"page_fault_ns_per_page": perPage[len(perPage)/2],
		"rounds": perPage, "between": *between, "go_version": runtime.Version(),
		"thp": string(thp)})
	fmt.Println(string(out))
}
