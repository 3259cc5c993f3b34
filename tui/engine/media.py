"""Uploaded media: typed by content (magic bytes), stored by content hash, probed for size."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from tui.protocol import MAX_UPLOAD_BYTES


class TooLarge(Exception):
    pass


class Unsupported(Exception):
    pass


def sniff(head: bytes) -> tuple[str, str] | None:
    """(file_type, extension) from the first bytes of a file, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image", "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio", "wav"
    if head[:4] == b"RIFF" and head[8:11] == b"AVI":
        return "video", "avi"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return "audio", "m4a"
        if brand == b"qt  ":
            return "video", "mov"
        return "video", "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video", "webm" if b"webm" in head[:64] else "mkv"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        # ADTS AAC has layer bits 00; MPEG audio (mp3) has them set.
        if len(head) > 1 and head[1] & 0x06 == 0 and not head.startswith(b"ID3"):
            return "audio", "aac"
        return "audio", "mp3"
    return None


@dataclass
class Stored:
    path: Path
    info: dict


async def store_stream(
    chunks: AsyncIterator[bytes], media_dir: Path, limit: int = MAX_UPLOAD_BYTES
) -> Stored:
    """Write a byte stream to disk as it arrives (never whole in memory), hash and type it."""
    media_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=media_dir, prefix=".up-")
    tmp = Path(tmp_name)
    h = hashlib.sha256()
    size = 0
    head = b""
    try:
        with os.fdopen(fd, "wb") as f:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise TooLarge()
                if len(head) < 64:
                    head += chunk[: 64 - len(head)]
                h.update(chunk)
                f.write(chunk)
        return _finish(tmp, head, h.hexdigest(), size, media_dir)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def store_file(src: Path, media_dir: Path) -> Stored:
    """The same as store_stream, for a local file (tests and URL imports)."""
    media_dir.mkdir(parents=True, exist_ok=True)
    size = src.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise TooLarge()
    h = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=media_dir, prefix=".up-")
    tmp = Path(tmp_name)
    head = b""
    try:
        with open(src, "rb") as fin, os.fdopen(fd, "wb") as fout:
            while chunk := fin.read(1 << 20):
                if len(head) < 64:
                    head += chunk[: 64 - len(head)]
                h.update(chunk)
                fout.write(chunk)
        return _finish(tmp, head, h.hexdigest(), size, media_dir)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _finish(tmp: Path, head: bytes, digest: str, size: int, media_dir: Path) -> Stored:
    kind = sniff(head)
    if kind is None:
        raise Unsupported()
    file_type, ext = kind
    final = media_dir / f"{digest}.{ext}"
    if final.exists():
        tmp.unlink(missing_ok=True)
    else:
        os.replace(tmp, final)
    info = {"hash": digest, "file_type": file_type, "size": size, **probe(final, file_type)}
    return Stored(final, info)


def probe(path: Path, file_type: str) -> dict:
    """Width, height, duration and fps where they apply; a damaged file raises Unsupported."""
    if file_type == "image":
        from PIL import Image

        try:
            with Image.open(path) as img:
                w, h = img.size
                frames = getattr(img, "n_frames", 1)
        except Exception as exc:
            raise Unsupported(f"not a readable image: {exc}") from None
        return {"width": w, "height": h, "duration": None, "fps": None, "frames": frames}
    import av

    try:
        with av.open(str(path)) as c:
            dur = float(c.duration / 1_000_000) if c.duration else None
            vs = next((s for s in c.streams if s.type == "video"), None)
            if vs is not None:
                fps = float(vs.average_rate) if vs.average_rate else None
                return {"width": vs.width, "height": vs.height, "duration": dur, "fps": fps}
            return {"width": None, "height": None, "duration": dur, "fps": None}
    except Exception as exc:
        raise Unsupported(f"not readable media: {exc}") from None
