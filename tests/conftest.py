"""Shared fixtures: a private I2V_FLOW_HOME per test and a real engine per test worker."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tui.app import state as app_state

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("I2V_FLOW_HOME", str(home))
    # The developer's own ~/.config/…/config.toml must not change what a test sees.
    monkeypatch.setenv("I2V_FLOW_CONFIG", os.devnull)
    monkeypatch.delenv("NEMO_TOKEN", raising=False)
    monkeypatch.delenv("I2V_FLOW_API", raising=False)
    # The first launch's three-line how-to shows in test_app_words.py's tests only: in every
    # other test, each a first launch, it would only push what the test looks at down a screen.
    monkeypatch.setattr(app_state, "HOW_TO_ON_FIRST_LAUNCH", False)
    return home


@pytest.fixture(scope="session")
def engine_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real engine, started as `i2v-flow serve` would, on a free loopback port."""
    data = tmp_path_factory.mktemp("engine")
    # Every test makes its own account here: the mint limits (ratelimit.py) are raised for it.
    env = {**os.environ, "I2V_ENGINE_MINT_RATE": "100000", "I2V_ENGINE_ACCOUNT_RATE": "100000"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.engine", "--port", "0", "--data", str(data), "--watch-stdin"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    if "listening on " not in line:
        proc.kill()
        raise RuntimeError(f"engine did not start: {line!r} {proc.stderr.read().decode()[-2000:]}")
    url = line.strip().rsplit("listening on ", 1)[1]
    try:
        yield url
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def api(engine_url: str) -> Iterator[httpx.Client]:
    """A plain HTTP client of the shared engine, for tests that speak the protocol by hand."""
    with httpx.Client(base_url=engine_url, timeout=30) as c:
        yield c


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[str]:
    """A private PostgreSQL cluster (tests/pg_cluster.py), one per test process, started on
    first use; skipped with the reason when there is no server to start."""
    from tests import pg_cluster

    reason = pg_cluster.why_not()
    if reason:
        pytest.skip(reason)
    with pg_cluster.cluster() as url:
        yield url


@pytest.fixture
def pg_url(pg_admin: str) -> Iterator[str]:
    """A database of this test's own on the private cluster."""
    from tests import pg_cluster

    with pg_cluster.database(pg_admin) as url:
        yield url


@pytest.fixture(scope="module")
def _fake_backend():
    """A programmable, misbehaving backend (tests/cloud_standin.py), one per module."""
    from tests.cloud_standin import FakeBackend

    with FakeBackend() as backend:
        yield backend


@pytest.fixture
def fb(_fake_backend):
    _fake_backend.reset()
    return _fake_backend


@pytest.fixture(scope="module")
def _standin():
    """The cloud stand-in (tests/cloud_standin.py), one per module."""
    from tests.cloud_standin import CloudStandin

    with CloudStandin() as server:
        yield server


@pytest.fixture
def cloud(_standin):
    """The stand-in as new: its accounts, sessions and faults reset."""
    _standin.reset()
    return _standin


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("PYTHONHASHSEED", "0")


# SVG snapshots live in snapshots/<test_module>/<test>.svg at the top of the repository
# (pytest-textual-snapshot pins syrupy 4.8, which has no --snapshot-dirname).
try:
    import pytest_textual_snapshot

    class _TopLevelSVG(pytest_textual_snapshot.SVGImageExtension):
        @classmethod
        def dirname(cls, *, test_location) -> str:  # type: ignore[override]
            return str(ROOT / "snapshots" / test_location.basename)

    pytest_textual_snapshot.SVGImageExtension = _TopLevelSVG
except ImportError:  # pragma: no cover
    pass
