"""The one store interface the engine uses, and `open_store`, which picks its implementation.

SQLite (tui/engine/store.py) is the default: one file, nothing to install. PostgreSQL
(tui/engine/store_pg.py, psycopg 3 from the `scale` extra) lets several `serve` nodes and
render workers share one state. Both keep the same tables and say the same things; the tests in
tests/test_store.py run on both.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from tui.engine.accounts import TokenInfo
from tui.engine.store import Store

DATABASE_ENV = "I2V_FLOW_DATABASE"

# A row reads as row["column"] and dict(row): sqlite3.Row on SQLite, a dict on PostgreSQL.
Row = Any


class Tx(Protocol):
    """A transaction's connection: execute(sql, params) with `?` placeholders, SQLite's
    spelling (the PostgreSQL store translates the engine's few generic queries)."""

    def execute(self, sql: str, params: tuple | list = ..., /) -> Any: ...


class EngineStore(Protocol):
    """Tokens, credits, sessions with draft history, media, renders and the credit ledger."""

    # The SQLite file (guarded from file:// imports), None on PostgreSQL.
    path: Path | None
    # What a render worker process opens: the SQLite file's path or the PostgreSQL URL.
    locator: str
    # Where uploads (media/) and outputs (renders/) live: shared by every node on PostgreSQL.
    data_dir: Path

    def close(self) -> None: ...
    def tx(self) -> AbstractContextManager[Tx]: ...
    def one(self, sql: str, *args: Any) -> Row | None: ...
    def all(self, sql: str, *args: Any) -> list[Row]: ...

    def account_for(self, client_id: str, proof: str = "") -> str | None: ...
    def new_token(self, client_id: str, user_id: str | None = None) -> tuple[TokenInfo, int]: ...
    def token(self, token: str) -> TokenInfo | None: ...
    def credits(self, user_id: str) -> tuple[int, int]: ...
    def set_credits(self, user_id: str, available: int) -> None: ...

    def new_session(self, user_id: str, task_name: str, language: str) -> Row: ...
    def session(self, session_id: str | int, user_id: str) -> Row | None: ...
    def draft(self, session_id: int) -> dict: ...
    def push_draft(self, session_id: int, draft: dict, note: str) -> int: ...
    def step_draft(self, session_id: int, delta: int) -> tuple[dict, str] | None: ...

    def add_media(self, session_id: int, info: dict, path: Path, filename: str) -> None: ...
    def session_media(self, session_id: int) -> list[Row]: ...
    def media_paths(self, hashes: list[str]) -> dict[str, Path]: ...

    def create_render(
        self,
        render_id: str,
        user_id: str,
        session_id: int,
        draft: dict,
        quality: str,
        cost: int,
        max_running: int | None = None,
    ) -> str: ...
    def render(self, render_id: str) -> Row | None: ...
    def finish_render(
        self, render_id: str, status: str, output: str | None = None, error: str | None = None
    ) -> bool: ...
    def set_progress(self, render_id: str, progress: float, status: str = "processing") -> None: ...
    def requeue_unfinished(self) -> list[Row]: ...
    def requeue(self, render_id: str) -> None: ...
    def unfinished_renders(self) -> list[Row]: ...


def is_postgres(locator: str | None) -> bool:
    return bool(locator) and str(locator).startswith(("postgresql://", "postgres://"))


def database_from_env(given: str | None = None) -> str | None:
    """`--database` when given, else I2V_FLOW_DATABASE, else None (SQLite in the data folder)."""
    return given or os.environ.get(DATABASE_ENV) or None


def open_store(locator: str | Path, data_dir: Path | None = None) -> EngineStore:
    """A PostgreSQL URL opens the PostgreSQL store (its files in `data_dir`); anything else is
    the SQLite file at that path (its files beside it)."""
    if is_postgres(str(locator)):
        from tui.engine.store_pg import PgStore

        if data_dir is None:
            raise ValueError("a PostgreSQL store needs a storage folder")
        return PgStore(str(locator), data_dir)
    return Store(Path(locator))


def redact(url: str) -> str:
    """A database URL fit to print: no password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


__all__ = [
    "DATABASE_ENV",
    "EngineStore",
    "Row",
    "Tx",
    "database_from_env",
    "is_postgres",
    "open_store",
    "redact",
]
