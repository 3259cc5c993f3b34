"""App-level messages: results coming back from the client to the panes."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class StatusLine(Message):
    text: str
    error: bool = False


@dataclass
class TranscriptChunk(Message):
    text: str
    final: bool = False


@dataclass
class TrackReady(Message):
    draft: dict
    summary: list[str]


@dataclass
class CreditsReady(Message):
    available: int
    frozen: int
    total: int
