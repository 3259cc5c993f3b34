"""Faithful to the real cloud, client side: hostile text never reaches the terminal, bare HTTP
errors mean what the error table says, sessions carry the user's language, partial drafts are
summarised, `--api cloud`, and URL uploads. Against the programmable fake backend
(tests/cloud_standin.py) on real sockets, and the real engine."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.responses import JSONResponse

from tests.test_client_fakes import HOSTILE, FakeBackend, adk, bare, env, fail, sse
from tui.cli.main import main
from tui.client import Client, ClientError, OutOfCredits, StateUpdate
from tui.client.state import ClientState
from tui.core.backend import CLOUD_URL, choose
from tui.core.clean_text import clean
from tui.core.intents import language_of
from tui.core.protocol import (
    FILE_TOO_LARGE,
    PLAN_BLOCKED,
    RATE_LIMITED,
    SESSION_NOT_FOUND,
    TOKEN_EXPIRED,
    UNSUPPORTED_TYPE,
    FinalText,
    diff_drafts,
    parse_event,
    parse_sse_data,
    read_envelope,
    read_render_status,
    summarize_draft,
)

# Anything a terminal takes as a control: C0 but newline and tab, DEL, C1 (ESC and BEL in it).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("I2V_FLOW_CONFIG", os.devnull)


def client_for(fb: FakeBackend, tmp_path: Path, **kw) -> Client:
    kw.setdefault("cloud", True)
    kw.setdefault("rate_limit_wait", 0.05)
    kw.setdefault("poll_interval", 0.01)
    return Client(fb.url, ClientState(tmp_path / "client.json", fb.url), **kw)


def png(tmp_path: Path, name: str = "photo.png") -> Path:
    p = tmp_path / name
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    return p


def strings_in(value: object) -> list[str]:
    """Every string in a nest of dataclasses, dicts and lists."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings_in(k) + strings_in(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings_in(v)]
    if hasattr(value, "__dataclass_fields__"):
        return strings_in([getattr(value, f) for f in value.__dataclass_fields__])
    return []


# ---- text from the backend, made safe ---------------------------------------------------------

# Text rich in what terminals act on: ESC, BEL, CSI/OSC/DCS openers (7- and 8-bit), ST, CR.
_NASTY = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("\x1b\x07\x9b\x9c\x9d\x90[]P\\;0123m\r\n\t é中")),
        st.characters(max_codepoint=0x2FF),
    ),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(_NASTY)
def test_clean_text_never_lets_a_control_through(text: str) -> None:
    out = clean(text)
    assert not CONTROL.search(out), repr(out)
    assert "\x1b" not in out and "\x07" not in out
    assert clean(out) == out  # cleaning twice changes nothing


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cc",)), max_size=60))
def test_clean_text_leaves_plain_text_alone(text: str) -> None:
    assert clean(text) == text
    assert clean(text + "\n\tend") == text + "\n\tend"


def test_whole_sequences_go_not_just_their_escape() -> None:
    assert clean(f"Done{HOSTILE}!") == "Done!"
    assert clean("a\x1b[38;5;196mred\x1b[0m b\r\nc") == "ared b\nc"
    assert clean("title \x1b]0;unterminated") == "title "
    assert clean("lone \x1b") == "lone " and clean("8-bit \x9d0;t\x9c.") == "8-bit ."


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _NASTY,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_NASTY, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_NASTY, _NASTY, _JSON)
def test_no_event_ever_carries_a_control(text: str, name: str, args: object) -> None:
    events = [
        adk(text),
        adk(text, partial=True),
        adk(parts=[{"functionCall": {"id": name, "name": name, "args": {name: args}}}]),
        adk(parts=[{"functionResponse": {"id": "r", "name": name, "response": args}}]),
        {"type": "text", "content": text},
        {"type": "tool_call", "id": name, "name": name, "args": {"a": args}},
        {"errorCode": name, "errorMessage": text},
        {"error": {"message": text}},
    ]
    parsed = [ev for obj in events for ev in parse_event(obj)] + parse_sse_data(text)
    for s in strings_in(parsed):
        assert not CONTROL.search(s), repr(s)
    env_ = read_envelope(401, {"message": text, "code": name})
    status = read_render_status({"id": name, "status": text, "error": text})
    for s in [env_.message, status.id, status.status, status.error or ""]:
        assert not CONTROL.search(s), repr(s)


