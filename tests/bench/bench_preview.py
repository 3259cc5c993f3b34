"""Benchmark of the Files pane's real-pixel preview, piece by piece. Prints figures.

    python tests/bench/bench_preview.py [--runs 5]

- probe: the one round trip (Kitty query, cell size, colour registers, XTVERSION, DA1) over a
  pseudo-terminal whose far side answers at once, as a local terminal does, and against one
  that never answers (the worst case: the timeout)
- preview work in the worker thread, per image (12 MP JPEG, 24 MP PNG, 1 MP PNG with alpha):
  open + reduced decode + EXIF turn + fit, then the Sixel encoding (256 colours) and the Kitty
  PNG; bytes each sends to the terminal
- the UI thread's share: PixelPreview.render_lines for a 30x8-cell picture (placing ready data)
- the UI process's memory (target < 100 MB): at Ready, then with a 1080p video and a 12 MP
  photo previewed, with Sixel and with half-blocks (videos are read in a child process)
- start-up with and without the probe: the real command on a pseudo-terminal 120x30 that answers
  like xterm as a VT340, launch -> the first frame holding the panes, `--preview pixels` (asks)
  against `--preview blocks` (never asks)

The preview runs in a thread, so none of this blocks typing; the figures say how soon it shows.
"""

from __future__ import annotations

import argparse
import os
import pty
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from tui.terminal.graphics import DA1_QUERY, Graphics, ask_terminal  # noqa: E402
from widgets.files import _describe  # noqa: E402
from widgets.pixels import PixelPreview  # noqa: E402

XTERM = b"\x1b[?1;0;1024S\x1bP>|XTerm(379)\x1b\\\x1b[?63;1;2;4;6;9;15;16;22;28c"


def ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


def best(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def probe_round_trip(answer: bytes, timeout: float = 1.0) -> float:
    master, slave = pty.openpty()

    def far_side() -> None:
        heard = b""
        while DA1_QUERY not in heard:
            heard += os.read(master, 1024)
        if answer:
            os.write(master, answer)

    threading.Thread(target=far_side, daemon=True).start()
    t = time.perf_counter()
    ask_terminal(slave, slave, timeout)
    took = time.perf_counter() - t
    os.close(slave)
    os.close(master)
    return took


def launch(folder: Path, preview: str, home: Path) -> tuple[int, int]:
    """The real command on a pty of 120x30 cells (10x20 px), as if in xterm: (pid, master fd)."""
    import fcntl
    import struct
    import termios

    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "STY", "NO_COLOR")}
    env.update(TERM="xterm-256color", XTERM_VERSION="XTerm(379)", I2V_FLOW_HOME=str(home))
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 1200, 600))
        argv = [sys.executable, "-c", "from tui.cli.main import main; raise SystemExit(main())"]
        os.execvpe(sys.executable, [*argv, str(folder), "--preview", preview], env)
    return pid, fd


def first_frame(folder: Path, preview: str, home: Path) -> float:
    """Launch -> the first frame with the Files pane, on a pty answering like xterm."""
    import select

    started = time.perf_counter()
    pid, fd = launch(folder, preview, home)
    heard, answered, took = b"", False, float("nan")
    deadline = time.perf_counter() + 20
    while time.perf_counter() < deadline:
        if select.select([fd], [], [], 0.05)[0]:
            heard += os.read(fd, 65536)
        if not answered and DA1_QUERY in heard:
            os.write(fd, XTERM)
            answered = True
        if b"Files" in heard and b"Transcript" in heard:
            took = time.perf_counter() - started
            break
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    os.close(fd)
    return took


