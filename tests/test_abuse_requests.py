"""Every request bounded and checked, and never a 500: a draft's numbers, strings and lists each
have a limit that a 400 names before anything is queued; images the renderer would refuse are
refused at upload; the agent never writes a draft those limits refuse; and a property-based
fuzz over every endpoint's path, headers and body gets a 4xx envelope, never a 5xx.

Against the real engine on 127.0.0.1 (the shared `engine_url`), except the agent's drafts and
the tables the server repeats from the renderer, which are checked in-process.
"""

from __future__ import annotations

import copy
import itertools
import json
import struct
import time
import uuid
import zlib
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_engine_api import (
    auth,
    clip,
    new_session,
    start_render,
    token,
    upload_photo,
    wait_render,
)
from tui.core.protocol import skill_headers
from tui.engine import agent
from tui.engine.server import drafts
from tui.engine.server.drafts import check_draft
from tui.engine.server.engine import ROUTES

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class User:
    """A user with a session and an uploaded photo; requests wait and go again when answered
    429 (a user may send 20 requests a second)."""

    def __init__(self, api: httpx.Client, tmp: Path):
        self.api = api
        self.token = token(api)
        self.sid = new_session(api, self.token)
        self.src = upload_photo(api, self.token, self.sid, tmp / "p.png", (64, 48))["hash"]

    def tok(self) -> dict:
        return self.token

    def send(self, method: str, path: str, **kw: object) -> httpx.Response:
        for _ in range(5):
            r = self.api.request(method, path, **kw)
            if r.status_code != 429:
                break
            time.sleep(float(r.headers.get("retry-after", "1")))
        return r

    def post(self, path: str, body: object = None, content: bytes | None = None, **headers):
        h = {**auth(self.token), **skill_headers(), "Content-Type": "application/json", **headers}
        if content is None:  # ASCII JSON: lone surrogates go as \ud800 escapes, as they may
            content = json.dumps(body).encode()
        return self.send("POST", path, headers=h, content=content)


def refused(r: httpx.Response, *words: str, status: int = 400, code: int = 400) -> str:
    body = r.json()
    assert set(body) == {"code", "message", "data"}, body
    assert (r.status_code, body["code"]) == (status, code), (r.status_code, body)
    for w in words:
        assert w.lower() in body["message"].lower(), (w, body["message"])
    return body["message"]


def with_seg(draft: dict, tt: int, **seg: object) -> dict:
    """`draft` with a track of type `tt` holding one more segment (0 to 1 s unless given)."""
    out = copy.deepcopy(draft)
    out["t"].append({"tt": tt, "sg": [{"id": "x", "st": 0, "d": 1000, **seg}]})
    return out


def with_m(draft: dict, **m: object) -> dict:
    """`draft` with its video segment's `m` updated."""
    out = copy.deepcopy(draft)
    out["t"][0]["sg"][0]["m"].update(m)
    return out


def test_every_number_has_a_range(api: httpx.Client, tmp_path: Path) -> None:
    u = User(api, tmp_path)
    base = clip(u.src, 1, size=(320, 180))
    render = "/api/render/proxy/lambda"

    def no(draft: dict, *words: str) -> None:
        refused(u.post(render, {"sessionId": u.sid, "draft": draft}), *words)

    huge = int("9" * 400)  # a 400-digit integer: float() of it overflows
    for where in ("width", "height", "fps"):
        no({**base, "m": {**base["m"], where: huge}}, "400-digit" if where != "fps" else "fps")
    no({**base, "d": huge}, "duration", "400-digit")
    no({**base, "d": -huge}, "duration")
    draft = copy.deepcopy(base)
    draft["t"][0]["sg"][0]["st"] = huge
    no(draft, "bad timing", "600 s")
    draft["t"][0]["sg"][0].update(st=1.5, d=huge)
    no(draft, "bad timing")
    no({**base, "m": {**base["m"], "fade_in": huge}}, "fade_in", "out of range")
    no({**base, "m": {**base["m"], "fade_out": -1}}, "fade_out", "out of range")
    no({**base, "m": {**base["m"], "zoom": huge}}, "draft.m.zoom", "out of range")
    no(with_m(base, volume=huge), "m.volume", "0 to 4")
    no(with_m(base, volume=4.5), "m.volume", "0 to 4")
    no(with_m(base, transition_ms=huge), "m.transition_ms", "0 to 60000")
    no(with_m(base, source_start_ms=-1), "m.source_start_ms")
    no(with_m(base, focus=[0.5, huge]), "m.focus", "0 to 1")
    no(with_m(base, focus=["a", "b"]), "m.focus", "number")
    no(with_m(base, focus=[0.5]), "m.focus")
    no(with_m(base, x=huge), ".x", "out of range")
    no(with_m(base, y=float("1e300")), ".y", "out of range")
    no(with_seg(base, 7, m={"text": "Hi", "size": huge}), "m.size", "3840 px")
    no(with_seg(base, 7, m={"text": "Hi", "size": "1e308"}), "m.size", "small, medium, large")
    no(with_seg(base, 7, m={"text": "Hi", "size": -1}), "m.size")
    no(with_seg(base, 7, m={"text": "Hi", "fade": huge}), "m.fade")
    no(with_seg(base, 1, src="builtin:lofi", m={"volume": "loud"}), "m.volume", "number")
    no(with_seg(base, 1, src="builtin:nothing"), "built-in music", "lofi")
    no(with_seg(base, 7, id=huge, m={"text": "Hi"}, st=-1), "400-digit", "bad timing")


