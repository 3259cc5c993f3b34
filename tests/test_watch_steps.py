"""One image's steps alone (tui/watch/steps.py), on a real journal and real files: the steps that
need no backend (an image gone before upload, an image that cannot become a clip)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.media import photo
from tui.watch.journal import FAILED, GONE, Job, Journal
from tui.watch.scan import file_hash
from tui.watch.shapes import WatchConfig
from tui.watch.steps import Steps


class Stepping:
    """Steps on `folder` with what they emitted and how often they woke the runner."""

    def __init__(self, folder: Path, journal: Journal):
        self.emitted: list[tuple[str, str, dict[str, Any]]] = []
        self.woken = 0
        self.steps = Steps(WatchConfig(folder), folder, self._emit, self._wake, "watch:test")
        self.steps.journal = journal

    def _emit(self, step: str, job: Job | None = None, **kw: Any) -> None:
        self.emitted.append((step, job.hash if job else "", kw))

    def _wake(self) -> None:
        self.woken += 1


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    return d


@pytest.fixture
def journal(tmp_path: Path, folder: Path) -> Iterator[Journal]:
    j = Journal(tmp_path / "watch.db", folder)
    yield j
    j.close()


async def test_an_image_gone_before_upload_is_journaled_gone_and_wakes_the_runner(
    folder: Path, journal: Journal
) -> None:
    img = photo(folder / "a.png", (32, 24), seed=1)
    key = file_hash(img)
    job = journal.add(key, img, "a clip")
    img.unlink()
    s = Stepping(folder, journal)
    await s.steps.advance(None, job)  # type: ignore[arg-type]  # never reaches the backend
    assert journal.get(key).state == GONE  # type: ignore[union-attr]
    assert [(step, k) for step, k, _ in s.emitted] == [("gone", key)]
    assert s.woken == 1  # it may be elsewhere in the folder now


async def test_an_image_replaced_by_other_bytes_is_gone_under_its_old_hash(
    folder: Path, journal: Journal
) -> None:
    img = photo(folder / "a.png", (32, 24), seed=1)
    key = file_hash(img)
    job = journal.add(key, img, "a clip")
    photo(img, (32, 24), seed=2)  # the same name, another image: a row of its own later
    s = Stepping(folder, journal)
    await s.steps.advance(None, job)  # type: ignore[arg-type]
    assert journal.get(key).state == GONE  # type: ignore[union-attr]
    assert img.exists()  # left where it is for the runner to see as new


def test_a_failed_image_goes_to_failed_with_what_went_wrong_and_what_to_do(
    folder: Path, journal: Journal
) -> None:
    img = photo(folder / "b.png", (32, 24), seed=3)
    (folder / "b.txt").write_text("its own instruction", encoding="utf-8")
    key = file_hash(img)
    journal.add(key, img, "its own instruction")
    s = Stepping(folder, journal)
    s.steps.fail(key, "the assistant made no timeline", "reword the instruction in b.txt")
    assert not img.exists() and (folder / "failed" / "b.png").exists()
    assert (folder / "failed" / "b.txt").exists()  # the sidecar goes with it
    text = (folder / "failed" / "b.png.error.txt").read_text(encoding="utf-8")
    assert "What went wrong: the assistant made no timeline\n" in text
    assert "What to do: reword the instruction in b.txt.\n" in text
    assert f"move b.png back into {folder}" in text
    job = journal.get(key)
    assert job is not None and job.state == FAILED
    assert job.error == "the assistant made no timeline"
    assert job.moved_to == str(folder / "failed" / "b.png")
    ((step, k, kw),) = s.emitted
    assert (step, k) == ("failed", key) and "see failed/b.png.error.txt" in kw["detail"]


def test_a_second_failure_of_the_same_name_keeps_the_first_report(
    folder: Path, journal: Journal
) -> None:
    s = Stepping(folder, journal)
    for seed in (4, 5):
        img = photo(folder / "c.png", (32, 24), seed=seed)
        key = file_hash(img)
        journal.add(key, img, "")
        s.steps.fail(key, f"failure {seed}", "")
    reports = sorted(p.name for p in (folder / "failed").glob("*.error.txt"))
    assert len(reports) == 2 and "c.png.error.txt" in reports
    texts = [(folder / "failed" / n).read_text(encoding="utf-8") for n in reports]
    assert any("failure 4" in t for t in texts) and any("failure 5" in t for t in texts)
