"""Riser's entry point: a CLI command, or with none the desktop app."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
