"""The one async client: speaks ../shared/protocol.md to the cloud or the embedded engine.

`Client` is assembled from one part per job:

- `connection.py`: the httpx client, token and session, the error-table retry loop, plain reads
- `errors.py`: ClientError and its kinds, and the error table's words and hints
- `turn.py`: the streamed agent turn, ending in a StateUpdate
- `transfer.py`: uploads, and the MP4 download with Range resume
- `renders.py`: render start, poll (a failure for a passing cause rendered once more), cancel,
  export, and resuming an earlier run's renders
- `batch.py`: a batch in one session, each file its own turn and render
- `wire.py`: lenient readers of answers (JSON, numbers, Retry-After)
"""

from __future__ import annotations

from tui.client.batch import (
    BatchCalls,
    BatchFile,
    BatchItem,
    own_instruction,
    split_instructions,
)
from tui.client.connection import TURN_DEADLINE, Session
from tui.client.errors import REGISTER_URL, ClientError, OutOfCredits, Unreachable
from tui.client.renders import POLL_BLIPS, ExportResult, Resumed
from tui.client.transfer import Progress, unique_path
from tui.client.turn import StateUpdate, TurnCalls
from tui.core.protocol import FinalText, Heartbeat, TextChunk, ToolCall, TurnError
from tui.core.session_state import Media, SessionState


class Client(TurnCalls, BatchCalls):
    """One `httpx.AsyncClient` speaking the protocol; use it from one event loop only.

    `owner` tags the renders this client starts ("app", "watch:<folder>", "cli"), so that each
    process resumes only its own. With `persist_session=False` the sessions it opens are its
    own business: they never become the backend's saved "current session" (the one the app
    resumes at start), e.g. a watcher's one session per image.
    """

    def sibling(self) -> Client:
        """A client on the same backend, account and connection pool, with a session of its
        own (a watch job's): one `httpx.AsyncClient` under the app and all its jobs. Closing it
        leaves the pool open; closing this one closes it."""
        twin = Client(
            self.url,
            self.state,
            token=self.fixed_token,
            cloud=self.cloud,
            rate_limit_wait=self.rate_limit_wait,
            poll_interval=self.poll_interval,
            read_timeout=self.read_timeout,
            turn_deadline=self.turn_deadline,
            owner=self.owner,
            language=self.language,
            http=self.http,
        )
        twin._token_lock = self._token_lock
        return twin


__all__ = [
    "POLL_BLIPS",
    "REGISTER_URL",
    "TURN_DEADLINE",
    "BatchFile",
    "BatchItem",
    "Client",
    "ClientError",
    "ExportResult",
    "FinalText",
    "Heartbeat",
    "Media",
    "OutOfCredits",
    "Progress",
    "Resumed",
    "Session",
    "SessionState",
    "StateUpdate",
    "TextChunk",
    "ToolCall",
    "TurnError",
    "Unreachable",
    "own_instruction",
    "split_instructions",
    "unique_path",
]
