"""Servers the suite starts, and may break, itself: a PostgreSQL cluster in a temporary folder,
redis-server, gunicorn, ``flask worker``, an SMTP server and a webhook receiver, each on a spare
loopback port. The machine's own services are never touched. Everything is stopped by its pid.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller

REPO_ROOT = Path(__file__).resolve().parents[2]
POSTGRES_BIN = Path(os.environ.get("RELIABILITY_PG_BIN", "/usr/lib/postgresql/15/bin"))
READY_TIMEOUT = 60.0
# A submission's tag, as the load generator writes it; a message may quote it more than once.
TAG_RE = re.compile(rb"rel-[a-z]+-\d+-\d+")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def missing_programs() -> list[str]:
    """What the suite needs and this machine lacks."""
    needed = [POSTGRES_BIN / "initdb", POSTGRES_BIN / "pg_ctl"]
    missing = [str(path) for path in needed if not path.exists()]
    if shutil.which("redis-server") is None:
        missing.append("redis-server")
    return missing


def wait_for_port(port: int, process: subprocess.Popen | None, what: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            break
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on port {port}; its log:\n{tail(log)}")


def tail(path: Path, chars: int = 3000) -> str:
    with contextlib.suppress(OSError):
        return path.read_text(errors="replace")[-chars:]
    return "(no log)"


def stop_process(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL to the process group it leads (its own session: only ours)."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class Supervisor:
    """Starts programs in their own sessions, logging to files, and stops all of them."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str, command: Sequence[str], env: dict[str, str]) -> subprocess.Popen:
        log = self.workdir / f"{name}.log"
        with log.open("a") as output:
            process = subprocess.Popen(
                list(command),
                cwd=REPO_ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def run(self, command: Sequence[str], env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            list(command), cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:4])} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            with contextlib.suppress(Exception):
                stop_process(process)


class PostgresCluster:
    """A cluster of our own under ``root``. initdb refuses to run as root, so when we are root
    its programs run as the ``postgres`` user, in a folder that user owns."""

    def __init__(self, supervisor: Supervisor, root: Path) -> None:
        self.supervisor = supervisor
        self.root = root
        self.data = root / "data"
        self.log = supervisor.workdir / "postgresql.log"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/formyard"

    def _as_owner(self, *command: str) -> list[str]:
        if os.geteuid() != 0:
            return list(command)
        return ["runuser", "-u", "postgres", "--", *command]

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            self.supervisor.workdir.chmod(0o711)  # mkdtemp's 0700 would keep postgres out
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self.log.touch()
            os.chown(self.log, owner.pw_uid, owner.pw_gid)
        initdb = str(POSTGRES_BIN / "initdb")
        self.supervisor.run(
            self._as_owner(initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "-N")
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c max_connections=200 -c shared_buffers=64MB"
        )
        (self.root / "options").write_text(options)
        self.start()
        self.supervisor.run(
            self._as_owner(
                str(POSTGRES_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "formyard"
            )
        )

    def _pg_ctl(self, *arguments: str) -> None:
        pg_ctl = str(POSTGRES_BIN / "pg_ctl")
        self.supervisor.run(self._as_owner(pg_ctl, "-D", str(self.data), *arguments))

    def start(self) -> None:
        options = (self.root / "options").read_text()
        self._pg_ctl("-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, "-w", "-t", "60", "stop")

    def postmaster_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().split()[0])
        return None

    def shut_down(self) -> None:
        """Stop the cluster for good, by its pid if pg_ctl cannot."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        try:
            self.stop("fast")
        except Exception:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGQUIT)  # PostgreSQL's immediate shutdown


class RedisServer:
    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(self.supervisor.workdir)),
        ]
        self.process = self.supervisor.start("redis", command, dict(os.environ))
        log = self.supervisor.workdir / "redis.log"
        wait_for_port(self.port, self.process, "redis-server", log)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


class Gunicorn:
    """``gunicorn wsgi:app`` with sync workers (or threads) on a spare loopback port."""

    def __init__(
        self, supervisor: Supervisor, name: str, env: dict[str, str], workers: int, threads: int
    ) -> None:
        self.supervisor = supervisor
        self.name = name
        self.port = free_port()
        self.log = supervisor.workdir / f"{name}.log"
        config = supervisor.workdir / "empty.conf.py"  # else gunicorn reads ./gunicorn.conf.py
        config.touch()
        command = [
            *(sys.executable, "-m", "gunicorn", "wsgi:app", "-c", str(config)),
            *("-w", str(workers), "-b", f"127.0.0.1:{self.port}", "--error-logfile", "-"),
            "--no-control-socket",  # else every gunicorn on the machine shares one path
            *(("-k", "sync") if threads == 1 else ("-k", "gthread", "--threads", str(threads))),
        ]
        self.process = supervisor.start(name, command, env)
        wait_for_port(self.port, self.process, "gunicorn", self.log)
        self.wait_until_healthy(workers)

    def wait_until_healthy(self, workers: int) -> None:
        """Until /healthz answers, a few times over: each worker imports the app on its own."""
        deadline = time.monotonic() + READY_TIMEOUT
        answered = 0
        while answered < 2 * workers and time.monotonic() < deadline:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                connection.request("GET", "/healthz")
                answered += connection.getresponse().status == 200
            except OSError:
                time.sleep(0.2)
            finally:
                connection.close()
        if answered < 2 * workers:
            raise RuntimeError(f"gunicorn did not answer /healthz; its log:\n{tail(self.log)}")

    def worker_pids(self) -> list[int]:
        """The pids of the master's children: the workers it serves requests with."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    pids.append(int(stat.parent.name))
        return sorted(pids)

    def stop(self) -> None:
        stop_process(self.process)


class SmtpSink:
    """An SMTP server on loopback that keeps the tags of the messages it accepts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.tags: list[str] = []
        self.controller: Controller | None = None

    async def handle_DATA(self, _server, _session, envelope) -> str:
        self.tags.extend(tag.decode() for tag in set(TAG_RE.findall(envelope.content)))
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class WebhookReceiver:
    """An HTTP server on loopback that answers 200 to every POST and keeps its tags."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.tags: list[str] = []
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.tags.extend(tag.decode() for tag in set(TAG_RE.findall(body)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
