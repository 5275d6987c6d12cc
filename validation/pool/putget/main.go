// Command putget is the Go side of gcsim's sync.Pool lifetime twin
// (gcsim/validate/pooltwins.py): Put N objects, run k GCs, Get N.
//
//	putget N K TRIALS
//
// Each trial uses a fresh sync.Pool whose New returns nil, Puts objects
// 0..N-1 from one goroutine, calls runtime.GC() K times, then Gets N times
// and records the id of each object it got (-1 for nil: the pool was empty
// and New would have been called). GOMAXPROCS comes from the environment.
// Which P the goroutine runs on is not under the program's control (it may
// resume on another P after runtime.GC()); gcsim predicts the sequence for
// every (Put P, Get P) pair and the harness matches each trial against them.
// Output: one JSON line {"gomaxprocs", "n", "k", "trials": [[ids...], ...]}.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
)

type obj struct {
	id  int
	pad [56]byte
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: putget N K TRIALS")
		os.Exit(2)
	}
	n, _ := strconv.Atoi(os.Args[1])
	k, _ := strconv.Atoi(os.Args[2])
	trials, _ := strconv.Atoi(os.Args[3])
	objs := make([]*obj, n)
	for i := range objs {
		objs[i] = &obj{id: i}
	}
	out := make([][]int, 0, trials)
	for t := 0; t < trials; t++ {
		runtime.GC() // start every trial right after a GC: no cycle starts mid-trial
		var p sync.Pool
		for _, o := range objs {
			p.Put(o)
		}
		for i := 0; i < k; i++ {
			runtime.GC()
		}
		got := make([]int, n)
		for i := range got {
			if x := p.Get(); x != nil {
				got[i] = x.(*obj).id
			} else {
				got[i] = -1
			}
		}
		out = append(out, got)
	}
	b, _ := json.Marshal(map[string]any{"gomaxprocs": runtime.GOMAXPROCS(0), "n": n, "k": k,
		"trials": out})
	os.Stdout.Write(append(b, '\n'))
	runtime.KeepAlive(objs)
}
