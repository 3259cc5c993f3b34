"""The agent turn: POST /run_sse read as typed events while it streams, then always a
StateUpdate (the timeline after the turn, what changed, and a note when the turn said nothing).

A turn is never re-sent once its stream started (it would run twice): a drop or the deadline
ends it with a TurnError, and the timeline is read back instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx

from tui.client.connection import Connection
from tui.client.errors import ClientError, StreamBroken, Unreachable
from tui.client.sse import EventReader, LineSplitter
from tui.client.wire import json_body, one_line
from tui.core.gui_words import translate_gui
from tui.core.protocol import (
    APP_NAME,
    AgentEvent,
    FinalText,
    Heartbeat,
    TextChunk,
    TurnError,
    diff_drafts,
    parse_sse_data,
    read_envelope,
    summarize_draft,
)
from tui.core.session_state import Media, SessionState, new_media


@dataclass(frozen=True)
class StateUpdate:
    """Ends every turn: the timeline after it, and a note when the turn said nothing."""

    draft: dict
    summary: list[str]
    note: str = ""
    changes: list[str] = field(default_factory=list)  # what the turn changed, in plain words
    actions: list[str] = field(default_factory=list)  # GUI words turned into actions ("export")
    made: list[Media] = field(default_factory=list)  # new in the state's generated_media


class TurnCalls(Connection):
    async def turn(self, text: str) -> AsyncIterator[AgentEvent | StateUpdate]:
        """One agent turn: typed events as they stream, then always a StateUpdate."""
        await self.connect()
        try:
            was: SessionState | None = await self.session_state()
        except ClientError:
            was = None
        before = was.draft if was is not None else None
        saw_text = False
        final_text = ""
        broken: TurnError | None = None
        deadline = asyncio.get_running_loop().time() + self.turn_deadline
        events = self._stream_turn(text)
        trailing = _TrailingIssue()
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        got = await anext(events)
                except StopAsyncIteration:
                    break
                for ev in trailing.feed(got):
                    if isinstance(ev, TextChunk | FinalText):
                        saw_text = saw_text or bool(ev.text.strip())
                        if isinstance(ev, FinalText):
                            final_text = ev.text
                    yield ev
        except TimeoutError:
            minutes = self.turn_deadline / 60
            broken = TurnError(
                f"the turn took over {minutes:g} minutes; not re-sent (it would run twice), "
                "checking the timeline",
                "deadline",
            )
        except StreamBroken as exc:
            broken = TurnError(
                f"{exc}; not re-sent (it would run twice), checking the timeline", "broken"
            )
        finally:
            await events.aclose()
        if broken is not None:
            yield broken
        try:
            now = await self.session_state()
            if broken is not None and before is not None:
                now = await self._recheck(before, now)
        except ClientError as exc:
            yield TurnError(f"could not read the timeline: {exc}", "state")
            now = was or SessionState()
        draft = now.draft
        # What the cloud's tools made during the turn (a generated clip): the caller shows it.
        made = new_media(was.generated_media, now.generated_media) if was is not None else []
        summary = summarize_draft(now.timeline)  # the draft read once for both
        changes = diff_drafts(was.timeline, now.timeline) if was is not None else []
        actions: list[str] = []
        note = ""
        if broken is not None and before is not None:
            # Cut, not finished: the cloud goes on with a turn whose stream dropped; the
            # timeline was read again until it changed (never re-sent: it would run twice).
            waited = self._recheck_after()[-1]
            note = (
                "The turn was cut off. It changed: " + "; ".join(changes)
                if changes
                else f"The turn was cut off and the timeline had not changed {waited:g} s "
                "later: its outcome is unknown. It was not sent again, so nothing was "
                "charged twice."
            )
        elif not saw_text:
            if before is None:
                note = "The assistant finished without words. The timeline now has: " + (
                    "; ".join(summary) or "nothing"
                )
            elif changes:
                note = "The assistant finished without words. Changed: " + "; ".join(changes)
            else:
                note = "The assistant finished without words; the timeline did not change."
        elif final_text:
            gui = translate_gui(final_text)
            note, actions = gui.note, gui.actions
        yield StateUpdate(draft, summary, note, changes, actions, made)

    def _recheck_after(self) -> tuple[float, float]:
        """When a cut turn's timeline is read again: one and two poll intervals after the cut
        (the cloud's 30 s and 60 s; scaled down with the poll interval in tests)."""
        return (self.poll_interval, 2 * self.poll_interval)

    async def _recheck(self, before: dict, now: SessionState) -> SessionState:
        """After a cut: the state read again at each of `_recheck_after`'s times, until the
        draft differs from `before` (the turn landed) or the last read."""
        times = self._recheck_after()
        if now.draft != before:
            return now
        self._say(
            "The turn was cut; reading the timeline again "
            + " and ".join(f"{at:g} s" for at in times)
            + " after the cut…"
        )
        loop = asyncio.get_running_loop()
        started = loop.time()
        for at in times:
            await asyncio.sleep(max(0.0, started + at - loop.time()))
            now = await self.session_state()
            if now.draft != before:
                break
        return now

    async def _stream_turn(self, text: str) -> AsyncIterator[AgentEvent]:
        retried: set[int] = set()
        while True:
            body = {
                "app_name": APP_NAME,
                "user_id": "me",  # as the protocol page has it; the token says who
                "session_id": self.session.session_id,
                "new_message": {"role": "user", "parts": [{"text": text}]},
                "streaming": True,
            }
            headers = {**self._auth(), "Accept": "text/event-stream", "Cache-Control": "no-store"}
            started = False
            self._check_open()
            try:
                async with self.http.stream("POST", "/run_sse", json=body, headers=headers) as resp:
                    ctype = resp.headers.get("content-type", "")
                    if resp.status_code >= 400 or "text/event-stream" not in ctype:
                        await resp.aread()
                        env = read_envelope(resp.status_code, json_body(resp))
                        if env.ok:
                            raise ClientError(
                                f"the backend answered the turn with {ctype or 'no type'}, "
                                "not an event stream"
                            )
                        # Refused before it started: safe to retry per the error table.
                        if await self._recover(env.code, env.message, resp, retried):
                            continue
                        raise self._error(env.code, env.message, resp)
                    started = True
                    lines, decoder = LineSplitter(), EventReader()
                    async for chunk in resp.aiter_text():
                        for line in lines.feed(chunk):
                            for ev in _sse_line(decoder, line):
                                yield ev
                                if isinstance(ev, TurnError):
                                    return
                    # The server closed the stream: what is left is the last event.
                    for line in [*lines.flush(), ""]:
                        for ev in _sse_line(decoder, line):
                            yield ev
                    return
            except (httpx.TransportError, httpx.StreamError) as exc:
                if not started:
                    raise Unreachable(
                        f"cannot reach the backend at {self.base_url} ({one_line(exc)})",
                        hint="check the connection",
                    ) from None
                raise StreamBroken(
                    f"the connection dropped mid-turn ({type(exc).__name__})"
                ) from None


# The cloud sometimes follows a good answer with this line; its own guide says to ignore it then.
_ISSUE = "i encountered a temporary issue"


class _TrailingIssue:
    """Drops "I encountered a temporary issue…" when it comes after a whole answer: the chunks
    that may be its start are held back until they are it (dropped) or are not (let through)."""

    def __init__(self) -> None:
        self.answered = False  # a FinalText with words came before
        self.held: list[AgentEvent] = []

    def feed(self, ev: AgentEvent) -> list[AgentEvent]:
        if isinstance(ev, FinalText):
            self.held = []  # the final text repeats its chunks
            if self.answered and _is_issue(ev.text):
                return []
            self.answered = self.answered or bool(ev.text.strip())
            return [ev]
        if not isinstance(ev, TextChunk) or not self.answered:
            return [ev]
        held = "".join(e.text for e in self.held if isinstance(e, TextChunk)) + ev.text
        start = held.lstrip().lower()
        if _ISSUE.startswith(start) or start.startswith(_ISSUE):
            self.held.append(ev)  # maybe the line: wait and see
            return []
        out, self.held = [*self.held, ev], []
        return out


def _is_issue(text: str) -> bool:
    return text.strip().lower().startswith(_ISSUE)


def _sse_line(decoder: EventReader, line: str) -> list[AgentEvent]:
    """One line of the stream: `: ping` comments are heartbeats too."""
    if line.startswith(":"):
        return [Heartbeat()]
    data = decoder.line(line)
    return parse_sse_data(data) if data is not None else []
