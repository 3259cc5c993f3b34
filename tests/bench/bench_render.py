"""Renderer benchmark: prints figures (not collected by pytest; no pass/fail).

    python tests/bench/bench_render.py [--quick] [--quality Q] [--draft-only]

On 5 s of 1080p30 (zoom in, medium strength, eased), from a 3840x2160 image and from a 12 MP
photo:
  (a) our whole render_draft time vs x264 alone encoding the very same frames with the very same
      settings (the floor), measured in the same run;            target <= 1.2x
  (b) ffmpeg's zoompan filter (av.filter.Graph) making the same zoom, same x264 settings;
                                                                  target: we are faster
      and the smoothness of both on a marker chart (RMS of the markers' second difference,
      px/frame², and the largest backward step, px);             target <= 0.15, no steps back
  (c) peak RSS of a render from a 24 MP photo (a fresh process);  target <= 600 MB
  (d) a `draft` preview of 5 s, from a 3840x2160 JPEG, a 12 MP JPEG and a 3840x2160 PNG: of a
      new image, of one decoded ahead (at its upload, or by a preview framed otherwise), and
      again, beside x264 alone on the same frames (the machine's speed at the time); then the
      app's own preview path through the embedded engine; all again with one core kept busy by
      another process (`--draft-only`: just this);                target <= 0.6 s
  (e) a 5 s 720p video (AAC sound) as the source: the render with its sound vs muted, and the
      soundtrack's own time (decode, place, duck under music, limit); target: sound <= +10 %
  (f) the whole `i2v-flow render` command (engine start, upload, agent turn, render, download)
      on the 3840x2160 JPEG, 5 s of 1080p30 zoom in at the high tier, against x264 alone
      encoding the very frames it made (decoded from its MP4) and against zoompan: each the
      median of several runs (`--command`: just this); the command's CPU (all its processes)
      beside; and, with py-spy installed, where the Python threads' time goes (x264's own
      threads are native and not sampled: its share is what the encode call waits on).
                                                                  target <= 1.2x the floor
Each timing is the median of a few runs (the machine is shared and its speed drifts), alternating
ours and the others, and each ratio is taken within a round, then its median printed; CPU seconds
(all threads) are printed beside wall time, as they suffer less from other load, and the 1-minute
load average at the end of the line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

# One OpenBLAS thread (numpy's and OpenCV's) while they load here, as a render worker has it
# (tui/engine/worker.py _one_blas_thread): idle BLAS threads spin for a while after each call
# and take CPU from the renders measured in this process. Not passed on: the engine and the
# command the benchmark starts run as a user's would (their workers set it themselves).
AS_WORKER = {"OPENBLAS_NUM_THREADS": "1"}
_blas = os.environ.get("OPENBLAS_NUM_THREADS")
os.environ.update(AS_WORKER)
import av  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.decode import smoothness, track_markers, video_luma  # noqa: E402
from tests.media import tone_video  # noqa: E402
from tui.engine.render import kept_stills, pipeline  # noqa: E402

if _blas is None:  # (OpenCV loads an OpenBLAS of its own too, just above)
    del os.environ["OPENBLAS_NUM_THREADS"]
else:
    os.environ["OPENBLAS_NUM_THREADS"] = _blas

W, H, FPS, SECONDS = 1920, 1080, 30, 5
N = FPS * SECONDS
STRENGTH, AMOUNT = "medium", 0.15


def photo_like(path: Path, size: tuple[int, int], seed: int = 7) -> Path:
    """A detailed, photo-like picture (smooth shading, edges, fine texture) saved as JPEG q92."""
    w, h = size
    rng = np.random.default_rng(seed)
    small = rng.random((h // 64 + 2, w // 64 + 2, 3)).astype(np.float32)
    img = np.asarray(
        Image.fromarray((small * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC), np.float32
    )
    mid = rng.random((h // 8 + 2, w // 8 + 2, 1)).astype(np.float32)
    mid = np.asarray(
        Image.fromarray((mid[..., 0] * 255).astype(np.uint8)).resize((w, h), Image.BILINEAR),
        np.float32,
    )[..., None]
    img = img * 0.7 + mid * 0.3
    img += rng.normal(0, 6, (h, w, 1)).astype(np.float32)  # grain
    yy, xx = np.ogrid[0:h, 0:w]
    disc = ((xx - w * 0.62) ** 2 + (yy - h * 0.4) ** 2) < (h * 0.12) ** 2
    img[disc] = img[disc] * 0.3 + np.array([230, 190, 60], np.float32) * 0.7
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path, quality=92)
    return path


def marker_chart(path: Path, size=(3840, 2160), sigma=14.0) -> tuple[Path, list]:
    """Soft dark dots on light grey, as a lossless PNG; returns the dots' centres."""
    w, h = size
    img = np.full((h, w), 220.0, np.float32)
    marks = [(x * w, y * h) for x in (0.15, 0.3, 0.7, 0.85) for y in (0.2, 0.5, 0.8)]
    r = int(4 * sigma)
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1].astype(np.float32)
    for mx, my in marks:
        x0, y0 = int(mx) - r, int(my) - r
        dx, dy = mx - int(mx), my - int(my)
        dot = np.exp(-((xx + 0.5 - dx) ** 2 + (yy + 0.5 - dy) ** 2) / (2 * sigma**2))
        img[y0 : y0 + 2 * r + 1, x0 : x0 + 2 * r + 1] -= 190.0 * dot
    rgb = np.repeat(np.clip(img, 0, 255).round().astype(np.uint8)[..., None], 3, 2)
    Image.fromarray(rgb).save(path)
    return path, marks


