"""Storage that does not grow forever: old renders and unused uploads go, oldest first.

A finished render older than `keep_days` loses its MP4; an upload goes when no session that uses
it was touched (made, given media, its draft changed, rendered) in `keep_upload_days`; then,
while everything left is over `keep_bytes`, the oldest of either goes. Never touched: anything
a pending or processing render's draft names, the MP4 of a render not completed, and an upload
named by the current draft of a session touched within `keep_upload_days` (a live one).

Safe beside a running engine (`i2v-flow gc` opens the same SQLite file): each removal is a
transaction that re-checks its conditions, and a file is unlinked only after its row says so
(a pruned render keeps its row: output NULL, `error` the sentence its download answers).
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from tui.engine.stores import EngineStore, Tx

DAY = 86400.0
GB = 1000**3  # as `human` counts
PRUNED = "this render was pruned after {days} days; render it again"
ORPHAN_AGE = DAY  # a file that no row names, this old, is left from a crash: removed


@dataclass(frozen=True)
class Limits:
    keep_days: float = 14  # completed renders
    keep_upload_days: float = 30  # uploads of sessions not touched since
    keep_bytes: int = 5 * GB  # renders and uploads together

    @classmethod
    def from_settings(cls, settings: object) -> Limits:
        """From tui.core.config.Settings (keep_days, keep_upload_days, keep_gb)."""
        return cls(
            keep_days=float(getattr(settings, "keep_days", cls.keep_days)),
            keep_upload_days=float(getattr(settings, "keep_upload_days", cls.keep_upload_days)),
            keep_bytes=int(float(getattr(settings, "keep_gb", 5)) * GB),
        )


@dataclass
class Freed:
    renders: list[str] = field(default_factory=list)  # render ids
    uploads: list[str] = field(default_factory=list)  # media hashes
    bytes: int = 0
    left_bytes: int = 0  # renders and uploads kept, after pruning
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would free" if self.dry_run else "freed"
        return (
            f"{verb} {human(self.bytes)}: {_n(len(self.renders), 'render')}, "
            f"{_n(len(self.uploads), 'upload')} ({human(self.left_bytes)} kept)"
        )

    def as_json(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "freed_bytes": self.bytes,
            "kept_bytes": self.left_bytes,
            "renders": self.renders,
            "uploads": self.uploads,
        }


@dataclass
class _Item:
    kind: str  # "render" or "upload"
    key: str  # render id or media hash
    path: Path
    size: int
    at: float  # when it was last wanted: a render's completion, an upload's last session touch
    stamp: float | None  # what the row said when planned (re-checked when removing)


def prune(
    store: EngineStore, limits: Limits, *, now: float | None = None, dry_run: bool = False
) -> Freed:
    """Prune `store`'s renders and uploads to `limits`; `now` (a Unix time) for tests."""
    now = time.time() if now is None else now
    touches = _touches(store)
    renders, uploads = _renders(store), _uploads(store, touches)
    wanted = _wanted(store, touches, now - limits.keep_upload_days * DAY)
    uploads = [u for u in uploads if u.key not in wanted]
    old = [r.at < now - limits.keep_days * DAY for r in renders]
    old += [u.at < now - limits.keep_upload_days * DAY for u in uploads]
    items = renders + uploads
    doomed = [i for i, too_old in zip(items, old, strict=True) if too_old]
    left = sum(i.size for i in items) + _protected_bytes(store, wanted)
    left -= sum(i.size for i in doomed)
    kept = (i for i, too_old in zip(items, old, strict=True) if not too_old)
    for item in sorted(kept, key=lambda i: i.at):  # over the cap: the oldest go first
        if left <= limits.keep_bytes:
            break
        doomed.append(item)
        left -= item.size
    freed = Freed(dry_run=dry_run, left_bytes=left)
    for item in doomed:
        if dry_run or _remove(store, item, now):
            (freed.renders if item.kind == "render" else freed.uploads).append(item.key)
            freed.bytes += item.size
        else:
            freed.left_bytes += item.size
    if not dry_run:
        _sweep_orphans(store, now)
    return freed


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _renders(store: EngineStore) -> list[_Item]:
    out = []
    for row in store.all(
        "SELECT id, output, completed_at FROM renders"
        " WHERE status='completed' AND output IS NOT NULL"
    ):
        path = Path(row["output"])
        size = _size(path)
        at = row["completed_at"] or 0.0
        out.append(_Item("render", row["id"], path, size or 0, at, at))
    return out


