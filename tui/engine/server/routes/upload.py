"""POST /api/upload-video/nemo_agent/me/{sid}: files into a session.

Multipart bodies are parsed as they arrive (python-multipart's streaming parser) and written
straight to disk, refused at the first bytes that are not media or past the size limit.

URL imports (`{"urls": [...], "source_type": "url"}`): the engine works offline, so it fetches
nothing from the network. `file://` URLs are off unless the engine's owner named folders for them
(`i2v-flow serve --allow-files DIR`), and then only while it listens on loopback: any local user
can get a token, so an import must never read what its owner did not offer (see `_open_local`).
Anything else gets a 400 that says to upload the file itself.
"""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from tui.core.protocol import FILE_TOO_LARGE, MAX_UPLOAD_BYTES
from tui.engine.accounts import TokenInfo
from tui.engine.media import Stored, TooLarge, Unsupported, UploadSink, sniff, store_file
from tui.engine.server.envelope import (
    ApiFailure,
    bad,
    ok,
    read_json,
    too_large,
    unsupported,
)
from tui.engine.server.routes.sessions import owned_session

if TYPE_CHECKING:
    from tui.engine.server.engine import Engine

MAX_FILES = 20  # files in one upload request
MAX_URL = 4096  # characters in one URL
MAX_BOUNDARY = 70  # characters in a multipart boundary (RFC 2046)
# One answer for a file:// URL that is missing, outside the allowed folders, inside the engine's
# data folder, unreadable or not a regular file: which of these it is, nobody learns.
NOT_IMPORTABLE = (
    "{}: cannot import it: file:// URLs take only readable regular files under the folders the"
    " engine was started with (--allow-files); upload the file itself instead"
)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


async def upload(engine: Engine, request: Request, user: TokenInfo) -> Response:
    row = owned_session(engine, request.path_params["sid"], user)
    engine.jobs.warm()  # a render is likely to follow: have a worker ready by then
    ctype = request.headers.get("content-type", "")
    mtype, params = parse_options_header(ctype)
    if mtype == b"application/json":
        stored = await _import_urls(engine, request)
    elif mtype == b"multipart/form-data" and params.get(b"boundary"):
        if len(params[b"boundary"]) > MAX_BOUNDARY:
            raise bad(f"the multipart boundary is over {MAX_BOUNDARY} characters")
        stored = await _receive_files(engine, request, params[b"boundary"])
    else:
        raise bad(
            "send the files as multipart/form-data (field 'files'), or JSON"
            ' {"urls": [...], "source_type": "url"}'
        )
    files = []
    for name, st in stored:
        info = st.info
        engine.store.add_media(row["session_id"], info, st.path, name)
        if info["file_type"] == "image":  # decoded ahead for its draft previews
            engine.jobs.prepare(st.path, (info.get("width") or 0) * (info.get("height") or 0))
        files.append(
            {
                "filename": name,
                "file_type": info["file_type"],
                "cdn_url": f"local://media/{info['hash']}",
                "width": info.get("width"),
                "height": info.get("height"),
                "duration": info.get("duration"),
                "fps": info.get("fps"),
                "hash": info["hash"],
            }
        )
    return ok({"files": files, "session_state_applied": True})


async def _receive_files(
    engine: Engine, request: Request, boundary: bytes
) -> list[tuple[str, Stored]]:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_FILES * (MAX_UPLOAD_BYTES + (1 << 20)):
        raise ApiFailure(413, FILE_TOO_LARGE, "file too large: the limit is 200 MB a file")
    parts = _Parts(engine.media_dir)
    parser = MultipartParser(boundary, parts.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)  # parts raise as soon as a file is too large or not media
        parser.finalize()
        if not parts.ended:
            raise bad("the multipart body ended early (no closing boundary)")
        if not parts.done:
            raise bad("no 'files' part in the upload")
        out = []
        for name, sink in parts.done:
            try:
                out.append((name, await asyncio.to_thread(sink.finish)))
            except Unsupported as exc:
                raise unsupported(name, exc) from None
            except TooLarge as exc:
                raise too_large(name, exc) from None
        return out
    except TooLarge as exc:
        raise too_large(parts.name, exc) from None
    except Unsupported as exc:
        raise unsupported(parts.name, exc) from None
    except ApiFailure:
        raise
    except Exception as exc:
        if isinstance(exc, ClientDisconnect):
            raise
        if "multipart" in type(exc).__module__:
            raise bad(f"malformed multipart body: {exc}"[:300]) from None
        raise
    finally:
        parts.abort()


async def _import_urls(engine: Engine, request: Request) -> list[tuple[str, Stored]]:
    body = await read_json(request)
    urls = body.get("urls")
    source = body.get("source_type", "url")
    if source != "url":
        raise bad("source_type must be 'url'")
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        raise bad("urls must be a non-empty list of URL strings")
    if len(urls) > MAX_FILES:
        raise bad(f"at most {MAX_FILES} URLs in one request")
    if any(len(u) > MAX_URL for u in urls):
        raise bad(f"a URL is over {MAX_URL} characters")
    out = []
    for url in urls:
        try:
            parts = urlsplit(url)
        except ValueError:
            raise bad("not a URL: " + repr(url[:100])) from None
        if parts.scheme in ("http", "https"):
            raise bad(
                "the local engine works offline and fetches nothing from the network: upload"
                " the file itself"
            )
        if parts.scheme != "file":
            raise bad(f"unsupported URL scheme {parts.scheme[:20]!r}: upload the file itself")
        if not engine.allow_files:
            raise bad(
                "file:// imports are off on this engine: upload the file itself (its owner can"
                " allow folders with i2v-flow serve --allow-files DIR)"
            )
        if not engine.loopback:
            raise bad("file:// URLs are imported only when the engine listens on loopback")
        if parts.netloc not in ("", "localhost"):
            raise bad("a file:// URL must name a file on this machine (file:///path)")
        name = _safe_name(unquote(parts.path, errors="replace"))
        try:
            raw = unquote_to_bytes(parts.path)  # UnicodeError: a lone surrogate (JSON's \ud800)
            fin = await asyncio.to_thread(_open_local, engine, raw)
        except (OSError, ValueError, UnicodeError):
            raise bad(NOT_IMPORTABLE.format(name)) from None
        try:
            out.append((name, await asyncio.to_thread(store_file, fin, engine.media_dir)))
        except TooLarge as exc:
            raise too_large(name, exc) from None
        except Unsupported as exc:
            raise unsupported(name, exc) from None
        except OSError:
            raise bad(NOT_IMPORTABLE.format(name)) from None
        finally:
            fin.close()
    return out