# ---- partial and wrong-typed drafts -----------------------------------------------------------

_FIELD = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), _NASTY, st.lists(st.integers())
)
_META = (
    st.dictionaries(
        st.sampled_from(
            ["name", "text", "volume", "mute", "color", "role", "width", "height", "fps"]
        ),
        _FIELD,
        max_size=5,
    )
    | _FIELD
)
_SEG = st.dictionaries(st.sampled_from(["id", "src", "st", "d", "m"]), _FIELD | _META, max_size=5)
_TRACK = st.fixed_dictionaries(
    {}, optional={"tt": st.sampled_from([0, 1, 7, 3, "0", None]), "sg": st.lists(_SEG) | _FIELD}
)
_DRAFT = st.one_of(
    _FIELD,
    st.fixed_dictionaries(
        {}, optional={"d": _FIELD, "m": _META, "t": st.lists(_TRACK, max_size=3) | _FIELD}
    ),
)


@settings(max_examples=400, deadline=None)
@given(_DRAFT, _DRAFT)
def test_summaries_cope_with_any_partial_draft(before: object, after: object) -> None:
    lines = summarize_draft(after) + diff_drafts(before, after)
    said_none = any("None" in s for s in strings_in([before, after]))
    for line in lines:
        assert isinstance(line, str)
        assert said_none or "None" not in line, line  # a missing field is never "None"
        assert not CONTROL.search(line), repr(line)


def test_a_draft_without_its_size_yet_is_no_none_size() -> None:
    before = {"d": 5000, "m": {"title": "project"}, "t": []}
    after = {"d": 5000, "m": {"width": 1920, "height": 1080, "fps": 30}, "t": []}
    assert diff_drafts(before, after) == ["size 1920x1080", "fps 30"]
    assert diff_drafts(after, before) == []  # a field the cloud left out is not a change
    wrong = {"d": "5000", "m": {"width": "1080", "height": 1920.0, "fps": "30"}, "t": []}
    assert diff_drafts(after, wrong) == ["size 1920x1080 → 1080x1920"]
    seg = {"id": "s", "st": "0", "d": None, "m": ["not", "a", "dict"]}
    assert summarize_draft({"t": [{"tt": 0, "sg": [seg]}]}) == ["1. Video: ? (0-0s)"]
    assert summarize_draft({"t": [{"tt": 1, "sg": [{"st": "x", "m": {"name": "Lo"}}]}]}) == [
        "1. BGM: Lo (?s)"
    ]


# ---- bare HTTP errors mean what the table says ------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (401, None, TOKEN_EXPIRED),
        (401, {"detail": "Not authenticated"}, TOKEN_EXPIRED),
        (401, {"code": 401, "message": "unauthorized"}, TOKEN_EXPIRED),
        (404, None, SESSION_NOT_FOUND),
        (404, {"code": 404, "message": "render x not found"}, 404),  # a code decides
        (413, "<html>too large</html>", FILE_TOO_LARGE),
        (415, None, UNSUPPORTED_TYPE),
        (402, None, PLAN_BLOCKED),
        (402, {"code": 2001, "message": "no credits"}, 2001),
        (429, None, RATE_LIMITED),
        (401, {"success": False, "error": "expired"}, TOKEN_EXPIRED),
        (500, None, 500),
    ],
)
def test_the_code_decides_else_the_http_status(status: int, body: object, code: int) -> None:
    e = read_envelope(status, body)
    assert (e.ok, e.code) == (False, code)


async def test_a_bare_401_gets_a_new_token_and_the_call_goes_through(fb, tmp_path) -> None:
    async with client_for(fb, tmp_path) as c:
        first = (await c.connect()).token
        fb.then("credits", bare(401))
        assert (await c.credits())["available"] == 100
        fb.then("state", bare(401, "<html><body>401 Unauthorized</body></html>"))
        assert await c.draft() == fb.draft
        assert c.session.token not in ("", first)
    assert fb.count("token") == 3
    assert fb.names().count("credits") == 2


async def test_a_bare_404_opens_a_new_session(fb, tmp_path) -> None:
    async with client_for(fb, tmp_path) as c:
        sid = (await c.connect()).session_id
        fb.then("state", bare(404))
        await c.draft()
        assert c.session.session_id != sid
    assert fb.count("session") == 2


