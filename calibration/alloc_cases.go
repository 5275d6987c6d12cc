// The allocation cases: one new(T) site per kind and size, so the compiler
// picks the malloc entry point new(T) gets in ordinary code (size-specialised
// mallocgc stubs up to 80 B). Scan objects of 16 B and more start with two
// pointer words and are bytes after that, like most Go structs; their
// objects over 512 B get an 8-byte malloc header and the next size class.

package main

import "unsafe"

type scan32 struct {
	p [2]unsafe.Pointer
	b [16]byte
}

type scan48 struct {
	p [2]unsafe.Pointer
	b [32]byte
}

type scan64 struct {
	p [2]unsafe.Pointer
	b [48]byte
}

type scan96 struct {
	p [2]unsafe.Pointer
	b [80]byte
}

type scan128 struct {
	p [2]unsafe.Pointer
	b [112]byte
}

type scan256 struct {
	p [2]unsafe.Pointer
	b [240]byte
}

type scan512 struct {
	p [2]unsafe.Pointer
	b [496]byte
}

type scan1024 struct {
	p [2]unsafe.Pointer
	b [1008]byte
}

type scan2048 struct {
	p [2]unsafe.Pointer
	b [2032]byte
}

type scan4096 struct {
	p [2]unsafe.Pointer
	b [4080]byte
}

type scan8192 struct {
	p [2]unsafe.Pointer
	b [8176]byte
}

type scan16384 struct {
	p [2]unsafe.Pointer
	b [16368]byte
}

// allocCases: kind -> size -> (loop of n allocations, one allocation).
var allocCases = map[string]map[int]allocCase{
	"noscan": {
		16: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([16]byte))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([16]byte)) }},
		32: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([32]byte))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([32]byte)) }},
		48: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([48]byte))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([48]byte)) }},
		64: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([64]byte))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([64]byte)) }},
		96: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([96]byte))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([96]byte)) }},
		128: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([128]byte))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([128]byte)) }},
		256: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([256]byte))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([256]byte)) }},
		512: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([512]byte))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([512]byte)) }},
		1024: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([1024]byte))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([1024]byte)) }},
		2048: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([2048]byte))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([2048]byte)) }},
		4096: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([4096]byte))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([4096]byte)) }},
		8192: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([8192]byte))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([8192]byte)) }},
		16384: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([16384]byte))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([16384]byte)) }},
		32760: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([32760]byte))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([32760]byte)) }},
	},
	"scan": {
		8: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([1]unsafe.Pointer))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([1]unsafe.Pointer)) }},
		16: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([2]unsafe.Pointer))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([2]unsafe.Pointer)) }},
		32: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new(scan32))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new(scan32)) }},
		48: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new(scan48))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new(scan48)) }},
		64: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new(scan64))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new(scan64)) }},
		96: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new(scan96))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new(scan96)) }},
		128: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new(scan128))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new(scan128)) }},
		256: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new(scan256))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new(scan256)) }},
		512: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new(scan512))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new(scan512)) }},
		1024: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new(scan1024))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new(scan1024)) }},
		2048: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new(scan2048))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new(scan2048)) }},
		4096: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new(scan4096))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new(scan4096)) }},
		8192: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new(scan8192))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new(scan8192)) }},
		16384: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new(scan16384))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new(scan16384)) }},
	},
	"tiny": {
		1: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([1]byte))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([1]byte)) }},
		2: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([2]byte))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([2]byte)) }},
		4: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([4]byte))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([4]byte)) }},
		8: {func(n int) {
			for i := 0; i < n; i++ {
				sink = unsafe.Pointer(new([8]byte))
			}
		}, func() unsafe.Pointer { return unsafe.Pointer(new([8]byte)) }},
	},
}