def _open_local(engine: Engine, raw: bytes) -> BinaryIO:
    """The regular file at path `raw`, opened read-only, if it lies under an allowed folder and
    outside the engine's data folder; OSError otherwise (the caller says the same thing for
    every refusal).

    Containment is decided on the real path (symlinks resolved); the file is then opened by
    walking from the allowed folder one name at a time without following symlinks, so a link
    swapped in meanwhile cannot lead elsewhere. The engine's database is never opened, not even
    through a hard link: closing any descriptor of it would drop SQLite's locks.
    """
    if not raw.startswith(b"/") or b"\0" in raw:
        raise OSError("not an absolute path")
    real = os.path.realpath(raw)
    root = next((r for r in engine.allow_files if _under(real, os.fsencode(r))), None)
    if root is None or _under(real, os.path.realpath(os.fsencode(engine.data_dir))):
        raise OSError("not allowed")
    rel = os.path.relpath(real, os.fsencode(root)).split(b"/")
    if rel == [b"."]:
        raise OSError("a folder")
    guarded = _database_files(engine.store.path) if engine.store.path else set()
    if os.open not in os.supports_dir_fd:  # no openat: the checks above, then a plain open
        return _open_file(real, None, guarded)
    fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC)
    try:
        for part in rel[:-1]:
            flags = os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW | _CLOEXEC
            nxt = os.open(part, flags, dir_fd=fd)
            os.close(fd)
            fd = nxt
        return _open_file(rel[-1], fd, guarded)
    finally:
        os.close(fd)


def _open_file(path: bytes, dir_fd: int | None, guarded: set[tuple[int, int]]) -> BinaryIO:
    st = os.stat(path, dir_fd=dir_fd, follow_symlinks=False)
    if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) in guarded:
        raise OSError("not a regular file, or the engine's own")
    # O_NONBLOCK: a FIFO swapped in after the stat cannot hang the open.
    flags = os.O_RDONLY | _NOFOLLOW | _CLOEXEC | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags, dir_fd=dir_fd)
    try:
        got = os.fstat(fd)
        if (got.st_dev, got.st_ino) != (st.st_dev, st.st_ino) or not stat.S_ISREG(got.st_mode):
            raise OSError("the file changed while it was opened")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _database_files(db: Path) -> set[tuple[int, int]]:
    """(device, inode) of the engine's SQLite files as they are now."""
    out = set()
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            st = os.stat(f"{db}{suffix}")
        except OSError:
            continue
        out.add((st.st_dev, st.st_ino))
    return out


def _under(path: bytes, folder: bytes) -> bool:
    return path == folder or path.startswith(folder.rstrip(b"/") + b"/")


class _Parts:
    """python-multipart callbacks: each `files` part goes to an UploadSink as it arrives; other
    fields are skipped. Raises TooLarge or Unsupported from inside `parser.write`, so reading
    stops at once."""

    def __init__(self, media_dir: Path):
        self.media_dir = media_dir
        self.done: list[tuple[str, UploadSink]] = []
        self.sink: UploadSink | None = None
        self.name = "upload"
        self.sniffed = False
        self.ended = False
        self.headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self.headers, self._field, self._value = {}, b"", b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self._field.strip().lower()] = self._value.strip()
        self._field, self._value = b"", b""

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self.headers.get(b"content-disposition", b""))
        if params.get(b"name") != b"files":
            self.sink = None
            return
        if len(self.done) >= MAX_FILES:
            raise bad(f"at most {MAX_FILES} files in one upload")
        raw = params.get(b"filename", b"upload")
        self.name = _safe_name(raw.decode("utf-8", "replace"))
        self.sink = UploadSink(self.media_dir)
        self.sniffed = False

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.sink is None:
            return
        self.sink.write(memoryview(data)[start:end])
        if not self.sniffed and len(self.sink.head) >= 64:
            self._sniff()

    def _sniff(self) -> None:
        self.sniffed = True
        if sniff(self.sink.head) is None:  # type: ignore[union-attr]
            raise Unsupported()

    def on_part_end(self) -> None:
        if self.sink is None:
            return
        if not self.sniffed:
            self._sniff()
        self.done.append((self.name, self.sink))
        self.sink = None

    def on_end(self) -> None:
        self.ended = True

    def abort(self) -> None:
        """Throw away what was received but not kept (after `finish`, a sink's file is gone)."""
        if self.sink is not None:
            self.sink.abort()
        for _, sink in self.done:
            sink.abort()


def _safe_name(name: str) -> str:
    """A file name for display only (never a path): its last component, printable, short."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:200] or "upload"
