"""Free drafts on the local engine: the draft tier costs nothing (tui/core/protocol.py
`render_cost`, the one price the engine charges and the app says) and is bounded instead: 540p at
most, one draft a session in flight (a newer one cancels the older), drafts counted in a user's
two renders in flight. The engine is spoken to for real on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.decode import probe
from tests.test_engine_api import (
    auth,
    balance,
    clip,
    new_session,
    start_render,
    token,
    upload_photo,
    wait_render,
)
from tui.core.protocol import DRAFT_SHORT_SIDE, draft_cost, render_cost
from tui.core.tiers import DRAFT, HIGH, STANDARD

AT_DRAFT = {"output": {"format": "mp4", "quality": DRAFT}}
FULL = {"available": 100, "frozen": 0, "total": 100}


def test_the_one_price_makes_the_draft_tier_free() -> None:
    assert render_cost(5, 1080, DRAFT) == 0 and render_cost(60, 2160, DRAFT) == 0
    assert render_cost(5, 1080, STANDARD) == 5 and render_cost(5, 2160, HIGH) == 10
    four_k = {"d": 2500, "m": {"width": 3840, "height": 2160}}
    assert draft_cost(four_k, DRAFT) == 0 and draft_cost(four_k, HIGH) == 6
    assert draft_cost({"d": 0, "m": {"width": 10, "height": 10}}, DRAFT) is None


def test_a_draft_of_a_4k_clip_is_free_and_540p(api: httpx.Client, tmp_path: Path) -> None:
    tok = token(api)
    sid = new_session(api, tok)
    src = upload_photo(api, tok, sid, tmp_path / "p.png", (320, 180))["hash"]
    four_k = clip(src, 1, size=(3840, 2160), fps=24)
    r = start_render(api, tok, sid, four_k, **AT_DRAFT)
    assert r.status_code == 200, r.text
    assert balance(api, tok) == FULL  # nothing frozen while it renders
    rid = r.json()["data"]["id"]
    assert wait_render(api, tok, rid)["status"] == "completed"
    assert balance(api, tok) == FULL  # nor spent
    got = api.get(f"/api/render/proxy/{rid}/download", headers=auth(tok))
    out = tmp_path / "draft.mp4"
    out.write_bytes(got.content)
    p = probe(out)
    assert (p.width, p.height) == (960, DRAFT_SHORT_SIDE) and p.frames == 24
    # The same clip at a priced tier freezes its price (1 s at 4K: 2), released on cancel.
    r = start_render(api, tok, sid, four_k)
    assert balance(api, tok) == {"available": 98, "frozen": 2, "total": 100}
    api.post(f"/api/render/proxy/lambda/{r.json()['data']['id']}/cancel", headers=auth(tok))
    assert balance(api, tok) == FULL


def status(api: httpx.Client, tok: dict, rid: str) -> dict:
    return api.get(f"/api/render/proxy/lambda/{rid}", headers=auth(tok)).json()["data"]


def test_free_drafts_count_in_a_users_two_renders_in_flight(
    api: httpx.Client, tmp_path: Path
) -> None:
    """Two drafts of one session both run (a draft-tier export twice: neither is lost); a third
    in flight, in any session, is one too many, and a finished one frees its place."""
    tok = token(api)
    one, two = new_session(api, tok), new_session(api, tok)
    src = upload_photo(api, tok, one, tmp_path / "p.png", (160, 90))["hash"]
    other = upload_photo(api, tok, two, tmp_path / "q.png", (160, 90))["hash"]
    # A 60 s draft at 60 fps and 540p (3,600 frames, seconds of work): still rendering when the
    # next requests come (its status read is held up to 1 s, and at 24 fps and 360p it had
    # sometimes completed by then on a fast run).
    long = clip(src, 60, (1920, 1080), fps=60)
    a = start_render(api, tok, one, long, **AT_DRAFT).json()["data"]["id"]
    b = start_render(api, tok, one, clip(src, 1), **AT_DRAFT).json()["data"]["id"]
    assert status(api, tok, a)["status"] in ("pending", "processing")
    r = start_render(api, tok, two, clip(other, 1), **AT_DRAFT)
    assert (r.status_code, r.json()["code"]) == (429, 429) and "already running" in r.text
    assert r.headers["retry-after"] == "5"
    assert wait_render(api, tok, b)["status"] == "completed"
    r = start_render(api, tok, two, clip(other, 1), **AT_DRAFT)  # b's place
    assert r.status_code == 200, r.text
    api.post(f"/api/render/proxy/lambda/{a}/cancel", headers=auth(tok))
    assert wait_render(api, tok, r.json()["data"]["id"])["status"] == "completed"
    assert balance(api, tok) == FULL
