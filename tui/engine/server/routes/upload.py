"""POST /api/upload-video/nemo_agent/me/{sid}: files into a session.

Multipart bodies are parsed as they arrive (python-multipart's streaming parser) and written
straight to disk, refused at the first bytes that are not media or past the size limit.

URL imports (`{"urls": [...], "source_type": "url"}`): the engine works offline, so it fetches
nothing from the network; it accepts `file://` URLs of files on this machine, and only while it
listens on loopback (where the client is on this machine too). Anything else gets a 400 that says
to upload the file itself.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from tui.engine.media import Stored, TooLarge, Unsupported, UploadSink, sniff, store_file
from tui.engine.server.envelope import ApiFailure, bad, ok, read_json, unsupported
from tui.engine.server.routes.sessions import owned_session
from tui.engine.store import TokenInfo
from tui.protocol import FILE_TOO_LARGE, MAX_UPLOAD_BYTES

if TYPE_CHECKING:
    from tui.engine.server.engine import Engine

MAX_FILES = 20  # files in one upload request


async def upload(engine: Engine, request: Request, user: TokenInfo) -> Response:
    row = owned_session(engine, request.path_params["sid"], user)
    engine.jobs.warm()  # a render is likely to follow: have a worker ready by then
    ctype = request.headers.get("content-type", "")
    mtype, params = parse_options_header(ctype)
    if mtype == b"application/json":
        stored = await _import_urls(engine, request)
    elif mtype == b"multipart/form-data" and params.get(b"boundary"):
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
        return out
    except TooLarge:
        raise ApiFailure(
            413, FILE_TOO_LARGE, f"{parts.name}: file too large, the limit is 200 MB"
        ) from None
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
    out = []
    for url in urls:
        try:
            parts = urlsplit(url)
        except ValueError:
            raise bad(f"not a URL: {url[:100]!r}") from None
        if parts.scheme in ("http", "https"):
            raise bad(
                "the local engine works offline and fetches nothing from the network: upload"
                " the file itself, or give a file:// URL of a file on this machine"
            )
        if parts.scheme != "file":
            raise bad(f"unsupported URL {url[:100]!r}: only file:// URLs are imported")
        if not engine.loopback:
            raise bad("file:// URLs are imported only when the engine listens on loopback")
        if parts.netloc not in ("", "localhost"):
            raise bad(f"{url[:100]!r}: a file:// URL must name a file on this machine")
        path = Path(unquote(parts.path))
        if not path.is_absolute() or not path.is_file():
            raise bad(f"{url[:100]!r}: no such file on this machine")
        name = _safe_name(path.name)
        try:
            out.append((name, await asyncio.to_thread(store_file, path, engine.media_dir)))
        except TooLarge:
            raise ApiFailure(
                413, FILE_TOO_LARGE, f"{name}: file too large, the limit is 200 MB"
            ) from None
        except Unsupported as exc:
            raise unsupported(name, exc) from None
        except OSError as exc:
            raise bad(f"{name}: cannot read it ({exc.strerror})") from None
    return out


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
