"""tools/perfsplit.py sorts Go runtime functions into the parts gcsim charges for."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "perfsplit", Path(__file__).resolve().parents[2] / "tools" / "perfsplit.py")
perfsplit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(perfsplit)


@pytest.mark.parametrize(("sym", "part"), [
    # mallocgc's noscan paths have "scan" in their names: they are allocation, not marking.
    ("runtime.mallocgcSmallNoscan", "malloc"),
    ("runtime.mallocgcSmallScanNoHeaderSC6", "malloc"),
    ("runtime.memclrNoHeapPointers", "malloc"),
    ("reflect.unsafe_New", "malloc"),
    ("runtime.gcmarknewobject", "alloc_black"),
    ("runtime.(*mcentral).cacheSpan", "refill"),
    ("runtime.(*mcache).refill", "refill"),
    ("runtime.(*mheap).allocSpan", "refill"),
    ("runtime.(*sweepLocked).sweep", "sweep"),
    ("runtime.(*mspan).moveInlineMarks", "sweep"),
    ("runtime.(*sweepLocker).tryAcquire", "sweep"),
    ("runtime.deductSweepCredit", "sweep"),
    ("runtime.scanObject", "mark"),
    ("runtime.tryDeferToSpanScan", "mark"),
    ("runtime.typePointers.next", "mark"),
    ("runtime.extractHeapBitsSmall", "mark"),
    ("runtime.gcWriteBarrier2", "write_barrier"),
    ("main.(*worker).alloc", "program"),
    ("runtime.nanotime1", "other"),
])
def test_runtime_functions_fall_in_their_part(sym: str, part: str) -> None:
    assert perfsplit.categorize(sym, kernel=False) == part


def test_kernel_samples_are_kernel_whatever_the_symbol() -> None:
    assert perfsplit.categorize("clear_page_erms", kernel=True) == "kernel"
    assert perfsplit.categorize("runtime.mallocgc", kernel=True) == "kernel"
