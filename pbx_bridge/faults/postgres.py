"""A throwaway PostgreSQL cluster for the fault suite and the tests: Debian's binaries, a temp
dir, a free port.

PostgreSQL refuses to run as root, so as root (CI) the server runs as the `postgres` OS user;
clients (createdb, the tests) connect over TCP with a random password.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pbx_bridge.sipp.runner import free_port

INSTALL_HINT = "apt-get install postgresql (or run scripts/install-system-deps)"


class PostgresUnavailable(Exception):
    """PostgreSQL is not installed here (or cannot be run as a non-root user)."""


def find_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin that has initdb and pg_ctl."""
    candidates = [
        path
        for path in Path("/usr/lib/postgresql").glob("*/bin")
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file()
    ]
    if not candidates:
        raise PostgresUnavailable(
            f"no PostgreSQL server binaries under /usr/lib/postgresql: {INSTALL_HINT}"
        )
    return max(candidates, key=lambda path: int(path.parent.name.split(".")[0]))


def _server_user() -> str | None:
    """The OS user the server must run as: `postgres` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        import pwd  # noqa: PLC0415 - POSIX only, and only needed as root

        pwd.getpwnam("postgres")
    except KeyError as error:
        raise PostgresUnavailable(
            f"running as root and there is no `postgres` user: {INSTALL_HINT}"
        ) from error
    return "postgres"


@dataclass
class PostgresCluster:
    bin_dir: Path
    root: Path  # owned by the server's user: data/, the socket and the log
    port: int
    password: str
    user: str | None  # None: run the server as ourselves

    @classmethod
    def create(cls) -> PostgresCluster:
        bin_dir = find_bin_dir()
        user = _server_user()
        root = Path(tempfile.mkdtemp(prefix="pbx-bridge-pg-"))
        if user is not None:
            shutil.chown(root, user, user)
        cluster = cls(bin_dir, root, free_port(socket.SOCK_STREAM), secrets.token_urlsafe(16), user)
        cluster._initdb()
        return cluster

    def _as_server_user(self, *command: str) -> list[str]:
        if self.user is None:
            return list(command)
        return ["runuser", "-u", self.user, "--", *command]

    def _run(self, command: list[str]) -> None:
        env = {**os.environ, "PGPASSWORD": self.password}
        result = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=60, env=env
        )
        if result.returncode != 0:
            output = result.stderr or result.stdout
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {output}")

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def _initdb(self) -> None:
        password_file = self.root / "password"
        password_file.write_text(self.password)
        if self.user is not None:
            shutil.chown(password_file, self.user, self.user)
        self._run(
            self._as_server_user(
                str(self.bin_dir / "initdb"),
                "--pgdata",
                str(self.data_dir),
                "--username",
                "postgres",
                "--pwfile",
                str(password_file),
                "--auth",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--no-sync",
            )
        )
        password_file.unlink()

    def start(self) -> None:
        # Not UTC on purpose: the store must not depend on the server's time zone.
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.root} -c timezone=Asia/Makassar "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            self._as_server_user(
                str(self.bin_dir / "pg_ctl"),
                "start",
                "--pgdata",
                str(self.data_dir),
                "--wait",
                "--log",
                str(self.root / "server.log"),
                "--options",
                options,
            )
        )

    def stop(self) -> None:
        """pg_ctl stop -m fast: sessions are cut, as in an outage."""
        self._run(
            self._as_server_user(
                str(self.bin_dir / "pg_ctl"),
                "stop",
                "--pgdata",
                str(self.data_dir),
                "--mode",
                "fast",
                "--wait",
            )
        )

    def create_database(self, name: str) -> str:
        """A new empty database; returns its SQLAlchemy asyncpg URL."""
        self._run(
            [
                str(self.bin_dir / "createdb"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--username",
                "postgres",
                name,
            ]
        )
        return self.url(name)

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres:{self.password}@127.0.0.1:{self.port}/{database}"

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
