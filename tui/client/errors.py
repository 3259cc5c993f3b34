"""Failures with words for people, and the protocol's error table turned into them.

The retries the table calls for (new token, new session, one wait) are `Connection._recover`'s;
what is left when they are spent, or when none applies, is made here.
"""

from __future__ import annotations

import re

import httpx

from tui.core.clean_text import clean
from tui.core.protocol import (
    ACCEPTED_TYPES,
    FILE_TOO_LARGE,
    OUT_OF_CREDITS,
    PLAN_BLOCKED,
    RATE_LIMITED,
    SESSION_NOT_FOUND,
    TOKEN_EXPIRED,
    UNSUPPORTED_TYPE,
)

REGISTER_URL = "https://nemovideo.ai/"


class ClientError(Exception):
    """A failure with words for people: `message` says what happened, `hint` what to do.

    `transient` is True when the backend could not be reached at all (refused, reset, timed
    out): the same request may well work later, so callers retry instead of giving up.
    """

    transient = False

    # Words and hints are cleaned of terminal controls: they often carry the backend's text.
    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        hint: str = "",
        transient: bool | None = None,
    ):
        message, hint = clean(message), clean(hint)
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint
        if transient is not None:
            self.transient = transient

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class OutOfCredits(ClientError):
    pass


class Unreachable(ClientError):
    """The backend did not answer at all (connection refused, reset, timed out)."""

    transient = True


class StreamBroken(Exception):
    """The turn's stream dropped after it started: never re-sent (the turn would run twice)."""


def error_for(
    code: int | None,
    message: str,
    resp: httpx.Response | None,
    *,
    anonymous: bool,
    cloud: bool,
    client_id: str,
) -> ClientError:
    """The error for an envelope `code` the client could not (or may no longer) recover from;
    the hint depends on the backend (cloud or local) and on whether the token is anonymous."""
    msg = message or (f"HTTP {resp.status_code}" if resp is not None else "request failed")
    if code == OUT_OF_CREDITS:
        # "needs 120, you have 55": credits are left, just not enough for this render.
        short = re.search(r"needs (\d+), you have (\d+)", msg)
        some_left = short is not None and 0 < int(short[2]) < int(short[1])
        if some_left:
            msg = "not enough credits: " + msg.split(":", 1)[-1].strip()
        elif not msg.lower().startswith("out of credits"):
            msg = f"out of credits: {msg}"
        if anonymous and cloud:
            hint = f"register to get more: {REGISTER_URL}?bind={client_id}"
        elif cloud:
            hint = "top up your credits at nemovideo.ai"
        elif some_left:
            hint = (
                "a shorter or smaller clip costs less: 1 credit a second, 2 at 4K; a draft is free"
            )
        else:
            hint = "the local engine's credits are used up for this token; /export draft is free"
        return OutOfCredits(msg, code=code, hint=hint)
    if code == UNSUPPORTED_TYPE:
        # The engine's words list the accepted types already: not a second time in the hint.
        listed = "accepted:" in msg.lower()
        hint = "" if listed else "accepted: " + ", ".join(ACCEPTED_TYPES)
        return ClientError(msg, code=code, hint=hint)
    if code == FILE_TOO_LARGE:
        return ClientError(msg, code=code, hint="compress or trim it below 200 MB")
    if code == PLAN_BLOCKED:
        return ClientError(
            f"export refused by the backend's plan: {msg}",
            code=code,
            hint="this is a subscription tier matter, not credits: upgrade the plan",
        )
    if code == TOKEN_EXPIRED:
        return ClientError(
            "the token was refused twice", code=code, hint="check NEMO_TOKEN or the backend"
        )
    if code == SESSION_NOT_FOUND:
        # Said of a session-scoped call after its retry, or of a render gone (a bare 404).
        return ClientError(f"the session was lost ({msg})", code=code, hint="start a new one")
    if code == RATE_LIMITED:
        return ClientError(
            "the backend is rate limiting us", code=code, hint="wait a minute and try again"
        )
    return ClientError(msg, code=code)
