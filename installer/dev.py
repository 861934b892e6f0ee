"""Set up and run Riser from a source checkout, with nothing but Python 3.11+ to start from.

    python3 installer/dev.py demo     # venv + demo data in a local SQLite file, then open Riser
    python3 installer/dev.py test     # venv + system packages (Debian/Ubuntu) + the whole test suite

On Windows use ``py installer\\dev.py …``. Standard library only: this runs before the venv.
The venv is .venv at the top of the checkout; it is refreshed when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
WINDOWS = os.name == "nt"
PYTHON = VENV / ("Scripts/python.exe" if WINDOWS else "bin/python")
DEMO_ACCOUNTS = "2000"

# What Qt (offscreen and on X11), PostgreSQL and the barcode tools need on Debian/Ubuntu.
DEBIAN_RUNTIME = [
    "libegl1", "libgl1", "libxkbcommon0", "libxkbcommon-x11-0", "libfontconfig1", "fonts-dejavu-core",
    "libdbus-1-3", "libglib2.0-0", "libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0",
    "libxcb-randr0", "libxcb-render-util0", "libxcb-shape0", "libxcb-xfixes0", "libxcb-xkb1",
    "libxcb-sync1", "libxcb-shm0", "libx11-xcb1", "libzbar0",
]
DEBIAN_TEST = ["postgresql", "poppler-utils"]


def say(message: str) -> None:
    print(f"[riser] {message}", flush=True)


def run(*args: str | Path, env: dict | None = None) -> None:
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True, env=env)


def ensure_python() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Riser needs Python 3.11 or newer; this is {sys.version.split()[0]}.")


def ensure_debian_packages(packages: list[str]) -> None:
    """Install missing Debian packages when we may (root or password-less sudo); else say how."""
    if sys.platform != "linux" or not shutil.which("dpkg-query") or not shutil.which("apt-get"):
        return
    missing = []
    for pkg in packages:
        probe = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
        if "install ok installed" not in probe.stdout:
            missing.append(pkg)
    if not missing:
        return
    prefix: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
            prefix = ["sudo", "-n"]
        else:
            say("missing system packages; install them with:")
            say(f"  sudo apt-get install -y --no-install-recommends {' '.join(missing)}")
            return
    say(f"installing system packages: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*prefix, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run([*prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
                   check=True, env=env)


def ensure_venv(extras: str) -> None:
    stamp = VENV / f".riser-{extras or 'app'}"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PYTHON.exists() and stamp.exists() and stamp.read_text() == wanted:
        return
    if not PYTHON.exists():
        say(f"creating the virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    say("installing Riser and its dependencies (about a minute the first time)")
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", f".{extras}")
    stamp.write_text(wanted)


def demo() -> int:
    ensure_debian_packages(DEBIAN_RUNTIME)
    ensure_venv("")
    data_dir = subprocess.run([PYTHON, "-c", "from app.core.settings import data_dir; print(data_dir())"],
                              cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    database = Path(data_dir) / "riser-demo.sqlite"
    if not database.exists():
        say(f"creating {DEMO_ACCOUNTS} demo accounts in {database}")
        run(PYTHON, "main.py", "--database", database, "demo", "--accounts", DEMO_ACCOUNTS)
    say("opening Riser — sign in as 'admin' with password 'riser-demo'")
    return subprocess.run([PYTHON, "main.py", "--database", str(database)], cwd=ROOT).returncode


def test(extra_args: list[str]) -> int:
    ensure_debian_packages(DEBIAN_RUNTIME + DEBIAN_TEST)
    ensure_venv("[test]")
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    return subprocess.run([PYTHON, "-m", "pytest", *extra_args], cwd=ROOT, env=env).returncode


def main() -> int:
    ensure_python()
    if len(sys.argv) < 2 or sys.argv[1] not in ("demo", "test"):
        print(__doc__)
        return 2
    return demo() if sys.argv[1] == "demo" else test(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