async def test_bare_413_415_402_429_are_the_tables_words(fb, tmp_path) -> None:
    async with client_for(fb, tmp_path) as c:
        fb.then("upload", bare(413, "<html>Request Entity Too Large</html>"))
        with pytest.raises(ClientError) as big:
            await c.upload([png(tmp_path)])
        assert big.value.code == FILE_TOO_LARGE and "200 MB" in big.value.hint
        fb.then("upload", bare(415))
        with pytest.raises(ClientError) as kind:
            await c.upload([png(tmp_path)])
        assert kind.value.code == UNSUPPORTED_TYPE and "png" in kind.value.hint
        await c.upload([png(tmp_path)])
        fb.then("render", bare(402))
        with pytest.raises(ClientError) as plan:
            await c.start_render("draft")
        assert plan.value.code == PLAN_BLOCKED and not isinstance(plan.value, OutOfCredits)
        assert "subscription" in plan.value.hint
        fb.then("credits", bare(429, headers={"Retry-After": "0"}))
        assert (await c.credits())["available"] == 100
    assert fb.names().count("credits") == 2


async def test_a_bare_401_on_the_turn_renews_the_token_before_the_stream(fb, tmp_path) -> None:
    async with client_for(fb, tmp_path) as c:
        await c.connect()
        fb.then("run_sse", bare(401))
        events = [ev async for ev in c.turn("make a clip")]
    assert isinstance(events[-1], StateUpdate)
    assert fb.count("run_sse") == 2 and fb.count("token") == 2


# ---- a hostile backend, seen through the CLI --------------------------------------------------


