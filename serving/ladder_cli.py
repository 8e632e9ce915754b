"""Shared edge helpers of the ladder's commands (ack, resolve, feedback, audit)."""

from __future__ import annotations

import argparse
import getpass

from serving.store import Store, open_for_writing


def add_by_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", metavar="NAME", help="who did it (default: the login name)")


def who(args: argparse.Namespace) -> str:
    if args.by:
        return str(args.by)
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def open_store() -> Store:
    """The store named by ESCRISK_DATABASE_URL (default: ./escrisk.db)."""
    from serving.settings import Settings

    return open_for_writing(Settings.from_env().database_url)
