"""The instruction sets x264 may use: what it would pick itself, except AVX-512.

With AVX-512, x264's macroblock-tree code (mbtree: on in every tier's preset but the draft's)
made the output for a canvas 23 or 68 macroblocks wide (360 or 1080 px: every 9:16, 4:5 and 1:1
export) depend on what was in the memory x264 was given from the heap: the same frames encoded
again after other work in the process came out different. Measured here: 1080x1920 High, three
encodes, three different files; with mbtree off, or with x264 held to AVX2, the same file every
time. Held to AVX2, 1920x1080 gives the very bytes AVX-512 gives, and x264 took no longer.
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path

# x264's "AVX512" level: the CPU has all of these (its cpu.c).
_AVX512 = frozenset({"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"})
# Every AVX-512 CPU has AVX2 with FMA3, BMI1/2 and LZCNT (x264's "AVX2" name sets them all, and
# everything below); SSE2Fast and Cache64 are what x264's own detection adds on such CPUs.
_UP_TO_AVX2 = "AVX2,SSE2Fast,Cache64"


def cpu_flags(cpuinfo: str) -> set[str]:
    """The flags of the first processor in a /proc/cpuinfo text."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def asm_for(flags: set[str]) -> str | None:
    """x264's `asm` setting for a CPU with these flags: None (x264 detects) unless it has
    AVX-512, then everything up to AVX2."""
    return _UP_TO_AVX2 if flags >= _AVX512 else None


@functools.cache
def x264_asm() -> str | None:
    """`asm_for` this machine (Linux on x86-64; elsewhere None: x264 decides)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return None
    return asm_for(cpu_flags(text))
