"""Accounts on a shared machine: a client id is no password (a token for someone's id opens an
account of its own, never theirs), token minting and new accounts are rate-limited per caller
address (all of loopback one address, forwarded headers no way around it) and per client id,
the request limit and the render cap hold per account however many tokens it has, and our own
client's renewal on 1001 keeps its account, sessions and credits.

Against real engines on 127.0.0.1: the shared one (mint limits raised by tests/conftest.py)
and engines started here with the default limits on their own data folders.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.test_engine_api import (
    auth,
    balance,
    clip,
    new_session,
    start_render,
    token,
    upload_photo,
)
from tests.test_engine_lifecycle import EngineProc
from tui.client import Client
from tui.client.state import ClientState
from tui.engine.server.ratelimit import ACCOUNTS_PER_HOUR, MINT_PER_CLIENT, RATE_PER_SECOND

MINT = "/api/auth/anonymous-token"


@pytest.fixture
def own_engine(tmp_path: Path) -> Iterator[EngineProc]:
    """An engine with the default limit of new accounts, on its own data folder (and room
    for more tokens a minute than that, so that the account limit is the one met)."""
    e = EngineProc(tmp_path / "data", {"I2V_ENGINE_MINT_RATE": "100"})
    try:
        yield e
    finally:
        e.stop()


def mint(api: httpx.Client, cid: str, proof: str = "", **headers: str) -> httpx.Response:
    h = {"X-Client-Id": cid, **headers}
    if proof:
        h["Authorization"] = f"Bearer {proof}"
    return api.post(MINT, headers=h)


def test_a_client_id_alone_opens_an_account_of_its_own(api: httpx.Client) -> None:
    cid = str(uuid.uuid4())
    first = mint(api, cid).json()["data"]
    sid = new_session(api, first)
    r = api.post(
        "/api/tasks/me/with-session/nemo_agent", headers=auth(first), json={"task_name": "mine"}
    )
    assert r.status_code == 200
    # Someone who knows the id: a new account, with credits of its own and none of the
    # first one's sessions.
    other = mint(api, cid)
    assert other.status_code == 200
    other = other.json()["data"]
    assert other["user_id"] != first["user_id"] and other["credits"] == 100
    r = api.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=auth(other))
    assert (r.status_code, r.json()["code"]) == (404, 1002)
    # A token of another account (made for another id) proves nothing about this one.
    stranger = mint(api, str(uuid.uuid4())).json()["data"]
    third = mint(api, cid, stranger["token"]).json()["data"]
    assert third["user_id"] not in (first["user_id"], stranger["user_id"])
    assert mint(api, cid, "nmv_" + "x" * 300).json()["data"]["user_id"] != first["user_id"]
    # The holder of a token of the account gets another of the same account.
    again = mint(api, cid, first["token"]).json()["data"]
    assert again["user_id"] == first["user_id"]
    r = api.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=auth(again))
    assert r.status_code == 200


def test_tokens_for_one_client_id_are_limited(api: httpx.Client) -> None:
    cid = str(uuid.uuid4())
    first = mint(api, cid).json()["data"]
    codes = [mint(api, cid, first["token"]).status_code for _ in range(MINT_PER_CLIENT + 3)]
    assert codes == [200] * (MINT_PER_CLIENT - 1) + [429] * 4, codes
    r = mint(api, cid, first["token"])
    assert "client id" in r.json()["message"] and 1 <= int(r.headers["retry-after"]) <= 60
    # Another client id is not held up by this one.
    assert mint(api, str(uuid.uuid4())).status_code == 200


def test_a_mint_farm_is_refused(own_engine: EngineProc) -> None:
    """New accounts from one address: ACCOUNTS_PER_HOUR, then 429 with a Retry-After of
    minutes; a renewal with proof still works; another loopback address or a forwarded
    header is the same caller."""
    with httpx.Client(base_url=own_engine.url, timeout=30) as api:
        made = [mint(api, str(uuid.uuid4())) for _ in range(ACCOUNTS_PER_HOUR)]
        assert [r.status_code for r in made] == [200] * ACCOUNTS_PER_HOUR
        r = mint(api, str(uuid.uuid4()))
        assert (r.status_code, r.json()["code"]) == (429, 429)
        assert "new accounts" in r.json()["message"] and int(r.headers["retry-after"]) >= 60
        # Rotating what uvicorn reads as the caller (X-Forwarded-For from loopback) gains one
        # budget more, not one per address.
        codes = [
            mint(api, str(uuid.uuid4()), **{"X-Forwarded-For": f"10.0.{i}.1"}).status_code
            for i in range(ACCOUNTS_PER_HOUR + 2)
        ]
        assert codes == [200] * ACCOUNTS_PER_HOUR + [429, 429]
        # Renewing an account makes no new one: not refused.
        tok = made[0].json()["data"]
        again = mint(api, _client_id(own_engine, tok), tok["token"])
        assert again.status_code == 200 and again.json()["data"]["user_id"] == tok["user_id"]
    # Any 127.x.y.z is this machine: the same caller.
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=own_engine.url, timeout=30, transport=transport) as api2:
        r = mint(api2, str(uuid.uuid4()))
        assert r.status_code == 429 and "new accounts" in r.json()["message"]


def test_tokens_from_one_address_are_limited(tmp_path: Path) -> None:
    """Token requests from one address, whatever the client ids: I2V_ENGINE_MINT_RATE a
    minute, then 429 (here 3, with room for 100 new accounts)."""
    env = {"I2V_ENGINE_MINT_RATE": "3", "I2V_ENGINE_ACCOUNT_RATE": "100"}
    e = EngineProc(tmp_path / "data", env)
    try:
        with httpx.Client(base_url=e.url, timeout=30) as api:
            codes = [mint(api, str(uuid.uuid4())).status_code for _ in range(5)]
            assert codes == [200, 200, 200, 429, 429]
            r = mint(api, str(uuid.uuid4()))
            assert "from this address" in r.json()["message"]
            assert 1 <= int(r.headers["retry-after"]) <= 20
    finally:
        e.stop()


def test_unix_socket_callers_are_one_address(tmp_path: Path) -> None:
    """Over the embedded engine's Unix socket there is no address: every caller is one."""
    short = Path(tempfile.mkdtemp(prefix="i2v-", dir="/tmp"))  # a socket path is short
    sock = short / "e.sock"
    env = {"I2V_ENGINE_MINT_RATE": "2"}
    e = EngineProc(tmp_path / "data", env, "--socket", str(sock))
    try:
        transport = httpx.HTTPTransport(uds=str(sock))
        with httpx.Client(base_url="http://localhost", transport=transport, timeout=30) as api:
            codes = [mint(api, str(uuid.uuid4())).status_code for _ in range(3)]
            assert codes == [200, 200, 429]
    finally:
        e.stop()
        shutil.rmtree(short, ignore_errors=True)


