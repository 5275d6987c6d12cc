"""gcsim.metrics.gctrace: Go's gctrace=1 line, printed and parsed.

Real inputs live in tests/data/gctrace (README.md there says where each
came from). The main property: every real line, parsed and printed again
with ``format_gctrace_line``, comes back byte for byte.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from gcsim.metrics.gctrace import (
    GCTraceLine,
    GCTraceParseError,
    fmt_ns_as_ms,
    format_gctrace_line,
    parse_gctrace,
    parse_gctrace_file,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "gctrace"
GO1273_P1 = DATA / "go1.27.3_gomaxprocs1.txt"
GO1273_P2 = DATA / "go1.27.3_gomaxprocs2.txt"
GO116 = DATA / "go1.16_format.txt"
ALL_FILES = [GO1273_P1, GO1273_P2, GO116]

MS = 1_000_000  # ns


def ms_to_ns(ms: float) -> int:
    """Lowest ns that Go prints as ``ms`` (the inverse used for round trips)."""
    return round(ms * MS)


def ns_bucket(ms: float) -> tuple[int, int]:
    """Half-open ns interval that fmt_ns_as_ms maps to the text of ``ms``."""
    lo = ms_to_ns(ms)
    text = fmt_ns_as_ms(lo)
    if lo >= 10 * MS:
        return lo, lo + MS
    if lo == 0:
        return 0, 1000
    decimals = len(text.split(".")[1])
    return lo, lo + 10 ** (6 - decimals)


def reformat(line: GCTraceLine) -> str:
    """Print a parsed line again from values rebuilt in ns and bytes."""

    def mib(value: int | None) -> int | None:
        return None if value is None else value << 20

    return format_gctrace_line(
        gc_number=line.gc_number,
        start_ns=round(line.start_s * 1e9),
        # int(U/100 * 100) can land on U-1 in floating point (0.29 * 100 is
        # 28.999...), so rebuild the fraction from the middle of its bucket.
        gc_cpu_fraction=(line.gc_cpu_percent + 0.5) / 100,
        sweep_term_ns=ms_to_ns(line.sweep_term_ms),
        mark_ns=ms_to_ns(line.mark_ms),
        mark_term_ns=ms_to_ns(line.mark_term_ms),
        sweep_term_cpu_ns=ms_to_ns(line.sweep_term_cpu_ms),
        assist_cpu_ns=ms_to_ns(line.assist_cpu_ms),
        background_cpu_ns=ms_to_ns(line.background_cpu_ms),
        idle_cpu_ns=ms_to_ns(line.idle_cpu_ms),
        mark_term_cpu_ns=ms_to_ns(line.mark_term_cpu_ms),
        heap_start_bytes=line.heap_start_mb << 20,
        heap_end_bytes=line.heap_end_mb << 20,
        heap_live_bytes=line.heap_live_mb << 20,
        heap_goal_bytes=line.heap_goal_mb << 20,
        stacks_bytes=mib(line.stacks_mb),
        globals_bytes=mib(line.globals_mb),
        gomaxprocs=line.gomaxprocs,
        forced=line.forced,
        checking_goroutine_leaks=line.checking_goroutine_leaks,
    )


# --------------------------------------------------------------------------
# fmt_ns_as_ms

FMT_CASES = [
    (0, "0"),
    (1, "0"),  # 1 ns: below 1 µs
    (999, "0"),  # 999 ns: still below 1 µs
    (1_000, "0.001"),  # 1 µs
    (5_000, "0.005"),
    (10_000, "0.010"),  # trailing zero kept
    (99_000, "0.099"),  # 99 µs
    (99_999, "0.099"),
    (100_000, "0.10"),  # 0.1 ms: two decimals from here
    (120_000, "0.12"),
    (999_999, "0.99"),
    (1_000_000, "1.0"),  # 1 ms: one decimal from here
    (2_500_000, "2.5"),  # 2.5 ms
    (9_990_000, "9.9"),  # 9.99 ms truncates, never rounds up to 10
    (9_999_999, "9.9"),
    (10_000_000, "10"),  # 10 ms: whole ms from here
    (10_999_999, "10"),
    (762_000_000, "762"),  # 762 ms
    (762_999_999, "762"),
    (12_000_000_000, "12000"),  # 12 s
    (2**64 - 1, "18446744073709"),  # largest uint64
]


@pytest.mark.parametrize(("ns", "text"), FMT_CASES)
def test_fmt_ns_as_ms_table(ns: int, text: str) -> None:
    assert fmt_ns_as_ms(ns) == text


def test_fmt_ns_as_ms_inverse_is_exact_for_every_printable_value() -> None:
    # Below 10 ms every distinct output comes from some whole µs; above, from
    # some whole ms. The lowest ns of each bucket must print the same text.
    below = (us * 1_000 for us in range(10_000))
    above = (ms * MS for ms in range(10, 20_000))
    for ns in (*below, *above):
        text = fmt_ns_as_ms(ns)
        assert fmt_ns_as_ms(ms_to_ns(float(text))) == text, ns


def test_fmt_ns_as_ms_is_monotone() -> None:
    values = [float(fmt_ns_as_ms(ns)) for ns in range(0, 20 * MS, 997)]
    assert values == sorted(values)


def test_fmt_ns_as_ms_rejects_negative() -> None:
    with pytest.raises(ValueError, match="uint64"):
        fmt_ns_as_ms(-1)


# --------------------------------------------------------------------------
# format_gctrace_line


def _engine_values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict(
        gc_number=2,
        start_ns=57_400_000,  # @0.057s: truncated to whole ms
        gc_cpu_fraction=0.2049,  # 20%: truncated
        sweep_term_ns=14_500_000,  # "14"
        mark_ns=12_300_000,  # "12"
        mark_term_ns=5_600,  # "0.005"
        sweep_term_cpu_ns=2 * 14_500_000,  # stwprocs 2: 29 ms -> "29", not 2*14
        assist_cpu_ns=930_000,  # "0.93"
        background_cpu_ns=20_100_000,  # "20"
        idle_cpu_ns=0,  # "0"
        mark_term_cpu_ns=2 * 5_600,  # "0.011"
        heap_start_bytes=(9 << 20) + 12345,  # >> 20 floors
        heap_end_bytes=(12 << 20) - 1,  # 11 MB, not 12
        heap_live_bytes=4 << 20,
        heap_goal_bytes=(10 << 20) + (1 << 19),
        stacks_bytes=4 << 20,
        globals_bytes=(2 << 20) + 999,
        gomaxprocs=2,
        forced=False,
    )
    values.update(overrides)
    return values


def test_format_worked_example_matches_real_line() -> None:
    # The ns values are one choice consistent with gc 2 of the GOMAXPROCS=2
    # capture; Go prints the same text for them.
    real = GO1273_P2.read_text().splitlines()[2]
    assert real.startswith("gc 2 @")
    assert format_gctrace_line(**_engine_values()) == real


def test_format_forced_and_leak_check() -> None:
    line = format_gctrace_line(**_engine_values(forced=True, checking_goroutine_leaks=True))
    assert line.startswith("gc 2 @0.057s 20% (checking for goroutine leaks): 14+12+")
    assert line.endswith(", 2 P (forced)")


def test_format_start_time_below_one_ms() -> None:
    line = format_gctrace_line(**_engine_values(start_ns=999_999))
    assert line.startswith("gc 2 @0.000s ")


def test_format_old_layout_without_stacks_and_globals() -> None:
    line = format_gctrace_line(**_engine_values(stacks_bytes=None, globals_bytes=None))
    assert line.endswith("9->11->4 MB, 10 MB goal, 2 P")


def test_format_rejects_half_old_layout() -> None:
    with pytest.raises(ValueError, match="both"):
        format_gctrace_line(**_engine_values(globals_bytes=None))


def test_format_gogc_off_goal() -> None:
    line = format_gctrace_line(**_engine_values(heap_goal_bytes=2**64 - 1))
    assert ", 17592186044415 MB goal, " in line


@pytest.mark.parametrize("percent", range(101))
def test_cpu_percent_truncates(percent: int) -> None:
    just_below_next = (percent + 1) / 100 - 1e-9
    for fraction in ((percent + 0.5) / 100, just_below_next):
        line = format_gctrace_line(**_engine_values(gc_cpu_fraction=fraction))
        assert f" {percent}%: " in line


# --------------------------------------------------------------------------
# Real go1.27.3 captures


def test_parse_go1273_gomaxprocs1() -> None:
    lines = parse_gctrace_file(GO1273_P1)
    assert [x.gc_number for x in lines] == list(range(1, 11))
    assert {x.gomaxprocs for x in lines} == {1}
    assert [x.gc_number for x in lines if x.forced] == [7, 8, 9]
    assert [x.gc_number for x in lines if x.checking_goroutine_leaks] == [9]
    assert not any(x.gc_forced_line for x in lines)
    assert all(x.stacks_mb is not None and x.globals_mb == 2 for x in lines)

    # gc 7 @0.134s 9%: 0.033+5.2+0.005 ms clock, 0.033+0/0.024/5.2+0.005 ms cpu,
    #   20->20->12 MB, 43 MB goal, 4 MB stacks, 2 MB globals, 1 P (forced)
    gc7 = lines[6]
    assert gc7.line_number == 10
    assert (gc7.start_s, gc7.gc_cpu_percent) == (0.134, 9)
    assert (gc7.sweep_term_ms, gc7.mark_ms, gc7.mark_term_ms) == (0.033, 5.2, 0.005)
    assert (
        gc7.sweep_term_cpu_ms,
        gc7.assist_cpu_ms,
        gc7.background_cpu_ms,
        gc7.idle_cpu_ms,
        gc7.mark_term_cpu_ms,
    ) == (0.033, 0.0, 0.024, 5.2, 0.005)
    assert gc7.mark_cpu_ms == pytest.approx(0.0 + 0.024 + 5.2)  # e + f + g, pauses left out
    assert (gc7.heap_start_mb, gc7.heap_end_mb, gc7.heap_live_mb) == (20, 20, 12)
    assert (gc7.heap_goal_mb, gc7.stacks_mb, gc7.globals_mb) == (43, 4, 2)
    assert gc7.forced and not gc7.checking_goroutine_leaks

    # The last cycle runs after the deep-stack goroutines exit.
    assert (lines[-1].stacks_mb, lines[-1].forced) == (0, False)


def test_parse_go1273_gomaxprocs2() -> None:
    lines = parse_gctrace_file(GO1273_P2)
    assert [x.gc_number for x in lines] == list(range(1, 11))
    assert {x.gomaxprocs for x in lines} == {2}
    assert [x.gc_number for x in lines if x.forced] == [7, 8, 9]
    assert [x.gc_number for x in lines if x.checking_goroutine_leaks] == [9]

    # gc 2 @0.057s 20%: 14+12+0.005 ms clock, 29+0.93/20/0+0.011 ms cpu,
    #   9->11->4 MB, 10 MB goal, 4 MB stacks, 2 MB globals, 2 P
    gc2 = lines[1]
    assert (gc2.start_s, gc2.gc_cpu_percent) == (0.057, 20)
    assert (gc2.sweep_term_ms, gc2.mark_ms, gc2.mark_term_ms) == (14.0, 12.0, 0.005)
    assert (gc2.sweep_term_cpu_ms, gc2.assist_cpu_ms) == (29.0, 0.93)
    assert (gc2.background_cpu_ms, gc2.idle_cpu_ms, gc2.mark_term_cpu_ms) == (20.0, 0.0, 0.011)
    assert (gc2.heap_start_mb, gc2.heap_end_mb, gc2.heap_live_mb, gc2.heap_goal_mb) == (
        9,
        11,
        4,
        10,
    )
    assert not gc2.forced

    gc9 = lines[8]
    assert gc9.raw.startswith("gc 9 @0.257s 10% (checking for goroutine leaks): 0.084+")
    assert gc9.forced and gc9.checking_goroutine_leaks


@pytest.mark.parametrize("path", [GO1273_P1, GO1273_P2], ids=lambda p: p.name)
def test_go1273_stw_cpu_is_gomaxprocs_times_clock(path: Path) -> None:
    # Captured on a 2-CPU machine, so stwprocs = min(GOMAXPROCS, 2) = P.
    # Go multiplies ns and then truncates; check the printed buckets agree.
    for line in parse_gctrace_file(path):
        p = line.gomaxprocs
        for clock_ms, cpu_ms in (
            (line.sweep_term_ms, line.sweep_term_cpu_ms),
            (line.mark_term_ms, line.mark_term_cpu_ms),
        ):
            clock_lo, clock_hi = ns_bucket(clock_ms)
            cpu_lo, cpu_hi = ns_bucket(cpu_ms)
            assert p * clock_lo < cpu_hi and cpu_lo < p * clock_hi, line.raw


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_raw_is_the_printed_text(path: Path) -> None:
    text_lines = path.read_text().split("\n")
    for line in parse_gctrace_file(path):
        assert text_lines[line.line_number - 1].endswith(line.raw)
        assert line.raw.startswith(f"gc {line.gc_number} @")


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_round_trip_every_real_line(path: Path) -> None:
    lines = parse_gctrace_file(path)
    assert lines
    for line in lines:
        assert reformat(line) == line.raw


# --------------------------------------------------------------------------
# Older layout (Go 1.6-1.17)


def test_parse_go116_layout() -> None:
    lines = parse_gctrace_file(str(GO116))
    assert len(lines) == 36
    assert all(x.stacks_mb is None and x.globals_mb is None for x in lines)
    assert sum(x.forced for x in lines) == 9

    # [A] golang/go#18896, first line.
    a1 = lines[0]
    assert a1.raw == (
        "gc 1 @0.011s 1%: 0.13+16+0.24 ms clock, 0.41+16/1.4/18+0.74 ms cpu, "
        "16->16->16 MB, 17 MB goal, 40 P"
    )
    assert (a1.heap_goal_mb, a1.gomaxprocs, a1.forced) == (17, 40, False)

    # [B] behind a syslog prefix: raw starts at "gc".
    b = [x for x in lines if x.gomaxprocs == 8]
    assert [x.gc_number for x in b] == list(range(138, 146))
    assert b[0].start_s == 4976.463
    assert b[4].assist_cpu_ms == 102.0 and b[4].idle_cpu_ms == 0.0

    # [C] after an unterminated benchmark name, and GOGC=-1.
    bench = next(x for x in lines if x.gc_number == 3 and x.gomaxprocs == 4)
    assert bench.forced and bench.start_s == 0.0 and bench.sweep_term_ms == 0.001
    off = [x for x in lines if x.heap_goal_mb == 17592186044415]
    assert [x.gc_number for x in off] == [6, 7, 8]
    assert off[1].heap_start_mb == 152

    # [D] a coarse clock: 1.0 ms STW, 3x in the cpu column.
    d = next(x for x in lines if x.gc_number == 283)
    assert (d.sweep_term_ms, d.sweep_term_cpu_ms) == (1.0, 3.0)


# --------------------------------------------------------------------------
# "GC forced", prefixes, noise


def test_gc_forced_line_marks_the_next_gc_line() -> None:
    # HAND-WRITTEN, not captured: a time-triggered cycle needs 2 idle
    # minutes. Layout and values follow the go1.27.3 captures.
    text = (
        "GC forced\n"
        "some program output\n"
        "gc 11 @120.204s 0%: 0.041+0.52+0.003 ms clock, 0.082+0/0.31/0.20+0.006 ms cpu, "
        "3->3->1 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P\n"
        "gc 12 @120.950s 0%: 0.030+0.40+0.002 ms clock, 0.060+0/0.25/0.11+0.004 ms cpu, "
        "1->1->1 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)\n"
    )
    first, second = parse_gctrace(text)
    assert first.gc_forced_line and not first.forced
    assert not second.gc_forced_line and second.forced
    assert first.line_number == 3


def test_noise_crlf_and_gctrace2_lines_are_ignored() -> None:
    line = (
        "gc 1 @0.001s 17%: 0.012+0.32+0.015 ms clock, 0.012+0.27/0/0+0.015 ms cpu, "
        "3->4->0 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 1 P"
    )
    text = f"# command-line-arguments\r\n{line}\r\nscan: total 1+2+3=6 objs, 1+1=2 spans\r\n"
    (parsed,) = parse_gctrace(text)
    assert parsed.raw == line and parsed.line_number == 2
    assert parse_gctrace("starting gc 3 @ noon, hopefully\n") == []
    assert parse_gctrace("") == []


# --------------------------------------------------------------------------
# Malformed lines

# Captured verbatim (GOMAXPROCS=2, first run of gen/): the program's stderr
# write landed inside the runtime's gc line. See tests/data/gctrace/README.md.
INTERLEAVED = (
    "gen: phase 2 done, forcing GC\n"
    "gc 8 @0.039s 8%: 0.034+1.8+0.002 ms clock, 0.068+0/0.53/2.3+0.005 ms cpu, "
    "12->13->12 MB, 32 MB goal, 4 MB stacks, 2 MB globals, gen: writing goroutineleak profile\n"
    "2 P (forced)\n"
)


def test_malformed_real_interleaved_line_raises_with_line_number() -> None:
    with pytest.raises(GCTraceParseError) as info:
        parse_gctrace(INTERLEAVED)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.line_number == 2
    assert err.line.startswith("gc 8 @0.039s")
    message = str(err)
    assert message.startswith("line 2: ")
    assert "'P P'" in message and "gen: writing goroutineleak profile" in message


@pytest.mark.parametrize(
    ("line", "where"),
    [
        # Go 1.5's five-phase clock, not supported.
        (
            "gc 49 @4.380s 0%: 4.8+5.2+0.54+0.35+0.60 ms clock, 19+5.2+0+4.5/0.006/7.2+2.4 "
            "ms cpu, 124->125->58 MB, 130 MB goal, 32 P",
            "a+b+c ms clock",
        ),
        ("gc 3 @0.1s 5%: truncated", "gc N @T.TTTs"),
        (
            "gc 3 @0.100s 5%: 0.1+2+0.01 ms clock, 0.1+0/1/0+0.01 ms cpu, 4->4->2 MB, "
            "4 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced) trailing",
            "end of line",
        ),
    ],
)
def test_malformed_lines_name_the_failing_field(line: str, where: str) -> None:
    with pytest.raises(ValueError, match=r"^line 3: .*" + re.escape(where)) as info:
        parse_gctrace(f"a\nb\n{line}\n")
    assert line in str(info.value)
