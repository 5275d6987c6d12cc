// Package goreport prints the one JSON line a twin program ends with: the
// runtime's own figures (MemStats under Go's field names, a few
// runtime/metrics values, the pause list, process CPU) plus the fields the
// twin adds. gcsim/validate/twins.py reads it.
package goreport

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"syscall"
	"time"
)

var metricNames = []string{
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

// atStart is the metrics snapshot Start took, nil before; cpuAtStart the
// process CPU then.
var (
	atStart    map[string]any
	cpuAtStart int64 = -1
)

// Start snapshots the metrics as the workload begins, so the report can give
// figures over the workload alone (gcsim's run) and leave out what the program
// did before it (timing its loop in a child, building its types and root
// tables): GCCPUFraction counts from process start.
func Start() {
	atStart = readMetrics()
	cpuAtStart = processCPU()
}

// processCPU is user + sys of the whole process, ns, or -1 if unknown.
func processCPU() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func readMetrics() map[string]any {
	samples := make([]metrics.Sample, len(metricNames))
	for i, n := range metricNames {
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
	return m
}

// Print writes the report of a run that took elapsed with procs Ps and
// allocated allocs objects, with extra's fields added, as one line on stdout.
func Print(twin string, procs int, allocs int64, elapsed time.Duration, extra map[string]any) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := readMetrics()
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
	cpuNs := processCPU()
	out := map[string]any{
		"cpu_ns":           cpuNs, // user + sys of the whole process, -1 if unknown
		"twin":             twin,
		"go_version":       runtime.Version(),
		"gomaxprocs":       procs,
		"allocs":           allocs,
		"elapsed_ns":       elapsed.Nanoseconds(),
		"pause_ns":         pauses, // per cycle, oldest first (the last 256 cycles)
		"metrics":          m,
		"metrics_at_start": atStart,    // null if the twin never called Start
		"cpu_ns_at_start":  cpuAtStart, // -1 then
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
	for k, v := range extra {
		out[k] = v
	}
	b, err := json.Marshal(out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "goreport: %v\n", err)
		os.Exit(2)
	}
	os.Stdout.Write(append(b, '\n'))
}