def test_the_request_limit_holds_per_account_not_per_token(api: httpx.Client) -> None:
    cid = str(uuid.uuid4())
    toks = [token(api, cid) for _ in range(4)]
    assert len({t["user_id"] for t in toks}) == 1
    other = token(api)

    async def flood() -> list[int]:
        async with httpx.AsyncClient(base_url=str(api.base_url), timeout=30) as c:
            calls = [
                c.get("/api/credits/balance/simple", headers=auth(toks[i % 4]))
                for i in range(4 * RATE_PER_SECOND)
            ]
            return [r.status_code for r in await asyncio.gather(*calls)]

    t0 = time.monotonic()
    codes = asyncio.run(flood())
    took = time.monotonic() - t0
    assert set(codes) == {200, 429}, codes
    # A burst of RATE_PER_SECOND, then as many a second: not 4 times that.
    assert codes.count(200) <= RATE_PER_SECOND * (1 + took), (codes, took)
    assert api.get("/api/credits/balance/simple", headers=auth(other)).status_code == 200


def test_the_render_cap_holds_per_account_not_per_token(api: httpx.Client, tmp_path: Path) -> None:
    cid = str(uuid.uuid4())
    toks = [token(api, cid) for _ in range(3)]
    sid = new_session(api, toks[0])
    src = upload_photo(api, toks[0], sid, tmp_path / "p.png", (64, 48))["hash"]
    long = clip(src, 20, size=(1280, 720))
    rids = [start_render(api, t, sid, long).json()["data"]["id"] for t in toks[:2]]
    r = start_render(api, toks[2], sid, long)
    assert (r.status_code, r.json()["code"]) == (429, 429) and "already running" in r.text
    for rid in rids:
        api.post(f"/api/render/proxy/lambda/{rid}/cancel", headers=auth(toks[0]))
    assert balance(api, toks[2]) == {"available": 100, "frozen": 0, "total": 100}


