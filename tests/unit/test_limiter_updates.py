"""When the GC CPU limiter's bucket is updated (src/runtime/mgclimit.go, mgcmark.go,
mgcpacer.go, mgc.go; go1.27.3).

Go updates it (``gcCPULimiter.update``) at three kinds of moment, and the
limiter's state changes only then:

- after an assist, once the P's assist time since its last update passes
  gcAssistTimeSlack, 5 us (gcAssistAlloc1), so assists that fill the bucket
  turn the limiter on at once;
- in findRunnableGCWorker when more than gcCPULimiterUpdatePeriod, 10 ms,
  has passed, which is the only way a limiter that has turned assists off
  turns off again while marking. findRunnableGCWorker runs only while
  marking and only when a P goes through schedule(): at GOMAXPROCS=1 that is
  the goroutine's sysmon preemption (or its worker's turn ending), so a
  limiter that turned on mid-way between preemptions stays on until the next;
- at the GC transitions, gcStart and mark termination (startGCTransition).

gcsim pours at the quantum boundary after such a moment (``update_limiter``).
"""

from __future__ import annotations

from gcsim.config import config_from_dict
from gcsim.engine import state as S
from gcsim.engine.gccycle import update_limiter
from gcsim.run import prepare
from tests.unit.conftest import marking_state_one_p

CLOCK_HZ = 1.0e9  # 1 cycle = 1 ns
US = 1_000
MS = 1_000_000


def _marking_state():
    st, _, rp, _ = marking_state_one_p(100 * MS)
    c = st.counters
    update_limiter(st, rp, True, -1)  # a transition: the window starts here, marking
    assert rp.limiter_assist_slack_cycles == 5 * US and rp.limiter_period_cycles == 10 * MS
    return st, rp, c


def _assist_then_tick(st, rp, c, assist_cycles: int, wall_cycles: int,
                      sched: int | None = None) -> None:
    """``sched``: the latest schedule() so far (default: one at this boundary, as on a
    P that looks for work all the time)."""
    c[S.C_TOTAL_ASSIST_CYCLES] += assist_cycles
    c[S.C_NOW_CYCLES] += wall_cycles
    update_limiter(st, rp, False, c[S.C_NOW_CYCLES] if sched is None else sched)


def test_an_assist_that_fills_the_bucket_turns_the_limiter_on_at_once() -> None:
    st, rp, c = _marking_state()
    cap = rp.limiter_capacity_cycles
    c[S.C_LIMITER_FILL] = cap - 20 * US
    # 50 us of wall, 40 us of it assisting. As updateLocked counts it: GC time is the
    # assists plus 25 % of the window, 52.5 us; mutator time the window less that,
    # -2.5 us; the change, 55 us, is more than the 20 us of headroom.
    _assist_then_tick(st, rp, c, 40 * US, 50 * US)
    assert c[S.C_LIMITER_ON] == 1 and c[S.C_LIMITER_FILL] == cap
    assert c[S.C_LIMITER_T] == c[S.C_NOW_CYCLES]  # poured, long before 10 ms


def test_assist_time_within_the_slack_waits_for_the_next_update() -> None:
    st, rp, c = _marking_state()
    cap = rp.limiter_capacity_cycles
    c[S.C_LIMITER_FILL] = cap - 1
    t0 = c[S.C_LIMITER_T]
    _assist_then_tick(st, rp, c, 5 * US, 10 * US)  # not past gcAssistTimeSlack
    assert c[S.C_LIMITER_T] == t0 and c[S.C_LIMITER_ON] == 0 and c[S.C_LIMITER_FILL] == cap - 1
    _assist_then_tick(st, rp, c, 1, 1)  # now past it: the window so far is poured
    assert c[S.C_LIMITER_T] > t0 and c[S.C_LIMITER_ON] == 1


