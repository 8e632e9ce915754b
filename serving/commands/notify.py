"""`escrisk notify`: send the outbox's due notifications now, without scoring anything.

`escrisk daily` sends after its run, so a failed send waited for the next morning whatever its
back-off said, and what a `--no-send` run queued went out only with a second scoring of the
whole portfolio. Run from cron every few minutes, this sends each message when it is due.
"""

from __future__ import annotations

import argparse

from serving.cli import add_params_option, output_console, parse_day, team_language, utc_now
from serving.ladder_cli import add_by_option, add_language_option, open_store, who

# the exit status when a message failed for good (refused, out of attempts, expired): a job
# that said nothing else wrong would have looked like a success to cron and schedulers
FAILED_FOR_GOOD = 3


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "notify",
        help="send the queued notifications that are due (retries, a --no-send run's messages)",
        description=(
            "Sends every outbox message that is due: queued by `escrisk daily --no-send`, or "
            "waiting out the back-off after a failed send (notifications.retry). Nothing is "
            "scored or decided; a message is never sent twice. Messages queued more than "
            "notifications.retry.max_age_hours ago are marked failed as expired instead. "
            f"Exit status {FAILED_FOR_GOOD} when a message failed for good or expired (a message "
            "to retry later is not a failure yet). After an outage, --requeue sends the messages that failed for good again. Database: ESCRISK_DATABASE_URL; SMTP password: ESCRISK_SMTP_PASSWORD."
        ),
    )
    parser.add_argument(
        "--requeue",
        action="store_true",
        help="first put the messages that failed for good (an outage outlasted their retries, a "
        "receiver refused them) back to be sent now, with their attempts counted afresh; those "
        "queued more than notifications.retry.max_age_hours ago stay failed",
    )
    parser.add_argument(
        "--since",
        metavar="YYYY-MM-DD",
        help="with --requeue: only messages queued on or after this day (UTC)",
    )
    add_by_option(parser)
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="print nothing unless a send failed or a message expired (cron mails any output: "
        "a line every few minutes otherwise)",
    )
    add_language_option(parser)
    add_params_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import datetime as dt

    from rich.markup import escape

    from features.errors import UserError
    from serving.commands.daily import delivery_status, print_delivery
    from serving.daily_text import t
    from serving.notify import deliver, notifiers_from
    from serving.params import load_params
    from serving.settings import Settings

    params = load_params(args.params)
    lang = team_language(args, params)
    if args.since is not None and not args.requeue:
        raise UserError(t("since_without_requeue", lang))
    since = None if args.since is None else parse_day(args.since, "--since", lang).to_pydatetime()
    by = who(args, lang) if args.requeue else ""
    n = params.notifications
    hours = n.retry.max_age_hours
    console = output_console()
    now = utc_now().to_pydatetime()
    store = open_store(lang)
    try:
        if args.requeue:
            max_age = None if hours is None else dt.timedelta(hours=hours)
            back, old = store.requeue_failed(now, by, since, max_age)
            console.print(escape(t("requeued", lang, n=back, by=by)))  # said even with --quiet
            if old:
                console.print(
                    f"[yellow]{escape(t('requeue_too_old', lang, n=old, hours=f'{hours:g}'))}[/]"
                )
        notifiers = notifiers_from(n, Settings.from_env().smtp_password)
        report = deliver(store, notifiers, n.retry, now, clock=lambda: utc_now().to_pydatetime())
    finally:
        store.close()
    trouble = report.retrying or report.failed or report.expired or report.errors
    if trouble or not args.quiet:
        print_delivery(console, report, hours, lang)
    return delivery_status(report)