def test_every_string_and_list_has_a_length(api: httpx.Client, tmp_path: Path) -> None:
    u = User(api, tmp_path)
    base = clip(u.src, 1, size=(320, 180))
    render = "/api/render/proxy/lambda"

    def no(draft: dict, *words: str) -> None:
        refused(u.post(render, {"sessionId": u.sid, "draft": draft}), *words)

    # The finding: a 900k-character title grew a render worker to ~18 GB.
    no(with_seg(base, 7, m={"text": "x" * 900_000}), "m.text", "over 500 characters")
    no(with_seg(base, 7, m={"text": "x" * 501}), "over 500 characters")
    no(with_seg(base, 7, m={"text": "bad \ud800 text"}), "m.text", "surrogate")
    no(with_seg(base, 7, m={"text": 5}), "m.text", "string")
    no(with_seg(base, 7, m={"text": "Hi", "color": "x" * 100}), "m.color")
    no(with_seg(base, 7, m={"text": "Hi", "color": "not a colour"}), "m.color")
    no(with_seg(base, 7, m={"text": "Hi", "position": "side"}), "m.position", "top")
    no(with_seg(base, 7, m={"text": "Hi", "role": "x" * 50}), "m.role", "caption")
    no(with_m(base, motion="spin"), "m.motion", "zoom_in")
    no(with_m(base, strength=["strong"]), "m.strength")
    no(with_m(base, easing="bounce"), "m.easing")
    no(with_m(base, fit="stretch"), "m.fit")
    no(with_m(base, transition="wipe"), "m.transition", "crossfade")
    no(with_m(base, mute="yes"), "m.mute")
    no(with_m(base, name="n" * 301), "m.name", "300")
    no(with_m(base, note="n" * 501), "m.note", "500")
    no({**base, "m": {**base["m"], "title": "t" * 301}}, "draft.m.title", "300")
    no(with_seg(base, 7, id="i" * 65, m={"text": "Hi"}), "id", "64")
    # Segments: a track, all of them, the titles and captions, the sounds, and their text.
    seg = base["t"][0]["sg"][0]
    many = {**base, "t": [{"tt": 0, "sg": [seg] * 201}]}
    no(many, "at most 200 segments a track")
    no({**base, "t": [{"tt": 0, "sg": [seg] * 200}] * 3}, "at most 400 segments")
    text = {"id": "t", "st": 0, "d": 1000, "m": {"text": "Hi"}}
    no({**base, "t": [*base["t"], {"tt": 7, "sg": [text] * 11}]}, "at most 10 titles")
    long = {**text, "m": {"text": "y" * 500}}
    no({**base, "t": [*base["t"], {"tt": 7, "sg": [long] * 5}]}, "2000 characters")
    sound = {"id": "a", "src": "builtin:lofi", "st": 0, "d": 1000}
    no({**base, "t": [*base["t"], {"tt": 1, "sg": [sound] * 21}]}, "at most 20 audio")
    no({**base, "t": [{"tt": 0, "sg": []}] * 51}, "at most 50 tracks")
    # Each limit reached, not passed, is fine: the render runs (and is cancelled at once).
    ok = copy.deepcopy(base)
    ok["t"].append({"tt": 7, "sg": [long] * 4})
    ok["t"].append({"tt": 1, "sg": [sound] * 20})
    ok["t"][0]["sg"][0]["m"].update(volume=4, focus=[0, 1], transition_ms=60000, x=-3)
    r = u.post(render, {"sessionId": u.sid, "draft": ok})
    assert r.status_code == 200, r.text
    rid = r.json()["data"]["id"]
    u.api.post(f"{render}/{rid}/cancel", headers=auth(u.tok()))