def test_with_assists_off_only_the_10_ms_update_turns_the_limiter_off() -> None:
    st, rp, c = _marking_state()
    cap = rp.limiter_capacity_cycles
    c[S.C_LIMITER_FILL] = cap
    c[S.C_LIMITER_ON] = 1
    for _ in range(1000):  # 10 ms of quanta, no assist (the limiter keeps them off)
        _assist_then_tick(st, rp, c, 0, 10 * US)
    assert c[S.C_LIMITER_ON] == 1 and c[S.C_LIMITER_FILL] == cap  # needUpdate: > 10 ms
    _assist_then_tick(st, rp, c, 0, 10 * US)  # 10.01 ms: GC 2.5025 ms, mutator 7.5075 ms
    assert c[S.C_LIMITER_ON] == 0 and c[S.C_LIMITER_FILL] == cap - 5_005 * US


def test_the_periodic_update_waits_for_a_schedule() -> None:
    """At GOMAXPROCS=1 no P looks for work between the goroutine's preemptions: the
    limiter turned on stays on until the first schedule() more than 10 ms after the
    last update, here the preemption 25 ms in."""
    st, rp, c = _marking_state()
    cap = rp.limiter_capacity_cycles
    c[S.C_LIMITER_FILL] = cap
    c[S.C_LIMITER_ON] = 1
    t0 = c[S.C_LIMITER_T]
    for _ in range(2499):  # 24.99 ms; the goroutine's last schedule was 1 ms in
        _assist_then_tick(st, rp, c, 0, 10 * US, sched=t0 + 1 * MS)
    assert c[S.C_LIMITER_ON] == 1 and c[S.C_LIMITER_T] == t0
    _assist_then_tick(st, rp, c, 0, 10 * US, sched=t0 + 25 * MS)  # preempted at 25 ms
    assert c[S.C_LIMITER_ON] == 0 and c[S.C_LIMITER_FILL] == cap - 12_500 * US


def test_last_schedule_follows_the_goroutine_s_preemptions() -> None:
    """loop._last_schedule: sysmon ticks every 10 ms (multiples of preempt_ns here) and
    preempts a goroutine once 10 ms have passed since the first tick after its
    schedule, so a goroutine that only sysmon reschedules runs 20 ms between
    preemptions (runtime/trace of the steady twin: median 20.3 ms); a P with no
    goroutine looks for work at every moment."""
    from gcsim.engine.loop import _last_schedule

    st, rp, c = _marking_state()
    st.p_sched_cycles[0] = 103 * MS  # first tick 110 ms, preempted at 120 ms
    assert _last_schedule(st, rp, 115 * MS) == 103 * MS
    assert _last_schedule(st, rp, 121 * MS) == 120 * MS
    # Rescheduled just after the 120 ms tick: sysmon notes it at 130, preempts at 140.
    assert _last_schedule(st, rp, 135 * MS) == 120 * MS
    assert _last_schedule(st, rp, 141 * MS) == 140 * MS
    assert _last_schedule(st, rp, 165 * MS) == 160 * MS
    raw = {"run": {"gomaxprocs": 2, "max_allocs": 100, "duration_s": "off", "clock_hz": CLOCK_HZ},
           "runtime": {"gogc": 100},
           "workload": {"mutator_procs": 1, "sites": [{"name": "a", "size": 64}]}}
    st2, _, rp2, _, _ = prepare(config_from_dict(raw))
    assert rp2.mutator_procs == 1  # one goroutine: the second P is idle
    assert _last_schedule(st2, rp2, 115 * MS) == 115 * MS


def test_a_gc_transition_pours_the_window_so_far() -> None:
    """gcStart after time without GC work: the bucket drains and a full one turns off,
    so marking starts with assists on, as startGCTransition(true) leaves it."""
    st, rp, c = _marking_state()
    cap = rp.limiter_capacity_cycles
    c[S.C_PHASE] = S.PHASE_OFF
    update_limiter(st, rp, True, -1)
    c[S.C_LIMITER_FILL] = cap
    c[S.C_LIMITER_ON] = 1
    c[S.C_NOW_CYCLES] += 2 * MS
    update_limiter(st, rp, False, -1)  # an ordinary boundary: nothing poured yet
    assert c[S.C_LIMITER_ON] == 1
    update_limiter(st, rp, True, -1)
    assert c[S.C_LIMITER_ON] == 0 and c[S.C_LIMITER_FILL] == cap - 2 * MS