def draft_of(quality_w=W, quality_h=H, motion="zoom_in", focus=(0.5, 0.5)):
    seg = {
        "id": "s1",
        "src": "img",
        "st": 0,
        "d": SECONDS * 1000,
        "m": {"motion": motion, "strength": STRENGTH, "focus": list(focus)},
    }
    return {
        "d": SECONDS * 1000,
        "m": {"width": quality_w, "height": quality_h, "fps": FPS},
        "t": [{"tt": 0, "sg": [seg]}],
    }


def ours(src: Path, out: Path, quality="high") -> float:
    t = time.perf_counter()
    pipeline.render_draft(draft_of(), {"img": src}, out, quality=quality)
    return time.perf_counter() - t


def frames_of(src: Path, quality="high") -> list[np.ndarray]:
    """The very frames render_draft encodes, made ahead (not timed)."""
    canvas = pipeline.canvas_of(draft_of(), quality)
    maker = pipeline._FrameMaker(draft_of(), {"img": src}, canvas, fast=quality == "draft")
    try:
        frames = []
        for i in range(canvas.frames):
            buf = np.empty((canvas.height * 3 // 2, canvas.width), np.uint8)
            maker.frame(i, buf)
            frames.append(buf)
        return frames
    finally:
        maker.close()


def floor(frames: list[np.ndarray], out: Path, quality="high") -> float:
    canvas = pipeline.canvas_of(draft_of(), quality)
    t = time.perf_counter()
    pipeline.encode_frames(frames, canvas, out, quality)
    return time.perf_counter() - t


def zoompan(src: Path, out: Path, quality="high") -> float:
    """ffmpeg's zoompan making the same eased zoom at the centre, encoded with our settings."""
    t = time.perf_counter()
    rgb = np.asarray(Image.open(src).convert("RGB"))
    h, w = rgb.shape[:2]
    g = av.filter.Graph()
    buf = g.add_buffer(width=w, height=h, format="rgb24", time_base=Fraction(1, FPS))
    z = f"1+{AMOUNT}*(0.5-0.5*cos(PI*on/{N - 1}))"
    zp = g.add(
        "zoompan",
        f"z='{z}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d={N}:s={W}x{H}:fps={FPS}",
    )
    fmt = g.add("format", "pix_fmts=yuv420p")
    scale = g.add("scale", "out_color_matrix=bt709:out_range=tv")
    sink = g.add("buffersink")
    buf.link_to(zp)
    zp.link_to(scale)
    scale.link_to(fmt)
    fmt.link_to(sink)
    g.configure()
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    frame.pts = 0
    frame.time_base = Fraction(1, FPS)
    g.push(frame)
    g.push(None)
    canvas = pipeline.canvas_of(draft_of(), quality)
    container, vs, _ = pipeline._open_output(out, canvas, quality, audio=False)
    try:
        for i in range(N):
            try:
                fr = g.pull()
            except (av.error.EOFError, av.error.BlockingIOError):
                break
            fr.pts = i
            fr.time_base = Fraction(1, FPS)
            for pkt in vs.encode(fr):
                container.mux(pkt)
        for pkt in vs.encode(None):
            container.mux(pkt)
    finally:
        container.close()
    return time.perf_counter() - t


def video_draft(m: dict, music: str | None = None) -> dict:
    tracks = [{"tt": 0, "sg": [{"id": "v", "src": "vid", "st": 0, "d": SECONDS * 1000, "m": m}]}]
    if music:
        seg = {"id": "a", "src": music, "st": 0, "d": SECONDS * 1000, "m": {"volume": 0.5}}
        tracks.append({"tt": 1, "sg": [seg]})
    return {"d": SECONDS * 1000, "m": {"width": W, "height": H, "fps": FPS}, "t": tracks}


def video_sound(tmp: Path, runs: int, quality: str) -> None:
    """(e) the cost of a video source's own sound."""
    vid = tone_video(
        tmp / "vid.mp4", [(SECONDS / 2, 440), (SECONDS / 2, 880)], size=(1280, 720), fps=FPS
    )
    for music in (None, "builtin:lofi"):
        t: dict[str, list] = {"muted": [], "sound": []}
        for _ in range(runs):
            for name, m in (("muted", {"mute": True}), ("sound", {})):

                def one(m=m, music=music) -> float:
                    s = time.perf_counter()
                    pipeline.render_draft(
                        video_draft({"motion": "static", **m}, music),
                        {"vid": vid},
                        tmp / "v.mp4",
                        quality=quality,
                    )
                    return time.perf_counter() - s

                t[name].append(timed(one))
        d = video_draft({"motion": "static"}, music)
        canvas = pipeline.canvas_of(d, quality)
        prep = []
        for _ in range(max(3, runs)):
            s = time.perf_counter()
            pipeline._soundtrack(d, {"vid": vid}, canvas)
            prep.append(time.perf_counter() - s)
        (mw, mc), (sw, sc) = (min(x) for x in (t["muted"], t["sound"]))
        mc, sc = (min(c for _, c in x) for x in (t["muted"], t["sound"]))
        label = f"with {music}" if music else "no music"
        print(
            f"  video source, 5 s, {label}: muted {mw:.2f} s ({mc:.2f} CPU), with its sound "
            f"{sw:.2f} s ({sc:.2f} CPU); soundtrack {min(prep) * 1000:.0f} ms"
        )


def load() -> str:
    """The 1-minute load average (other work on the machine slows every figure)."""
    try:
        return f"load {os.getloadavg()[0]:.2f}"
    except OSError:
        return "load ?"


def draft_previews(tmp: Path, inputs: dict[str, Path], runs: int) -> None:
    """(d) a 5 s `draft` preview (960x540, ultrafast) of each source, after one untimed render
    (a warm worker: imports done, encoder tables built): the first preview of a new image
    (decoded, framed, converted); one of an image already decoded (ahead, as the engine does
    after an upload, or by a preview framed otherwise: render/kept_stills.py); and again (a new
    title, other music: its stage kept too). Beside them, in the same rounds, x264 alone
    encoding that draft's very frames with its settings: what the machine gives at the time
    (a shared machine's speed drifts). Then the same with another process keeping one of the
    cores busy (a loaded machine)."""
    ours(inputs[next(iter(inputs))], tmp / "draft.mp4", "draft")
    for busy in (False, True):
        with one_core_busy(busy):
            for name, src in inputs.items():
                frames = frames_of(src, "draft")

                def draft(src: Path = src) -> float:
                    return ours(src, tmp / "draft.mp4", "draft")

                def alone(frames: list = frames) -> float:
                    return floor(frames, tmp / "floor.mp4", "draft")

                first, ahead, again, x264 = [], [], [], []
                for _ in range(runs):  # round by round, so that drift hits all alike
                    forget_drafts()  # a new image: nothing kept
                    first.append(timed(draft))
                    forget_drafts()  # decoded ahead (untimed), framed now
                    kept_stills.STILLS.prepare(src)
                    ahead.append(timed(draft))
                    again.append(timed(draft))
                    x264.append(timed(alone))
                del frames
                wall, cpu_s = (
                    [f"{median(x[i] for x in t):.2f}" for t in (first, ahead, again, x264)]
                    for i in (0, 1)
                )
                print(
                    f"  draft preview (5 s, 960x540, ultrafast), {name:>20}"
                    f"{', one core busy' if busy else ''}:\n"
                    f"    first {wall[0]} s wall ({cpu_s[0]} s CPU); decoded ahead {wall[1]} s "
                    f"({cpu_s[1]}); again {wall[2]} s ({cpu_s[2]}); x264 alone on its frames "
                    f"{wall[3]} s ({cpu_s[3]}); medians of {runs}; {load()}"
                )


@contextlib.contextmanager
def one_core_busy(busy: bool = True) -> Iterator[None]:
    """Another process keeping one core busy meanwhile (a loaded machine), if `busy`."""
    if not busy:
        yield
        return
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)  # (running by the first measurement)
        yield
    finally:
        spin.kill()
        spin.wait()


def app_previews(tmp: Path, photo: Path, runs: int) -> None:
    """(d) the same through the embedded engine, as the app's Preview pane asks for a draft
    (tui/preview/source.py: render at the draft tier, poll, download), timed from that ask to
    the MP4 in the app's folder: a photo never seen before, uploaded, then the turn ("a 5-second
    clip in 1080p, zoom in": the agent's framing, its subject searched) typed in 1 s (the engine
    decodes it meanwhile) or queued right behind the upload (the draft decodes it); then the
    turn "title '...'" typed in 1 s and its preview (the stage kept). Each round's photo is
    `photo` with other bytes (a JPEG comment), so it is new to the engine, and no slower to
    decode. Beside each, when the pane would start playing it: its first picture decoded (by
    the pane's own decoder, tui/preview/frames.py) from the part of the draft that has come
    (the engine sends a draft as it renders)."""
    home = os.environ.get("I2V_FLOW_HOME")
    os.environ["I2V_FLOW_HOME"] = str(tmp / "app")  # (the app's state: preview files, token)
    try:
        asyncio.run(_app_previews(tmp, photo.read_bytes(), runs))
    finally:
        if home is None:
            del os.environ["I2V_FLOW_HOME"]
        else:
            os.environ["I2V_FLOW_HOME"] = home


async def _app_previews(tmp: Path, jpeg: bytes, runs: int) -> None:
    from tui.preview.frames import decode, warm_up
    from tui.preview.source import render_draft
    from tui.session.backend import Backend

    assert jpeg[:2] == b"\xff\xd8"
    made = 0
    plays: list[float] = []
    waits: list[float] = []

    def new_photo() -> Path:
        nonlocal made
        made += 1
        note = f"round {made}".encode()
        path = tmp / f"app-{made}.jpg"
        path.write_bytes(
            jpeg[:2] + b"\xff\xfe" + (len(note) + 2).to_bytes(2, "big") + note + jpeg[2:]
        )
        return path

    async def preview(backend: Backend) -> float:
        """The whole draft in the app's folder; beside it, in `plays`, when its first picture
        was decoded from the part that had come (the pane shows it then: it plays as it comes),
        and in `waits` how long playing from then on would have waited for a picture at most
        (frame n is due n/fps after the first; the decoder reports every 10th as it comes)."""
        draft = await backend.draft()
        t = time.perf_counter()
        first: list[float] = []
        late = [0.0]
        decoder: list[threading.Thread] = []

        def started(source) -> None:
            def run() -> None:
                decode(source.path, 100, 30, seconds=source.seconds, on_frame=shown)

            def shown(clip) -> None:
                now = time.perf_counter() - t
                if not first:
                    first.append(now)
                due = first[0] + (len(clip.frames) - 1) / clip.fps
                late[0] = max(late[0], now - due)

            decoder.append(threading.Thread(target=run))
            decoder[0].start()

        await render_draft(backend, draft, started)
        whole = time.perf_counter() - t
        await asyncio.to_thread(decoder[0].join)
        plays.append(first[0])
        waits.append(late[0])
        return whole

    async def turn(backend: Backend, text: str) -> None:
        async for _ in backend.turn(text):
            pass

    async with Backend(None, owner="app", persist_session=False) as backend:
        await backend.connect()
        for busy in (False, True):
            with one_core_busy(busy):
                typed, queued, titled = [], [], []
                plays.clear()
                waits.clear()
                for r in range(runs + 1):  # (the first round warms the worker: not counted)
                    for times, pause in ((typed, 1.0), (queued, 0.0)):
                        await backend.new_session(persist=False)
                        await backend.upload([new_photo()])
                        warm_up()  # the pane's decoder, started as the app does meanwhile
                        await asyncio.sleep(pause)  # the person typing the turn
                        await turn(backend, PROMPT)
                        times.append(await preview(backend))
                    await asyncio.sleep(1.0)  # the person typing it
                    await turn(backend, f"title 'Round {r}'")
                    titled.append(await preview(backend))
                # plays: typed, queued, titled for each round (the first's three not counted)
                first = [plays[3::3], plays[4::3], plays[5::3]]
                print(
                    f"  through the engine, as the app's preview asks, {'3840x2160 JPEG':>20}"
                    f"{', one core busy' if busy else ''}:\n"
                    f"    after its upload and a turn typed in 1 s {median(typed[1:]):.2f} s; "
                    f"the turn queued behind the upload {median(queued[1:]):.2f} s; "
                    f"a new title {median(titled[1:]):.2f} s; medians of {runs}; {load()}\n"
                    f"    playing (its first picture decoded) after "
                    + ", ".join(f"{median(xs):.2f}" for xs in first)
                    + " s (the same three); playing on, a picture was late by at most "
                    + f"{max(waits[3:]) * 1000:.0f} ms"
                )


def forget_drafts() -> None:
    """Nothing kept for drafts in this process: no stage, no decoded photo."""
    pipeline._PREPARED._items.clear()
    kept_stills.STILLS.clear()


def median(xs) -> float:
    return float(np.median(list(xs)))


PROMPT = "a 5-second clip in 1080p, zoom in"
# Where a Python thread's sample goes: the innermost frame naming one of these (first match).
PARTS = (
    # (the encode call itself is compiled: its samples end in _encode, the line calling it)
    (
        "x264 encode (the call)",
        ("x264", "VideoStream.encode", "encode (av/", "avcodec", "_encode ("),
    ),
    ("image decode", ("load_image", "imdecode")),
    ("subject search", ("find_subject", "faces_box", "saliency_map")),
    ("fit + YUV conversion", ("fit_image", "stage_of", "fit_cover", "rgb_to_yuv", "_resize")),
    ("frame generation (warp)", ("warp_into", "composite_into", "_FrameMaker.frame")),
    ("sound", ("_soundtrack", "soundtrack", "_feed_audio")),
    ("agent turn", ("plan_turn",)),
    ("upload / download (hash, copy)", ("UploadSink", "SHA256", "_download", "download")),
    ("imports (start-up)", ("_find_and_load", "_call_with_frames_removed")),
)
WAITS = ("acquire_lock", "Condition.wait", "epoll_wait", "pthread_cond", "wait4", "select", "poll")
WAITS += ("sem_wait", "sched_yield", "read (libc", "threadpool_wait")


def command(tmp: Path, src: Path, out: Path, q: str, spy: str | None = None) -> tuple[float, float]:
    """(wall, CPU of all its processes) of one `i2v-flow render` in a fresh home (so the engine
    starts, as on a first use); under py-spy when `spy` names its output file."""
    home = tmp / f"home-{time.monotonic_ns()}"
    env = {**os.environ, "I2V_FLOW_HOME": str(home), "I2V_FLOW_CONFIG": os.devnull}
    # As installed: bytecode cached (with PYTHONDONTWRITEBYTECODE set, as in some sandboxes,
    # each of the three processes compiles every module it imports, every time).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cmd = cmd_tail(src, out, q)
    if spy:
        py_spy = str(Path(sys.executable).with_name("py-spy"))
        cmd = [py_spy, "record", "-r", "200", "--subprocesses", "--native", "-f", "raw", "-o", spy]
        cmd += ["--", *cmd_tail(src, out, q)]
    out.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, env=env, capture_output=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, used


def cmd_tail(src: Path, out: Path, q: str, quiet: bool = True) -> list[str]:
    return [sys.executable, "-m", "tui", "render", str(src), "-p", PROMPT, "-o", str(out),
            "--quality", q, *(["-q"] if quiet else [])]  # fmt: skip


def timeline(tmp: Path, src: Path, out: Path, q: str) -> list[tuple[str, float]]:
    """Where one `i2v-flow render`'s wall time goes, in order: its lines' arrival (stderr
    without -q) and the engine's own record of the render (created, completed)."""
    import sqlite3
    import threading

    home = tmp / f"home-{time.monotonic_ns()}"
    env = {**os.environ, "I2V_FLOW_HOME": str(home), "I2V_FLOW_CONFIG": os.devnull}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out.unlink(missing_ok=True)
    seen: dict[str, float] = {}
    t0 = time.time()
    proc = subprocess.Popen(
        cmd_tail(src, out, q, quiet=False), cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip

    def read(stream) -> None:
        for raw in iter(lambda: stream.read1(4096), b""):
            now = time.time() - t0
            for part in raw.decode(errors="replace").replace("\r", "\n").split("\n"):
                for mark in ("Uploading", "Rendering", "Saved"):
                    if part.startswith(mark):
                        seen.setdefault(mark, now)

    readers = [threading.Thread(target=read, args=(f,)) for f in (proc.stdout, proc.stderr)]
    for r in readers:
        r.start()
    proc.wait()
    end = time.time() - t0
    for r in readers:
        r.join()
    with sqlite3.connect(home / "engine" / "engine.sqlite3") as db:
        created, completed = db.execute("SELECT created_at, completed_at FROM renders").fetchone()
    marks = [
        ("engine started, token and session", seen["Uploading"]),
        ("upload and the agent's turn", seen["Rendering"]),
        ("render asked for (state read, POST)", created - t0),
        ("the render in the worker", completed - t0),
        ("render seen done, MP4 downloaded", seen["Saved"]),
        ("credits read, engine stopped, exit", end),
    ]
    steps: list[tuple[str, float]] = []
    last = 0.0
    for label, at in marks:
        steps.append((label, at - last))
        last = at
    return steps


def decoded(path: Path) -> list[np.ndarray]:
    """The frames of an MP4 as yuv420p buffers (the floor encodes these)."""
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="yuv420p") for f in c.decode(video=0)]


