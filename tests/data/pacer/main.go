// Command pacer prints the GC pacer's inputs and its heap goal right after a
// forced GC, as one JSON object of runtime/metrics values (bytes). The
// environment (GOGC, GOMEMLIMIT) sets the regime. tests/unit/test_pacer.py
// feeds the inputs to gcsim.engine.pacer and compares the goal.
package main

import (
	"encoding/json"
	"os"
	"runtime"
	"runtime/metrics"
)

// live is ~22 MB of pointer slices: scannable heap that survives every GC.
var live [][]*int

func main() {
	live = make([][]*int, 1000)
	for i := range live {
		live[i] = make([]*int, 2800)
	}
	names := []string{
		"/gc/heap/goal:bytes",
		"/gc/heap/live:bytes",
		"/gc/scan/stack:bytes",
		"/gc/scan/globals:bytes",
		"/gc/scan/heap:bytes",
		"/gc/gogc:percent",
		"/gc/gomemlimit:bytes",
		"/memory/classes/total:bytes",
		"/memory/classes/heap/released:bytes",
		"/memory/classes/heap/free:bytes",
		"/memory/classes/heap/objects:bytes",
	}
	samples := make([]metrics.Sample, len(names))
	for i, n := range names {
		samples[i].Name = n
	}
	out := make(map[string]uint64, len(names))
	runtime.GC()
	metrics.Read(samples)
	for _, s := range samples {
		out[s.Name] = s.Value.Uint64()
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
	runtime.KeepAlive(live)
}