def test_limits_reached_still_render(api: httpx.Client, tmp_path: Path) -> None:
    """A title of the longest length, in a colour and size, renders to the end."""
    u = User(api, tmp_path)
    draft = with_seg(
        clip(u.src, 1, size=(320, 180)),
        7,
        m={"text": "Spring sale " * 41 + "end", "color": "yellow", "size": "large"},
    )
    assert len(draft["t"][1]["sg"][0]["m"]["text"]) <= drafts.MAX_TEXT
    rid = start_render(api, u.tok(), u.sid, draft).json()["data"]["id"]
    assert wait_render(api, u.tok(), rid)["status"] == "completed"


def test_other_bodies_are_bounded_too(api: httpx.Client, tmp_path: Path) -> None:
    u = User(api, tmp_path)
    session = "/api/tasks/me/with-session/nemo_agent"
    refused(u.post(session, {"task_name": "bad \ud800"}), "task_name")
    refused(u.post(session, {"task_name": "n" * 201}), "task_name", "200")
    refused(u.post(session, {"language": "e" * 300}), "language")
    assert u.post(session, {"task_name": "名字 " * 40}).status_code == 200
    upload = f"/api/upload-video/nemo_agent/me/{u.sid}"
    long_boundary = "b" * 300  # python-multipart refuses over 256: it used to be a 500
    r = u.post(
        upload,
        content=f"--{long_boundary}\r\n".encode(),
        **{"Content-Type": f"multipart/form-data; boundary={long_boundary}"},
    )
    refused(r, "boundary", "70")
    r = u.post(upload, {"urls": ["file:///" + "a" * 5000]})
    refused(r, "4096")


