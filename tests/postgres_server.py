"""A private PostgreSQL server for tests that stop and start it (the shared one stays up).

Uses the machine's PostgreSQL binaries (Debian: /usr/lib/postgresql/*/bin). PostgreSQL
refuses to run as root, so as root the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from stridewatch.broker.local import free_port

HINT = "install PostgreSQL's server binaries (Debian: apt-get install postgresql) to run this test"


def _bindir() -> Path:
    found = shutil.which("pg_ctl") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)), None
    )
    if found is None:
        raise RuntimeError(f"pg_ctl not found: {HINT}")
    return Path(found).resolve().parent


class PrivatePostgres:
    """``start``/``stop`` a throw-away cluster on a free port; ``url`` reaches its ``postgres`` database."""

    def __init__(self) -> None:
        self.bindir = _bindir()
        self.port = free_port()
        # Not under pytest's tmp_path: that is private to root, and the server may run as postgres.
        self.root = Path(tempfile.mkdtemp(prefix="sw-pg-"))
        self.data = self.root / "data"
        self._as: list[str] = []
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [*self._as, str(self.bindir / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
