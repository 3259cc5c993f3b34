"""A private PostgreSQL cluster for the tests: initdb into a temporary folder, listening on a Unix
socket in that folder only (no TCP), stopped and removed after.

initdb refuses to run as root: as root, the cluster is made and run as `nobody` (runuser), in a
folder that user owns. `I2V_TEST_PG_DSN` names a server to use instead (each test still gets a
database of its own there).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DSN_ENV = "I2V_TEST_PG_DSN"
SUPERUSER = "i2v"


def why_not() -> str | None:
    """Why no PostgreSQL test can run here, or None."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[scale]')"
    if os.environ.get(DSN_ENV):
        return None
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        return f"no PostgreSQL server: {DSN_ENV} unset and no initdb/pg_ctl on PATH"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: initdb cannot run"
    return None


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "nobody", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def cluster() -> Iterator[str]:
    """A started cluster's admin URL (its `postgres` database); stopped and removed after."""
    if os.environ.get(DSN_ENV):
        yield os.environ[DSN_ENV]
        return
    root = Path(tempfile.mkdtemp(prefix="i2v-pg-"))
    if os.geteuid() == 0:
        os.chown(root, *_nobody())
    data = root / "data"
    run = {"capture_output": True, "timeout": 60, "check": True}
    subprocess.run(
        _as_owner(
            ["initdb", "-D", str(data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync"]
        ),
        **run,
    )
    opts = f"-c listen_addresses='' -c unix_socket_directories='{root}' -c fsync=off"
    opts += " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    subprocess.run(
        _as_owner(["pg_ctl", "-D", str(data), "-l", str(root / "log"), "-o", opts, "-w", "start"]),
        **run,
    )
    try:
        yield f"postgresql://{SUPERUSER}@/postgres?host={root}"
    finally:
        subprocess.run(
            _as_owner(["pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


def _nobody() -> tuple[int, int]:
    import pwd

    pw = pwd.getpwnam("nobody")
    return pw.pw_uid, pw.pw_gid


@contextmanager
def database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the cluster for one test (parallel-safe); dropped after."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:16]
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_dbname(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _with_dbname(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(url)._replace(path="/" + name))
