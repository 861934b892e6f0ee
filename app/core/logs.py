"""A rotating log file in the user's log directory. Secrets never reach it: every record passes
a filter that masks passwords in URLs and ``password=…`` pairs before it is written."""

from __future__ import annotations

import logging
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path

from app.core.settings import log_dir

_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://[^:/@\s]*):(?P<secret>[^@\s]+)@", re.IGNORECASE)
_PAIR = re.compile(r"(?P<key>password|passwd|pwd|secret|community|token)(?P<sep>\s*[=:]\s*)(?P<secret>[^\s,;&'\"]+)",
                   re.IGNORECASE)


def redact(text: str) -> str:
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}:***@", text)
    return _PAIR.sub(lambda m: f"{m['key']}{m['sep']}***", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


def log_file() -> Path:
    return log_dir() / "riser.log"


def configure(level: int = logging.INFO) -> Path:
    path = log_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_riser", False):
            root.removeHandler(handler)
    handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    handler._riser = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    return path
