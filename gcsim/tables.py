"""Go's size-class table for people: rows, text tables, CSV, and the size lookup.

The data live in :mod:`gcsim.goruntime.sizeclasses` (generated, checked
against the GOROOT). This module presents them: :func:`sizeclass_rows` as
dicts, :func:`format_sizeclasses` in Go's comment layout or as CSV, and
:func:`size_to_class`, the pure-Python reference for the engine's lookup.
"""

from __future__ import annotations

import csv
import io

from gcsim.goruntime import sizeclasses as sc

FORMATS = ("table", "csv")

ROW_KEYS = (
    "class",
    "bytes_per_obj",
    "bytes_per_span",
    "objects",
    "tail_waste_bytes",
    "max_waste_frac",
    "min_align_bytes",
    "nelems_noscan",
    "nelems_scan",
)


def sizeclass_rows(greentea: bool = True) -> list[dict[str, int | float]]:
    """One dict per real size class (1..67), keys as in ``ROW_KEYS``.

    Parameters
    ----------
    greentea : bool
        True: ``nelems_*`` as the default Green Tea build sets them; False:
        as ``GOEXPERIMENT=nogreenteagc`` sets them.

    Returns
    -------
    list of dict
        ``objects`` is the table's span bytes // object bytes;
        ``nelems_noscan`` / ``nelems_scan`` are the slots per span the runtime
        really uses (e.g. class 2, 16 B: 512, 504, 496 with Green Tea).
        ``max_waste_frac`` is a fraction (0.875, not 87.5 %).
    """
    noscan = sc.NELEMS_NOSCAN_GREENTEA if greentea else sc.NELEMS_NOSCAN_CLASSIC
    scan = sc.NELEMS_SCAN_GREENTEA if greentea else sc.NELEMS_SCAN_CLASSIC
    return [
        {
            "class": i,
            "bytes_per_obj": int(sc.CLASS_TO_SIZE_BYTES[i]),
            "bytes_per_span": int(sc.CLASS_TO_NPAGES[i]) * sc.PAGE_BYTES,
            "objects": int(sc.CLASS_TO_NELEMS_TABLE[i]),
            "tail_waste_bytes": int(sc.CLASS_TO_TAIL_WASTE_BYTES[i]),
            "max_waste_frac": float(sc.CLASS_TO_MAX_WASTE_FRAC[i]),
            "min_align_bytes": int(sc.CLASS_TO_MIN_ALIGN_BYTES[i]),
            "nelems_noscan": int(noscan[i]),
            "nelems_scan": int(scan[i]),
        }
        for i in range(1, sc.NUM_SIZE_CLASSES)
    ]


def format_sizeclasses(fmt: str = "table", greentea: bool = True) -> str:
    """Render the size-class table.

    Parameters
    ----------
    fmt : {"table", "csv"}
        ``"table"``: a header and 67 rows laid out exactly as the comment in
        Go's sizeclasses.go (without the ``//``), plus the columns
        "nelems noscan" and "nelems scan". ``"csv"``: a header of
        ``ROW_KEYS`` and one row per class.
    greentea : bool
        Which build's objects per span to show (see :func:`sizeclass_rows`).

    Returns
    -------
    str
        Newline-terminated text.

    Raises
    ------
    ValueError
        If ``fmt`` is not one of ``FORMATS``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(map(repr, FORMATS))}, not {fmt!r}")
    rows = sizeclass_rows(greentea)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=ROW_KEYS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue()

    # Column widths and the "%8.2f%%" waste column follow Go's printComment.
    lines = [
        f"{'class':<5}  {'bytes/obj':<9}  {'bytes/span':<10}  {'objects':<7}  "
        f"{'tail waste':<10}  {'max waste':<9}  {'min align':<9}  "
        f"{'nelems noscan':<13}  {'nelems scan':<11}"
    ]
    for r in rows:
        lines.append(
            f"{r['class']:5d}  {r['bytes_per_obj']:9d}  {r['bytes_per_span']:10d}  "
            f"{r['objects']:7d}  {r['tail_waste_bytes']:10d}  "
            f"{100 * r['max_waste_frac']:8.2f}%  {r['min_align_bytes']:9d}  "
            f"{r['nelems_noscan']:13d}  {r['nelems_scan']:11d}"
        )
    return "\n".join(lines) + "\n"


def size_to_class(size_bytes: int, has_pointers: bool) -> tuple[int, int]:
    """Size class and slot size Go's ``mallocgc`` gives a request.

    The rules (src/runtime/malloc.go ``mallocgc``, ``mallocgcSmallNoscan``,
    ``mallocgcSmallScanHeader``, ``mallocgcLarge``; reference §1.5-1.6):

    1. Over ``MAX_SMALL_ALLOC_BYTES`` (32760 B), scan or noscan: a large
       object, class 0, slot = whole pages (32761 B -> 32768 B, 4 pages).
    2. Pointerful and over 512 B: look up ``size + 8`` for the malloc header
       (1024 B -> 1032 B -> class 33, 1152 B).
    3. Up to 1016 B: ``SIZE_TO_CLASS8[ceil(n / 8)]``; else
       ``SIZE_TO_CLASS128[ceil((n - 1024) / 128)]``.

    Noscan requests under 16 B are served by the tiny allocator in 16-byte
    blocks of class 2; this function still returns the class the lookup
    gives (1 B -> class 1, 8 B), leaving the tiny path to the caller.

    Parameters
    ----------
    size_bytes : int
        Requested bytes, >= 1.
    has_pointers : bool
        True if the type contains pointers (a scan allocation).

    Returns
    -------
    (int, int)
        Size class (0 for large objects) and slot bytes (the span's
        ``elemsize``: class size, header included, or pages x 8192).

    Raises
    ------
    ValueError
        If ``size_bytes`` < 1 (Go returns ``zerobase`` for size 0 and
        allocates nothing).
    """
    if size_bytes < 1:
        raise ValueError(f"size_bytes must be >= 1, not {size_bytes}")
    if size_bytes > sc.MAX_SMALL_ALLOC_BYTES:
        npages = -(-size_bytes // sc.PAGE_BYTES)
        return 0, npages * sc.PAGE_BYTES
    n = size_bytes
    if has_pointers and n > sc.MIN_SIZE_FOR_MALLOC_HEADER_BYTES:
        n += sc.MALLOC_HEADER_BYTES
    if n <= sc.SMALL_SIZE_MAX - 8:
        sizeclass = int(sc.SIZE_TO_CLASS8[-(-n // sc.SMALL_SIZE_DIV)])
    else:
        sizeclass = int(sc.SIZE_TO_CLASS128[-(-(n - sc.SMALL_SIZE_MAX) // sc.LARGE_SIZE_DIV)])
    return sizeclass, int(sc.CLASS_TO_SIZE_BYTES[sizeclass])
