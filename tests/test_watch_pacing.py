"""Pacing alone (tui/watch/pacing.py), no backend: which waiting image goes next and when. The
rules for a 429, a transient failure, the job limit and an account out of credits."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from tui.client import ClientError, OutOfCredits
from tui.watch.pacing import Pacing
from tui.watch.shapes import WatchConfig, WatchEvent

RATE_LIMITED = ClientError("the backend is rate limiting us", code=429)


class Paced:
    """A Pacing with the events it emitted and whether it asked to stop."""

    def __init__(self, **config: Any):
        self.events: list[WatchEvent] = []
        self.stopped = 0
        self.pacing = Pacing(WatchConfig(Path("in"), **config), self._emit, self._stop)

    def _emit(self, step: str, job: object = None, **kw: Any) -> None:
        assert job is None  # pacing speaks for the watcher, never for one image
        self.events.append(WatchEvent(step, **kw))

    def _stop(self) -> None:
        self.stopped += 1

    def steps(self) -> list[str]:
        return [e.step for e in self.events]


async def test_the_backoff_doubles_up_to_a_minute_and_a_success_forgets_it() -> None:
    r = Paced(jobs=3)
    p = r.pacing
    waits = []
    for _ in range(6):
        p.slow_down("k", RATE_LIMITED)
        waits.append(p.backoff)
    assert waits == [5, 10, 20, 40, 60, 60]
    assert p.limit == 1  # one fewer at a time each time, never none
    assert r.events[-1].detail.endswith("waiting 60 s, 1 at a time")
    p.succeeded()
    assert p.backoff == 0 and p.limit == 2  # one more at a time per success…
    p.succeeded()
    p.succeeded()
    assert p.limit == 3  # …up to --jobs
    p.slow_down("k", ClientError("the line went quiet", transient=True))
    assert p.backoff == 2 and p.limit == 2  # not rate limited: a shorter first wait
    assert list(p.queue) == ["k"]  # the same image, queued once however often it is slowed


async def test_a_slowed_image_goes_first_and_not_before_its_wait() -> None:
    p = Paced(jobs=2).pacing
    p.enqueue("a")
    p.slow_down("b", RATE_LIMITED)
    assert list(p.queue) == ["b", "a"]
    p.slow_until = time.monotonic() + 0.3  # the 5 s wait, shortened for the test
    key = await asyncio.wait_for(p.next(), 5)
    assert key == "b" and time.monotonic() >= p.slow_until
    assert p.active == {"b"}


async def test_no_more_jobs_at_once_than_the_limit() -> None:
    p = Paced(jobs=2).pacing
    for key in "abc":
        p.enqueue(key)
    assert [await asyncio.wait_for(p.next(), 5) for _ in range(2)] == ["a", "b"]
    p.enqueue("b")  # under way: not queued a second time
    assert list(p.queue) == ["c"]
    third = asyncio.create_task(p.next())
    await asyncio.sleep(0.2)
    assert not third.done()  # two under way already
    p.done("a")
    assert await asyncio.wait_for(third, 5) == "c"
    assert p.active == {"b", "c"}


async def test_out_of_credits_pauses_once_and_resumes_when_the_balance_grows() -> None:
    r = Paced(jobs=2, credit_check=0.01)
    p = r.pacing
    answers: list[Any] = [{"available": 3}, ClientError("no answer"), {"available": 3}]
    answers += [{"available": 8}]
    asked = 0

    async def balance() -> dict:
        nonlocal asked
        answer = answers[min(asked, len(answers) - 1)]
        asked += 1
        if isinstance(answer, Exception):
            raise answer
        return answer

    p.enqueue("a")
    p.pause("b", OutOfCredits("out of credits"), balance)
    p.pause("c", OutOfCredits("out of credits"), balance)  # a second job finds the same
    assert list(p.queue) == ["c", "b", "a"]  # nothing failed, nothing dropped
    assert r.steps() == ["paused"] and "resumes by itself" in r.events[0].detail
    assert "2 waiting" in r.events[0].detail  # a and b, when it paused
    key = await asyncio.wait_for(p.next(), 5)  # waits while paused
    assert key == "c" and not p.paused and asked == 4
    assert r.steps() == ["paused", "resumed"] and r.events[1].detail == "8 credits available"
    assert r.stopped == 0
    await p.close()


async def test_once_stops_instead_of_waiting_for_credits() -> None:
    r = Paced(once=True)
    p = r.pacing

    async def balance() -> dict:
        raise AssertionError("a --once run never waits for credits")

    p.pause("a", OutOfCredits("out of credits"), balance)
    assert r.stopped == 1 and r.steps() == ["paused"]
    assert "Stopping (1 waiting, nothing failed)" in r.events[0].detail
    assert list(p.queue) == ["a"]  # journaled as it was: the next run takes it
    await p.close()


@pytest.mark.parametrize("jobs", [0, 1])
async def test_at_least_one_job_at_a_time(jobs: int) -> None:
    p = Paced(jobs=jobs).pacing
    p.enqueue("a")
    assert await asyncio.wait_for(p.next(), 5) == "a"
    p.slow_down("a", RATE_LIMITED)
    assert p.limit == 1
