"""Moving files: uploads (checked locally first, re-read from the start on a retry) and the
MP4 download (to a `.part` file beside the target, resumed with Range after a cut, then renamed).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from tui.client.connection import Connection
from tui.client.errors import ClientError
from tui.client.wire import json_body, to_int
from tui.core.clean_text import clean_obj
from tui.core.paths import part_path
from tui.core.protocol import (
    ACCEPTED_TYPES,
    FILE_TOO_LARGE,
    MAX_UPLOAD_BYTES,
    SESSION_NOT_FOUND,
    UNSUPPORTED_TYPE,
    RenderStatus,
    file_kind,
    read_envelope,
)
from tui.core.session_state import Media


@dataclass
class Progress:
    done: int
    total: int | None


class TransferCalls(Connection):
    @staticmethod
    def check_upload(path: Path) -> None:
        """Refuse locally what the backend would refuse (4001, 4002), before sending a byte."""
        path = Path(path)
        if not path.is_file():
            raise ClientError(f"{path}: no such file")
        if file_kind(path.name) is None:
            raise ClientError(
                f"{path.name}: unsupported file type",
                code=UNSUPPORTED_TYPE,
                hint="accepted: " + ", ".join(ACCEPTED_TYPES),
            )
        size = path.stat().st_size
        if size > MAX_UPLOAD_BYTES:
            raise ClientError(
                f"{path.name}: {size / 1e6:.0f} MB is over the 200 MB limit",
                code=FILE_TOO_LARGE,
                hint="compress or trim it first",
            )

    async def upload(self, paths: list[Path]) -> list[dict]:
        paths = [Path(p) for p in paths]
        for p in paths:
            self.check_upload(p)
        opened: list[Any] = []

        def parts() -> list:
            # Fresh handles for each attempt: a retried request re-reads from the start.
            for f in opened:
                f.close()
            opened.clear()
            opened.extend(open(p, "rb") for p in paths)  # noqa: SIM115
            return [("files", (p.name, f)) for p, f in zip(paths, opened, strict=True)]

        try:
            data = await self._call(
                "POST",
                lambda: f"/api/upload-video/nemo_agent/me/{self.session.session_id}",
                make_files=parts,
            )
        finally:
            for f in opened:
                f.close()
        return _files(data)

    async def upload_urls(self, urls: list[str]) -> list[dict]:
        """Media the backend fetches itself (the cloud; the local engine refuses it)."""
        data = await self._call(
            "POST",
            lambda: f"/api/upload-video/nemo_agent/me/{self.session.session_id}",
            json={"urls": list(urls), "source_type": "url"},
        )
        return _files(data)

    async def download(
        self,
        render_id: str,
        dest: Path,
        status: RenderStatus | None = None,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> Path:
        """To a temporary name beside `dest`, resuming a cut transfer with Range, then rename."""
        if status is not None and status.id:
            render_id = status.id  # a render retried under a new id (renders.py) is that one
        url = f"{self.base_url}/api/render/proxy/{in_path(render_id)}/download"
        if status and status.output_url and status.output_url.startswith(("http://", "https://")):
            url = status.output_url  # the cloud's CDN, or the engine's own link
        dest = await self._fetch(url, Path(dest), on_progress)
        self.state.update_render(render_id, state="downloaded", path=str(dest))
        return dest

    async def follow_live(
        self, render_id: str, dest: Path, on_first: Callable[[], None] | None = None
    ) -> bool:
        """Our engine's draft as it renders (GET .../live), into `dest`'s part file: `on_first`
        is called once the first bytes are in it. True when bytes came and the
        stream ended (whole, or short with the render: download() then finishes or refuses it);
        False when nothing came (another backend, not a draft, too many streams), or it was
        cut: the part file is gone then, and download() fetches the finished file whole."""
        tmp = part_path(dest)
        tmp.parent.mkdir(parents=True, exist_ok=True)
        url = f"{self.base_url}/api/render/proxy/{in_path(render_id)}/live"
        headers = {**self._auth(), "Accept-Encoding": "identity"}
        self._check_open()
        try:
            async with self.http.stream("GET", url, headers=headers) as resp:
                if resp.status_code != 200:
                    await resp.aread()
                    return False
                came = False
                with open(tmp, "wb") as f:
                    async for chunk in resp.aiter_raw():
                        f.write(chunk)
                        f.flush()  # the preview's decoder reads the file as it grows
                        if not came and on_first is not None:
                            on_first()
                        came = True
            return came
        except (httpx.TransportError, httpx.StreamError):
            # Cut: what came may be the start of a file that is not the finished one (an
            # attempt whose worker died), so none of it is resumed.
            tmp.unlink(missing_ok=True)
            return False

    async def save_media(
        self, media: Media, folder: Path, on_progress: Callable[[Progress], None] | None = None
    ) -> Path:
        """What the cloud's own tools made (the state's `generated_media`), saved into `folder`
        under its own name (never over a file there); its host may be another, which never
        gets our token."""
        if not media.url:
            raise ClientError(f"{media.name or 'it'}: the backend gave no address to fetch")
        dest = unique_path(Path(folder) / media_file_name(media))
        return await self._fetch(media.url, dest, on_progress)

    async def _fetch(
        self, url: str, dest: Path, on_progress: Callable[[Progress], None] | None = None
    ) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = part_path(dest)
        # Our token goes only to our backend, never to a CDN on another host.
        own = httpx.URL(url).netloc == httpx.URL(self.base_url).netloc
        total: int | None = None
        retried: set[int] = set()
        for _attempt in range(6):
            have = tmp.stat().st_size if tmp.exists() else 0
            headers = self._auth() if own else {}
            headers["Accept-Encoding"] = "identity"  # lengths and ranges count the file's bytes
            if have:
                headers["Range"] = f"bytes={have}-"
            self._check_open()
            try:
                async with self.http.stream("GET", url, headers=headers) as resp:
                    if resp.status_code == 416:
                        # Asked past the end: the part file is whole, or stale.
                        crange = resp.headers.get("content-range", "")
                        size = to_int(crange.rsplit("/", 1)[1]) if "/" in crange else None
                        if size is not None and have == size:
                            total = size
                            break
                        tmp.unlink(missing_ok=True)
                        continue
                    if resp.status_code >= 400:
                        await resp.aread()
                        env = read_envelope(resp.status_code, json_body(resp))
                        if own and await self._recover(
                            env.code, env.message, resp, retried, session_scoped=False
                        ):
                            continue
                        # A bare 404 here is a missing file, not a lost session.
                        code = 404 if env.code == SESSION_NOT_FOUND else env.code
                        raise self._error(code, env.message or "download failed", resp)
                    crange = resp.headers.get("content-range", "")
                    if resp.status_code == 206 and crange.startswith(f"bytes {have}-"):
                        total = to_int(crange.rsplit("/", 1)[1]) if "/" in crange else None
                        mode = "ab"
                    elif resp.status_code == 206:  # some other range: start over
                        tmp.unlink(missing_ok=True)
                        continue
                    else:  # the whole file again
                        clen = resp.headers.get("content-length")
                        total = to_int(clen) if clen else None
                        mode, have = "wb", 0
                    with open(tmp, mode) as f:
                        async for chunk in resp.aiter_bytes(1 << 16):
                            f.write(chunk)
                            have += len(chunk)
                            if on_progress:
                                on_progress(Progress(have, total))
                if total is None or have >= total:
                    break
            except (httpx.TransportError, httpx.StreamError):
                self._say("The download was cut; resuming…")
                await asyncio.sleep(0.1)
                continue
        size = tmp.stat().st_size if tmp.exists() else 0
        if (total is None and size == 0) or (total is not None and size != total):
            raise ClientError(
                f"download incomplete: {size} of {total if total is not None else '?'} bytes",
                hint="try the export again; the partial file was kept for resuming",
            )
        os.replace(tmp, dest)
        return dest


def _files(data: Any) -> list[dict]:
    """The upload answer's files, every string in them (names first) cleaned of terminal
    controls: the app shows them and names exports after them."""
    files = data.get("files") if isinstance(data, dict) else None
    return [clean_obj(f) for f in files if isinstance(f, dict)] if isinstance(files, list) else []


_SUFFIXES = {"video": ".mp4", "image": ".jpg", "audio": ".mp3"}


def media_file_name(media: Media) -> str:
    """A made asset's file name in a folder of ours: its own name (else its address's last
    part), no separator, no dot first; a suffix from its kind when it has none."""
    name = media.name or PurePosixPath(urlsplit(media.url).path).name
    stem, suffix = os.path.splitext(name)
    stem = re.sub(r"[^\w.-]", "_", stem).lstrip(".")[:100] or "made"
    suffix = re.sub(r"[^\w.]", "", suffix)[:10] or _SUFFIXES.get(media.kind, "")
    return stem + suffix


def in_path(render_id: str) -> str:
    """A render id (the backend's own, which it may make of anything) as one URL path part."""
    return quote(render_id, safe="")


def file_stem(render_id: str) -> str:
    """A render id as a file name in a folder of ours: no separator, no `..`, no dot first."""
    return re.sub(r"[^\w.-]", "_", render_id).lstrip(".")[:100] or "render"


def unique_path(path: Path) -> Path:
    """`clip.mp4`, else `clip-2.mp4`, `clip-3.mp4`…: never overwrite."""
    path = Path(path)
    if not path.exists():
        return path
    n = 2
    while True:
        cand = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not cand.exists():
            return cand
        n += 1
