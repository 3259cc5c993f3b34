"""Where app state lives: I2V_FLOW_HOME, else the platform's user data folder.

The one seam tests patch (by setting I2V_FLOW_HOME).
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from pathlib import Path
from urllib.parse import quote, unquote


def home() -> Path:
    env = os.environ.get("I2V_FLOW_HOME")
    if env:
        path = Path(env).expanduser()
    else:
        from platformdirs import user_data_path

        path = user_data_path("image-to-video-in-flow", appauthor=False)
    path.mkdir(parents=True, exist_ok=True)
    return path


def engine_dir() -> Path:
    return home() / "engine"


def client_state_file() -> Path:
    return home() / "client.json"


# ---- the embedded engine's socket ----------------------------------------------------------

SOCKET_SCHEME = "http+unix://"  # + the socket's path, percent-encoded: the engine's URL
_SUN_PATH = 104 if sys.platform == "darwin" else 108  # AF_UNIX path bytes, the NUL included


def socket_url(path: str | os.PathLike[str]) -> str:
    """The URL for "HTTP over this Unix socket", as the engine prints it and the client takes it."""
    return SOCKET_SCHEME + quote(os.fspath(path), safe="")


def socket_of(url: str) -> str | None:
    """The socket path in a `socket_url`, else None (a plain http(s) URL)."""
    if not url.startswith(SOCKET_SCHEME):
        return None
    return unquote(url[len(SOCKET_SCHEME) :].split("/", 1)[0]) or None


def run_dir() -> Path:
    """HOME/run: a folder for the engine's sockets that only we may enter. Made 0700 when new;
    an existing one must be a real folder (not a symlink) that we own, and gets 0700 again."""
    path = home() / "run"
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    # O_NOFOLLOW: a symlink planted at HOME/run fails here instead of being followed.
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        st = os.fstat(fd)
        if st.st_uid != os.getuid():
            raise PermissionError(f"{path} belongs to another user")
        if stat.S_IMODE(st.st_mode) != 0o700:
            os.fchmod(fd, 0o700)
    finally:
        os.close(fd)
    return path


def new_socket_path() -> tuple[Path, bool]:
    """A socket name of its own for one engine launch (the app and a watch robot may each start
    one at once): `(path, own_folder)`. In `run_dir()`, else, when that path is too long for
    AF_UNIX (deep test folders) or unusable, in a fresh 0700 `mkdtemp` folder (own_folder: True,
    removed with the socket)."""
    name = f"engine-{os.getpid()}-{os.urandom(4).hex()}.sock"  # not secrets: it loads hashlib
    try:
        folder = run_dir()
    except OSError:
        folder = None
    if folder is not None and len(os.fsencode(folder / name)) < _SUN_PATH:
        _clear_stale(folder)
        return folder / name, False
    import tempfile

    return Path(tempfile.mkdtemp(prefix="i2v-")) / name, True


def _clear_stale(folder: Path) -> None:
    """Sockets left by a launcher that is gone (both it and its engine killed outright)."""
    for sock in folder.glob("engine-*-*.sock"):
        pid = sock.name.split("-")[1]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            sock.unlink(missing_ok=True)
        except OSError:
            pass  # alive, another user's process id: not ours to judge


def part_path(dest: Path) -> Path:
    """Where a download to `dest` is written until it is whole (then renamed to `dest`): the
    file a transfer resumes, and the one the preview plays while a live draft arrives."""
    dest = Path(dest)
    return dest.with_name(f".{dest.name}.part")