async def test_our_client_renews_an_expired_token_into_the_same_account(
    own_engine: EngineProc, tmp_path: Path
) -> None:
    state = ClientState(tmp_path / "home" / "client.json", "local")
    async with Client(own_engine.url, state, poll_interval=0.2) as c:
        first = await c.connect()
        user, token0, sid = first.user_id, first.token, first.session_id
        await c.upload([_photo(tmp_path)])
    with sqlite3.connect(own_engine.data / "engine.sqlite3") as db:
        db.execute("UPDATE tokens SET expires_at=? WHERE token=?", (time.time() - 1, token0))
    # A new start: the saved token is refused (1001); the client asks for a new one with it.
    async with Client(own_engine.url, state, poll_interval=0.2) as c:
        credits = await c.credits()
        assert c.session.token != token0 and c.session.user_id == user
        assert credits["available"] == 100
        assert (await c.connect()).session_id == sid
        state_now = await c.fetch_state()
        assert [v.get("filename") for v in state_now.get("video_infos") or []] == ["p.png"]
    # Someone else with the same client id (no token): an account of their own.
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "client.json").write_text(json.dumps({"client_id": state.client_id}))
    other = ClientState(tmp_path / "other" / "client.json", "local")
    assert other.client_id == state.client_id
    async with Client(own_engine.url, other, poll_interval=0.2) as c:
        assert (await c.connect()).user_id != user


def _photo(tmp_path: Path) -> Path:
    from tests.media import photo

    return photo(tmp_path / "p.png", (64, 48))


def _client_id(e: EngineProc, tok: dict) -> str:
    with sqlite3.connect(e.data / "engine.sqlite3") as db:
        row = db.execute("SELECT client_id FROM users WHERE user_id=?", (tok["user_id"],))
        return row.fetchone()[0]


async def test_a_failed_renewal_keeps_the_refused_token_as_the_next_proof(fb, tmp_path) -> None:
    """The client keeps the refused token saved until a new one replaces it: when its renewal
    fails, the next start still has the proof that keeps its account."""
    from tests.test_client_fakes import fail
    from tui.client import ClientError

    state = ClientState(tmp_path / "client.json", fb.url)
    async with Client(fb.url, state, rate_limit_wait=0.01) as c:
        first = (await c.connect()).token
        fb.tokens.clear()  # expired on the server
        fb.then("token", fail(500, 500, "down"))
        with pytest.raises(ClientError):
            await c.credits()
    assert json.loads((tmp_path / "client.json").read_text())["backends"][fb.url]["token"] == first
    state = ClientState(tmp_path / "client.json", fb.url)
    async with Client(fb.url, state, rate_limit_wait=0.01) as c:
        await c.credits()
    asks = [s.headers for s in fb.seen if s.name == "token"]
    assert asks[-1].get("authorization") == f"Bearer {first}" and len(asks) == 3