def _png_header(w: int, h: int) -> bytes:
    """A PNG that claims `w`x`h` pixels: the header and one small compressed row, no more."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)  # 8-bit grey
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_images_the_renderer_refuses_are_refused_at_upload(
    api: httpx.Client, tmp_path: Path
) -> None:
    from tui.engine.media import max_pixels
    from tui.engine.render.errors import RenderError
    from tui.engine.render.sources import load_image

    limit = max_pixels()
    assert 80_000_000 < limit <= 100_000_000
    u = User(api, tmp_path)
    upload = f"/api/upload-video/nemo_agent/me/{u.sid}"
    over = tmp_path / "over.png"
    over.write_bytes(_png_header(limit + 1, 1))
    big = tmp_path / "big.png"
    big.write_bytes(_png_header(9500, 9500))  # 90.25 MP: in the 89-100 MP gap of the finding
    for p in (over, big):
        with pytest.raises(RenderError, match=r"decompression bomb|too large"):
            load_image(p)
        files = [("files", (p.name, p.read_bytes()))]
        r = u.send("POST", upload, headers=auth(u.tok()), files=files)
        msg = refused(r, p.name, "pixels", f"{limit:,}", status=413, code=4002)
        assert str(tmp_path) not in msg
    # At the limit, the header passes (the renderer's check is the same comparison).
    at = tmp_path / "at.png"
    at.write_bytes(_png_header(limit, 1))
    files = [("files", ("at.png", at.read_bytes()))]
    r = u.send("POST", upload, headers=auth(u.tok()), files=files)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["files"][0]["width"] == limit


def test_a_cut_off_jpeg_is_refused_at_upload_not_at_render(
    api: httpx.Client, tmp_path: Path
) -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 30, 30)).save(buf, "JPEG", quality=90)
    whole = buf.getvalue()
    u = User(api, tmp_path)
    upload = f"/api/upload-video/nemo_agent/me/{u.sid}"
    cut = [("files", ("cut.jpg", whole[: len(whole) // 3]))]
    r = u.send("POST", upload, headers=auth(u.tok()), files=cut)
    refused(r, "cut.jpg", "truncated", status=415, code=4001)
    r = u.send("POST", upload, headers=auth(u.tok()), files=[("files", ("whole.jpg", whole))])
    assert r.status_code == 200, r.text
    assert r.json()["data"]["files"][0]["width"] == 640


def test_the_servers_tables_match_the_renderers() -> None:
    from tui.engine.render import audio, motion, soundtrack

    assert drafts.MOTIONS == motion.MOTIONS
    assert tuple(motion.STRENGTHS) == drafts.STRENGTHS
    assert drafts.EASINGS == motion.EASINGS
    assert drafts.BUILTIN_MUSIC == audio.BUILTIN_STYLES
    assert drafts.MAX_VOLUME == soundtrack.MAX_VOLUME
    from tui.engine.agent import apply_text

    agent_limits = (apply_text.MAX_TEXT, apply_text.MAX_TEXT_TOTAL, apply_text.MAX_TEXT_SEGMENTS)
    assert agent_limits == (drafts.MAX_TEXT, drafts.MAX_TEXT_TOTAL, drafts.MAX_TEXT_SEGMENTS)


AGENT_MESSAGES = [
    "title '" + "word " * 120 + "'",  # 600 characters
    "title '" + "x" * 3000 + "'",
    "caption '" + "字" * 800 + "'",
    "a 60 second clip, crossfade of 10 minutes between the images",
    "fade in 100 seconds and fade out for 5 minutes",
    "music at 1000%",
    "video volume 900%",
    "make the title huge, bigger, bigger",
    "4k vertical 60 fps",
    "focus on the top left, pan right, strong, linear",
    "title color #123",
    "标题「" + "春" * 600 + "」",
]


def _agent_drafts() -> list[tuple[str, dict, list[dict]]]:
    """(label, draft, media) after each table case of tests/test_agent.py, and after each of
    AGENT_MESSAGES on every starting draft there; then 30 captions added one turn at a time."""
    from tests import test_agent as table

    out = []
    for start, media, message, _ in table.CASES:
        turn = agent.plan_turn(
            message, copy.deepcopy(table.DRAFTS[start]), table.MEDIA[media], "en"
        )
        out.append((message, turn.draft, table.MEDIA[media]))
    for (name, start), message in itertools.product(table.DRAFTS.items(), AGENT_MESSAGES):
        for media in table.MEDIA.values():
            turn = agent.plan_turn(message, copy.deepcopy(start), media, "en")
            out.append((f"{name}: {message[:40]}", turn.draft, media))
    draft, media = copy.deepcopy(table.DRAFTS["one"]), table.MEDIA["img1"]
    for i in range(30):
        turn = agent.plan_turn(f"add another caption '{'c' * 150} {i}'", draft, media, "en")
        draft = turn.draft or draft
        out.append((f"caption {i}", draft, media))
    return out


def test_the_agent_never_writes_a_draft_the_bounds_refuse() -> None:
    from starlette.exceptions import HTTPException  # noqa: F401  (the server is importable)

    from tui.engine.server.envelope import ApiFailure

    checked = 0
    for label, draft, media in _agent_drafts():
        if draft is None:
            continue
        known = {m["hash"] for m in media}
        try:
            check_draft(draft, known)
        except ApiFailure as exc:
            if "unknown source" in exc.message or "empty" in exc.message:
                continue  # the table's drafts name sources outside its media: not the agent's
            raise AssertionError(f"{label}: {exc.message}") from None
        checked += 1
    assert checked > 200


def test_the_agent_says_why_it_leaves_text_out() -> None:
    from tests import test_agent as table

    media = table.MEDIA["img1"]
    turn = agent.plan_turn("title '" + "word " * 120 + "'", table.DRAFTS["one"], media, "en")
    assert turn.draft is None and "at most 500" in turn.reply, turn.reply
    draft = copy.deepcopy(table.DRAFTS["one"])
    for i in range(drafts.MAX_TEXT_SEGMENTS + 2):
        turn = agent.plan_turn(f"add another caption 'c{i}'", draft, media, "en")
        draft = turn.draft or draft
    texts = [s for t in draft["t"] if t["tt"] == 7 for s in t["sg"]]
    assert len(texts) == drafts.MAX_TEXT_SEGMENTS
    assert turn.draft is None and "the most it takes" in turn.reply, turn.reply
    turn = agent.plan_turn("标题「" + "春" * 600 + "」", table.DRAFTS["one"], media, "zh")
    assert turn.draft is None and "最多 500" in turn.reply, turn.reply


# ---- the fuzz: every endpoint, its path, headers and body ----------------------------------

ODD = st.sampled_from(
    ["\ud800", "x" * 3000, "../../etc/passwd", "file:///etc/passwd", "file:///" + "a" * 300]
)
# Any text, lone surrogates included (JSON can carry them as \ud800 escapes).
TEXT = st.text(st.characters(exclude_categories=(), include_characters="\ud800\udfff"), max_size=20)
HUGE = st.integers(10**308, 10**400) | st.integers(-(10**400), -(10**308))  # past float's range
NUMBER = st.integers() | HUGE | st.floats()
SCALAR = st.none() | st.booleans() | NUMBER | TEXT | ODD
JSON = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT | ODD, inner, max_size=4),
    max_leaves=12,
)
STRING = ODD | TEXT | st.sampled_from(["\ud800", "a\udfffb", ""])
VALUE = st.one_of(STRING, STRING, SCALAR, JSON)
# The fields each endpoint reads (each sent or not, its value anything, strings often).
FIELDS = {
    "/api/tasks/me/with-session/nemo_agent": ("task_name", "language"),
    "/run_sse": ("session_id", "new_message", "streaming"),
    "/api/upload-video/nemo_agent/me/{sid}": ("urls", "source_type"),
    "/api/render/proxy/lambda": ("sessionId", "draft", "output", "id"),
}


def _body(route: str, sid: str, src: str) -> st.SearchStrategy[bytes]:
    """Bodies: a JSON object of the endpoint's fields (the user's own session mostly, so the
    checks past the session's are reached; drafts near a valid one, or with odd text segments),
    any JSON, any bytes."""
    session = st.sampled_from([sid, sid, int(sid)]) | VALUE
    near = st.fixed_dictionaries(
        {}, optional={"d": NUMBER, "m": st.fixed_dictionaries({"width": NUMBER, "height": NUMBER})}
    ).map(lambda d: {**clip(src), **d})
    seg_m = st.dictionaries(
        st.sampled_from(["text", "size", "color", "volume", "focus", "motion", "fade", "x"]),
        NUMBER | VALUE,
        min_size=1,
        max_size=3,
    ).map(lambda m: {**clip(src), "t": [{"tt": 7, "sg": [{"id": "s", "st": 0, "d": 9, "m": m}]}]})
    parts = st.lists(st.fixed_dictionaries({"text": VALUE}) | JSON, max_size=3)
    special = {
        "session_id": session,
        "sessionId": session,
        "draft": st.one_of(near, seg_m, seg_m, VALUE),
        "id": st.one_of(st.none(), st.none(), VALUE),
        "new_message": st.fixed_dictionaries({"parts": parts}) | VALUE,
        "urls": st.lists(STRING, min_size=1, max_size=3) | VALUE,
    }
    names = FIELDS.get(route, ())
    always = ("session_id", "sessionId", "draft")  # past the session, to the draft's checks
    fields = st.fixed_dictionaries(
        {k: special[k] for k in names if k in always},
        optional={k: special.get(k, VALUE) for k in names if k not in always},
    )
    return st.one_of(
        fields.map(lambda v: json.dumps(v).encode()),  # ASCII: lone surrogates as \ud800
        fields.map(lambda v: json.dumps(v).encode()),
        JSON.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=300),
        st.sampled_from([b"", b"{", b"[" * 5000, b'{"a": NaN}', b"\xff\xfe", b'"\\ud800"']),
    )


HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=300)
KNOWN_TYPES = st.sampled_from(
    [
        "application/json",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=" + "b" * 300,
        "multipart/form-data; boundary=xyz",
        "text/plain",
    ]
)
CONTENT_TYPES = st.one_of(
    KNOWN_TYPES,
    KNOWN_TYPES,
    KNOWN_TYPES,
    HEADER_TEXT.map(lambda t: "multipart/form-data; boundary=" + t),
    HEADER_TEXT,
)
PARAM = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["1", "0", "-1", "9" * 400, "..", "%2e%2e", "render_1", "x" * 300]),
)
EXTRA = st.dictionaries(
    st.sampled_from(["X-Client-Id", "Authorization", "Range", "Host", "X-Skill-Source"]),
    HEADER_TEXT,
    max_size=1,
)
PER_ROUTE = settings(FUZZ, max_examples=40)


@pytest.fixture
def users(api: httpx.Client, tmp_path: Path) -> itertools.cycle:
    """Users in turn, so the fuzz stays under each one's 20 requests a second."""
    for i in range(4):
        (tmp_path / str(i)).mkdir()
    return itertools.cycle([User(api, tmp_path / str(i)) for i in range(4)])


