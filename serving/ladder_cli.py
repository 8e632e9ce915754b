"""Shared edge helpers of the ladder's commands (ack, resolve, feedback, audit)."""

from __future__ import annotations

import argparse
import getpass
import unicodedata

from features.errors import UserError
from serving.daily_text import LANGUAGES
from serving.ladder_cli_text import say
from serving.store import Store, open_for_writing


def add_by_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", metavar="NAME", help="who did it (default: the login name)")


def add_language_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--language",
        choices=LANGUAGES,
        help="language of the answer and its errors (default: params daily.language)",
    )


def who(args: argparse.Namespace, lang: str = "en") -> str:
    """Who acted, as the audit trail records it: one line of at most 128 characters (a terminal
    escape in a name would be printed raw by `escrisk audit`)."""
    if args.by is not None:
        name = " ".join(str(args.by).split())
        if not name or any(unicodedata.category(c) == "Cc" for c in name) or len(name) > 128:
            raise UserError(say("bad_by", lang, by=args.by))
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def open_store(lang: str = "en") -> Store:
    """The store named by ESCRISK_DATABASE_URL (default: ./escrisk.db). A SQLite file that does
    not exist is a UserError, not created: `escrisk audit` on a mistyped path said "No audit
    records yet" and left an empty store there, which readers then took for one never scored."""
    from pathlib import Path

    from serving.settings import Settings
    from serving.store import parsed_url, shown_url

    url = Settings.from_env().database_url
    parsed = parsed_url(url)
    name = parsed.database or ""
    file = parsed.get_backend_name() == "sqlite" and name not in ("", ":memory:")
    if file and not Path(name).is_file():
        raise UserError(say("no_database", lang, path=Path(name).resolve(), url=shown_url(parsed)))
    return open_for_writing(url)
