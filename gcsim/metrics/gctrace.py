"""GODEBUG=gctrace=1 lines: print them exactly as Go does, and parse them back.

Go prints one line per GC cycle to stderr at the end of mark termination,
after the world restarts (src/runtime/mgc.go ``gcMarkTermination``, go1.27.3);
one line, wrapped here:

    gc 7 @0.134s 9%: 0.033+5.2+0.005 ms clock, 0.033+0/0.024/5.2+0.005 ms cpu,
        20->20->12 MB, 43 MB goal, 4 MB stacks, 2 MB globals, 1 P (forced)

``format_gctrace_line`` builds that line from the nanosecond and byte values
the gcsim engine records, applying Go's own rounding (``fmt_ns_as_ms`` for
times, ``>> 20`` for sizes, truncation for the percentage), so a simulated
trace can be diffed against a real one. ``parse_gctrace`` reads real or
simulated output back into ``GCTraceLine`` records.

Two layouts are understood:

* current (Go 1.18 and later, when the pacer started counting stacks and
  globals): ``..., G MB goal, S MB stacks, Gl MB globals, P P``;
* older (Go 1.6 to 1.17): ``..., G MB goal, P P``; ``stacks_mb`` and
  ``globals_mb`` are then ``None``.

Go 1.5's five-phase line and the pre-1.5 ``gc1(1): ...`` line are not
supported; the first starts with ``gc N @`` and so is reported as malformed.

What else the runtime prints around these lines:

* ``GC forced`` on a line of its own, from ``forcegchelper`` in
  src/runtime/proc.go, just before it starts a *time-triggered* cycle (sysmon
  wakes it when no GC has run for 2 minutes). That cycle's own line has no
  "(forced)" suffix; "(forced)" marks only ``runtime.GC`` /
  ``debug.FreeOSMemory`` (``work.userForced``). The parser sets
  ``gc_forced_line`` on the next gc line after a ``GC forced`` line. (If a
  cycle had started meanwhile, ``gcStart`` does nothing and that next line
  belongs to the other cycle; the text cannot tell the two apart.)
* `` (checking for goroutine leaks)`` between ``U%`` and the colon, for the
  forced cycle that the goroutineleak profile runs (``goroutineLeakGC``).
* with gctrace=2, ``scan: ...`` statistics lines; ignored here.

The runtime prints a gc line piece by piece; its lock does not exclude
writes made through ``os.Stderr``, so text from the program can land inside
a gc line (observed with GOMAXPROCS=2; see tests/data/gctrace/README.md).
Such a line starts with ``gc N @`` but does not parse, and ``parse_gctrace``
raises rather than guess.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

__all__ = [
    "GCTraceLine",
    "GCTraceParseError",
    "fmt_ns_as_ms",
    "format_gctrace_line",
    "parse_gctrace",
    "parse_gctrace_file",
]

_NS_PER_MS = 1_000_000
_NS_PER_US = 1_000


@dataclass(frozen=True)
class GCTraceLine:
    """One parsed gctrace line; values are exactly what Go printed.

    Times are floats in ms, read from Go's compact format, so they carry its
    truncation: "0.099" means some duration in [0.099, 0.100) ms, "762" one in
    [762, 763) ms (see ``fmt_ns_as_ms``). Sizes are whole MiB, truncated.
    """

    gc_number: int  # "gc N": cycle number, 1-based (memstats.numgc after this cycle)
    start_s: float  # "@T s": sweep-termination start, s since runtime init, whole ms
    gc_cpu_percent: int  # "U%": int(GCCPUFraction * 100), cumulative since start
    sweep_term_ms: float  # clock a: sweep-termination STW wall time
    mark_ms: float  # clock b: concurrent mark wall time
    mark_term_ms: float  # clock c: mark-termination STW wall time
    sweep_term_cpu_ms: float  # cpu d: a * min(GOMAXPROCS, CPUs at startup)
    assist_cpu_ms: float  # cpu e: mutator assist time
    background_cpu_ms: float  # cpu f: dedicated + fractional worker time
    idle_cpu_ms: float  # cpu g: idle worker time
    mark_term_cpu_ms: float  # cpu h: c * min(GOMAXPROCS, CPUs at startup)
    heap_start_mb: int  # H0: heapLive at gcStart, MiB
    heap_end_mb: int  # H1: heapLive at mark-termination start, MiB
    heap_live_mb: int  # H2: bytes marked (next cycle's live heap), MiB
    heap_goal_mb: int  # G: heap goal at the end of mark, MiB
    stacks_mb: int | None  # S: stack bytes scanned, MiB; None in the Go <= 1.17 layout
    globals_mb: int | None  # Gl: scannable globals, MiB; None in the Go <= 1.17 layout
    gomaxprocs: int  # "P P"
    forced: bool  # ends in "(forced)": runtime.GC / debug.FreeOSMemory
    gc_forced_line: bool  # a "GC forced" line came before it: time-triggered
    checking_goroutine_leaks: bool  # "(checking for goroutine leaks)" after U%
    line_number: int  # 1-based line in the parsed text
    raw: str  # the gc line as printed, from "gc" to the end, no newline

    @property
    def mark_cpu_ms(self) -> float:
        """CPU spent marking: assist + background + idle (cpu e + f + g), ms."""
        return self.assist_cpu_ms + self.background_cpu_ms + self.idle_cpu_ms


class GCTraceParseError(ValueError):
    """A line starting with ``gc N @`` that is not a gctrace line we know."""

    def __init__(self, line_number: int, line: str, reason: str) -> None:
        self.line_number = line_number
        self.line = line
        self.reason = reason
        super().__init__(f"line {line_number}: malformed gctrace line ({reason}): {line!r}")


# --------------------------------------------------------------------------
# Formatting


def _itoa_div(val: int, dec: int) -> str:
    """``val / 10**dec`` with exactly ``dec`` decimals, as Go's ``itoaDiv``.

    ``_itoa_div(2, 3) == "0.002"``, ``_itoa_div(25, 1) == "2.5"``,
    ``_itoa_div(10, 1) == "1.0"``, ``_itoa_div(762, 0) == "762"``. Go's loop
    writes at least two digits when ``dec == 0`` (``itoaDiv(5, 0)`` is
    "05"); no caller reaches that, and neither do we (``val >= 10`` there).
    """
    digits = str(val)
    if dec == 0:
        return digits.rjust(2, "0")
    digits = digits.rjust(dec + 1, "0")
    return f"{digits[:-dec]}.{digits[-dec:]}"


def fmt_ns_as_ms(ns: int) -> str:
    """Format ``ns`` nanoseconds as milliseconds, byte for byte as Go does.

    Go's ``fmtNSAsMS`` (src/runtime/mgc.go) has two regimes, and it only
    ever truncates, never rounds:

    1. ``ns >= 10 ms``: whole milliseconds, ``ns // 10**6``.
       762 ms -> "762"; 10.999999 ms -> "10"; 12 s -> "12000".
    2. ``ns < 10 ms``: truncate to whole microseconds ``x = ns // 1000``;
       ``x == 0`` prints "0" (so 999 ns -> "0"). Otherwise start at 3
       decimals and, while ``x >= 100``, drop the last digit and one decimal.
       The result keeps two significant digits (one or two below 100 µs,
       which always shows 3 decimals), and trailing zeros stay:

       =============  ======  ================================
       ns             x (µs)  printed
       =============  ======  ================================
       1_000          1       "0.001"
       99_999         99      "0.099"
       100_000        100     "0.10"   (100 -> 10, 2 decimals)
       999_999        999     "0.99"
       1_000_000      1000    "1.0"    (1000 -> 10, 1 decimal)
       2_500_000      2500    "2.5"
       9_990_000      9990    "9.9"    (not "10": truncation)
       =============  ======  ================================

    Every printed string is the image of a half-open ns interval whose lower
    bound prints as the same string, so ``round(float(s) * 1e6)`` is a
    faithful inverse for round trips.

    Parameters
    ----------
    ns : int
        Duration, ns, ``0 <= ns < 2**64`` (Go passes a ``uint64``).

    Returns
    -------
    str
        The text Go prints, without unit.
    """
    if ns < 0:
        raise ValueError(f"fmt_ns_as_ms: ns must be >= 0 (Go takes a uint64), got {ns}")
    if ns >= 10 * _NS_PER_MS:
        return _itoa_div(ns // _NS_PER_MS, 0)
    x = ns // _NS_PER_US
    if x == 0:
        return "0"
    dec = 3
    while x >= 100:
        x //= 10
        dec -= 1
    return _itoa_div(x, dec)


def format_gctrace_line(
    *,
    gc_number: int,
    start_ns: int,
    gc_cpu_fraction: float,
    sweep_term_ns: int,
    mark_ns: int,
    mark_term_ns: int,
    sweep_term_cpu_ns: int,
    assist_cpu_ns: int,
    background_cpu_ns: int,
    idle_cpu_ns: int,
    mark_term_cpu_ns: int,
    heap_start_bytes: int,
    heap_end_bytes: int,
    heap_live_bytes: int,
    heap_goal_bytes: int,
    stacks_bytes: int | None,
    globals_bytes: int | None,
    gomaxprocs: int,
    forced: bool,
    checking_goroutine_leaks: bool = False,
) -> str:
    """The gctrace=1 line Go prints for one cycle, without the newline.

    Each printed field and the runtime value behind it (``gcMarkTermination``
    in src/runtime/mgc.go, go1.27.3):

    - ``gc N``: ``memstats.numgc`` after it is bumped for this cycle.
    - ``@T s``: ``(tSweepTerm - runtimeInitTime) // 10**6`` ms, printed as
      seconds with 3 decimals: 2_400_000 ns -> "@0.002s", 0 -> "@0.000s".
    - ``U%``: ``int(gc_cpu_fraction * 100)`` (truncates: 0.299 -> "29%").
      The fraction is cumulative since program start: (GC CPU - idle-mark
      CPU) / total CPU, updated in this same mark termination.
    - `` (checking for goroutine leaks)`` after ``U%`` if this cycle ran leak
      detection.
    - ``a+b+c ms clock``: sweep-termination STW (tMark - tSweepTerm), mark
      (tMarkTerm - tMark), mark-termination STW (tEnd - tMarkTerm) wall
      times, each through ``fmt_ns_as_ms``.
    - ``d+e/f/g+h ms cpu``: d = stwprocs * a_ns, e = assist time,
      f = dedicated + fractional worker time, g = idle worker time,
      h = stwprocs * c_ns, with stwprocs = min(GOMAXPROCS, CPUs at
      startup). The product is formed in ns and then formatted, so d is not
      stwprocs times the printed a: a = 14.5 ms prints "14", d = 29 ms prints
      "29". The caller passes d and h ready-made (``sweep_term_cpu_ns`` and
      ``mark_term_cpu_ns``) because stwprocs can be below ``gomaxprocs``.
    - ``H0->H1->H2 MB``: heapLive at gcStart, heapLive at the start of mark
      termination, bytes marked; each ``>> 20`` (floor MiB).
    - ``G MB goal``: ``lastHeapGoal >> 20``; with GOGC=off the goal is
      2**64 - 1, printed "17592186044415".
    - ``S MB stacks, Gl MB globals``: ``lastStackScan >> 20`` and
      ``globalsScan >> 20`` (Go >= 1.18). Pass ``None`` for both to print
      the Go 1.6-1.17 layout instead.
    - ``P P``: ``work.maxprocs``, GOMAXPROCS when the cycle started.
    - `` (forced)`` iff the cycle was user-forced (runtime.GC,
      debug.FreeOSMemory). Time-triggered cycles get no suffix; Go prints a
      separate "GC forced" line before them, which is not this function's.

    Parameters
    ----------
    gc_number : int
        Cycle number, >= 1.
    start_ns : int
        Sweep-termination start, ns since runtime init.
    gc_cpu_fraction : float
        ``MemStats.GCCPUFraction`` after this cycle, in [0, 1].
    sweep_term_ns, mark_ns, mark_term_ns : int
        Wall time of the three phases, ns.
    sweep_term_cpu_ns, mark_term_cpu_ns : int
        stwprocs times the two STW wall times, ns.
    assist_cpu_ns, background_cpu_ns, idle_cpu_ns : int
        Mark CPU time by kind, ns (background = dedicated + fractional).
    heap_start_bytes, heap_end_bytes, heap_live_bytes, heap_goal_bytes : int
        H0, H1, H2 and the goal, bytes.
    stacks_bytes, globals_bytes : int or None
        Scanned stack and global bytes; both None for the old layout.
    gomaxprocs : int
        GOMAXPROCS for this cycle.
    forced : bool
        Started by runtime.GC or debug.FreeOSMemory.
    checking_goroutine_leaks : bool, optional
        The cycle ran goroutine leak detection.

    Returns
    -------
    str
        The line, e.g. ``"gc 1 @0.001s 17%: 0.012+0.32+0.015 ms clock, ..."``.
    """
    if (stacks_bytes is None) != (globals_bytes is None):
        raise ValueError(
            "stacks_bytes and globals_bytes must both be None (old layout) or both set"
        )
    fmt = fmt_ns_as_ms
    start = _itoa_div(start_ns // _NS_PER_MS, 3)
    leaks = " (checking for goroutine leaks)" if checking_goroutine_leaks else ""
    clock = f"{fmt(sweep_term_ns)}+{fmt(mark_ns)}+{fmt(mark_term_ns)}"
    cpu = (
        f"{fmt(sweep_term_cpu_ns)}+{fmt(assist_cpu_ns)}/{fmt(background_cpu_ns)}"
        f"/{fmt(idle_cpu_ns)}+{fmt(mark_term_cpu_ns)}"
    )
    heap = f"{heap_start_bytes >> 20}->{heap_end_bytes >> 20}->{heap_live_bytes >> 20}"
    scan = ""
    if stacks_bytes is not None and globals_bytes is not None:
        scan = f"{stacks_bytes >> 20} MB stacks, {globals_bytes >> 20} MB globals, "
    suffix = " (forced)" if forced else ""
    return (
        f"gc {gc_number} @{start}s {int(gc_cpu_fraction * 100)}%{leaks}: {clock} ms clock, "
        f"{cpu} ms cpu, {heap} MB, {heap_goal_bytes >> 20} MB goal, {scan}"
        f"{gomaxprocs} P{suffix}"
    )


# --------------------------------------------------------------------------
# Parsing


def _t(name: str) -> str:
    """One fmtNSAsMS value: whole ms, or up to 3 decimals."""
    return rf"(?P<{name}>\d+(?:\.\d{{1,3}})?)"


def _i(name: str) -> str:
    return rf"(?P<{name}>\d+)"


# The line as consecutive pieces, each with what a reader should be told when
# the text stops matching there (the optional stacks/globals piece cannot
# fail, so it needs no description).
_PIECES: tuple[tuple[str, str], ...] = (
    (rf"gc {_i('n')} @(?P<t>\d+\.\d{{3}})s ", "'gc N @T.TTTs '"),
    (rf"{_i('u')}%", "'U%' after the time"),
    (r"(?P<leaks> \(checking for goroutine leaks\))?: ", "': ' after U%"),
    (rf"{_t('a')}\+{_t('b')}\+{_t('c')} ms clock, ", "'a+b+c ms clock, '"),
    (rf"{_t('d')}\+{_t('e')}/{_t('f')}/{_t('g')}\+{_t('h')} ms cpu, ", "'d+e/f/g+h ms cpu, '"),
    (rf"{_i('h0')}->{_i('h1')}->{_i('h2')} MB, ", "'H0->H1->H2 MB, '"),
    (rf"{_i('goal')} MB goal, ", "'G MB goal, '"),
    (rf"(?:{_i('stacks')} MB stacks, {_i('globals')} MB globals, )?", ""),
    (rf"{_i('p')} P", "'P P'"),
    (r"(?P<forced> \(forced\))?$", "end of line or ' (forced)' after 'P P'"),
)
_GC_LINE = re.compile("".join(p for p, _ in _PIECES))
# Where a gc line may begin: at the start, or after whitespace when a log
# prefix or the program's own unterminated output precedes it.
_GC_LINE_ANYWHERE = re.compile(r"(?:(?<=\s)|^)" + _GC_LINE.pattern)
_GC_LINE_START = re.compile(r"gc \d+ @")
_GC_FORCED = re.compile(r"(?:(?<=\s)|^)GC forced$")


def _diagnose(text: str) -> str:
    """Name the first piece of the layout that ``text`` fails to match."""
    pattern = ""
    for piece, what in _PIECES:
        prefix_ok = re.match(pattern, text)
        pattern += piece
        m = re.match(pattern, text)
        if m is None and prefix_ok is not None:
            return f"expected {what} at column {prefix_ok.end() + 1}"
    return "does not match the gctrace layout"


def _parse_match(m: re.Match[str], line_number: int, gc_forced_line: bool) -> GCTraceLine:
    g = m.groupdict()
    return GCTraceLine(
        gc_number=int(g["n"]),
        start_s=float(g["t"]),
        gc_cpu_percent=int(g["u"]),
        sweep_term_ms=float(g["a"]),
        mark_ms=float(g["b"]),
        mark_term_ms=float(g["c"]),
        sweep_term_cpu_ms=float(g["d"]),
        assist_cpu_ms=float(g["e"]),
        background_cpu_ms=float(g["f"]),
        idle_cpu_ms=float(g["g"]),
        mark_term_cpu_ms=float(g["h"]),
        heap_start_mb=int(g["h0"]),
        heap_end_mb=int(g["h1"]),
        heap_live_mb=int(g["h2"]),
        heap_goal_mb=int(g["goal"]),
        # Matched together or not at all.
        stacks_mb=None if g["stacks"] is None else int(g["stacks"]),
        globals_mb=None if g["globals"] is None else int(g["globals"]),
        gomaxprocs=int(g["p"]),
        forced=g["forced"] is not None,
        gc_forced_line=gc_forced_line,
        checking_goroutine_leaks=g["leaks"] is not None,
        line_number=line_number,
        raw=m.group(0),
    )


def parse_gctrace(text: str) -> list[GCTraceLine]:
    """Every gctrace line in ``text``, in order.

    ``text`` is any program output: stderr alone or mixed with stdout, with
    log prefixes, ``\\r\\n`` endings, gctrace=2 ``scan:`` lines, or the
    compiler's own ``# pkg`` headers. Rules:

    - A line whose text (after leading whitespace) starts with ``gc N @``
      must be a complete gc line, or ``GCTraceParseError`` (a
      ``ValueError``) is raised naming the line number, the line and the
      first field that did not match.
    - A complete gc line may also follow other text on the same line, after
      whitespace (a timestamp, or ``BenchmarkX-4 \\t`` from ``go test``);
      ``raw`` then holds only the gc part.
    - A line ending in ``GC forced`` sets ``gc_forced_line`` on the next gc
      line (the next one in the text, whatever lies between).
    - Everything else is ignored.

    ``gc_number`` is not checked for continuity: one output can hold several
    processes (``go test`` runs the compiler and the test binary).

    Parameters
    ----------
    text : str
        Program output.

    Returns
    -------
    list of GCTraceLine
    """
    lines: list[GCTraceLine] = []
    pending_forced = False
    for index, line in enumerate(text.split("\n")):
        line = line.rstrip()
        if not line:
            continue
        number = index + 1
        body = line.lstrip()
        if _GC_LINE_START.match(body):
            m = _GC_LINE.match(body)
            if m is None:
                raise GCTraceParseError(number, line, _diagnose(body))
        else:
            m = _GC_LINE_ANYWHERE.search(line)
            if m is None:
                if _GC_FORCED.search(line):
                    pending_forced = True
                continue
        lines.append(_parse_match(m, number, pending_forced))
        pending_forced = False
    return lines


def parse_gctrace_file(path: str | os.PathLike[str]) -> list[GCTraceLine]:
    """``parse_gctrace`` on a file's text (UTF-8; undecodable bytes replaced)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return parse_gctrace(f.read())
