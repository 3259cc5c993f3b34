"""The stand-in server itself (tests/cloud_standin.py, where `FakeBackend` now lives: its
names are imported from here too, by suites written before the move)."""

from __future__ import annotations

import httpx
import pytest

from tests.cloud_standin import (  # noqa: F401  (names other suites import from here)
    HOSTILE,
    FakeBackend,
    Seen,
    adk,
    bare,
    env,
    fail,
    sse,
    sse_body,
    sse_stream,
)

# ---- the fake itself -------------------------------------------------------------------------


def test_the_fake_backend_answers_the_protocol() -> None:
    with FakeBackend() as fb:
        r = httpx.post(fb.url + "/api/auth/anonymous-token", headers={"X-Client-Id": "c"})
        token = r.json()["data"]["token"]
        r = httpx.get(
            fb.url + "/api/credits/balance/simple", headers={"Authorization": f"Bearer {token}"}
        )
        assert r.json()["data"] == {"available": 100, "frozen": 0, "total": 100}
        assert httpx.get(fb.url + "/api/credits/balance/simple").json()["code"] == 1001
        fb.then("credits", fail(429, 429, "slow down", {"Retry-After": "0"}))
        r = httpx.get(
            fb.url + "/api/credits/balance/simple", headers={"Authorization": f"Bearer {token}"}
        )
        assert (r.status_code, r.headers["retry-after"]) == (429, "0")
        assert fb.names() == ["token", "credits", "credits", "credits"]


def test_render_ids_never_repeat_within_a_process() -> None:
    """Ids are the backend's retry key; a tight loop stands in for jobs started in one ms."""
    import re

    from tui.client.renders import new_render_id

    ids = [new_render_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"render_\d{13,}", i) for i in ids)  # the protocol's render_<ms>
    assert [int(i[7:]) for i in ids] == sorted(int(i[7:]) for i in ids)


async def test_the_fake_cuts_a_turn_and_sends_heartbeats() -> None:
    with FakeBackend() as fb:
        fb.then("run_sse", fb.cut_turn("Half an"), fb.quiet_turn(3, 0.01, "Done."))
        async with httpx.AsyncClient(base_url=fb.url) as http:
            got: list[bytes] = []
            with pytest.raises(httpx.HTTPError):  # the stream drops after its first event
                async with http.stream("POST", "/run_sse") as resp:
                    async for chunk in resp.aiter_bytes():
                        got.append(chunk)
            r = await http.post("/run_sse")
        assert b'"partial": true' in b"".join(got) and b"Half an" in b"".join(got)
        assert r.text.count("\n\n") == 4 and r.text.startswith(": ping")
        assert '"Done."' in r.text.rsplit("\n\n", 2)[-2]
