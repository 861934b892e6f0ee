"""Local settings that are not secret and not per-window: which database to open.

A small JSON file in the user's config directory, readable without Qt (the CLI uses it too).
Window layout lives in QSettings on the UI side. Passwords never come here.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Riser"


def config_dir() -> Path:
    return Path(os.environ.get("RISER_CONFIG_DIR") or platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    return Path(os.environ.get("RISER_DATA_DIR") or platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    return Path(os.environ.get("RISER_LOG_DIR") or platformdirs.user_log_dir(APP_NAME, appauthor=False))


def default_sqlite_path() -> Path:
    return data_dir() / "riser.sqlite"


@dataclass
class LocalSettings:
    # Empty means the default local SQLite file. A Postgres URL is stored without its password.
    database_url: str = ""

    @classmethod
    def path(cls) -> Path:
        return config_dir() / "settings.json"

    @classmethod
    def load(cls) -> LocalSettings:
        try:
            raw = json.loads(cls.path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__ and isinstance(v, str)}
        return cls(**known)

    def save(self) -> None:
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        tmp.replace(path)