def _touches(store: EngineStore) -> dict[int, float]:
    """Each session's last touch: made, given media, its draft changed (a turn, an undo), or
    rendered (a few scans, not one a row)."""
    rows = store.all(
        "SELECT s.session_id AS sid, s.created_at AS made, sm.added AS added,"
        " r.rendered AS rendered, t.at AS drafted FROM sessions s"
        " LEFT JOIN session_touched t ON t.session_id=s.session_id"
        " LEFT JOIN (SELECT session_id, MAX(added_at) AS added FROM session_media"
        "   GROUP BY session_id) sm ON sm.session_id=s.session_id"
        " LEFT JOIN (SELECT session_id, MAX(created_at) AS rendered FROM renders"
        "   GROUP BY session_id) r ON r.session_id=s.session_id"
    )
    return {
        r["sid"]: max(t or 0.0 for t in (r["made"], r["added"], r["rendered"], r["drafted"]))
        for r in rows
    }


def _uploads(store: EngineStore, touches: dict[int, float]) -> list[_Item]:
    """Every upload, `at` its last use: the latest touch of a session it was added to, else its
    file's time; `stamp` its latest addition (re-checked when removing)."""
    used: dict[str, float] = {}
    added: dict[str, float] = {}
    for r in store.all("SELECT session_id, hash, added_at FROM session_media"):
        h = r["hash"]
        used[h] = max(used.get(h, 0.0), touches.get(r["session_id"], 0.0))
        added[h] = max(added.get(h, 0.0), r["added_at"] or 0.0)
    out = []
    for row in store.all("SELECT hash, path FROM media"):
        h, path = row["hash"], Path(row["path"])
        at = used.get(h)
        if at is None:
            try:
                at = path.stat().st_mtime
            except OSError:
                at = 0.0
        out.append(_Item("upload", h, path, _size(path) or 0, at, added.get(h)))
    return out


HASH = re.compile(r"[0-9a-f]{64}")  # how a draft names an upload: its sha256, as `src`


def _wanted(store: EngineStore, touches: dict[int, float], live_since: float) -> set[str]:
    """The uploads that the drafts of pending and processing renders and the current drafts of
    live sessions name."""
    named: set[str] = set()
    for r in store.all("SELECT draft FROM renders WHERE status IN ('pending','processing')"):
        named.update(HASH.findall(r["draft"]))
    live = [sid for sid, at in touches.items() if at >= live_since]
    for start in range(0, len(live), 500):  # SQLite's bound-parameter limit
        part = live[start : start + 500]
        for r in store.all(
            "SELECT d.draft FROM sessions s JOIN drafts d ON d.session_id=s.session_id"
            f" AND d.version=s.version WHERE s.session_id IN ({','.join('?' * len(part))})",
            *part,
        ):
            named.update(HASH.findall(r["draft"]))
    return named


def _protected_bytes(store: EngineStore, wanted: set[str]) -> int:
    total = 0
    for h in wanted:
        row = store.one("SELECT path FROM media WHERE hash=?", h)
        total += (_size(Path(row["path"])) or 0) if row else 0
    return total


def _remove(store: EngineStore, item: _Item, now: float) -> bool:
    """One removal: its row first, in a transaction that re-checks what the plan saw (the
    engine may have used it since), then its file."""
    with store.tx() as db:
        if item.kind == "render":
            days = max(0, int((now - item.at) // DAY))
            cur = db.execute(
                "UPDATE renders SET output=NULL, error=? WHERE id=? AND status='completed'"
                " AND output=? AND completed_at IS ?",
                (PRUNED.format(days=days), item.key, str(item.path), item.stamp),
            )
            if cur.rowcount != 1:
                return False
        else:
            if _still_wanted(db, item):
                return False
            db.execute("DELETE FROM session_media WHERE hash=?", (item.key,))
            db.execute("DELETE FROM media WHERE hash=?", (item.key,))
    item.path.unlink(missing_ok=True)
    return True


def _still_wanted(db: Tx, item: _Item) -> bool:
    added = db.execute(
        "SELECT MAX(added_at) AS a FROM session_media WHERE hash=?", (item.key,)
    ).fetchone()["a"]
    if added != item.stamp:  # added to a session since the plan
        return True
    busy = db.execute(
        "SELECT 1 FROM renders WHERE status IN ('pending','processing') AND instr(draft, ?) > 0",
        (item.key,),
    ).fetchone()
    return busy is not None


def _sweep_orphans(store: EngineStore, now: float) -> None:
    """Files that no row names (a crash between a row and its file), in media/ and renders/:
    those older than ORPHAN_AGE go (a newer one may be a row's, about to be written)."""
    data = store.data_dir
    media = {os.path.basename(r["path"]) for r in store.all("SELECT path FROM media")}
    renders = {
        os.path.basename(r["output"])
        for r in store.all("SELECT output FROM renders WHERE output IS NOT NULL")
    }
    for folder, known in ((data / "media", media), (data / "renders", renders)):
        for p in folder.glob("*.*"):
            if p.name in known or p.name.startswith("."):  # .up-* and .*.part: in progress
                continue
            try:
                if p.is_file() and p.stat().st_mtime < now - ORPHAN_AGE:
                    p.unlink()
            except OSError:
                continue


def human(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{int(n)} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def _n(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"
