"""The engine's HTTP service, spoken to for real on 127.0.0.1."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.decode import probe
from tests.media import photo
from tui.core.protocol import skill_headers

_LAST_TOKEN: dict[tuple[str, str], str] = {}  # (engine, client id) -> the last token it got


def token(api: httpx.Client, client_id: str | None = None) -> dict:
    """A new anonymous token; with the same `client_id`, another token of the same user (the
    last one shown as proof: a client id alone gets an account of its own)."""
    cid = client_id or str(uuid.uuid4())
    key = (str(api.base_url), cid)
    proof = {"Authorization": f"Bearer {_LAST_TOKEN[key]}"} if key in _LAST_TOKEN else {}
    r = api.post("/api/auth/anonymous-token", headers={"X-Client-Id": cid, **proof})
    assert r.status_code == 200
    _LAST_TOKEN[key] = r.json()["data"]["token"]
    return r.json()["data"]


def paced(send: Callable[[], httpx.Response]) -> httpx.Response:
    """`send()`, sent again after its Retry-After while the engine answers 429 (a few times):
    for tests that send an account more than its 20 requests a second."""
    for _ in range(5):
        r = send()
        if r.status_code != 429:
            return r
        time.sleep(float(r.headers.get("retry-after", "1")))
    return r


def auth(tok: dict) -> dict:
    return {"Authorization": f"Bearer {tok['token']}"}


def new_session(api: httpx.Client, tok: dict) -> str:
    r = api.post("/api/tasks/me/with-session/nemo_agent", headers=auth(tok), json={})
    assert r.status_code == 200, r.text
    return r.json()["data"]["session_id"]


def upload_photo(api: httpx.Client, tok: dict, sid: str, path: Path, size=(320, 240)) -> dict:
    img = photo(path, size)
    with open(img, "rb") as f:
        r = api.post(
            f"/api/upload-video/nemo_agent/me/{sid}",
            headers=auth(tok),
            files=[("files", (img.name, f))],
        )
    assert r.status_code == 200, r.text
    return r.json()["data"]["files"][0]


def clip(src: str, seconds: float = 2, size=(640, 360), fps: int = 24) -> dict:
    """A one-image draft, sent with the render request (no agent turn needed)."""
    ms = int(seconds * 1000)
    return {
        "d": ms,
        "m": {"title": "t", "width": size[0], "height": size[1], "fps": fps},
        "t": [
            {
                "tt": 0,
                "sg": [{"id": "s1", "src": src, "st": 0, "d": ms, "m": {"motion": "zoom_in"}}],
            }
        ],
    }


def start_render(api: httpx.Client, tok: dict, sid: str, draft: dict, **extra) -> httpx.Response:
    """At the standard tier unless `output` says otherwise: priced, and any number a session
    (the draft tier is free and one a session in flight: tests/test_free_drafts.py)."""
    body = {"sessionId": sid, "draft": draft, "output": {"format": "mp4", "quality": "standard"}}
    return api.post(
        "/api/render/proxy/lambda", headers={**auth(tok), **skill_headers()}, json=body | extra
    )


def wait_render(api: httpx.Client, tok: dict, rid: str, until=("completed", "failed")) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        st = api.get(f"/api/render/proxy/lambda/{rid}", headers=auth(tok)).json()["data"]
        if st["status"] in until or st["status"] in ("completed", "failed", "cancelled"):
            return st
        time.sleep(0.1)
    raise AssertionError(f"render {rid} still {st}")


def balance(api: httpx.Client, tok: dict) -> dict:
    return api.get("/api/credits/balance/simple", headers=auth(tok)).json()["data"]


def test_token_session_and_credits(api: httpx.Client) -> None:
    tok = token(api)
    assert tok["credits"] == 100 and tok["token"]
    r = api.post(
        "/api/tasks/me/with-session/nemo_agent",
        headers=auth(tok),
        json={"task_name": "project", "language": "en"},
    )
    data = r.json()["data"]
    assert data["session_id"].isdigit()
    c = api.get("/api/credits/balance/simple", headers=auth(tok)).json()["data"]
    assert c == {"available": 100, "frozen": 0, "total": 100}


def test_errors_carry_their_codes(api: httpx.Client) -> None:
    r = api.post("/api/auth/anonymous-token")
    assert (r.status_code, r.json()["code"]) == (400, 400)
    r = api.get("/api/credits/balance/simple", headers={"Authorization": "Bearer nope"})
    assert (r.status_code, r.json()["code"]) == (401, 1001)
    tok = token(api)
    r = api.get("/api/state/nemo_agent/me/999999/latest", headers=auth(tok))
    assert (r.status_code, r.json()["code"]) == (404, 1002)
    r = api.post(
        "/run_sse",
        headers=auth(tok),
        json={"session_id": "999999", "new_message": {"parts": [{"text": "hi"}]}},
    )
    assert (r.status_code, r.json()["code"]) == (404, 1002)


def test_upload_turn_render_download(api: httpx.Client, tmp_path: Path) -> None:
    tok = token(api)
    sid = api.post("/api/tasks/me/with-session/nemo_agent", headers=auth(tok), json={}).json()[
        "data"
    ]["session_id"]
    img = photo(tmp_path / "p.png", (400, 300))
    with open(img, "rb") as f:
        r = api.post(
            f"/api/upload-video/nemo_agent/me/{sid}",
            headers=auth(tok),
            files=[("files", ("p.png", f))],
        )
    up = r.json()["data"]["files"][0]
    assert (up["file_type"], up["width"], up["height"]) == ("image", 400, 300)

    r = api.post(
        f"/api/upload-video/nemo_agent/me/{sid}",
        headers=auth(tok),
        files=[("files", ("evil.exe", b"MZ\x90\x00"))],
    )
    assert (r.status_code, r.json()["code"]) == (415, 4001)

    with api.stream(
        "POST",
        "/run_sse",
        headers=auth(tok),
        json={
            "app_name": "nemo_agent",
            "user_id": "me",
            "session_id": sid,
            "streaming": True,
            "new_message": {"role": "user", "parts": [{"text": "a 2 second 720p clip"}]},
        },
    ) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        body = resp.read().decode()
    assert '"functionCall"' in body and '"partial": true' in body

    state = api.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=auth(tok)).json()["data"]
    draft = state["state"]["draft"]
    assert draft["d"] == 2000 and draft["m"]["height"] == 720

    r = api.post(
        "/api/render/proxy/lambda",
        headers=auth(tok),
        json={"id": "render_1", "sessionId": sid, "draft": draft},
    )
    assert (r.status_code, r.json()["code"]) == (402, 402)  # no X-Skill-* headers

    body = {
        "id": f"render_{uuid.uuid4().hex[:8]}",
        "sessionId": sid,
        "draft": draft,
        "output": {"format": "mp4", "quality": "standard"},
    }
    r = api.post("/api/render/proxy/lambda", headers={**auth(tok), **skill_headers()}, json=body)
    rid = r.json()["data"]["id"]
    c = api.get("/api/credits/balance/simple", headers=auth(tok)).json()["data"]
    assert c["frozen"] in (0, 2) and c["available"] + c["frozen"] == 100
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        st = api.get(f"/api/render/proxy/lambda/{rid}", headers=auth(tok)).json()["data"]
        if st["status"] in ("completed", "failed"):
            break
        time.sleep(0.2)
    assert st["status"] == "completed", st
    c = api.get("/api/credits/balance/simple", headers=auth(tok)).json()["data"]
    assert c == {"available": 98, "frozen": 0, "total": 98}
    r = api.get(f"/api/render/proxy/{rid}/download", headers=auth(tok))
    assert r.status_code == 200 and r.content[4:8] == b"ftyp"
    part = api.get(
        f"/api/render/proxy/{rid}/download", headers={**auth(tok), "Range": "bytes=10-19"}
    )
    assert part.status_code == 206 and part.content == r.content[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(r.content)}"
    past = api.get(
        f"/api/render/proxy/{rid}/download",
        headers={**auth(tok), "Range": f"bytes={len(r.content) + 10}-"},
    )
    assert past.status_code == 416
    other = token(api)
    r = api.get(f"/api/render/proxy/lambda/{rid}", headers=auth(other))
    assert r.status_code == 404


def test_a_render_id_sent_again_is_a_retry_only_from_the_same_session(
    api: httpx.Client, tmp_path: Path
) -> None:
    """The id is the retry key: from the same session, the same job charged once; from another
    session of the same user (two watch jobs in one millisecond), a job of its own."""
    tok = token(api)
    s1, s2 = new_session(api, tok), new_session(api, tok)
    src1 = upload_photo(api, tok, s1, tmp_path / "a.png", (64, 48))["hash"]
    src2 = upload_photo(api, tok, s2, tmp_path / "b.png", (64, 48))["hash"]
    rid = f"render_{uuid.uuid4().int % 10**13}"
    first = start_render(api, tok, s1, clip(src1, 2, (320, 180)), id=rid).json()["data"]
    again = start_render(api, tok, s1, clip(src1, 2, (320, 180)), id=rid).json()["data"]
    other = start_render(api, tok, s2, clip(src2, 1, (320, 180)), id=rid).json()["data"]
    assert first["id"] == again["id"] == rid
    assert other["id"] != rid and other["id"].startswith(rid)
    frames = {}
    for job in (rid, other["id"]):
        assert wait_render(api, tok, job)["status"] == "completed"
        out = tmp_path / f"{job}.mp4"
        out.write_bytes(api.get(f"/api/render/proxy/{job}/download", headers=auth(tok)).content)
        frames[job] = probe(out).frames
    assert frames == {rid: 48, other["id"]: 24}  # each its own timeline (24 fps)
    assert balance(api, tok)["available"] == 100 - 2 - 1  # the retry charged nothing
