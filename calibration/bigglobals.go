//go:build bigglobals

package main

import "unsafe"

// bigGlobals is 32 MiB of pointer-typed BSS, all nil: the "roots" experiment
// compares an empty-heap GC of this build with one of the plain build, and
// the difference is the cost of scanning this many root words.
var bigGlobals [4 << 20]unsafe.Pointer

func init() {
	globalsProbe = unsafe.Pointer(&bigGlobals) // keep the linker from dropping it
	bigGlobalsWords = len(bigGlobals)
}
