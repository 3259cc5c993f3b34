"""The action queue: what changes the session (uploads, turns, undo, new session, starting
renders, batches) runs one at a time, in order, served by one worker, so a second action never
cancels one in flight. A turn can be stopped waiting on (Esc): its stream is closed, the
timeline read back, and the turn never sent again (tui/client/turn.py). What the assistant's GUI
words ask for ("click Export", tui/core/gui_words.py) is done after its turn, in the same queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work

from tui.app.messages import (
    JobUpdate,
    Said,
    StatusLine,
    StillWorking,
    ToolLine,
    TrackReady,
    TranscriptChunk,
    Working,
)
from tui.app.spending import Spending

STILL_WORKING_EVERY = 120.0  # seconds of heartbeats, no words, before "⏳ Still working…"
CUT_OFF = " … *(cut off)*"  # closes an answer whose stream ended before its final text


class StoppedWaiting(Exception):
    """Esc during a turn: said as the turn's end, in the words _report uses."""

    message = "Stopped waiting for the assistant; the turn was not sent again"
    hint = "the Tracks pane shows the timeline as the backend has it now"


if TYPE_CHECKING:
    from textual.worker import Worker

    from tui.session.actions import Action


class ActionQueue(Spending):
    def queued(self) -> bool:
        """Whether an action submitted now waits for another to finish first."""
        return self.busy or not self._actions.empty()

    def submit(
        self, action: str, arg: str = "", paths: list[Path] | None = None, said: str = ""
    ) -> None:
        """Queue an action that changes the session; they run one at a time, in order.

        `said`: the person's words, shown (and kept) when the action starts, so that the reply
        to a queued message lands under that message, not under a later one."""
        if self.queued():
            self.transcript.add_status(
                f"Queued: {said} (runs after the current step)"
                if said
                else "(queued: runs after the current step)"
            )
        else:
            said = ""  # already shown by the caller
        from tui.session.actions import Queued, action_for  # after the first screen

        self._actions.put_nowait(Queued(action_for(action, arg, paths or [], self._resolve), said))

    def action_stop_waiting(self) -> None:
        """Esc: stop waiting on the turn in flight (never re-sent: it would run twice)."""
        if self._turn_task is not None:
            self._turn_task.cancel()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop_waiting":  # Esc means nothing here when no turn is in flight
            return self._turn_task is not None and len(self.screen_stack) == 1
        return super().check_action(action, parameters)

    @work(exclusive=True, group="actions", exit_on_error=False)
    async def _serve_actions(self) -> None:
        while True:
            queued = await self._actions.get()
            self.busy = True
            try:
                if queued.said:
                    self.post_message(Said(queued.said))
                await self._connected.wait()
                await self._run_action(queued.action)
            except Exception as exc:  # every failure becomes words; the queue goes on
                self._report(exc)
            finally:
                await self._shown()
                self.busy = False

    async def _shown(self) -> None:
        """Until the app has handled what this action posted (the timeline, the cost, its last
        status line: messages queue in order), so that "not busy" means all of it is on screen."""
        shown = asyncio.Event()
        self.call_later(shown.set)
        with contextlib.suppress(TimeoutError):  # the app is closing: nothing more is shown
            await asyncio.wait_for(shown.wait(), 5)

    async def _run_action(self, action: Action) -> None:
        from tui.session.actions import Batch, Export, FetchUrls, NewSession, Save, Say, Upload

        if self._need_client() is None:
            return
        match action:
            case FetchUrls(urls):
                await self._upload_urls(list(urls))
            case Upload(paths):
                await self._upload(list(paths))
            case NewSession():
                self._cost_seen = None  # a new timeline's cost is said afresh
                await self.backend.new_session()
                self.post_message(StatusLine("New session: an empty timeline"))
                await self._refresh(tracks=True)
            case Export(quality):
                await self._start_export(quality or self.export_quality)
            case Batch(paths, text):
                await self._batch(list(paths), text)
            case Save():
                await self._save_made()
            case Say(text):  # words, undo, redo
                await self._act(await self._turn(text))

    def _job_id(self, kind: str) -> str:
        self._jobs += 1
        return f"{kind}{self._jobs}"

    async def _upload(self, paths: list[Path]) -> None:
        from tui.session.backend import check_uploads

        check_uploads(paths)  # no such file / wrong type / too large: before a byte
        label = ", ".join(p.name for p in paths)
        jid = self._job_id("upload")
        self.post_message(JobUpdate(jid, f"Upload {label}", None, "running"))
        try:
            files = await self.backend.upload(paths)
        except Exception:
            self.post_message(JobUpdate(jid, f"Upload {label}", None, "failed"))
            raise
        self.post_message(JobUpdate(jid, f"Uploaded {label}", 100, "done"))
        self.last_source = paths[-1].stem
        self.post_message(StatusLine("Uploaded " + ", ".join(f.describe() for f in files)))
        await self._refresh(tracks=True)

    async def _upload_urls(self, urls: list[str]) -> None:
        """`/upload https://…`: the backend fetches the media itself (the cloud does; the local
        engine says why it won't)."""
        from urllib.parse import urlsplit

        files = await self.backend.fetch_urls(urls)
        names = [f.name for f in files]
        self.last_source = Path(urlsplit(urls[-1]).path).stem or self.last_source
        self.post_message(StatusLine("Uploaded " + ", ".join(names) + " (fetched by the backend)"))
        await self._refresh(tracks=True)

    async def _turn(self, text: str, batch: bool = False) -> list[str]:
        """One agent turn, with 'Working… N s' in the transcript until it ends; Esc stops it.

        Returns what the assistant's GUI words ask for (StateUpdate.actions), for the caller to
        act on. An answer left half-streamed (a cut stream, Esc) is closed, marked cut off, so
        the next reply starts its own block under its own line. In a `batch`, the answer shows
        whole at its end, without its 'Say "export"' (the batch renders the clip itself)."""
        partial: list[str] = []  # the streamed text of an answer not yet final
        actions: list[str] = []
        inner = asyncio.create_task(self._stream_turn(text, partial, actions, batch))
        self._turn_task = inner
        self.post_message(Working(time.monotonic()))
        try:
            await inner
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not inner.cancelled() or (task is not None and task.cancelling()):
                raise  # the app stops: not Esc
            self._close_cut(partial)
            await self._refresh(tracks=True, quiet=True)
            raise StoppedWaiting() from None
        finally:
            self._close_cut(partial)
            self._turn_task = None
            self.post_message(Working(None))
        return actions

    def _close_cut(self, partial: list[str]) -> None:
        if "".join(partial).strip():
            self.post_message(TranscriptChunk("".join(partial) + CUT_OFF, final=True))
        partial.clear()

    async def _stream_turn(
        self, text: str, partial: list[str], actions: list[str], batch: bool = False
    ) -> None:
        from tui.client import StateUpdate
        from tui.core.protocol import FinalText, Heartbeat, TextChunk, ToolCall, TurnError

        last_words = time.monotonic()  # heartbeats count from the last words, or the start
        async for ev in self.backend.turn(text):
            if isinstance(ev, TextChunk):
                partial.append(ev.text)
                last_words = time.monotonic()
                if not batch:
                    self.post_message(TranscriptChunk(ev.text))
            elif isinstance(ev, FinalText):
                partial.clear()
                last_words = time.monotonic()
                words = without_export_hint(ev.text) if batch else ev.text
                self.post_message(TranscriptChunk(words, final=True))
            elif isinstance(ev, ToolCall):
                self.post_message(ToolLine(ev.name, dict(ev.args)))
            elif isinstance(ev, Heartbeat):
                quiet = time.monotonic() - last_words
                if quiet >= self.still_working_every:
                    self.post_message(StillWorking(quiet / 60))
            elif isinstance(ev, TurnError):
                self._close_cut(partial)  # above the error, not continued by the next reply
                self.post_message(
                    StatusLine(ev.message, error=True, hint="the Tracks pane shows the timeline")
                )
            elif isinstance(ev, StateUpdate):
                if partial:  # the stream ended whole, with chunks and no final event
                    self.post_message(TranscriptChunk("".join(partial), final=True))
                    partial.clear()
                self.post_message(TrackReady(ev.draft, ev.summary))
                if ev.note:
                    self.post_message(StatusLine(ev.note))
                if not batch:  # a batch says the cost of all its clips at once
                    self._cost_seen = await self.warn_cost(ev.draft, self._cost_seen)
                self._show_made(ev.made)
                actions[:] = ev.actions

    async def _act(self, actions: list[str], export: bool = True, follow_up: bool = True) -> None:
        """Do what the assistant's GUI words asked for (tui/core/gui_words.py): its Export button
        exports (once: `export=False` where the caller exports anyway), a panel or preview reads
        the timeline back, a drag and drop edit is sent as words (one follow-up turn, whose own
        drag words are not sent again: never a loop)."""
        for action in actions:
            try:
                if action.startswith("say:") and follow_up:
                    words = action[4:]
                    self.post_message(Said(words))
                    await self._act(await self._turn(words), export, follow_up=False)
                elif action == "export" and export:
                    await self._start_export(self.export_quality)
                elif action in ("status", "credits"):
                    await self._read(action).wait()
                elif action == "undo":
                    await self._act(await self._turn("undo"), export, follow_up=False)
            except Exception as exc:  # one action failing leaves the others to run
                self._report(exc)

    async def _batch(self, paths: list[Path], text: str) -> None:
        """The marked files uploaded into one session of their own (tui/client/batch.py), then
        each taken in turn with its own instruction (typed for it, "city.png: pan left; …",
        else its sidecar NAME.txt, else the words for all), each its own render of the
        timeline its turn left.

        The turns come first (they cost nothing); then the batch's cost is said, and asked
        about when large (`may_spend`), and the renders start; a summary follows their end.
        The batch's session is never saved as the current one: afterwards the next
        instruction goes to the timeline the person was working on, shown again in Tracks
        (and said), as does a quit mid-batch."""
        from tui.client import BatchFile, BatchItem, own_instruction, split_instructions
        from tui.session.backend import check_uploads

        assert self.client is not None
        saved = self.backend.where()
        files: list[BatchFile] = []
        made: list[tuple[Path, dict]] = []
        costs: list[int | None] = []
        failed: list[str] = []
        started: list[tuple[Path, Worker[Path | None]]] = []
        common, typed = split_instructions(text, [p.name for p in paths])
        try:
            await self.backend.open_batch()
            for p in paths:
                try:
                    check_uploads([p])  # no such file / wrong type: before a byte
                    words = typed.get(p.name) or own_instruction(p, common)
                    await self.backend.add_to_batch(BatchItem(p, words), files)
                except Exception as exc:
                    failed.append(f"{p.name} ({_reason(exc)})")
                    self._report(exc)
            if files:
                names = ", ".join(f.item.name for f in files)
                self.post_message(StatusLine(f"Uploaded {names} into one session"))
            for f in files:
                p = Path(f.item.source)
                self.post_message(StatusLine(f"Batch {f.position}/{f.count}: {p.name}"))
                try:
                    words = f.message(self.backend.language)
                    self.post_message(Said(words))
                    # Its Export button is this export: acted on once, not twice.
                    await self._act(await self._turn(words, batch=True), export=False)
                    draft = await self.backend.draft()
                    costs.append(await self.cost_of(draft, self.export_quality))
                    made.append((p, draft))
                except Exception as exc:
                    failed.append(f"{p.name} ({_reason(exc)})")
                    self._report(exc)
            total = None if None in costs else sum(c or 0 for c in costs)
            clips = f"{len(made)} clip{'' if len(made) == 1 else 's'}"
            if made and await self.may_spend(total, clips, tell=True):
                for p, draft in made:
                    try:
                        worker = await self._start_export(
                            self.export_quality, p.stem, ask=False, draft=draft
                        )
                    except Exception as exc:
                        failed.append(f"{p.name} ({_reason(exc)})")
                        self._report(exc)
                        continue
                    if worker is not None:
                        started.append((p, worker))
        finally:
            # Back to the session the person was working in.
            self.backend.go(saved)
            await self._refresh(tracks=True, quiet=True)
            self.post_message(
                StatusLine("Back to your own timeline (in Tracks): the next instruction goes there")
            )
        if started or failed:
            self._batch_summary(started, failed, len(paths))

    @work(group="batch", exit_on_error=False)
    async def _batch_summary(
        self, started: list[tuple[Path, Worker[Path | None]]], failed: list[str], count: int
    ) -> None:
        """'Batch: 3 of 3 saved to exports/', once every render of the batch has ended, with
        the files that failed named."""
        failed = list(failed)
        done = 0
        for p, worker in started:
            try:
                path = await worker.wait()
            except Exception:  # cancelled by /reconnect, which resumes it on its own
                path = None
            if path is not None:
                done += 1
            else:
                failed.append(p.name)
        where = self.shown_path(self.out_dir).rstrip("/") + "/"
        text = f"Batch: {done} of {count} saved to {where}"
        self.post_message(
            StatusLine(
                text + ("; failed: " + ", ".join(failed) if failed else ""), error=bool(failed)
            )
        )


def _reason(exc: BaseException) -> str:
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__


# The local engine's 'Say "export" to render the video.' and 可以说“导出”生成视频。: not said of
# a batch's clip, which the batch renders by itself.
_EXPORT_HINT = re.compile(
    r"\s*(?:you\s+can\s+)?(?:say|type)\s+[\"“']?export[\"”']?[^.!?\n]*[.!?]?"
    r"|\s*可以说\s*[“\"]导出[”\"][^。！\n]*[。！]?",
    re.I,
)


def without_export_hint(text: str) -> str:
    return _EXPORT_HINT.sub("", text).strip() or text
