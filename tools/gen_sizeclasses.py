"""Generate ``gcsim/goruntime/sizeclasses.py``: Go's size-class table as NumPy data.

What it models
    The table in go1.27.3 ``src/internal/runtime/gc/sizeclasses.go``. Go builds
    that file with ``src/runtime/_mkmalloc/mksizeclasses.go``; this script
    re-implements the same algorithm rather than parsing Go's output, so the
    table's origin is explicit and a unit test (tests/unit/test_sizeclasses.py)
    checks the result field by field against the installed GOROOT.

Algorithm (``makeClasses``, reference/go-runtime.md §1.4)
    1. Walk sizes from 8 to 32768 in steps of ``align``. At each power of two
       the step grows: 16 from 32, size/8 from 128, 256 from 2048.
    2. For each size take the fewest 8 KiB pages whose leftover after packing
       objects is at most 1/8 of the span.
    3. If that page count and object count equal the previous class's, the
       size replaces (enlarges) the previous class instead of adding one.
    4. Second pass: raise each class to floor(span / objects), rounded down to
       a multiple of 128 (LargeSizeDiv), if larger: 8448 B becomes 9472 B, still
       6 objects in 7 pages.
    5. Insist on exactly 68 classes (class 0 is a dummy) and check that the
       runtime's 32-bit multiply-shift division (``computeDivMagic``, Lemire,
       Kaser and Kurz, arXiv:1902.01961) is exact for every offset in the span.

On top of Go's columns it derives the objects per span the runtime really uses
(``mheap.initSpan`` in src/runtime/mheap.go), which differ from the table's
"objects" column for spans of objects of at most 512 B; see the generated
module's docstring.

Usage::

    python tools/gen_sizeclasses.py          # rewrite gcsim/goruntime/sizeclasses.py
    python tools/gen_sizeclasses.py --check  # exit 1 if the committed file is stale
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

OUTPUT_PATH = Path(__file__).resolve().parent.parent / "gcsim" / "goruntime" / "sizeclasses.py"

# Generator inputs, as in src/runtime/_mkmalloc/constants.go.
MIN_HEAP_ALIGN_BYTES = 8
MAX_SMALL_SIZE_BYTES = 32 << 10
SMALL_SIZE_DIV = 8
SMALL_SIZE_MAX = 1024
LARGE_SIZE_DIV = 128
PAGE_SHIFT = 13
PAGE_BYTES = 1 << PAGE_SHIFT
TINY_SIZE_BYTES = 16
NUM_SIZE_CLASSES = 68  # makeClasses panics on any other count

# Runtime facts the per-span object counts depend on (64-bit targets).
PTR_BYTES = 8  # goarch.PtrSize
MALLOC_HEADER_BYTES = 8  # gc.MallocHeaderSize, src/internal/runtime/gc/malloc.go
# gc.MinSizeForMallocHeader = PtrSize * PtrBits; exclusive: objects of at most
# this many bytes keep their pointer bitmap in the span (heapBitsInSpan).
MIN_SIZE_FOR_MALLOC_HEADER_BYTES = PTR_BYTES * PTR_BYTES * 8
# sizeof(spanInlineMarkBits), src/runtime/mgcmark_greenteagc.go:
# scans [63]uint8 + owned uint8 + marks [63]uint8 + class spanClass (uint8).
GREENTEA_INLINE_MARK_BYTES = 63 + 1 + 63 + 1
# mheap.initSpan reserves nbytes/PtrSize/8 for the pointer bitmap of a scan
# span with heap bits; all such spans are one page (checked below), so 128 B.
SCAN_BITMAP_BYTES = PAGE_BYTES // PTR_BYTES // 8
# Greentea marks objects inline only from 16 B up (gcUsesSpanInlineMarkBits).
GREENTEA_MIN_INLINE_MARK_SIZE_BYTES = 16


class SizeClass(NamedTuple):
    """One size class: slot size and span length."""

    size_bytes: int  # bytes per object slot; 0 for the dummy class 0
    npages: int  # pages per span; 0 for the dummy class 0


def _power_of_two(x: int) -> bool:
    return x != 0 and x & (x - 1) == 0


def make_classes() -> list[SizeClass]:
    """Build Go's size classes, class 0 (the dummy) first.

    Returns
    -------
    list of SizeClass, length 68
        Identical to ``SizeClassToSize`` / ``SizeClassToNPages``.
    """
    sizes = [0]
    npages_of = [0]
    align = MIN_HEAP_ALIGN_BYTES
    size = align
    while size <= MAX_SMALL_SIZE_BYTES:
        if _power_of_two(size):
            if size >= 2048:
                align = 256
            elif size >= 128:
                align = size // 8
            elif size >= 32:
                align = 16  # Go's heap bitmaps assume 16-byte alignment from 32 B
        if not _power_of_two(align):
            raise AssertionError(f"alignment {align} is not a power of two")

        # Fewest pages whose leftover is at most 1/8 of the span: 12.5 % waste.
        span_bytes = PAGE_BYTES
        while span_bytes % size > span_bytes // 8:
            span_bytes += PAGE_BYTES
        npages = span_bytes // PAGE_BYTES

        # Same pages and same object count as the previous class: that class
        # might as well be this (larger) size.
        if (
            len(sizes) > 1
            and npages == npages_of[-1]
            and span_bytes // size == span_bytes // sizes[-1]
        ):
            sizes[-1] = size
        else:
            sizes.append(size)
            npages_of.append(npages)
        size += align

    # Grow each class while the same number of objects still fits, keeping
    # LargeSizeDiv alignment so the 128-byte lookup table stays valid.
    for i in range(1, len(sizes)):
        span_bytes = npages_of[i] * PAGE_BYTES
        grown = (span_bytes // (span_bytes // sizes[i])) & ~(LARGE_SIZE_DIV - 1)
        sizes[i] = max(sizes[i], grown)

    if len(sizes) != NUM_SIZE_CLASSES:
        raise AssertionError(f"number of size classes changed: {len(sizes)}")
    classes = [SizeClass(s, n) for s, n in zip(sizes, npages_of, strict=True)]
    for c in classes:
        compute_div_magic(c)
    return classes


def compute_div_magic(c: SizeClass) -> int:
    """Return the runtime's division magic for ``c`` after proving it exact.

    The runtime computes the object index of span offset ``n`` as
    ``(n * m) >> 32`` with ``m = ^uint32(0) / size + 1``. Like Go's generator
    this first checks that Lemire et al.'s Algorithm 2 needs at most 32
    fractional bits, then checks every ``0 <= n <= npages * 8192`` directly.

    Parameters
    ----------
    c : SizeClass
        The class; the dummy class 0 returns 0 without checks.

    Returns
    -------
    int
        ``m`` as a non-negative integer below 2**32.
    """
    d = c.size_bytes
    if d == 0:
        return 0
    max_offset = c.npages * PAGE_BYTES
    n_bits = max_offset.bit_length()
    if _power_of_two(d):
        frac_bits = d.bit_length() - 1
    else:
        extra = 0
        while d > (1 << (n_bits + extra)) % d + (1 << extra):
            extra += 1
        frac_bits = n_bits + extra
    if frac_bits > 32:
        raise AssertionError(f"size {d} needs {frac_bits} bits of precision (max {max_offset})")

    magic = 0xFFFF_FFFF // d + 1
    offsets = np.arange(max_offset + 1, dtype=np.uint64)
    quotients = ((offsets * np.uint64(magic)) >> np.uint64(32)) & np.uint64(0xFFFF_FFFF)
    bad = np.flatnonzero(quotients != offsets // np.uint64(d))
    if bad.size:
        raise AssertionError(f"bad 32-bit multiply magic: size {d} m {magic} n {int(bad[0])}")
    return magic


def nelems(c: SizeClass, scan: bool, greentea: bool) -> int:
    """Objects per span as ``mheap.initSpan`` sets ``s.nelems`` (go1.27.3).

    Parameters
    ----------
    c : SizeClass
        A real class (1..67).
    scan : bool
        True for the scan (pointerful) span class, False for noscan.
    greentea : bool
        True for the default Green Tea build, False for
        ``GOEXPERIMENT=nogreenteagc``.

    Returns
    -------
    int
        Slots per span, e.g. 16 B: 504 noscan / 496 scan with Green Tea.
    """
    span_bytes = c.npages * PAGE_BYTES
    heap_bits_in_span = c.size_bytes <= MIN_SIZE_FOR_MALLOC_HEADER_BYTES
    reserve_bytes = 0
    if greentea and heap_bits_in_span and c.size_bytes >= GREENTEA_MIN_INLINE_MARK_SIZE_BYTES:
        reserve_bytes += GREENTEA_INLINE_MARK_BYTES
    if scan and heap_bits_in_span:
        reserve_bytes += span_bytes // PTR_BYTES // 8
    return (span_bytes - reserve_bytes) // c.size_bytes


def _size_to_class(classes: Sequence[SizeClass], size: int) -> int:
    """Smallest class whose slot holds ``size`` bytes (printClasses' closure)."""
    for i, c in enumerate(classes):
        if c.size_bytes >= size:
            return i
    raise AssertionError(f"size {size} is larger than every class")


class _Derived(NamedTuple):
    """Every per-class column the module exports, class 0 first."""

    objects: list[int]
    tail_waste: list[int]
    max_waste: list[float]
    min_align: list[int]
    div_magic: list[int]


def _derive(classes: Sequence[SizeClass]) -> _Derived:
    """The columns of Go's ``printComment``, plus the division magic."""
    d = _Derived([0], [0], [0.0], [0], [0])
    prev_size = 0
    for c in classes[1:]:
        span_bytes = c.npages * PAGE_BYTES
        objects = span_bytes // c.size_bytes
        tail = span_bytes - objects * c.size_bytes
        d.objects.append(objects)
        d.tail_waste.append(tail)
        # Worst case: every object is one byte bigger than the previous class.
        d.max_waste.append(float((c.size_bytes - prev_size - 1) * objects + tail) / span_bytes)
        align_bits = min((c.size_bytes & -c.size_bytes).bit_length() - 1, PAGE_SHIFT)
        d.min_align.append(1 << align_bits)
        d.div_magic.append(compute_div_magic(c))
        prev_size = c.size_bytes
    return d


def _comment_table(classes: Sequence[SizeClass], d: _Derived) -> list[str]:
    """Go's comment block (printComment), ``#`` instead of ``//``."""
    header = ("class", "bytes/obj", "bytes/span", "objects", "tail waste", "max waste", "min align")
    lines = ["# {:<5}  {:<9}  {:<10}  {:<7}  {:<10}  {:<9}  {:<9}".format(*header)]
    for i in range(1, len(classes)):
        c = classes[i]
        lines.append(
            f"# {i:5d}  {c.size_bytes:9d}  {c.npages * PAGE_BYTES:10d}  {d.objects[i]:7d}"
            f"  {d.tail_waste[i]:10d}  {100 * d.max_waste[i]:8.2f}%  {d.min_align[i]:9d}"
        )
    lines.append("#")
    # For each alignment, the smallest size from which every class has it.
    min_aligns = [0] * (PAGE_SHIFT + 1)
    for c, align in zip(classes[1:], d.min_align[1:], strict=True):
        align_bits = align.bit_length() - 1
        for b in range(len(min_aligns)):
            if b > align_bits:
                min_aligns[b] = 0
            elif min_aligns[b] == 0:
                min_aligns[b] = c.size_bytes
    lines.append(f"# {'alignment':<9}  {'bits':<4}  {'min obj size':<12}")
    for b, size in enumerate(min_aligns):
        if size == 0:
            break
        if b + 1 < len(min_aligns) and size == min_aligns[b + 1]:
            continue
        lines.append(f"# {1 << b:9d}  {b:4d}  {size:12d}")
    return lines


def _int_array(
    name: str, values: Sequence[int], per_line: int, label: str, step: int, first: int = 0
) -> list[str]:
    """``NAME = np.array([...], dtype=np.int64)`` with a range comment per line."""
    width = max(len(str(v)) for v in values)
    lines = [f"{name} = np.array(["]
    for start in range(0, len(values), per_line):
        chunk = values[start : start + per_line]
        body = ", ".join(str(v).rjust(width) for v in chunk)
        lo = first + start * step
        hi = first + (start + len(chunk) - 1) * step
        span = f"{lo}" if lo == hi else f"{lo}-{hi}"
        lines.append(f"    {body},  # {label} {span}")
    lines.append("], dtype=np.int64)")
    return lines


def _float_array(name: str, values: Sequence[float]) -> list[str]:
    """``NAME = np.array([...], dtype=np.float64)``, one exact ``repr`` per class."""
    lines = [f"{name} = np.array(["]
    lines += [f"    {v!r},  # class {i}" for i, v in enumerate(values)]
    lines.append("], dtype=np.float64)")
    return lines


_DOCSTRING = '''"""Go's size classes (go1.27.3, linux/amd64) as NumPy data for the engine.

Produced by tools/gen_sizeclasses.py, which re-implements
src/runtime/_mkmalloc/mksizeclasses.go; tests/unit/test_sizeclasses.py checks
it against the installed GOROOT's src/internal/runtime/gc/sizeclasses.go. The
table above is Go's comment block (columns as in ``printComment``).

Every array is int64 (or float64) and indexed by size class, class 0 being the
dummy used for large objects (its entries are 0). Numba kernels read them as
compile-time constants, so change them only by regenerating.

Objects per span. The "objects" column (``CLASS_TO_NELEMS_TABLE``) is
span bytes / object bytes, but ``mheap.initSpan`` (src/runtime/mheap.go) keeps
room inside small spans for metadata, so the runtime's ``s.nelems`` is:

1. Green Tea build (default): reserve 128 B (``GREENTEA_INLINE_MARK_BYTES``,
   sizeof ``spanInlineMarkBits``) when ``gcUsesSpanInlineMarkBits(size)``,
   i.e. 16 <= size <= 512; reserve span bytes / 64 more (the pointer bitmap,
   ``SCAN_BITMAP_BYTES``, 128 B since all such spans are one page) for a scan
   span when ``heapBitsInSpan(size)``, i.e. size <= 512; then
   nelems = (span bytes - reserve) // size.
2. ``GOEXPERIMENT=nogreenteagc``: only the bitmap reservation, for scan spans.

Worked numbers: 16 B gives 504 noscan / 496 scan with Green Tea and 512 / 504
without; 8 B gives 1024 / 1008 in both builds (no inline mark bits below 16 B).

Lookup (src/runtime/malloc.go ``mallocgcSmallNoscan`` and
``mallocgcSmallScanHeader``): for a request of ``n`` bytes (``n + 8`` for
pointerful objects over ``MIN_SIZE_FOR_MALLOC_HEADER_BYTES``) the class is
``SIZE_TO_CLASS8[ceil(n / 8)]`` if ``n <= SMALL_SIZE_MAX - 8``, else
``SIZE_TO_CLASS128[ceil((n - SMALL_SIZE_MAX) / 128)]``. Requests over
``MAX_SMALL_ALLOC_BYTES`` are large objects in class 0.
"""'''


def generate() -> str:
    """Return the full text of ``gcsim/goruntime/sizeclasses.py``."""
    classes = make_classes()
    d = _derive(classes)
    real = classes[1:]
    max_objs_per_span = max(d.objects)
    max_npages = max(c.npages for c in real)
    # The fixed SCAN_BITMAP_BYTES is only right if every span that carries
    # heap bits is one page (Go's mallocinit checks the same).
    if any(c.npages != 1 for c in real if c.size_bytes <= MIN_SIZE_FOR_MALLOC_HEADER_BYTES):
        raise AssertionError("a class with heap bits in span uses more than one page")

    nelems_cols = {
        "NELEMS_NOSCAN_GREENTEA": (False, True),
        "NELEMS_SCAN_GREENTEA": (True, True),
        "NELEMS_NOSCAN_CLASSIC": (False, False),
        "NELEMS_SCAN_CLASSIC": (True, False),
    }
    size8 = [
        _size_to_class(classes, i * SMALL_SIZE_DIV)
        for i in range(SMALL_SIZE_MAX // SMALL_SIZE_DIV + 1)
    ]
    size128 = [
        _size_to_class(classes, SMALL_SIZE_MAX + i * LARGE_SIZE_DIV)
        for i in range((MAX_SMALL_SIZE_BYTES - SMALL_SIZE_MAX) // LARGE_SIZE_DIV + 1)
    ]

    out = [
        "# Code generated by tools/gen_sizeclasses.py; DO NOT EDIT.",
        "#",
        "# Go's size classes, as in go1.27.3 src/internal/runtime/gc/sizeclasses.go.",
        "#",
        *_comment_table(classes, d),
        _DOCSTRING,
        "",
        "import numpy as np",
        "",
        "# fmt: off",
        "# Constants of src/internal/runtime/gc/sizeclasses.go, in bytes where sized.",
        f"PAGE_SHIFT = {PAGE_SHIFT}",
        f"PAGE_BYTES = {PAGE_BYTES}",
        f"NUM_SIZE_CLASSES = {len(classes)}  # including the dummy class 0",
        f"NUM_SPAN_CLASSES = {2 * len(classes)}  # span class = size class * 2 + noscan",
        f"MIN_HEAP_ALIGN_BYTES = {MIN_HEAP_ALIGN_BYTES}",
        f"MAX_SMALL_SIZE_BYTES = {MAX_SMALL_SIZE_BYTES}  # largest small class",
        f"SMALL_SIZE_DIV = {SMALL_SIZE_DIV}",
        f"SMALL_SIZE_MAX = {SMALL_SIZE_MAX}",
        f"LARGE_SIZE_DIV = {LARGE_SIZE_DIV}",
        f"MAX_OBJS_PER_SPAN = {max_objs_per_span}",
        f"MAX_SIZE_CLASS_NPAGES = {max_npages}",
        f"TINY_SIZE_BYTES = {TINY_SIZE_BYTES}",
        f"TINY_SIZE_CLASS = {_size_to_class(classes, TINY_SIZE_BYTES)}",
        "",
        "# Runtime constants the allocation path and span layout depend on.",
        "# Largest request that takes the small path, scan or noscan (malloc.go mallocgc).",
        f"MAX_SMALL_ALLOC_BYTES = {MAX_SMALL_SIZE_BYTES - MALLOC_HEADER_BYTES}",
        f"MALLOC_HEADER_BYTES = {MALLOC_HEADER_BYTES}  # gc.MallocHeaderSize",
        "# Pointerful objects larger than this (exclusive) carry a malloc header.",
        f"MIN_SIZE_FOR_MALLOC_HEADER_BYTES = {MIN_SIZE_FOR_MALLOC_HEADER_BYTES}",
        f"GREENTEA_INLINE_MARK_BYTES = {GREENTEA_INLINE_MARK_BYTES}  # sizeof(spanInlineMarkBits)",
        "# Pointer bitmap at the end of one-page scan spans of <= 512 B objects.",
        f"SCAN_BITMAP_BYTES = {SCAN_BITMAP_BYTES}",
        "",
        "# Per size class (index 0 = large objects / dummy).",
        *_int_array("CLASS_TO_SIZE_BYTES", [c.size_bytes for c in classes], 10, "classes", 1),
        *_int_array("CLASS_TO_NPAGES", [c.npages for c in classes], 10, "classes", 1),
        "# The table's objects column: span bytes // object bytes.",
        *_int_array("CLASS_TO_NELEMS_TABLE", d.objects, 10, "classes", 1),
        *_int_array("CLASS_TO_TAIL_WASTE_BYTES", d.tail_waste, 10, "classes", 1),
        *_int_array("CLASS_TO_MIN_ALIGN_BYTES", d.min_align, 10, "classes", 1),
        "# ^uint32(0)/size + 1: object index = (offset * magic) >> 32.",
        *_int_array("CLASS_TO_DIVMAGIC", d.div_magic, 6, "classes", 1),
        "# Worst-case fraction of a span lost to round-up plus tail waste.",
        *_float_array("CLASS_TO_MAX_WASTE_FRAC", d.max_waste),
        "",
        "# Objects per span the runtime uses (mheap.initSpan); see the module docstring.",
    ]
    for name, (scan, greentea) in nelems_cols.items():
        values = [0] + [nelems(c, scan, greentea) for c in real]
        out.extend(_int_array(name, values, 10, "classes", 1))
    out += [
        "",
        "# Size -> class lookup: SIZE_TO_CLASS8[ceil(n / 8)] for n <= 1016,",
        "# SIZE_TO_CLASS128[ceil((n - 1024) / 128)] up to MAX_SMALL_SIZE_BYTES.",
        *_int_array("SIZE_TO_CLASS8", size8, 16, "sizes", SMALL_SIZE_DIV),
        *_int_array("SIZE_TO_CLASS128", size128, 16, "sizes", LARGE_SIZE_DIV, SMALL_SIZE_MAX),
        "# fmt: on",
        "",
    ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or with ``--check`` verify) ``gcsim/goruntime/sizeclasses.py``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if the committed file differs from the generated text",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT_PATH, help="file to write")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale; run tools/gen_sizeclasses.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
