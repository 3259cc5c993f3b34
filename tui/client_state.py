"""The client's saved state: client id, tokens and sessions per backend, render jobs.

Written atomically (temp file + rename) so that a crash never leaves a half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any


class ClientState:
    def __init__(self, path: Path, backend_key: str):
        self.path = Path(path)
        self.key = backend_key
        self._lock = threading.Lock()
        self.data: dict[str, Any] = self._load()
        self.data.setdefault("client_id", str(uuid.uuid4()))
        self.data.setdefault("backends", {})
        self.data.setdefault("renders", {})

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def save(self) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".client-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(self.data, f, indent=1)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

    @property
    def client_id(self) -> str:
        return self.data["client_id"]

    def new_client_id(self) -> str:
        self.data["client_id"] = str(uuid.uuid4())
        self.save()
        return self.data["client_id"]

    @property
    def backend(self) -> dict[str, Any]:
        return self.data["backends"].setdefault(self.key, {})

    def update(self, **values: Any) -> None:
        self.backend.update(values)
        self.save()

    def forget(self, *keys: str) -> None:
        for k in keys:
            self.backend.pop(k, None)
        self.save()

    # ---- render jobs -----------------------------------------------------------------------

    def add_render(self, render_id: str, **info: Any) -> None:
        self.data["renders"][render_id] = {"backend": self.key, **info}
        self.save()

    def update_render(self, render_id: str, **info: Any) -> None:
        if render_id in self.data["renders"]:
            self.data["renders"][render_id].update(info)
            self.save()

    def pending_renders(self) -> dict[str, dict]:
        return {
            rid: r
            for rid, r in self.data["renders"].items()
            if r.get("backend") == self.key
            and r.get("state") not in ("downloaded", "failed", "cancelled")
        }
