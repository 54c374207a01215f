"""What test modules share that is not a fixture: the seed corpus, corpus builders, and a
real redis-server process (the Redis backend's tests and the benchmarks start one; the
fixtures are in ``conftest.py``).

Test modules import from here (``from tests.support import SEEDS``), never from another test
module or from ``conftest.py``.
"""

from __future__ import annotations

import json
import random
import shutil
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SEED_IDS = sorted(p.name for p in SEEDS.iterdir() if p.suffix == ".txt")


def seed_id(prefix: str) -> str:
    """The seed file whose name starts with ``prefix`` ('000' .. '004')."""
    (name,) = [s for s in SEED_IDS if s.startswith(prefix)]
    return name


# The columns of METER's labels.csv (the fixtures of the METER loader and of dedup eval).
METER_LABEL_COLUMNS = [
    "newspaper_file",
    "domain",
    "date",
    "catchline",
    "newspaper",
    "label",
    "pa_source_files",
    "annotated_sgml",
]


def rerun_articles(count: int, seed: int = 7, footer: str | None = None) -> list[dict]:
    """``count`` articles re-running the seeds' paragraphs (kept, dropped, reordered, lightly
    edited, mixed from two seeds) between paragraphs of their own: a corpus with reuse of every
    kind, built from files in the repository. ``footer``, when given, ends every article (a
    site's chrome line)."""
    paragraphs = [
        [p for p in (SEEDS / name).read_text(encoding="utf-8").split("\n\n") if len(p) > 80]
        for name in SEED_IDS
    ]
    words = sorted({w for ps in paragraphs for p in ps for w in p.split() if w.isalpha()})
    rng = random.Random(seed)
    articles = []
    for number in range(count):
        body = []
        for source in rng.sample(paragraphs, rng.choice((1, 1, 2))):
            for paragraph in rng.sample(source, max(1, len(source) // rng.choice((1, 2, 3)))):
                tokens = paragraph.split()
                for _ in range(rng.randrange(3)):  # a light edit
                    tokens[rng.randrange(len(tokens))] = rng.choice(words)
                body.append(" ".join(tokens))
        for _ in range(rng.randrange(1, 4)):  # the outlet's own paragraphs
            own = " ".join(rng.choice(words) for _ in range(rng.randrange(15, 40)))
            body.insert(rng.randrange(len(body) + 1), own.capitalize() + ".")
        if footer:
            body.append(footer)
        articles.append(
            {"id": f"a{number}", "title": f"Article {number}", "text": "\n\n".join(body)}
        )
    return articles


def filler_articles(count: int, seed: int = 11) -> list[dict]:
    """``count`` articles of sentences of words drawn at random from the seeds' vocabulary:
    an index or a corpus large enough for document frequencies to tell which terms are
    distinctive, sharing no passage with anything."""
    words = sorted(
        {w for name in SEED_IDS for w in (SEEDS / name).read_text(encoding="utf-8").split()}
    )
    words = [w for w in words if w.isalpha()]
    rng = random.Random(seed)
    articles = []
    for number in range(count):
        sentences = [
            " ".join(rng.choice(words) for _ in range(rng.randrange(8, 20))).capitalize() + "."
            for _ in range(rng.randrange(4, 9))
        ]
        articles.append({"id": f"filler{number}", "text": " ".join(sentences)})
    return articles


# --- a real redis-server ---------------------------------------------------------------------

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


def write_reruns(path: Path, footer: str = "Follow us for more news") -> Path:
    """90 articles re-running wire paragraphs (:func:`rerun_articles`, seed 11), a short
    ``footer`` line in each, as JSONL at ``path``."""
    articles = rerun_articles(90, seed=11, footer=footer)
    path.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
    return path


# Debian's headless Chromium, as the browser tests start it (tests/test_browser*.py).
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
