"""The client's saved state: client id, tokens and sessions per backend, render jobs.

Written atomically (temp file + rename) so that a crash never leaves a half-written file. The
app, `i2v-flow watch` and `i2v-flow render` may share the file at once: each change re-reads it
under a lock file and applies just that change, so one process never undoes another's.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the in-process lock only
    fcntl = None  # type: ignore[assignment]


FINISHED = ("downloaded", "failed", "cancelled", "lost")
# Who started a render: "app" (the TUI), "watch:<folder>" (a watcher), "cli" (a one-off run).
# A process resumes only its own; renders saved before owners were recorded belong to anyone.
KEEP_FINISHED = 50


class ClientState:
    def __init__(self, path: Path, backend_key: str):
        self.path = Path(path)
        self.key = backend_key
        self._lock = threading.Lock()
        self.data: dict[str, Any] = self._fill(self._load())

    @staticmethod
    def _fill(data: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(data.get("client_id"), str):
            data["client_id"] = str(uuid.uuid4())
        for key in ("backends", "renders"):
            if not isinstance(data.get(key), dict):
                data[key] = {}
        return data

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if fcntl is None:
                yield
                return
            with open(self.path.with_name(f".{self.path.name}.lock"), "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, data: dict[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".client-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1, ensure_ascii=False)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _change(self, change: Callable[[dict[str, Any]], Any]) -> None:
        """Apply one change to what is on disk now (another process may have written)."""
        with self._locked():
            on_disk = self._load()
            data = self._fill(on_disk) if on_disk else self.data
            change(data)
            self._write(data)
            self.data = data

    def save(self) -> None:
        """Merge this object's backend values and renders into the file, key by key."""
        backend = dict(self.backend)
        renders = {rid: dict(r) for rid, r in self.data["renders"].items()}

        def change(d: dict[str, Any]) -> None:
            d["backends"].setdefault(self.key, {}).update(backend)
            for rid, r in renders.items():
                d["renders"].setdefault(rid, {}).update(r)

        self._change(change)

    @property
    def client_id(self) -> str:
        return self.data["client_id"]

    def new_client_id(self) -> str:
        new = str(uuid.uuid4())
        self._change(lambda d: d.__setitem__("client_id", new))
        return new

    @property
    def backend(self) -> dict[str, Any]:
        return self.data["backends"].setdefault(self.key, {})

    def update(self, **values: Any) -> None:
        self._change(lambda d: d["backends"].setdefault(self.key, {}).update(values))

    def forget(self, *keys: str) -> None:
        def change(d: dict[str, Any]) -> None:
            for k in keys:
                d["backends"].setdefault(self.key, {}).pop(k, None)

        self._change(change)

    # ---- render jobs -----------------------------------------------------------------------

    def add_render(self, render_id: str, **info: Any) -> None:
        def change(d: dict[str, Any]) -> None:
            renders = d["renders"]
            renders[render_id] = {"backend": self.key, **info}
            # Keep the file small: forget the oldest finished jobs beyond KEEP_FINISHED.
            finished = [rid for rid, r in renders.items() if r.get("state") in FINISHED]
            for rid in finished[: max(0, len(finished) - KEEP_FINISHED)]:
                del renders[rid]

        self._change(change)

    def update_render(self, render_id: str, **info: Any) -> None:
        def change(d: dict[str, Any]) -> None:
            if render_id in d["renders"]:
                d["renders"][render_id].update(info)

        self._change(change)

    def pending_renders(self, owner: str | None = None) -> dict[str, dict]:
        """Renders on this backend not yet seen through; only `owner`'s when given."""
        self.data = self._fill(self._load() or self.data)  # another process may have added
        return {
            rid: r
            for rid, r in self.data["renders"].items()
            if r.get("backend") == self.key
            and r.get("state") not in FINISHED
            and (owner is None or r.get("owner", owner) == owner)
        }
