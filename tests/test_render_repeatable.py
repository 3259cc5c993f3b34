"""A render is a pure function of its inputs: the same draft gives the same MP4, byte for byte,
rendered first in a process or after others, in this process or another one.

It was not: x264's AVX-512 code for the macroblock tree made the encoded frames of a canvas 23
or 68 macroblocks wide (360 or 1080 px) depend on what was in memory x264 got from the heap, so
the same frames encoded after other work in the process came out different (the astronaut's
parallax edge kept 0.208 of its detail first in a process, 0.20-0.25 after other renders).
Dirtying the heap between renders, as other renders would, makes that show every time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.test_render_parallax import PHOTOS, lumas, one_shot
from tui.engine.render import render_draft
from tui.engine.render.x264_cpu import asm_for, cpu_flags

ROOT = Path(__file__).resolve().parents[1]
DRAFT = one_shot(360, 640, motion="parallax", strength="strong")  # 23 macroblocks wide
OTHERS = [("chelsea", 640, 360)]

_RENDER = """
import sys
from pathlib import Path
import numpy as np
from tests.test_render_parallax import PHOTOS, one_shot
from tui.engine.render import render_draft
out = Path(sys.argv[1])
for name, w, h in [{others}]:
    render_draft(one_shot(w, h, motion="parallax", strength="strong"),
                 {{"img": PHOTOS / f"{{name}}.jpg"}}, out)
render_draft({draft!r}, {{"img": PHOTOS / "astronaut.jpg"}}, out)
"""


def dirty_heap(seed: int) -> None:
    """Leave freed, random bytes where the next allocations come from (as other work would)."""
    rng = np.random.default_rng(seed)
    junk = [rng.integers(0, 256, n, dtype=np.uint8) for n in (300_000, 1_000_000, 3_000_000)]
    del junk


def in_a_new_process(tmp_path: Path, after_others: bool) -> bytes:
    out = tmp_path / f"p{int(after_others)}.mp4"
    others = ", ".join(repr(o) for o in OTHERS) if after_others else ""
    code = _RENDER.format(others=others, draft=DRAFT)
    subprocess.run([sys.executable, "-c", code, str(out)], cwd=ROOT, check=True, timeout=120)
    return out.read_bytes()


def test_a_render_is_the_same_first_or_after_others(tmp_path) -> None:
    media = {"img": PHOTOS / "astronaut.jpg"}
    first = in_a_new_process(tmp_path, after_others=False)
    for i, (name, w, h) in enumerate(OTHERS):
        dirty_heap(i)
        draft = one_shot(w, h, motion="parallax", strength="strong")
        render_draft(draft, {"img": PHOTOS / f"{name}.jpg"}, tmp_path / f"o{i}.mp4")
    seen = []
    for seed in (7, 8):
        dirty_heap(seed)
        out = tmp_path / f"a{seed}.mp4"
        render_draft(DRAFT, media, out)
        seen.append(out)
    frames = lumas(seen[0])
    assert len(frames) == 48
    for again in seen[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(frames, lumas(again), strict=True))
    for path in seen:
        assert path.read_bytes() == first, "the same draft, another MP4"
    assert in_a_new_process(tmp_path, after_others=True) == first


CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
flags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma bmi1 bmi2 {extra}
"""


def test_x264_is_kept_off_avx512() -> None:
    full = "avx512f avx512dq avx512cd avx512bw avx512vl"
    assert cpu_flags(CPUINFO.format(extra=full)) >= {"avx2", "avx512f", "avx512vl"}
    assert asm_for(cpu_flags(CPUINFO.format(extra=full))) == "AVX2,SSE2Fast,Cache64"
    # Without all five (x264's AVX512 level) x264 picks for itself.
    assert asm_for(cpu_flags(CPUINFO.format(extra="avx512f"))) is None
    assert asm_for(cpu_flags(CPUINFO.format(extra=""))) is None
    assert asm_for(set()) is None