def render(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["render", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_render_prints_no_control_from_a_hostile_backend(fb, tmp_path, capsys) -> None:
    fb.reply = f"Done{HOSTILE} with a title."
    seg = {"id": "x", "st": 0, "d": 3000, "m": {"text": f"Sale{HOSTILE}", "color": HOSTILE}}
    fb.draft["t"].append({"tt": 7, "sg": [seg]})
    call = {"functionCall": {"id": "c", "name": f"add{HOSTILE}", "args": {HOSTILE: HOSTILE}}}
    fb.then(
        "run_sse",
        sse(adk(parts=[call]), adk(f"Work{HOSTILE}", partial=True), adk(fb.reply)),
    )
    code, out, err = render(
        capsys, str(png(tmp_path)), "-o", str(tmp_path / "c.mp4"), "--api", fb.url
    )
    assert code == 0, err
    assert not CONTROL.search(out + err), repr(out + err)
    assert "Done with a title." in out and 'Title: "Sale" (0-3s)' in out
    assert "↳ add" in err


def test_a_hostile_error_message_is_one_clean_line(fb, tmp_path, capsys) -> None:
    fb.then("upload", fail(400, 400, f"bad file{HOSTILE}\r\n\x1b[1Aforged line"))
    code, out, err = render(
        capsys, str(png(tmp_path)), "-o", str(tmp_path / "c.mp4"), "--api", fb.url
    )
    assert code == 1
    assert not CONTROL.search(out + err), repr(err)
    assert err.strip().splitlines()[-1] == "error: bad file forged line"
    fb.then("run_sse", sse({"errorCode": HOSTILE, "errorMessage": f"quota{HOSTILE}"}))
    code, out, err = render(
        capsys, str(png(tmp_path)), "-o", str(tmp_path / "d.mp4"), "--api", fb.url, "--json"
    )
    assert code == 1 and not CONTROL.search(out + err)
    assert json.loads(out)["error"] == "the assistant could not do it: quota"


async def test_uploaded_file_names_from_the_backend_are_clean(fb, tmp_path) -> None:
    name = f"photo{HOSTILE}.png"
    files = [{"filename": name, "file_type": "image", "cdn_url": f"https://cdn/{name}"}]
    fb.then("upload", JSONResponse(env({"files": files})), JSONResponse(env({"files": files})))
    async with client_for(fb, tmp_path) as c:
        got = await c.upload([png(tmp_path)])
        got_urls = await c.upload_urls(["https://example.invalid/photo.png"])
    for answer in (got, got_urls):
        assert answer[0]["filename"] == "photo.png"
        assert not CONTROL.search(answer[0]["cdn_url"])


# ---- the session language ---------------------------------------------------------------------


def test_language_from_the_words_else_the_locale_else_english() -> None:
    assert language_of("做一个5秒的竖屏视频") == "zh"
    assert language_of("5秒のビデオを作って") == "ja"
    assert language_of("5초 영상") == "ko"
    assert language_of("a 5-second clip", {"LANG": "de_DE.UTF-8"}) == "de"
    assert language_of("a clip", {"LC_ALL": "fr_FR.UTF-8", "LANG": "de_DE.UTF-8"}) == "fr"
    assert language_of("a clip", {"LANG": "C.UTF-8"}) == "en"
    assert language_of("a clip", {"LANG": "POSIX"}) == "en"
    assert language_of("", {}) == "en"
    # The setting wins over the locale, what is written over both.
    setting = {"I2V_FLOW_LANGUAGE": "zh", "LC_ALL": "en_US.UTF-8"}
    assert language_of("a clip", setting) == "zh" and language_of("5초 영상", setting) == "ko"


@pytest.mark.parametrize(
    ("prompt", "lang_env", "want"),
    [
        ("做一个5秒的竖屏视频，标题「春季促销」", "en_US.UTF-8", "zh"),
        ("a 5-second clip", "de_DE.UTF-8", "de"),
        ("a 5-second clip", "", "en"),
    ],
)
def test_render_opens_its_session_in_the_users_language(
    fb, tmp_path, capsys, monkeypatch, prompt, lang_env, want
) -> None:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    if lang_env:
        monkeypatch.setenv("LANG", lang_env)
    code, _, err = render(
        capsys, str(png(tmp_path)), "-p", prompt, "-o", str(tmp_path / "c.mp4"), "--api", fb.url
    )
    assert code == 0, err
    assert fb.session_bodies == [{"task_name": "project", "language": want}]


async def test_a_session_renewed_after_a_bare_404_keeps_the_language(fb, tmp_path) -> None:
    async with client_for(fb, tmp_path, language="zh") as c:
        await c.connect()
        fb.then("state", bare(404))
        await c.draft()
    assert [b["language"] for b in fb.session_bodies] == ["zh", "zh"]


# ---- --api cloud ------------------------------------------------------------------------------


def test_api_cloud_is_the_service_url_anonymously(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEMO_TOKEN", raising=False)
    monkeypatch.delenv("I2V_FLOW_API", raising=False)
    for given_api in ("cloud", "Cloud", " cloud "):
        c = choose(given_api)
        assert (c.url, c.token, c.is_cloud) == (CLOUD_URL, None, True)
    monkeypatch.setenv("I2V_FLOW_API", "cloud")
    assert choose().url == CLOUD_URL
    assert choose("http://127.0.0.1:9").url == "http://127.0.0.1:9"  # a flag still wins
    monkeypatch.setenv("NEMO_TOKEN", "t0k")
    assert (choose("cloud").url, choose("cloud").token) == (CLOUD_URL, "t0k")


def test_api_cloud_in_the_config_file_is_the_service_too(tmp_path, monkeypatch) -> None:
    """`api = "cloud"` in config.toml reaches the session layer as the service's URL, for the
    app, render and watch alike (each takes its Backend from the settings' api)."""
    from tui.core.config import load
    from tui.session.backend import Backend

    monkeypatch.delenv("NEMO_TOKEN", raising=False)
    monkeypatch.delenv("I2V_FLOW_API", raising=False)
    (tmp_path / "config.toml").write_text('api = "cloud"\n')
    monkeypatch.setenv("I2V_FLOW_CONFIG", str(tmp_path / "config.toml"))
    api = load().settings.api
    assert api == "cloud"
    choice = Backend(api).choice
    assert (choice.url, choice.token, choice.is_cloud) == (CLOUD_URL, None, True)
    (tmp_path / "config.toml").write_text('api = "clod"\n')  # a typo is refused, not guessed
    with pytest.raises(Exception, match="cloud"):
        load()


# ---- URL uploads ------------------------------------------------------------------------------


def test_render_of_a_url_asks_the_backend_to_fetch_it(fb, tmp_path, capsys, monkeypatch) -> None:
    url = "https://images.example.invalid/spring/photo.jpg?w=800"
    folder = tmp_path / "out"
    (tmp_path / "config.toml").write_text(f'out = "{folder}"\n')  # no -o: named after the URL
    monkeypatch.setenv("I2V_FLOW_CONFIG", str(tmp_path / "config.toml"))
    code, out, err = render(capsys, url, "--api", fb.url)
    assert code == 0, err
    assert "1. Video: photo.jpg (0-5s)" in out
    assert (folder / "photo.mp4").read_bytes() == fb.video
    assert fb.names()[:3] == ["token", "session", "upload"]
    assert fb.seen[2].headers["content-type"] == "application/json"


def test_the_local_engine_refuses_a_url_in_its_own_words(engine_url, tmp_path, capsys) -> None:
    code, out, err = render(
        capsys,
        "https://images.example.invalid/photo.jpg",
        "-o",
        str(tmp_path / "c.mp4"),
        "--api",
        engine_url,
    )
    assert code == 1 and out == ""
    assert "fetches nothing from the network" in err
    assert err.strip().splitlines()[-1].startswith("error: ")
    assert not (tmp_path / "c.mp4").exists()


async def test_a_bare_404_on_a_render_or_its_file_is_a_missing_render(fb, tmp_path) -> None:
    async with client_for(fb, tmp_path) as c:
        await c.upload([png(tmp_path)])
        rid = await c.start_render("draft")
        fb.then("render_status", bare(404))
        with pytest.raises(ClientError):
            await c.wait_render(rid)
        assert c.state.data["renders"][rid]["state"] == "lost"
        fb.then("download", bare(404))
        with pytest.raises(ClientError) as gone:
            await c.download(rid, tmp_path / "x.mp4")
        assert gone.value.code == 404 and "session" not in str(gone.value)
    assert fb.count("session") == 1  # no session was thrown away for it


async def test_a_table_code_over_500_is_no_server_blip_to_poll_again(fb, tmp_path) -> None:
    async with client_for(fb, tmp_path) as c:
        await c.upload([png(tmp_path)])
        rid = await c.start_render("draft")
        fb.then("render_status", fail(402, 2001, "out of credits"))
        with pytest.raises(OutOfCredits):
            await c.wait_render(rid)
    assert fb.count("render_status") == 1  # 2001 is not a 5xx: said at once, not polled again


async def test_the_engine_answers_in_the_sessions_language(engine_url, tmp_path) -> None:
    """The language the session was opened in reaches the backend: the engine replies to an
    English message in Chinese in a "zh" session, in English in an "en" one."""
    from tests.media import photo

    replies = {}
    for lang in ("zh", "en"):
        img = photo(tmp_path / f"{lang}.jpg", (64, 48))
        state = ClientState(tmp_path / f"{lang}.json", "local")
        async with Client(engine_url, state, language=lang) as c:
            await c.upload([img])
            events = [ev async for ev in c.turn("a 2-second clip")]
        replies[lang] = "".join(e.text for e in events if isinstance(e, FinalText))
    assert re.search(r"[\u4e00-\u9fff]", replies["zh"]), replies
    assert not re.search(r"[\u4e00-\u9fff]", replies["en"]), replies


def test_a_render_id_from_the_backend_is_one_path_part_and_a_safe_file_name() -> None:
    from tui.client.transfer import file_stem, in_path

    assert in_path("render_1") == "render_1" and in_path("a/../b?c") == "a%2F..%2Fb%3Fc"
    for rid in ("../../etc/passwd", "..", "/abs", "a\\b", ".hidden", ""):
        stem = file_stem(rid)
        assert stem and "/" not in stem and "\\" not in stem and not stem.startswith("."), rid


async def test_a_resumed_render_with_an_odd_id_lands_in_the_folder_asked(fb, tmp_path) -> None:
    rid = f"..evil{HOSTILE}?x=1"
    seen: list[str] = []

    def answer(request):
        # The path as sent, still quoted (older Starlette reads a decoded '?' as a query).
        seen.append(request.scope["raw_path"].decode())
        url = f"{fb.url}/cdn/clip.mp4"
        return JSONResponse(env({"id": rid, "status": "completed", "outputUrl": url}))

    fb.then("render_status", answer)
    out = tmp_path / "exports"
    async with client_for(fb, tmp_path) as c:
        await c.connect()
        c.state.add_render(clean(rid), owner="cli", state="rendering")
        [done] = await c.resume_renders(default_dir=out)
    assert done.error == "" and done.path == out / "evil_x_1.mp4"
    assert done.path.read_bytes() == fb.video
    [path] = seen  # one path part, sent quoted: the query is the id's, not a query
    head, _, part = path.rpartition("/")
    assert (head, unquote(part)) == ("/api/render/proxy/lambda", "..evil?x=1")