def rss_with_previews(folder: Path, preview: str, home: Path) -> list[int]:
    """The app's RSS (MB) at Ready, then after previewing the folder's first and second file."""
    import select

    pid, fd = launch(folder, preview, home)
    heard = b""

    def pump(seconds: float) -> None:
        nonlocal heard
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if select.select([fd], [], [], 0.05)[0]:
                heard += os.read(fd, 65536)
            if DA1_QUERY in heard and XTERM not in heard:
                os.write(fd, XTERM)
                heard += XTERM  # answered once

    def rss() -> int:
        status = Path(f"/proc/{pid}/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0]) // 1024

    pump(3)
    out = [rss()]
    os.write(fd, b"\t")
    for _ in range(2):
        pump(0.3)
        os.write(fd, b"\x1b[B")
        pump(2.5)
        out.append(rss())
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    os.close(fd)
    return out


def photo(path: Path, size: tuple[int, int], mode: str = "RGB") -> Path:
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = np.stack([xx / w * 200 + 30, yy / h * 180 + 40, 120 + 60 * np.sin(xx / 90)], -1)
    img = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    if mode == "RGBA":
        img.putalpha(Image.fromarray((yy / h * 255).astype(np.uint8)))
    img.save(path, quality=90) if path.suffix == ".jpg" else img.save(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    runs = ap.parse_args().runs
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    trips = [probe_round_trip(XTERM) for _ in range(runs)]
    print(f"probe, answering terminal: median {ms(statistics.median(trips))}")
    print(f"probe, silent terminal (timeout 1.0 s): {ms(probe_round_trip(b''))}")

    sixel = Graphics("sixel", 10, 20, 256)
    kitty = Graphics("kitty", 10, 20)
    with tempfile.TemporaryDirectory() as tmp:
        images = [
            photo(Path(tmp) / "12mp.jpg", (4000, 3000)),
            photo(Path(tmp) / "24mp.png", (6000, 4000)),
            photo(Path(tmp) / "alpha.png", (1200, 900), "RGBA"),
        ]
        for path in images:
            _describe(path, 30, 8, sixel, (18, 18, 18))  # warm: imports, caches
            size = f"{path.stat().st_size / 1e6:.1f} MB"
            t_blocks = best(runs, lambda p=path: _describe(p, 30, 8))
            t_sixel = best(runs, lambda p=path: _describe(p, 30, 8, sixel, (18, 18, 18)))
            t_kitty = best(runs, lambda p=path: _describe(p, 30, 8, kitty, (18, 18, 18)))
            six = _describe(path, 30, 8, sixel, (18, 18, 18))[1]
            kit = _describe(path, 30, 8, kitty, (18, 18, 18))[1]
            print(
                f"{path.name} ({size}): half-blocks {ms(t_blocks)}, sixel {ms(t_sixel)} "
                f"({len(six.data) / 1000:.1f} KB, {six.cols}x{six.rows} cells), "
                f"kitty {ms(t_kitty)} ({len(kit.data) / 1000:.1f} KB)"
            )
        # The UI thread only places ready data; measure that alone.
        widget = PixelPreview()
        widget.picture = six
        from textual.geometry import Region

        region = Region(0, 0, six.cols, six.rows)
        widget._covered = lambda: False  # no screen here: the placement alone
        t_place = best(runs * 20, lambda: widget._kitty_lines(kit, region))
        print(f"UI thread per render: kitty placeholders {ms(t_place)}")

        shown = Path(tmp) / "shown"
        shown.mkdir()
        photo(shown / "b_photo.jpg", (4000, 3000))
        clip = Image.new("RGB", (1920, 1080), (200, 120, 40))
        import av

        with av.open(str(shown / "a_clip.mp4"), "w") as c:
            s = c.add_stream("libx264", rate=24)
            s.width, s.height, s.pix_fmt = 1920, 1080, "yuv420p"
            for _ in range(24):
                for pkt in s.encode(av.VideoFrame.from_image(clip)):
                    c.mux(pkt)
            for pkt in s.encode(None):
                c.mux(pkt)
        t_video = best(runs, lambda: _describe(shown / "a_clip.mp4", 30, 8, sixel, (18, 18, 18)))
        print(f"1080p video, first frame in a child process + Sixel: {ms(t_video)}")
        for preview in ("pixels", "blocks"):
            at_ready, video, still = rss_with_previews(shown, preview, Path(tmp) / "home")
            print(
                f"UI RSS, --preview {preview}: Ready {at_ready} MB, 1080p video previewed "
                f"{video} MB, then a 12 MP photo {still} MB"
            )

        folder = Path(tmp)
        for preview in ("blocks", "pixels", "blocks", "pixels"):  # warm the first pair
            first_frame(folder, preview, folder / "home")
        for preview in ("blocks", "pixels"):
            times = [first_frame(folder, preview, folder / "home") for _ in range(runs)]
            print(
                f"first frame on a pty, --preview {preview}: median "
                f"{ms(statistics.median(times))} (runs: {', '.join(ms(t) for t in times)})"
            )


if __name__ == "__main__":
    main()
