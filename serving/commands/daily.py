"""`escrisk daily SOURCE`: today's risk list, ladder, stored scores and the HTML report."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from features.errors import UserError
from serving.cli import add_params_option, output_console, parse_day, team_language, utc_now
from serving.daily_text import LANGUAGES, day_text, figure, flagged_level, left_out, t, time_text


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "daily",
        help="score every active account, apply the ladder, write the risk list and the report",
        description=(
            "Scores every active account with the champion model, explains the scores, applies the "
            "escalation ladder (level changes go to the audit store and the notification outbox), "
            "stores the day's scores, and writes DIR/risk-list-YYYY-MM-DD.csv and "
            "DIR/report-YYYY-MM-DD.html (always the whole list; with --owner, --min-level or "
            "--top the terminal shows that view and it is also written as "
            "DIR/risk-list-YYYY-MM-DD-<filters>.csv). Running a day twice records nothing twice; "
            "a day before the latest run is refused (see `escrisk replay` for past days), and so "
            "is a run while another works on the same database. Exit status 3 when a "
            "notification sent by the run failed for good or expired (the day is stored and its "
            "files written all the same; a message to retry later is no failure yet). "
            "Database: ESCRISK_DATABASE_URL; model registry: MLFLOW_TRACKING_URI."
        ),
    )
    parser.add_argument("source", metavar="SOURCE", help="folder of table files or a database URL")
    parser.add_argument(
        "--as-of", dest="as_of", help="score as of this day, YYYY-MM-DD (default: today, UTC)"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("reports"), help="output folder (default: reports/)"
    )
    parser.add_argument(
        # the contract strips the owners it reads; a name pasted with a space around it matched none
        "--owner",
        type=str.strip,
        help="only this CSM's accounts in the list",
    )
    parser.add_argument(
        "--min-level", dest="min_level", help="only accounts at this ladder level or above"
    )
    parser.add_argument("--top", type=int, help="only the first N accounts of the list")
    parser.add_argument(
        "--language",
        choices=LANGUAGES,
        help="language of the terminal table and the report, their reasons, next actions and "
        "why it changed included (default: params daily.language); the CSV keeps each "
        "account's own language (accounts.language)",
    )
    parser.add_argument(
        "--no-send",
        dest="send",
        action="store_false",
        help="queue notifications only; do not send them now",
    )
    parser.add_argument(
        "--allow-incomplete",
        dest="allow_incomplete",
        action="store_true",
        help="score even when a table the model uses is absent, empty or older than "
        "daily.max_source_lag_days, or usage lacks whole days (otherwise the run stops before "
        "anything is stored or sent)",
    )
    add_params_option(parser)
    parser.set_defaults(run=run)


def _as_of(value: str | None, lang: str) -> pd.Timestamp | None:
    return None if value is None else parse_day(value, "--as-of", lang)


STALE_DAYS = 7  # a source whose newest event is older than this before as_of is called out


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from features.pointintime import empty_days
    from features.scorecache import kept_scores
    from serving.daily import run_daily
    from serving.params import load_params
    from serving.report_html import retrain_advice
    from serving.risklist import owner_key
    from serving.settings import Settings
    from training.registry import tracking_uri

    params = load_params(args.params)
    settings = Settings.from_env()
    # piped or captured output is not 80 columns wide: one line per account reads better
    console = output_console()
    lang = team_language(args, params)
    if args.top is not None and args.top < 0:
        raise UserError(t("negative_top", lang, top=args.top))
    if args.owner == "":  # a blank filter kept no account and wrote "...-owner-x.csv"
        raise UserError(t("blank_owner", lang))
    # bars for a person watching; cron mails what a job writes, and a log keeps it: not bars
    err = Console(stderr=True)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=False, disable=not err.is_terminal,
    ) as progress, kept_scores(params.features.sentiment.cache_dir):  # fmt: skip
        result = run_daily(
            args.source,
            params,
            database_url=settings.database_url,
            tracking_uri=settings.mlflow_tracking_uri or tracking_uri(os.environ),
            now=utc_now(),
            as_of=_as_of(args.as_of, lang),
            out=args.out,
            owner=args.owner,
            min_level=args.min_level,
            top=args.top,
            language=lang,
            send=args.send,
            smtp_password=settings.smtp_password,
            progress=progress,
            allow_incomplete=args.allow_incomplete,
        )
    print_table(
        console, result.printed, day_text(result.day, lang), lang, params.daily.delta_days,
        pd.Timestamp(result.evaluated_at),
    )  # fmt: skip
    if len(result.shown) > len(result.printed):  # daily.terminal_rows cut a view without --top
        printed = len(result.printed)  # "the first 1 of 241 rows" read wrong in either language
        key = "more_rows_one" if printed == 1 else "more_rows"
        console.print(t(key, lang, shown=printed, n=len(result.shown)))
    top_level = len(params.ladder.levels) - 1
    note = pinned_note(result.shown, len(result.printed), top_level, result.evaluated_at, lang)
    if note is not None:  # an overdue executive flag below the rows printed went unseen
        console.print(f"[bold yellow]{escape(note)}[/]")
    r = result.ranked
    owners = sorted({str(o) for o in r["csm_owner"].dropna()}, key=str.casefold)
    if args.owner is not None and owner_key(args.owner) not in {owner_key(o) for o in owners}:
        more = f" (+{len(owners) - 20})" if len(owners) > 20 else ""
        shown = ", ".join(owners[:20]) + more
        console.print(escape(t("unknown_owner", lang, owner=args.owner, owners=shown)))
    console.print(
        t(
            "summary",
            lang,
            n=len(r),
            flagged=int((r["level_index"] >= 1).sum()),
            first=list(params.ladder.levels)[min(1, len(params.ladder.levels) - 1)],
            changed=result.ladder.changes,
            queued=result.ladder.queued,
        )
    )
    if result.not_yet or result.gone:  # the source's other accounts: where they went
        day = day_text(result.day, lang)
        console.print(t("not_scored", lang, day=day, not_yet=result.not_yet, gone=result.gone))
    if result.vanished:  # an export that lost accounts: their flags would go without a word
        shown = ", ".join(result.vanished[:5]) + (" …" if len(result.vanished) > 5 else "")
        said = t("vanished", lang, n=len(result.vanished), ids=shown)
        console.print(f"[bold yellow]{escape(said)}[/]")
    if result.delivery is None and result.ladder.queued:  # --no-send: how they go out later
        max_age = params.notifications.retry.max_age_hours
        key = "not_sent" if max_age is None else "not_sent_within"
        # a back-dated day (the demo's): its messages are dated at its decisions, already too old
        age = utc_now().to_pydatetime() - result.evaluated_at
        if max_age is not None and age > dt.timedelta(hours=max_age):
            key = "not_sent_stale"
        said = t(key, lang, n=result.ladder.queued, hours=f"{max_age or 0:g}")
        console.print(f"[yellow]{escape(said)}[/]")
    if result.delivery is not None:
        print_delivery(console, result.delivery, params.notifications.retry.max_age_hours, lang)
    for gap in result.gaps:  # run anyway (--allow-incomplete): say what it lacked
        console.print(f"[bold yellow]{escape(t('incomplete', lang, gap=gap))}[/]")
    for family, why in sorted(result.unavailable.items()):
        console.print(f"[yellow]{escape(left_out(family, why, lang))}[/]")
    if result.not_trained:  # a changed setting that the scores do not show yet
        said = t("not_trained", lang, keys=", ".join(result.not_trained))
        console.print(f"[yellow]{escape(said)}[/]")
    if result.feature_code:  # an upgrade changed the features under the champion
        console.print(f"[bold yellow]{escape(result.feature_code)}[/]")
    if result.newest_event is not None:
        # the whole days without any event, counted as the source check counts them
        empty = empty_days(result.newest_event, pd.Timestamp(result.day, tz="UTC"))
        if empty > STALE_DAYS:
            end = day_text(result.newest_event, lang)
            said = t("stale", lang, end=end, days=empty, day=day_text(result.day, lang))
            console.print(f"[bold yellow]{said}[/]")
    advice = retrain_advice(result.drift, result.labels, lang)
    if advice is not None:  # the inputs named as the report names them, not by their columns
        console.print(f"[bold yellow]{escape(advice)}[/]")
    if result.pruned:
        keep = params.daily.keep_days
        console.print(t("pruned", lang, days=result.pruned, keep=keep))
    whole = result.csv_path.with_name(f"risk-list-{result.day.isoformat()}.csv")
    if whole != result.csv_path:  # a filtered run wrote its view beside the whole list
        said = t("written_view", lang, whole=whole, csv=result.csv_path, html=result.html_path)
    else:
        said = t("written", lang, csv=result.csv_path, html=result.html_path)
    console.print(escape(said))  # a folder may be named "reports [old]"
    sys.stdout.flush()
    return delivery_status(result.delivery)


def pinned_note(
    shown: pd.DataFrame, printed: int, top_level: int, at: dt.datetime, lang: str
) -> str | None:
    """The open flags of `shown` below its first `printed` rows that are overdue at `at` or at
    the highest level (`report_html.needs_attention`), told with their ranks and ids; None
    when there are none."""
    from serving.report_html import needs_attention

    below = needs_attention(shown.iloc[printed:], top_level, at)
    if not len(below):
        return None
    ids = [f"#{r} {a}" for r, a in zip(below["rank"], below["account_id"], strict=True)]
    listed = ", ".join(ids[:5]) + (" …" if len(ids) > 5 else "")
    return t("pinned_below", lang, n=len(below), ids=listed)


def delivery_status(d: Any) -> int:
    """The exit status a delivery leaves (`escrisk daily` and `escrisk notify` alike): a message
    failed for good or expired is FAILED_FOR_GOOD, told only after the day is stored and written;
    `daily --send` exited 0 then, and a scheduler watching statuses never heard of it."""
    from serving.commands.notify import FAILED_FOR_GOOD

    return FAILED_FOR_GOOD if d is not None and (d.failed or d.expired) else 0


def print_delivery(console, d: Any, max_age_hours: float | None, lang: str) -> None:  # type: ignore[no-untyped-def]
    """What a delivery did (`serving.notify.DeliveryReport`), as `escrisk daily` and `escrisk
    notify` say it."""
    from rich.markup import escape

    console.print(t("sent", lang, sent=d.sent, retrying=d.retrying, failed=d.failed))
    if d.expired:  # not sent on purpose: say so, or "0 failed" hides them
        hours = f"{max_age_hours or 0:g}"
        console.print(f"[yellow]{escape(t('expired', lang, n=d.expired, hours=hours))}[/]")
    if d.waiting > 0 and d.next_attempt is not None:  # "0 sent, 0 to retry" hid them
        at = f"{time_text(d.next_attempt.astimezone(dt.UTC), lang)} UTC"
        console.print(f"[yellow]{escape(t('waiting', lang, n=d.waiting, at=at))}[/]")
    for reason in d.errors[:3]:  # why (e.g. no SMTP server): the outbox keeps every message
        console.print(f"  [yellow]{escape(reason)}[/]")
    if d.failed:  # failed for good: the only way back, once the cause is fixed
        console.print(f"[yellow]{escape(t('failed_requeue', lang, n=d.failed))}[/]")


def print_table(
    console,
    shown: pd.DataFrame,
    day: str,
    lang: str,
    delta_days: int = 7,
    now: pd.Timestamp | None = None,
) -> None:  # type: ignore[no-untyped-def]
    """The list's rows as a table; a due time passed at `now` (the ladder's clock) is said to be
    overdue, and a flag handled before the run (`handled`) acknowledged or resolved, as the CSM
    page and the report say."""
    from rich.table import Table

    if not len(shown):
        console.print(t("no_rows", lang))
        return
    from rich import box
    from rich.markup import escape
    from rich.text import Text

    style = {1: "yellow", 2: "red", 3: "bold magenta"}  # by the level's rank, as the report
    records = shown.to_dict("records")
    rows, levels = [], []
    for r in records:
        dp, d7 = (figure(r[c], "+.2f", lang) for c in ("delta_prev", "delta_7d"))
        plain = flagged_level(str(r["level"]), r["level_changed"], lang)
        levels.append(min(len(plain), 20))  # "L2 (höher)" whole, a long level name cut
        lv = escape(plain)
        color = style.get(min(int(r["level_index"]), 3))
        # the due time first: the column is narrow and action texts are long
        due_at = r["due_at"]
        due = "" if pd.isna(due_at) else f"{time_text(pd.Timestamp(due_at), lang, True)} UTC · "
        if due and now is not None and pd.Timestamp(due_at) <= now:
            due = f"{due[:-3]} {t('overdue', lang)} · "
        if r.get("handled"):  # acknowledged or resolved before the run: no due time
            due = f"{t('handled_' + r['handled'], lang)} · "
        # names, owners and texts come from the customer's data: never read as rich markup; the
        # id first, as a cut cell loses its end and `escrisk ack` needs the id
        rows.append([
            str(r["rank"]), f"[dim]{escape(str(r['account_id']))}[/] {escape(str(r['account_name']))}",
            escape(str(r["csm_owner"])), figure(r["escalation_risk"], ".2f", lang),
            figure(r["churn_risk"], ".2f", lang),
            f"{dp} / {d7}", f"[{color}]{lv}[/]" if color else lv,
            escape(str(r["reasons"]).split("; ")[0]), escape(f"{due}{r['next_action']}"),
        ])  # fmt: skip
    columns = [  # key, justify, narrowest, widest, and the order in which a narrow terminal
        # leaves a column out (0: never)
        ("col_rank", "right", 3, 4, 0), ("col_account", "left", 14, 36, 0),
        ("col_owner", "left", 10, 18, 3), ("col_escalation", "right", 5, 10, 0),
        ("col_churn", "right", 5, 10, 2), ("col_delta", "right", 11, 13, 1),
        ("col_level", "left", max(levels), max(12, *levels), 0),
        ("col_reasons", "left", 16, 56, 4), ("col_next", "left", 18, 32, 0),
    ]  # fmt: skip
    # a heading is never cut ("Abwanderung", not "Abwanderu…"): the narrowest is at least it
    heads = [t(key, lang, delta_days=delta_days) for key, *_ in columns]
    narrowest = [max(low, len(h)) for h, (_, _, low, *_) in zip(heads, columns, strict=True)]
    longest = [max(Text.from_markup(row[i]).cell_len for row in rows) for i in range(len(columns))]
    wanted = [max(n, min(c[3], w)) for n, c, w in zip(narrowest, columns, longest, strict=True)]

    def room(kept: list[int]) -> int:  # the columns' own width: a space each side, one between
        return console.width - 3 * len(kept) - 1

    kept = list(range(len(columns)))
    for drop in (1, 2, 3, 4):
        if sum(narrowest[i] for i in kept) <= room(kept):
            break
        kept = [i for i in kept if columns[i][4] != drop]
    if sum(narrowest[i] for i in kept) > room(kept):
        # narrower still (German headings are long): a heading is cut ("Eskala…"), not a row's
        # level, risk or due time, which rich cut instead ("L2 (höh…")
        narrowest = [c[2] for c in columns]
    # squeezed below their widths, rich cut every column evenly: the rank, risk and level columns
    # vanished whole and the id and due time were cut (80-160 columns); the widths are set here,
    # each column its narrowest, then what is left to the next action, account, reason, CSM
    widths = {i: narrowest[i] for i in kept}
    spare = room(kept) - sum(widths.values())
    for i in sorted(kept, key=lambda i: (8, 1, 7, 2).index(i) if i in (8, 1, 7, 2) else 9):
        more = max(0, min(spare, wanted[i] - widths[i]))
        widths[i] += more
        spare -= more
    table = Table(title=t("title", lang, day=day), box=box.SIMPLE_HEAD, show_lines=False)
    for i in kept:
        table.add_column(heads[i], justify=columns[i][1], no_wrap=True, overflow="ellipsis", width=widths[i])  # type: ignore[arg-type]  # fmt: skip
    for row in rows:
        table.add_row(*(row[i] for i in kept))
    console.print(table)
    if len(kept) < len(columns):  # the CSV and the report have them
        left = ", ".join(heads[i] for i in range(len(columns)) if i not in kept)
        console.print(t("narrow", lang, width=console.width, columns=left))
    # the attribution is a sentence, too long for a column: under the table, by rank
    told = [r for r in records if r.get("why_changed")]
    if told:
        console.print(t("why_heading", lang))
    for r in told:
        line = f"{r['rank']:>5}  {r['account_id']}: {r['why_changed']}"
        console.print(escape(line), highlight=False)
