"""The one pacing policy (:class:`nht_monitor.analysis.pacing.Pacing`) against the two
policies it replaced, brute force over random sample/clock sequences."""

from __future__ import annotations

import math
import random

import pytest

from nht_monitor.analysis.pacing import Pacing
from nht_monitor.live.recorder import RunRecorder
from tests.analysis.test_rules import header


def recorder_reference(events, every: int, interval: float) -> list[bool]:
    """The recorder before Pacing: the n-th sample of the run is assessed when forced,
    or when n is a multiple of ``every`` and ``interval`` seconds passed since the last
    assessment (explicit ones included)."""
    total, last, out = 0, -math.inf, []
    for now, kind in events:
        if kind == "explicit":
            last = now
            continue
        due = kind == "force" or (kind == "auto" and (total + 1) % every == 0
                                  and now - last >= interval)
        if due:
            last = now
        out.append(due)
        total += 1
    return out


def sidecar_reference(polls, every: int, interval: float) -> list[bool]:
    """The sidecar before Pacing: after each poll, assess when ``every`` samples are
    pending, or some are and ``interval`` seconds passed since the last assessment."""
    pending, last, out = 0, 0.0, []
    for now, new in polls:
        pending += new
        due = pending >= every or (pending > 0 and now - last >= interval)
        if due:
            pending, last = 0, now
        out.append(due)
    return out


def _clock():
    state = {"now": 0.0}
    return state, (lambda: state["now"])


def test_min_interval_pacing_is_the_recorders():
    for seed in range(300):
        _check_min_interval(seed)


def _check_min_interval(seed: int) -> None:
    rng = random.Random(seed)
    every, interval = rng.randint(1, 5), rng.choice([0.0, 0.5, 1.0, 3.0])
    now, events = 1000.0, []
    for _ in range(rng.randint(1, 60)):
        now += rng.choice([0.0, 0.1, 0.5, 1.0, 2.5])
        events.append((now, rng.choices(["auto", "force", "skip", "explicit"],
                                        [12, 1, 1, 1])[0]))
    state, clock = _clock()
    pacing, got = Pacing(every, min_interval=interval, clock=clock), []
    for now, kind in events:
        state["now"] = now
        if kind == "explicit":
            pacing.assessed()
            continue
        due = pacing.tick()  # every sample counts, as in RunRecorder.record
        due = kind == "force" or (kind == "auto" and due)
        if due:
            pacing.assessed()
        got.append(due)
    assert got == recorder_reference(events, every, interval), (seed, every, interval, events)


def test_max_wait_pacing_is_the_sidecars():
    for seed in range(300):
        _check_max_wait(seed)


def _check_max_wait(seed: int) -> None:
    rng = random.Random(seed)
    every, interval = rng.randint(1, 12), rng.choice([0.0, 0.5, 2.0, 5.0])
    now, polls = 1000.0, []
    for _ in range(rng.randint(1, 60)):
        now += rng.choice([0.0, 0.2, 1.0, 3.0])
        polls.append((now, rng.choice([0, 0, 1, 2, 3, 7, 15])))
    state, clock = _clock()
    pacing, got = Pacing(every, max_wait=interval, clock=clock), []
    for now, new in polls:
        state["now"] = now
        due = pacing.tick(new)
        if due:
            pacing.assessed()
        got.append(due)
    assert got == sidecar_reference(polls, every, interval), (seed, every, interval, polls)


def test_pacing_rejects_a_zero_count():
    with pytest.raises(ValueError, match="assess_every"):
        Pacing(0)


@pytest.mark.parametrize("seed", range(12))
def test_run_recorder_assesses_as_before(seed, monkeypatch):
    """RunRecorder end to end (its clock is time.monotonic) against the reference."""
    rng = random.Random(seed)
    every, interval = rng.randint(1, 4), rng.choice([0.0, 1.0, 2.5])
    clock = {"now": 5000.0}
    monkeypatch.setattr("nht_monitor.analysis.pacing.time.monotonic", lambda: clock["now"])
    recorder = RunRecorder(header(), None, assess_every=every, assess_interval=interval)
    events, assessed = [], []
    for step in range(1, rng.randint(2, 40)):  # (explicit assess() calls use a step too)
        clock["now"] += rng.choice([0.0, 0.5, 1.0, 2.0])
        kind = rng.choices(["auto", "force", "skip", "explicit"], [12, 1, 1, 1])[0]
        if kind == "explicit" and not assessed:  # assess() before any sample is a no-op
            kind = "auto"
        events.append((clock["now"], kind))
        if kind == "explicit":
            recorder.assess()
            continue
        sample = recorder.record(step=step, tau=step * 1e-3, lr=1e-3, weight_decay=1.0,
                                 layer_norms={"a": 30.0 - 0.01 * step, "b": 1.0},
                                 assess={"auto": None, "force": True, "skip": False}[kind])
        assessed.append(sample.assessment is not None)
    assert assessed == recorder_reference(events, every, interval)
