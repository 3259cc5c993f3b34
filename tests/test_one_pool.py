"""One `httpx.AsyncClient` per process (issue 12): `render`, `watch --once` with several jobs,
and the app with its watch mode each make exactly one, shared by every job. Counted by wrapping
httpx's own constructor (our code runs as it is), against the stand-in on loopback."""

from __future__ import annotations

import httpx
import pytest

from tests.cloud_standin import CloudStandin
from tests.media import photo
from tests.test_app import ready, until
from tui.app.app import I2VApp
from tui.cli.main import main


@pytest.fixture
def cloud(_standin: CloudStandin) -> CloudStandin:
    _standin.reset()
    _standin.polls_to_finish = 1  # done at the first poll: no 30 s wait in `render`, `watch`
    return _standin


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[httpx.AsyncClient]:
    """Every httpx.AsyncClient made from now on in this process."""
    seen: list[httpx.AsyncClient] = []
    real = httpx.AsyncClient.__init__

    def counted(self: httpx.AsyncClient, *args: object, **kw: object) -> None:
        seen.append(self)
        real(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx.AsyncClient, "__init__", counted)
    return seen


def test_render_makes_one_async_client(cloud, tmp_path, made, capsys) -> None:
    img = photo(tmp_path / "beach.png", (160, 120))
    out = tmp_path / "clip.mp4"
    assert main(["render", str(img), "-p", "a clip", "-o", str(out), "--api", cloud.url]) == 0
    assert out.read_bytes() == cloud.video and len(made) == 1


def test_watch_once_makes_one_async_client_for_all_its_jobs(cloud, tmp_path, made) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i, name in enumerate(("a.png", "b.png", "c.png")):
        photo(folder / name, (120, 90), seed=i + 1)
    args = ["watch", str(folder), "--once", "--jobs", "3", "--settle", "0", "-q"]
    assert main([*args, "--prompt", "a clip", "--api", cloud.url, "--poll"]) == 0
    assert sorted(p.name for p in (folder / "out").iterdir()) == ["a.mp4", "b.mp4", "c.mp4"]
    assert cloud.count("render") == 3 and len(made) == 1


async def test_the_app_and_its_watch_jobs_share_one_async_client(cloud, tmp_path, made) -> None:
    folder, drop = tmp_path / "pics", tmp_path / "drop"
    folder.mkdir()
    drop.mkdir()
    for i, name in enumerate(("a.png", "b.png")):
        photo(drop / name, (120, 90), seed=i + 1)
    app = I2VApp(
        folder, tmp_path / "out", cloud.url, watch=drop, watch_settle=0.1, poll_interval=0.01
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        done = [drop / "out" / "a.mp4", drop / "out" / "b.mp4"]
        await until(pilot, lambda: all(p.exists() for p in done), 60, "both watched clips")
        assert len(made) == 1 and app.client is not None and app.client.http is made[0]
