"""A session's drafts as numbered versions, for undo and redo: the same SQL on SQLite and
PostgreSQL (both stores take `?` placeholders), written once for both."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

EMPTY_DRAFT: dict[str, Any] = {
    "d": 5000,
    "m": {"title": "project", "width": 1920, "height": 1080, "fps": 30},
    "t": [],
}
_INT64 = 2**63  # a session id past it is no session (SQLite would raise, PostgreSQL refuse)


class DraftHistory:
    """Mixed into each store, which gives `tx()` and `one()`."""

    # How the session's row is read when its version is about to change: PostgreSQL locks it
    # (another node may step the same session); SQLite's write transaction already holds the file.
    LOCK_ROW = ""

    if TYPE_CHECKING:

        def tx(self) -> Any: ...  # the store's transaction
        def one(self, sql: str, *args: Any) -> Any: ...  # the store's single-row read

    def session(self, session_id: str | int, user_id: str) -> Any:
        try:
            sid = int(session_id)
        except (TypeError, ValueError):
            return None
        if not -_INT64 <= sid < _INT64:
            return None
        return self.one("SELECT * FROM sessions WHERE session_id=? AND user_id=?", sid, user_id)

    def draft(self, session_id: int) -> dict:
        row = self.one(
            "SELECT d.draft FROM drafts d JOIN sessions s ON s.session_id=d.session_id"
            " AND d.version=s.version WHERE s.session_id=?",
            session_id,
        )
        return json.loads(row["draft"]) if row else json.loads(json.dumps(EMPTY_DRAFT))

    def _version(self, db: Any, session_id: int) -> int:
        sql = "SELECT version FROM sessions WHERE session_id=?" + self.LOCK_ROW
        return db.execute(sql, (session_id,)).fetchone()["version"]

    def push_draft(self, session_id: int, draft: dict, note: str) -> int:
        """A new version after the current one; versions past it (redo) are dropped."""
        with self.tx() as db:
            v = self._version(db, session_id)
            db.execute("DELETE FROM drafts WHERE session_id=? AND version>?", (session_id, v))
            db.execute(
                "INSERT INTO drafts VALUES (?,?,?,?)", (session_id, v + 1, json.dumps(draft), note)
            )
            db.execute("UPDATE sessions SET version=? WHERE session_id=?", (v + 1, session_id))
            return v + 1

    def step_draft(self, session_id: int, delta: int) -> tuple[dict, str] | None:
        """Undo (-1) or redo (+1); None when there is nothing to step to."""
        with self.tx() as db:
            v = self._version(db, session_id)
            target = v + delta
            row = db.execute(
                "SELECT draft, note FROM drafts WHERE session_id=? AND version=?",
                (session_id, target),
            ).fetchone()
            if row is None:
                return None
            note_row = db.execute(
                "SELECT note FROM drafts WHERE session_id=? AND version=?",
                (session_id, max(v, target)),
            ).fetchone()
            db.execute("UPDATE sessions SET version=? WHERE session_id=?", (target, session_id))
            return json.loads(row["draft"]), note_row["note"] if note_row else ""
