"""Accounts, tokens and balances: the same SQL on SQLite and PostgreSQL (both stores take `?`
placeholders), written once for both."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

TOKEN_DAYS = 7
START_CREDITS = 100


@dataclass(frozen=True)
class TokenInfo:
    token: str
    user_id: str
    expires_at: float


class Accounts:
    """Mixed into each store, which gives `tx()` and `one()`."""

    if TYPE_CHECKING:

        def tx(self) -> Any: ...  # the store's transaction
        def one(self, sql: str, *args: Any) -> Any: ...  # the store's single-row read

    def account_for(self, client_id: str, proof: str = "") -> str | None:
        """The account a token request for `client_id` may open: the one that `proof` (a token
        it was given, expired or not) belongs to, when that account was made for `client_id`.
        None: no proof, so the request gets an account of its own (routes/tokens.py)."""
        if not proof or len(proof) >= 200:
            return None
        row = self.one(
            "SELECT u.user_id FROM tokens t JOIN users u ON u.user_id=t.user_id"
            " WHERE t.token=? AND u.client_id=?",
            proof,
            client_id,
        )
        return row["user_id"] if row else None

    def new_token(self, client_id: str, user_id: str | None = None) -> tuple[TokenInfo, int]:
        """A new token of `user_id`'s, or of a new account (START_CREDITS) made for
        `client_id` when None."""
        token = "nmv_" + secrets.token_urlsafe(24)
        expires = time.time() + TOKEN_DAYS * 86400
        with self.tx() as db:
            if user_id is None:
                user_id = "u_" + uuid.uuid4().hex[:12]
                db.execute(
                    "INSERT INTO users VALUES (?,?,?,0)", (user_id, client_id, START_CREDITS)
                )
            db.execute("INSERT INTO tokens VALUES (?,?,?)", (token, user_id, expires))
            credits = db.execute(
                "SELECT available FROM users WHERE user_id=?", (user_id,)
            ).fetchone()["available"]
        return TokenInfo(token, user_id, expires), credits

    def token(self, token: str) -> TokenInfo | None:
        row = self.one("SELECT * FROM tokens WHERE token=?", token)
        return TokenInfo(row["token"], row["user_id"], row["expires_at"]) if row else None

    def credits(self, user_id: str) -> tuple[int, int]:
        row = self.one("SELECT available, frozen FROM users WHERE user_id=?", user_id)
        return (row["available"], row["frozen"]) if row else (0, 0)

    def set_credits(self, user_id: str, available: int) -> None:
        with self.tx() as db:
            db.execute("UPDATE users SET available=? WHERE user_id=?", (available, user_id))
