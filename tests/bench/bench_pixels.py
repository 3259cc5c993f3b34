"""What a playing preview would send the terminal a frame, at 100x30: half-blocks (what it
sends), Sixel and Kitty (what it sends for a paused frame). Prints figures; they decide whether
real pixels could play (widgets/preview.py).

    python tests/bench/bench_pixels.py [--frames 12] [--cell 10x20]

Frames: the repository's photos (tests/photos), each moving as a draft does (a slow zoom), fitted
to the Preview pane at 100x30 (98x27 cells for the picture) the way the pane fits them: half-blocks
by tui/preview/frames.py (two pixels a cell), Sixel and Kitty by widgets/pixels.py `encode` at the
terminal's cell size. Bytes are the escape sequences as written (half-blocks: 24-bit colour, runs
merged, one cursor move a row, as Textual writes a changed line); CPU is this process's time to
make them. Then what each would take at 6 and 15 frames a second, against an SSH link's bandwidth.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from rich.console import Console  # noqa: E402

from tui.preview.frames import cell_rows, fit  # noqa: E402
from tui.terminal.graphics import Graphics  # noqa: E402
from widgets.pixels import encode, kitty_send  # noqa: E402

COLS, ROWS = 98, 27  # the picture's cells in the Preview pane of the app alone at 100x30
LINKS = {"ADSL 8 Mbit/s": 8e6, "home 50 Mbit/s": 50e6, "LAN 500 Mbit/s": 500e6}


def frames(n: int) -> list[Image.Image]:
    """`n` frames a photo each (in turn), zoomed 0-8 % as the draft's motion does."""
    photos = sorted((ROOT / "tests" / "photos").glob("*.jpg"))
    out = []
    for i in range(n):
        img = Image.open(photos[i % len(photos)]).convert("RGB")
        zoom = 1 + 0.08 * (i / max(1, n - 1))
        w, h = img.size
        cw, ch = int(w / zoom), int(h / zoom)
        box = ((w - cw) // 2, (h - ch) // 2, (w - cw) // 2 + cw, (h - ch) // 2 + ch)
        out.append(img.crop(box).resize((960, 540), Image.Resampling.BILINEAR))
    return out


def half_blocks(img: Image.Image) -> tuple[int, float]:
    t = time.process_time()
    w, h = fit(img.width, img.height, COLS, ROWS * 2)
    small = np.asarray(img.resize((w, h), Image.Resampling.BOX))
    rows = cell_rows(small)
    console = Console(file=io.StringIO(), color_system="truecolor", width=COLS)
    out = []
    for y, row in enumerate(rows):
        out.append(f"\x1b[{y + 1};1H")
        out.append(console._render_buffer(row))
    data = "".join(out).encode()
    return len(data), time.process_time() - t


def pixels(img: Image.Image, graphics: Graphics) -> tuple[int, float]:
    t = time.process_time()
    picture = encode(img, graphics, COLS, ROWS, (0, 0, 0))
    data = picture.data if picture.kind == "sixel" else kitty_send(picture)
    return len(data.encode()), time.process_time() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--cell", default="10x20", help="a cell's pixels, WxH")
    args = parser.parse_args()
    cw, ch = (int(v) for v in args.cell.split("x"))
    shots = frames(args.frames)
    kinds = {
        "half-blocks": half_blocks,
        "Sixel, 256 colours": lambda im: pixels(im, Graphics("sixel", cw, ch, 256)),
        "Kitty, PNG": lambda im: pixels(im, Graphics("kitty", cw, ch)),
    }
    print(f"{len(shots)} photo frames, the picture at {COLS}x{ROWS} cells of {cw}x{ch} px")
    for name, make in kinds.items():
        sizes, cpus = zip(*(make(im) for im in shots), strict=True)
        size, cpu = statistics.median(sizes), statistics.median(cpus)
        rates = ", ".join(f"{fps} fps {size * fps / 1e6:.2f} MB/s" for fps in (6, 15))
        links = "; ".join(
            f"{link}: {min(15.0, bw / 8 / size):.1f} fps at most" for link, bw in LINKS.items()
        )
        print(
            f"{name}: median {size / 1000:.0f} KB a frame (min {min(sizes) / 1000:.0f}, max "
            f"{max(sizes) / 1000:.0f}), {cpu * 1000:.0f} ms CPU to make; {rates}"
        )
        print(f"  {links}")


if __name__ == "__main__":
    main()
