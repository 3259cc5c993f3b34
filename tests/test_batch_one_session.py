"""A batch the seed's way (tui/client/batch.py): several files uploaded into one session, each
taken in turn with its own instruction, each its own render. Against the real engine (the MP4s
decoded) and the cloud stand-in, through the client, the app with a Pilot and `i2v-flow render
--each`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.decode import probe
from tests.media import photo
from tests.test_app import lines, ready, say, until
from tests.test_app_words import mark
from tui.app.app import I2VApp
from tui.cli.main import main
from tui.client import (
    BatchFile,
    BatchItem,
    Client,
    StateUpdate,
    own_instruction,
    split_instructions,
)
from tui.client.state import ClientState


def _video_names(draft: dict) -> list[str]:
    return [
        str((s.get("m") or {}).get("name"))
        for t in draft.get("t") or []
        if t.get("tt") == 0
        for s in t.get("sg") or []
    ]


async def _run_batch(c: Client, items: list[BatchItem]) -> tuple[list[BatchFile], list[dict]]:
    """What the app and `render --each` do: one session, every file uploaded, then a turn each;
    the draft each turn left."""
    await c.connect()
    await c.open_batch()
    files: list[BatchFile] = []
    for item in items:
        await c.add_to_batch(item, files)
    drafts = []
    for f in files:
        events = [ev async for ev in c.turn(f.message(c.language))]
        assert isinstance(events[-1], StateUpdate)
        drafts.append(events[-1].draft)
    return files, drafts


def test_each_files_words_name_it_by_place_and_name() -> None:
    f = BatchFile(BatchItem(Path("/x/city.png"), " a 2 second clip "), 2, 3)
    assert f.message() == "Use only the 2nd photo of all 3 (city.png): a 2 second clip"
    assert f.message("zh") == "只用第2张图片（共3张图片：city.png）：a 2 second clip"
    url = BatchItem("https://cdn.example/a/dune.jpg?x=1", "zoom")
    assert url.is_url and url.name == "dune.jpg"
    assert [BatchFile(url, n, 12).message()[:23] for n in (1, 11, 12)] == [
        "Use only the 1st photo ",
        "Use only the 11th photo",
        "Use only the 12th photo",
    ]


def test_a_files_own_instruction_is_its_sidecar(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("  a 3 second clip\n")
    (tmp_path / "b.txt").write_text("   ")
    assert own_instruction(tmp_path / "a.jpg", "typed") == "a 3 second clip"
    assert own_instruction(tmp_path / "b.jpg", "typed") == "typed"
    assert own_instruction(tmp_path / "c.jpg", "typed") == "typed"


def test_per_file_instructions_typed_at_once() -> None:
    names = ["beach.jpg", "city.png", "dune.webp"]
    typed = "beach.jpg: zoom in; City: pan left\nlo-fi music at 35%"
    assert split_instructions(typed, names) == (
        "lo-fi music at 35%",
        {"beach.jpg": "zoom in", "city.png": "pan left"},
    )
    # No file named: the words are everyone's, colons and all.
    assert split_instructions("title: 'Sale'; 5 s", names) == ("title: 'Sale'; 5 s", {})
    assert split_instructions("dune：慢慢放大；标题「沙丘」", names) == (
        "标题「沙丘」",
        {"dune.webp": "慢慢放大"},
    )


async def test_the_engine_takes_each_file_alone_in_one_session(engine_url, tmp_path) -> None:
    a = photo(tmp_path / "beach.jpg", (320, 240))
    b = photo(tmp_path / "city.png", (240, 320), seed=2)
    state = ClientState(tmp_path / "client.json", "local")
    async with Client(engine_url, state, poll_interval=0.2, language="en") as c:
        await c.connect()
        own = c.session.session_id
        items = [BatchItem(a, "a 2 second 720p clip"), BatchItem(b, "a 3 second 720p clip")]
        files, drafts = await _run_batch(c, items)
        batch = c.session.session_id
        assert [_video_names(d) for d in drafts] == [["beach.jpg"], ["city.png"]]
        outs = []
        for f, draft in zip(files, drafts, strict=True):
            dest = tmp_path / "out" / f"{Path(f.item.source).stem}.mp4"
            rid = await c.start_render("draft", draft, target=dest)
            outs.append(await c.download(rid, dest, await c.wait_render(rid)))
    assert batch != own and state.backend["session_id"] == own  # the person's stays saved
    assert [probe(p).frames for p in outs] == [60, 90]  # 2 s and 3 s at 30 fps


async def test_the_standin_gets_one_session_and_a_render_of_each_file(cloud, tmp_path) -> None:
    a = photo(tmp_path / "beach.jpg", (160, 120))
    b = photo(tmp_path / "city.png", (120, 160), seed=2)
    state = ClientState(tmp_path / "client.json", cloud.url)
    async with Client(cloud.url, state, cloud=True, poll_interval=0.01, language="en") as c:
        files, drafts = await _run_batch(c, [BatchItem(a, "zoom in"), BatchItem(b, "pan left")])
        for f, draft in zip(files, drafts, strict=True):
            dest = tmp_path / f"{Path(f.item.source).stem}.mp4"
            rid = await c.start_render("high", draft, target=dest)
            await c.download(rid, dest, await c.wait_render(rid))
    assert len(cloud.session_bodies) == 2  # the connection's own, then the batch's one
    uploads = [s.path for s in cloud.seen if s.name == "upload"]
    assert len(uploads) == 2 and len(set(uploads)) == 1  # both into the batch's session
    assert [_video_names(d) for d in drafts] == [["beach.jpg"], ["city.png"]]
    assert cloud.count("render") == 2
    assert (tmp_path / "beach.mp4").read_bytes() == (tmp_path / "city.mp4").read_bytes()
    assert cloud.credits == {"available": 90, "frozen": 0}  # 5 s each


async def test_the_app_batches_marked_files_with_their_own_instructions(tmp_path) -> None:
    folder = tmp_path / "pics"
    (folder / "sub").mkdir(parents=True)  # Files' rows as `mark` counts them: root, sub, files
    photo(folder / "beach.jpg", (320, 240))
    photo(folder / "city.png", (240, 320), seed=2)
    (folder / "city.txt").write_text("a 2 second clip")  # city's own instruction
    app = I2VApp(folder, export_quality="draft")
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await mark(pilot, ["beach.jpg", "city.png"])
        await say(pilot, "a 1 second clip")
        await until(pilot, lambda: "Batch: 2 of 2 saved" in lines(app), 90, "the batch")
        text = lines(app)
    assert "Uploaded beach.jpg, city.png into one session" in text
    assert "› Use only the 1st photo of all 2 (beach.jpg): a 1 second clip" in text
    assert "› Use only the 2nd photo of all 2 (city.png): a 2 second clip" in text
    frames = [probe(folder / "exports" / n).frames for n in ("beach.mp4", "city.mp4")]
    assert frames == [30, 60]


async def test_the_app_batches_on_the_standin_in_one_session(cloud, tmp_path) -> None:
    folder = tmp_path / "pics"
    (folder / "sub").mkdir(parents=True)  # Files' rows as `mark` counts them: root, sub, files
    photo(folder / "beach.jpg", (160, 120))
    photo(folder / "city.png", (120, 160), seed=2)
    app = I2VApp(folder, tmp_path / "out", cloud.url, poll_interval=0.01)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await mark(pilot, ["beach.jpg", "city.png"])
        await say(pilot, "city: pan left; add a title")  # city's own words, and everyone's
        await until(pilot, lambda: "Batch: 2 of 2 saved" in lines(app), 60, "the batch")
        text = lines(app)
    assert "› Use only the 1st photo of all 2 (beach.jpg): add a title" in text
    assert "› Use only the 2nd photo of all 2 (city.png): pan left" in text
    assert len(cloud.session_bodies) == 2  # the app's own session, then the batch's
    assert len({s.path for s in cloud.seen if s.name == "upload"}) == 1
    assert cloud.count("render") == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["beach.mp4", "city.mp4"]


def test_render_each_makes_one_clip_per_image_in_one_session(engine_url, tmp_path, capsys):
    a = photo(tmp_path / "beach.jpg", (320, 240))
    b = photo(tmp_path / "city.png", (240, 320), seed=2)
    (tmp_path / "city.txt").write_text("a 2 second clip")
    out = tmp_path / "clips"
    # beach's own typed words; city's sidecar over the words for all (3 s).
    prompt = "beach: a 1 second clip; a 3 second clip"
    args = ["render", str(a), str(b), "--each", "--prompt", prompt, "-o", str(out)]
    code = main([*args, "--quality", "draft", "--api", engine_url, "--json", "-q"])
    got = json.loads(capsys.readouterr().out)
    assert code == 0, got
    clips = got["clips"]
    assert [Path(c["path"]).name for c in clips] == ["beach.mp4", "city.mp4"]
    assert [c["duration"] for c in clips] == [1.0, 2.0] and got["failed"] == []
    assert [probe(Path(c["path"])).frames for c in clips] == [30, 60]
    assert len({c["session_id"] for c in clips}) == 1
