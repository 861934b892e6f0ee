"""A throwaway PostgreSQL cluster for the test run (and the benchmarks).

tests/conftest.py uses RISER_TEST_PG_URL instead when set. This finds Debian's or
the PATH's initdb, creates a cluster in a temporary folder with fsync off, starts it on a free
loopback port, and removes it again at the end. As root, the cluster runs as user 'postgres'.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


PASSWORD_ROLE = "riser_pw"
PASSWORD_ROLE_SECRET = "s3cret-for-tests"


def _pg_bin(tool: str) -> str | None:
    found = shutil.which(tool)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), reverse=True)
    return candidates[0] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    def __init__(self) -> None:
        self.tmp: str | None = None
        self.port = 0
        self.user = "riser"
        self._run_as: list[str] = []

    @staticmethod
    def available() -> bool:
        return _pg_bin("initdb") is not None and _pg_bin("pg_ctl") is not None

    def _cmd(self, *args: str) -> list[str]:
        return [*self._run_as, *args]

    def start(self) -> str:
        initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        assert initdb and pg_ctl
        self.tmp = tempfile.mkdtemp(prefix="riser-pg-")
        data = Path(self.tmp) / "data"
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
            self._run_as = ["runuser", "-u", "postgres", "--"]
        self.port = _free_port()
        subprocess.run(
            self._cmd(initdb, "-A", "trust", "-U", self.user, "-E", "UTF8", "--no-sync", "-D", str(data)),
            check=True, capture_output=True,
        )
        # Password logins for one role, so wrong-password handling can be tested for real; the
        # other roles are trusted on loopback.
        hba = data / "pg_hba.conf"
        hba.write_text(
            "local all all trust\n"
            f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n"
            "host all all 127.0.0.1/32 trust\n"
        )
        opts = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            f"-c full_page_writes=off -c unix_socket_directories={self.tmp} -c max_connections=200"
        )
        subprocess.run(
            self._cmd(pg_ctl, "-w", "-D", str(data), "-l", str(Path(self.tmp) / "log"), "-o", opts, "start"),
            check=True, capture_output=True,
        )
        url = self.admin_url("postgres")
        wait_for(url)
        import psycopg

        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {PASSWORD_ROLE} LOGIN SUPERUSER PASSWORD '{PASSWORD_ROLE_SECRET}'")
        return url

    def admin_url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if not self.tmp:
            return
        pg_ctl = _pg_bin("pg_ctl")
        subprocess.run(
            self._cmd(pg_ctl, "-D", str(Path(self.tmp) / "data"), "-m", "immediate", "stop"),
            capture_output=True,
        )
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp = None


def wait_for(url: str, seconds: float = 10) -> None:
    import psycopg

    deadline = time.monotonic() + seconds
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    while True:
        try:
            psycopg.connect(plain, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
