"""Uploaded media: typed by content (magic bytes), stored by content hash, probed for size."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tui.core.protocol import MAX_UPLOAD_BYTES

# The renderer's limit (render/sources.py: its MAX_PIXELS, and Pillow's decompression-bomb
# warning turned into an error there); not imported, that would load OpenCV and numpy.
RENDER_MAX_PIXELS = 100_000_000


def max_pixels() -> int:
    """The most pixels an image may have and still render: the smaller of the renderer's own
    limit and Pillow's bomb threshold (89,478,485 by default), which the renderer refuses."""
    from PIL import Image

    bomb = Image.MAX_IMAGE_PIXELS
    return min(RENDER_MAX_PIXELS, int(bomb)) if bomb else RENDER_MAX_PIXELS


class TooLarge(Exception):
    """Over the byte limit; or, with a reason, an image with more pixels than renders."""


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


class UploadSink:
    """One file being received: written to a temporary file as its bytes arrive, hashed on the
    way, refused (TooLarge) the moment it crosses `limit`. `finish()` types it by content and
    moves it to its content-addressed name; `abort()` throws it away. Synchronous: each `write`
    is one network chunk, so the event loop is never held for long."""

    def __init__(self, media_dir: Path, limit: int = MAX_UPLOAD_BYTES):
        media_dir.mkdir(parents=True, exist_ok=True)
        self.media_dir, self.limit = media_dir, limit
        fd, tmp_name = tempfile.mkstemp(dir=media_dir, prefix=".up-")
        self.tmp = Path(tmp_name)
        self._f = os.fdopen(fd, "wb")
        self._h = hashlib.sha256()
        self.size = 0
        self.head = b""
        self._kept = False

    def write(self, data: bytes | memoryview) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise TooLarge()
        if len(self.head) < 64:
            self.head += bytes(data[: 64 - len(self.head)])
        self._h.update(data)
        self._f.write(data)

    def finish(self) -> Stored:
        """Type, probe and keep the file (blocking: run it off the event loop)."""
        self._f.close()
        self._kept = True  # from here on the temporary name is not ours to remove
        try:
            return _finish(self.tmp, self.head, self._h.hexdigest(), self.size, self.media_dir)
        except BaseException:
            self.tmp.unlink(missing_ok=True)
            raise

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._f.close()
        if not self._kept:
            self.tmp.unlink(missing_ok=True)


def store_file(fin: BinaryIO, media_dir: Path) -> Stored:
    """An upload from a local file already open for reading (URL imports of `file://` URLs:
    the caller decides which file, and opens it; it stays the caller's)."""
    if os.fstat(fin.fileno()).st_size > MAX_UPLOAD_BYTES:
        raise TooLarge()
    sink = UploadSink(media_dir)
    try:
        while chunk := fin.read(1 << 20):
            sink.write(chunk)
    except BaseException:
        sink.abort()
        raise
    return sink.finish()


def clean_partial(media_dir: Path, older_than: float = 0.0) -> None:
    """Remove uploads a previous run left half-written (a kill -9 mid-upload); with
    `older_than` (seconds), only those untouched that long: a shared folder's others are
    another node's uploads under way."""
    if media_dir.is_dir():
        for p in media_dir.glob(".up-*"):
            with contextlib.suppress(OSError):
                if not older_than or p.stat().st_mtime < time.time() - older_than:
                    p.unlink(missing_ok=True)


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
    try:
        info = {"hash": digest, "file_type": file_type, "size": size, **probe(final, file_type)}
    except (Unsupported, TooLarge):
        final.unlink(missing_ok=True)  # damaged or too big to render: nothing refers to it
        raise
    return Stored(final, info)


def probe(path: Path, file_type: str) -> dict:
    """Width, height, duration and fps where they apply; a damaged file raises Unsupported, an
    image with more pixels than the renderer takes raises TooLarge (both with the reason, which
    never names the file's path: answers go to clients)."""
    if file_type == "image":
        return _probe_image(path)
    import av

    try:
        with av.open(str(path)) as c:
            dur = float(c.duration / 1_000_000) if c.duration else None
            vs = next((s for s in c.streams if s.type == "video"), None)
            has_audio = any(s.type == "audio" for s in c.streams)
            if vs is not None and vs.width and vs.height:
                fps = float(vs.average_rate) if vs.average_rate else None
                return {"width": vs.width, "height": vs.height, "duration": dur, "fps": fps}
            if not has_audio:
                raise Unsupported("no video or audio stream in it")
            out = {"width": None, "height": None, "duration": dur, "fps": None}
            if file_type == "video":  # an MP4 holding only sound is audio
                out["file_type"] = "audio"
            return out
    except Unsupported:
        raise
    except Exception as exc:
        raise Unsupported(f"not readable media: {_reason(exc, path)}") from None


def _probe_image(path: Path) -> dict:
    """The header is enough for the size (Pillow decodes nothing to read it); the pixel limit
    is the renderer's, so an image that would fail at render is refused here."""
    from PIL import Image

    limit = max_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                w, h = img.size
                if w * h > limit:
                    raise TooLarge(_too_many(w, h, limit))
                frames = getattr(img, "n_frames", 1)
                jpeg = img.format == "JPEG"
                img.verify()  # chunk checksums and structure: catches truncated PNGs
            if jpeg:
                # verify() reads nothing of a JPEG's data: decode it, at 1/8 scale (the DCT
                # scales down for free, ~30 ms for 24 MP), so a cut-off file fails here, not
                # at render.
                with Image.open(path) as img:
                    img.draft("RGB", (max(1, w // 8), max(1, h // 8)))
                    img.load()
    except (TooLarge, Unsupported):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        why = f"its header claims more than {limit:,} pixels, the most the renderer takes"
        raise TooLarge(why) from None
    except Exception as exc:
        raise Unsupported(f"not a readable image: {_reason(exc, path)}") from None
    if not (w > 0 and h > 0):
        raise Unsupported("the image has no pixels")
    return {"width": w, "height": h, "duration": None, "fps": None, "frames": frames}


def _too_many(w: int, h: int, limit: int) -> str:
    return (
        f"{w}x{h} is {w * h:,} pixels; the renderer takes at most {limit:,}"
        f" (about {limit // 1_000_000} megapixels): resize it"
    )


_PATH = re.compile(r"""['"]?(?<![\w.])(?:[A-Za-z]:)?[/\\][^'"\s]*['"]?""")


def _reason(exc: BaseException, path: Path) -> str:
    """An exception's words without any file path (PyAV and Pillow name the file they read:
    here the engine's own media folder, which is nobody's business)."""
    why = str(exc).replace(str(path), "").replace(os.fspath(path.name), "")
    why = " ".join(_PATH.sub("", why).split()).strip(" :,'\"")
    return why[:200] or type(exc).__name__
