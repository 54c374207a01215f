"""A real redis-server for the Redis backend's tests (and the benchmark), never a fake.

Import the fixtures into a test module (``from tests.redis_server import redis_server,
redis_url``). ``redis_server`` starts one server per session on a free loopback port, with no
persistence, in a temporary folder; ``redis_url`` gives each test its own key prefix on it.
A missing redis-server fails the tests that need it: CI installs it.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

STARTUP_SECONDS = 10.0


def find_redis_server() -> str | None:
    """The redis-server executable: on PATH, or Debian's /usr/bin/redis-server."""
    found = shutil.which("redis-server")
    if found:
        return found
    debian = Path("/usr/bin/redis-server")
    return str(debian) if debian.exists() else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers_ping(port: int) -> bool:
    """True when a server on the port answers PING (plain RESP, no driver needed)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A redis-server process on 127.0.0.1, without persistence, stopped by :meth:`stop`.

    Args:
        folder: Its working folder (log file; nothing is saved there).
    """

    def __init__(self, folder: Path) -> None:
        executable = find_redis_server()
        if executable is None:
            raise FileNotFoundError(
                "redis-server is not installed (not on PATH, not /usr/bin/redis-server): "
                "install it with `apt-get install -y redis-server`; the Redis backend's "
                "tests run against a real server"
            )
        self.log = folder / "redis.log"
        for _attempt in range(3):  # another process may take the free port first
            self.port = _free_port()
            with self.log.open("wb") as log:
                self.process = subprocess.Popen(
                    [
                        *(executable, "--port", str(self.port), "--bind", "127.0.0.1"),
                        *("--save", "", "--appendonly", "no", "--dir", str(folder)),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            deadline = time.monotonic() + STARTUP_SECONDS
            while time.monotonic() < deadline and self.process.poll() is None:
                if _answers_ping(self.port):
                    self.url = f"redis://127.0.0.1:{self.port}/0"
                    return
                time.sleep(0.05)
            self.stop()
        raise RuntimeError(
            f"redis-server did not answer PING within {STARTUP_SECONDS:.0f} s; its log:\n"
            + self.log.read_text(errors="replace")[-2000:]
        )

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL when it does not exit)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """The URL of a redis-server started for this test session."""
    with tempfile.TemporaryDirectory(prefix="dedup-redis-") as folder:
        try:
            server = RedisServer(Path(folder))
        except (FileNotFoundError, RuntimeError) as exc:
            problem = str(exc)
        else:
            problem = ""
        if problem:
            pytest.fail(problem, pytrace=False)
        try:
            yield server.url
        finally:
            server.stop()


@pytest.fixture
def redis_url(redis_server: str, request: pytest.FixtureRequest) -> str:
    """The session server's URL with a key prefix of this test's own."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.nodeid).strip("-")
    return f"{redis_server}?prefix=test-{name}"
