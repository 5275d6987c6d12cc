"""What this machine's CPU means for the Go runtime running on it.

Go's Green Tea marker scans a span packed (counting whole slots as scan work,
the pacer's unit) only where ``internal/runtime/gc/scan.HasFastScanSpanPacked``
holds: amd64 with AVX-512 VL, BW, DQ, VBMI and BITALG, GFNI and POPCNT
(scan_amd64.go ``avx512ScanPackedReqsMet``); never on other architectures
(scan_generic.go). ``gcsim validate`` sets ``runtime.packed_span_scan`` from
this, so a twin models the Go it is compared with.
"""

from __future__ import annotations

import platform

__all__ = ["cpu_flags", "cpu_model", "packed_span_scan"]

# /proc/cpuinfo names of the features avx512ScanPackedReqsMet requires.
PACKED_SCAN_FLAGS = frozenset(
    {"avx512vl", "avx512bw", "gfni", "avx512_bitalg", "avx512dq", "avx512vbmi", "popcnt"})


def _cpuinfo_field(name: str) -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.split(":", 1)[0].strip() == name:
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_flags() -> frozenset[str]:
    """The first CPU's feature flags as Linux reports them (empty elsewhere)."""
    return frozenset((_cpuinfo_field("flags") or "").split())


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), else what ``platform`` knows."""
    return _cpuinfo_field("model name") or platform.processor() or platform.machine()


def packed_span_scan() -> bool:
    """True if Go on this machine scans spans packed (HasFastScanSpanPacked)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    return cpu_flags() >= PACKED_SCAN_FLAGS
