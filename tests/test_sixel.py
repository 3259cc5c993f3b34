"""tui/terminal/sixel.py: what a terminal decodes from our Sixel data is the picture, pixel for
pixel."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from tui.terminal.sixel import to_sixel

_TOKEN = re.compile(r'#(\d+)(?:;2;(\d+);(\d+);(\d+))?|!(\d+)(.)|"[\d;]*|([?-~])|(\$)|(-)')


def decode(data: str) -> np.ndarray:
    """A Sixel decoder as a terminal reads it: registers, repeats, `$` and `-`; RGB, 0..100."""
    assert data.startswith("\x1bP0;1;0q") and data.endswith("\x1b\\")
    size = re.match(r'\x1bP0;1;0q"1;1;(\d+);(\d+)', data)
    assert size, "raster attributes name the size"
    width, height = int(size.group(1)), int(size.group(2))
    body = data[size.end() : -2]
    out = np.full((height + 6, width, 3), -1, dtype=np.int32)
    registers: dict[int, tuple[int, int, int]] = {}
    colour, x, y = (0, 0, 0), 0, 0
    pos = 0
    while pos < len(body):
        m = _TOKEN.match(body, pos)
        assert m, f"unreadable Sixel at {pos}: {body[pos : pos + 20]!r}"
        pos = m.end()
        if m.group(1) is not None:
            n = int(m.group(1))
            if m.group(2) is not None:
                registers[n] = (int(m.group(2)), int(m.group(3)), int(m.group(4)))
            colour = registers[n]  # selecting an undefined register is a bug
            continue
        if m.group(5) is not None or m.group(7) is not None:
            count, char = (int(m.group(5)), m.group(6)) if m.group(5) else (1, m.group(7))
            bits = ord(char) - 63
            for dy in range(6):
                if bits >> dy & 1:
                    out[y + dy, x : x + count] = colour
            x += count
        elif m.group(8):
            x = 0
        elif m.group(9):
            x, y = 0, y + 6
    return out[:height]


def pct(rgb: np.ndarray) -> np.ndarray:
    return np.rint(rgb.astype(np.float64) * 100 / 255).astype(np.int32)


def test_flat_colours_decode_exactly_including_a_partial_last_band() -> None:
    img = Image.new("RGB", (37, 23), (30, 90, 200))
    img.paste((250, 200, 30), (10, 5, 25, 17))
    img.paste((40, 160, 60), (0, 20, 37, 23))
    decoded = decode(to_sixel(img))
    assert decoded.shape == (23, 37, 3)
    assert (decoded == pct(np.asarray(img))).all()


def test_every_pixel_is_drawn_once_and_colours_stay_close_on_a_photo() -> None:
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:48, 0:64]
    base = np.stack([x * 4, y * 5, (x + y) * 2], axis=-1) + rng.integers(0, 30, (48, 64, 3))
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    data = to_sixel(img, colors=64)
    decoded = decode(data)
    assert (decoded >= 0).all(), "no pixel left undrawn"
    assert len(set(re.findall(r"#(\d+);2;", data))) <= 64
    error = np.abs(decoded - pct(np.asarray(img))).mean()
    assert error < 4, error  # percent of full scale, after quantising to 64 colours


@pytest.mark.parametrize("colors", [1, 16, 999])
def test_register_count_is_honoured(colors: int) -> None:
    img = Image.fromarray(np.arange(256 * 3, dtype=np.uint16).reshape(16, 48).astype(np.uint8))
    data = to_sixel(img.convert("RGB"), colors=colors)
    used = {int(n) for n in re.findall(r"#(\d+);2;", data)}
    assert len(used) <= max(2, min(256, colors))
    assert all(n < 256 for n in used)
    decode(data)
