"""A throwaway PostgreSQL 15 cluster the test owns, so it can stop and start the server."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

BIN = Path(os.environ.get("PG_BIN_DIR", "/usr/lib/postgresql/15/bin"))


def missing() -> str | None:
    """Why no cluster can be made here, or None."""
    for tool in ("initdb", "pg_ctl"):
        if not (BIN / tool).exists():
            return f"no {BIN / tool} (install PostgreSQL 15 server binaries or set PG_BIN_DIR)"
    if os.geteuid() == 0 and not shutil.which("runuser"):
        return "running as root and no runuser to run initdb as the postgres user"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """initdb in `root`, then start/stop on a free port on 127.0.0.1 with trust auth."""

    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> Cluster:
        if os.geteuid() == 0:             # initdb refuses root: the files belong to postgres
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options,
                  "-w", "-t", "30", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")

    def stop_if_running(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()

    def _run(self, tool: str, *args: str) -> None:
        command = [str(BIN / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)
