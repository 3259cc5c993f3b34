"""One change a turn makes: a tool call as the stream shows it, and what it did in both
languages (the reply and the undo history's note are made of these)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Call:
    name: str
    args: dict
    en: str  # what changed, in English
    zh: str  # and in Chinese