@pytest.mark.parametrize("route", ROUTES, ids=[r[0] for r in ROUTES])
def test_no_request_gets_a_500(api: httpx.Client, users: itertools.cycle, route: tuple) -> None:
    @PER_ROUTE
    @given(
        data=st.data(),
        params=st.fixed_dictionaries({"sid": PARAM, "rid": PARAM}),
        own=st.sampled_from([True, True, True, False]),
        ctype=CONTENT_TYPES,
        extra=EXTRA,
        token_kind=st.sampled_from(["good"] * 6 + ["none", "bad"]),
    )
    def one(
        data: st.DataObject, params: dict, own: bool, ctype: str, extra: dict, token_kind: str
    ) -> None:
        u: User = next(users)
        body = data.draw(_body(route[0], u.sid, u.src))
        path, _, methods, _ = route
        values = {"sid": u.sid if own else params["sid"], "rid": params["rid"]}
        for key, value in values.items():
            path = path.replace("{" + key + "}", quote(value, safe=""))
        headers = {"Content-Type": ctype, "X-Client-Id": str(uuid.uuid4()), **skill_headers()}
        if token_kind == "good":
            headers.update(auth(u.tok()))
        elif token_kind == "bad":
            headers["Authorization"] = "Bearer nmv_" + "x" * 40
        headers.update(extra)
        for method in methods:
            try:
                r = u.send(method, path, headers=headers, content=body)
            except httpx.LocalProtocolError:
                continue  # a header httpx itself will not send
            assert r.status_code < 500, (method, path, r.status_code, r.text[:300])
            if r.status_code >= 400 and method != "HEAD":
                envelope = r.json()
                assert set(envelope) == {"code", "message", "data"}, envelope
                assert envelope["code"] != 0 and envelope["message"]
            if route[0] == "/api/render/proxy/lambda" and r.status_code == 200:
                rid = r.json()["data"]["id"]  # a valid render by chance: do not let it run
                u.send("POST", f"/api/render/proxy/lambda/{rid}/cancel", headers=auth(u.tok()))

    one()