def breakdown(raw: Path) -> list[tuple[str, float]]:
    """Shares of py-spy's busy samples (waits left out) by part, largest first."""
    parts: dict[str, int] = {}
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        if any(w in f for f in frames[-4:] for w in WAITS):  # a wait, under a few native calls
            continue
        name = None
        for f in reversed(frames):
            name = next((p for p, marks in PARTS if any(m in f for m in marks)), None)
            if name:
                break
        if name is None and not any(" (" in f and ".py" in f for f in frames):
            name = "native code with no Python frame (mostly waits)"
        if name is None:
            proc = (
                "worker"
                if "tui.engine.worker" in stack
                else "engine"
                if "tui.engine" in stack
                else "command"
            )
            name = f"other ({proc}: HTTP, event loop, bookkeeping)"
        parts[name] = parts.get(name, 0) + int(n)
    total = sum(parts.values()) or 1
    return sorted(((k, v / total) for k, v in parts.items()), key=lambda kv: -kv[1])


def whole_command(tmp: Path, src: Path, runs: int, q: str) -> None:
    """(f): the whole command against the x264 floor and zoompan, medians of `runs`."""
    out = tmp / "cmd.mp4"
    command(tmp, src, out, q)  # warm the file cache and the interpreter's bytecode
    frames = decoded(out)
    canvas = pipeline.Canvas(W, H, FPS, SECONDS * 1000)
    assert len(frames) == canvas.frames and frames[0].shape == (H * 3 // 2, W)
    t_cmd, t_floor, t_zp = [], [], []
    for _ in range(runs):  # alternating, so that load from elsewhere hits all alike
        t_cmd.append(command(tmp, src, out, q))
        c = cpu()
        t = time.perf_counter()
        pipeline.encode_frames(frames, canvas, tmp / "floor.mp4", q)
        t_floor.append((time.perf_counter() - t, cpu() - c))
        t_zp.append(timed(lambda: zoompan(src, tmp / "zp.mp4", q)))
    (cw, cc), (fw, fc), (zw, zc) = (
        (median(w for w, _ in t), median(c for _, c in t)) for t in (t_cmd, t_floor, t_zp)
    )
    # The ratio in each round (the three back to back) and their median: the machine's speed
    # drifts between rounds, which a ratio of medians taken across rounds would carry.
    pairs = list(zip(t_cmd, t_floor, t_zp, strict=True))
    r_cmd = median(c[0] / f[0] for c, f, _ in pairs)
    r_cpu = median(c[1] / f[1] for c, f, _ in pairs)
    r_zp = median(z[0] / f[0] for _, f, z in pairs)
    print(
        f"  whole command (engine start, upload, turn, render, download), median of {runs}: "
        f"{cw:.2f} s wall, {cc:.2f} s CPU; x264 floor {fw:.2f} s wall, {fc:.2f} s CPU; "
        f"zoompan {zw:.2f} s wall, {zc:.2f} s CPU; {load()}"
    )
    print(
        f"  ratio to the floor, round by round (median; all): command {r_cmd:.2f}x "
        f"({', '.join(f'{c[0] / f[0]:.2f}' for c, f, _ in pairs)}), CPU {r_cpu:.2f}x; "
        f"zoompan {r_zp:.2f}x ({', '.join(f'{z[0] / f[0]:.2f}' for _, f, z in pairs)})"
    )
    phases = [timeline(tmp, src, out, q) for _ in range(runs)]
    print(f"  where the command's wall time goes (median of {runs}):")
    for k, (label, _) in enumerate(phases[0]):
        print(f"    {label:<48} {median(p[k][1] for p in phases):6.2f} s")
    if not Path(sys.executable).with_name("py-spy").exists():
        print("  (no py-spy in this environment: pip install py-spy for the breakdown)")
        return
    raw = tmp / "spy.txt"
    command(tmp, src, out, q, spy=str(raw))
    print("  where the command's Python threads spend their busy time (py-spy, 200 Hz):")
    for name, share in breakdown(raw):
        if share >= 0.005:
            print(f"    {name:<48} {share * 100:5.1f} %")


def draft_inputs(tmp: Path, uhd: Path, twelve: Path) -> dict[str, Path]:
    png = tmp / "uhd.png"
    Image.open(uhd).save(png)  # zlib level 6, as Pillow and most tools write PNGs
    return {"3840x2160 JPEG": uhd, "12MP 4000x3000 JPEG": twelve, "3840x2160 PNG": png}


def best(fn, runs: int) -> float:
    return min(fn() for _ in range(runs))


def cpu() -> float:
    """CPU seconds of this process, all threads (x264's included)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(fn) -> tuple[float, float]:
    """(wall, CPU) seconds of fn()."""
    c = cpu()
    wall = fn()
    return wall, cpu() - c


def track_file(out: Path, marks: list, size: tuple[int, int]) -> tuple[float, float, int]:
    luma = video_luma(out)
    sw, sh = size
    start = [(mx / sw * W, my / sh * H) for mx, my in marks]  # frame 0 shows the whole chart
    pts = track_markers(luma, start, radius=24)
    rms, back = smoothness(pts)
    return rms, back, len(luma)


_CHILD = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from tui.engine.render import render_draft
d = json.loads({draft!r})
t = time.perf_counter()
render_draft(d, {{"img": Path({src!r})}}, Path({out!r}), quality={quality!r})
el = time.perf_counter() - t
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent.
hwm = [int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM")][0]
print(json.dumps({{"rss_mb": hwm / 1024, "s": el}}))
"""


def peak_rss(src: Path, out: Path, quality="high") -> dict:
    code = _CHILD.format(
        root=str(ROOT), draft=json.dumps(draft_of()), src=str(src), out=str(out), quality=quality
    )
    env = {**os.environ, **AS_WORKER}  # (a fresh process rendering, as a worker)
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def small_pages() -> None:
    """Huge pages off for this process and what it starts, as the render worker has them
    (tui/engine/worker.py): the floor is then x264 at its best here, not x264 slowed by the
    first faults of huge pages (8 s against 6 s on this machine), and the renders measured in
    this process are made as the worker makes them."""
    from tui.engine.worker import no_huge_pages

    if no_huge_pages():
        print("(transparent huge pages off in this process and its children, as in a worker)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one run each, not 3 (5 for d and f)")
    ap.add_argument("--quality", default="high")
    ap.add_argument("--draft-only", action="store_true", help="only (d), the draft previews")
    ap.add_argument("--command", action="store_true", help="only (f), the whole command")
    args = ap.parse_args()
    small_pages()
    runs = 1 if args.quick else 3
    q = args.quality
    with tempfile.TemporaryDirectory(prefix="i2v-bench-") as tmp:
        tmp = Path(tmp)
        inputs = {
            "3840x2160": photo_like(tmp / "uhd.jpg", (3840, 2160)),
            "12MP 4000x3000": photo_like(tmp / "12mp.jpg", (4000, 3000), seed=8),
        }
        drafts = draft_inputs(tmp, inputs["3840x2160"], inputs["12MP 4000x3000"])
        if args.command:
            print(f"# the whole `i2v-flow render` command, quality {q}")
            whole_command(tmp, inputs["3840x2160"], max(5, runs), q)
            return
        if args.draft_only:
            print(f"# 5 s of {W}x{H}@{FPS} as a draft, zoom_in {STRENGTH}")
            draft_previews(tmp, drafts, max(5, runs))
            app_previews(tmp, inputs["3840x2160"], max(5, runs))
            return
        print(f"# 5 s of {W}x{H}@{FPS}, zoom_in {STRENGTH}, quality {q} ({pipeline.QUALITY[q]})")
        for name, src in inputs.items():
            frames = frames_of(src, q)
            t_floor, t_ours, t_zp = [], [], []
            for _ in range(runs):  # alternating, so that load from elsewhere hits all alike
                t_floor.append(timed(lambda frames=frames: floor(frames, tmp / "floor.mp4", q)))
                t_ours.append(timed(lambda src=src: ours(src, tmp / "ours.mp4", q)))
                t_zp.append(timed(lambda src=src: zoompan(src, tmp / "zp.mp4", q)))
            del frames
            (f, fc), (o, oc), (z, zc) = (
                (median(w for w, _ in t), median(c for _, c in t)) for t in (t_floor, t_ours, t_zp)
            )
            rounds = list(zip(t_floor, t_ours, t_zp, strict=True))
            r_ours = median(o_[0] / f_[0] for f_, o_, _ in rounds)
            r_zp = median(z_[0] / o_[0] for _, o_, z_ in rounds)
            print(
                f"{name:>15}: wall (median of {runs}): ours {o:.2f} s, x264 floor {f:.2f} s, "
                f"zoompan {z:.2f} s; round by round: ours {r_ours:.2f}x the floor "
                f"({', '.join(f'{o_[0] / f_[0]:.2f}' for f_, o_, _ in rounds)}), "
                f"ours {r_zp:.2f}x as fast as zoompan; {load()}"
            )
            print(
                f"{'':>15}  CPU  (median of {runs}): ours {oc:.2f} s, x264 floor {fc:.2f} s "
                f"-> {oc / fc:.2f}x; zoompan {zc:.2f} s -> {zc / oc:.2f}x ours"
            )
        chart, marks = marker_chart(tmp / "chart.png")
        pipeline.render_draft(draft_of(), {"img": chart}, tmp / "c_ours.mp4", quality=q)
        zoompan(chart, tmp / "c_zp.mp4", q)
        for label, f in (("ours", "c_ours.mp4"), ("zoompan", "c_zp.mp4")):
            rms, back, n = track_file(tmp / f, marks, (3840, 2160))
            print(
                f"  smoothness {label:>8}: RMS 2nd difference {rms:.3f} px/frame², "
                f"largest step back {back:.3f} px ({n} frames)"
            )
        big = photo_like(tmp / "24mp.jpg", (6000, 4000), seed=9)
        r = peak_rss(big, tmp / "big.mp4", q)
        print(f"  24 MP JPEG 6000x4000: peak RSS {r['rss_mb']:.0f} MB (render {r['s']:.2f} s)")
        big_png = tmp / "24mp.png"
        Image.open(big).save(big_png, compress_level=1)
        r = peak_rss(big_png, tmp / "big.mp4", q)
        print(f"  24 MP PNG  6000x4000: peak RSS {r['rss_mb']:.0f} MB (render {r['s']:.2f} s)")
        draft_previews(tmp, drafts, max(5, runs))
        app_previews(tmp, inputs["3840x2160"], max(5, runs))
        video_sound(tmp, runs, q)
        whole_command(tmp, inputs["3840x2160"], max(5, runs), q)


if __name__ == "__main__":
    main()
