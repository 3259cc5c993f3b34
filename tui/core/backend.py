"""Choosing the backend: the cloud when configured, else the embedded engine in a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

CLOUD_URL = "https://mega-api-prod.nemovideo.ai"
CLOUD_ALIAS = "cloud"  # `--api cloud`, I2V_FLOW_API=cloud: the service without typing its URL


@dataclass(frozen=True)
class BackendChoice:
    url: str | None  # None: start the embedded engine
    token: str | None  # NEMO_TOKEN, when set

    @property
    def is_cloud(self) -> bool:
        return self.url is not None


def choose(api: str | None = None) -> BackendChoice:
    """`api`, else I2V_FLOW_API, else the cloud when NEMO_TOKEN is set, else the embedded
    engine. `cloud` names the NemoVideo service; without NEMO_TOKEN it is used anonymously (a
    token is asked for on first use)."""
    url = (api or os.environ.get("I2V_FLOW_API") or "").strip() or None
    if url is not None and url.lower() == CLOUD_ALIAS:
        url = CLOUD_URL
    token = os.environ.get("NEMO_TOKEN") or None
    if token and not url:
        url = CLOUD_URL
    return BackendChoice(url.rstrip("/") if url else None, token)


class EngineStartError(RuntimeError):
    pass


class EmbeddedEngine:
    """The local engine in its own process, on a Unix socket of its own in a 0700 folder (only
    our user can reach it, unlike a loopback port); stops with us. Its `url` is the socket's
    `http+unix://` URL (tui.core.paths.socket_url), which the client takes like any other."""

    def __init__(
        self, data_dir: Path | None = None, workers: int | None = None, *, warm_now: bool = False
    ):
        self.data_dir = data_dir
        self.workers = workers
        self.warm_now = warm_now  # a render worker at once: no first screen to leave room for
        self.proc: asyncio.subprocess.Process | None = None
        self.url: str | None = None
        self.socket: Path | None = None
        self._own_folder = False  # the socket's folder is a mkdtemp one: removed with it

    async def start(self, timeout: float = 30.0) -> str:
        from tui.core.paths import engine_dir, new_socket_path

        self.socket, self._own_folder = new_socket_path()
        args = [
            sys.executable,
            "-m",
            "tui.engine",
            "--socket",
            str(self.socket),
            "--watch-stdin",
            "--data",
            str(self.data_dir or engine_dir()),
        ]
        if self.workers:
            args += ["--workers", str(self.workers)]
        if self.warm_now:
            args.append("--warm-now")
        self.proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        except TimeoutError:
            await self.stop()
            raise EngineStartError(f"the local engine did not start within {timeout:g} s") from None
        text = line.decode(errors="replace").strip()
        if "listening on " not in text:
            err = b""
            if self.proc.stderr is not None:
                with contextlib.suppress(TimeoutError):
                    err = await asyncio.wait_for(self.proc.stderr.read(), 5)
            await self.stop()
            detail = err.decode(errors="replace").strip().splitlines()
            raise EngineStartError(
                "the local engine failed to start: "
                + (detail[-1] if detail else text or "no output")
            )
        self.url = text.rsplit("listening on ", 1)[1]
        # Keep draining stderr so the engine never blocks on a full pipe.
        asyncio.get_running_loop().create_task(self._drain())
        return self.url

    async def _drain(self) -> None:
        proc = self.proc
        if proc is None or proc.stderr is None:
            return
        try:
            while await proc.stderr.read(65536):
                pass
        except Exception:
            pass

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        try:
            if proc is None or proc.returncode is not None:
                return
            if proc.stdin is not None:
                proc.stdin.close()  # the engine stops when its stdin closes
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        finally:
            self._remove_socket()

    def _remove_socket(self) -> None:
        """The engine removes its socket as it stops; this covers one that was killed."""
        sock, self.socket = self.socket, None
        if sock is None:
            return
        with contextlib.suppress(OSError):
            sock.unlink(missing_ok=True)
            if self._own_folder:
                sock.parent.rmdir()