M_KEYS = [
    *drafts.WORDS,
    *drafts.MS,
    "text",
    "size",
    "color",
    "volume",
    "mute",
    "focus",
    "name",
    "x",
]
PLACES = st.one_of(
    st.tuples(st.just("m"), st.sampled_from(M_KEYS)),
    st.tuples(st.just("m"), st.sampled_from(M_KEYS)),
    st.tuples(st.just("meta"), st.sampled_from(["width", "height", "fps", "fade_in", "title"])),
    st.tuples(st.just("seg"), st.sampled_from(["st", "d", "id", "src"])),
    st.tuples(st.just("draft"), st.sampled_from(["d", "t", "m"])),
)


@settings(FUZZ, max_examples=100)
@given(
    tt=st.sampled_from([0, 1, 7]),
    place=PLACES,
    value=st.one_of(HUGE, NUMBER, VALUE, st.lists(NUMBER, min_size=2, max_size=2)),
)
def test_no_draft_gets_a_500(
    api: httpx.Client, users: itertools.cycle, tt: int, place: tuple, value: object
) -> None:
    """A valid draft with one value, anywhere the renderer reads one, set to anything at all
    (one at a time, so that every check is reached): a 400 or a render, never a 500."""
    u: User = next(users)
    draft = clip(u.src, 1, size=(320, 180))
    seg = {"id": "s", "st": 0, "d": 1000, "src": u.src, "m": {}}
    if tt == 1:
        seg["src"] = "builtin:lofi"
    if tt == 7:
        seg["m"]["text"] = "Hi"
    if tt == 0:
        draft["t"][0]["sg"][0] = seg
    else:
        draft["t"].append({"tt": tt, "sg": [seg]})
    where, key = place
    target = {"m": seg["m"], "meta": draft["m"], "seg": seg, "draft": draft}[where]
    target[key] = value
    r = u.post("/api/render/proxy/lambda", {"sessionId": u.sid, "draft": draft})
    assert r.status_code < 500, (place, r.text[:300])
    if r.status_code == 200:
        rid = r.json()["data"]["id"]
        u.send("POST", f"/api/render/proxy/lambda/{rid}/cancel", headers=auth(u.tok()))
    else:
        assert r.json()["code"] == 400 and r.json()["message"], r.text
