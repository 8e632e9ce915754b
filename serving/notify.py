"""Notifications for ladder decisions: planned into the outbox, delivered by pluggable notifiers.

`plan_messages` (pure) turns a changed decision into one message per channel and recipient; the
store writes them in the same transaction as the audit record. `deliver` (the edge) sends what is
due from the outbox through the configured notifiers, retrying failures with bounded exponential
back-off and recording every attempt. Each message carries an idempotency key (the e-mail
Message-ID, the webhook's `Idempotency-Key` header) so receivers can drop a duplicate.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import smtplib
import socket
import ssl
import time
import urllib.parse
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

import httpx

from features.errors import UserError
from features.params import did_you_mean
from serving.ladder import Decision, Signals, name_uuid
from serving.ladder_text import pick, text, titled, zone_time
from serving.params import LadderParams, NotificationParams, RetryParams, SmtpParams
from serving.store import OutboxMessage, Store

_NAMESPACE = uuid.UUID("0b7f7f53-9d0e-4c38-8f0c-6d1f5b0a3e11")
_NAMESPACE_BYTES = _NAMESPACE.bytes


# --- configuration checks --------------------------------------------------------------------


def check_config(ladder: LadderParams, notifications: NotificationParams) -> None:
    """Every channel a level uses has a notifier; every owner is a role of the recipients, with
    an address when its level e-mails."""
    problems = config_problems(ladder, notifications)
    if problems:
        raise UserError("notification settings are incomplete:\n  " + "\n  ".join(problems))


def config_problems(ladder: LadderParams, notifications: NotificationParams) -> list[str]:
    """`KEY.PATH: ...` for each gap `check_config` refuses, one line each: the root settings
    list them among the other invalid settings, each under its own key."""
    problems: list[str] = []
    roles = list(notifications.recipients)
    for name, level in ladder.levels.items():
        emails = any(
            (cfg := notifications.channels.get(c)) is not None and cfg.notifier == "smtp"
            for c in level.channels
        )
        # an owner is written into every message, whatever the channel: a misspelled one on a
        # Slack- or phone-only level went out unnoticed (an e-mailing level's is said below)
        problems += [
            f"ladder.levels.{name}.owners: {role!r} is not an owner role of "
            f"notifications.recipients {roles}{did_you_mean(role, roles)}"
            for role in level.owners
            if role not in notifications.recipients and not emails
        ]
        for channel in level.channels:
            cfg = notifications.channels.get(channel)
            if cfg is None:
                problems.append(
                    f"ladder.levels.{name}.channels: channel {channel!r} has no entry under "
                    "notifications.channels"
                )
            elif cfg.notifier == "smtp":
                for role in level.owners:
                    if not notifications.recipients.get(role):
                        problems.append(
                            f"notifications.recipients.{role}: no e-mail address for owner role "
                            f"{role!r} (used by ladder.levels.{name}.owners)"
                            f"{'' if role in roles else did_you_mean(role, roles)}"
                        )
    teams = list(ladder.routing.teams)
    for channel, cfg in notifications.channels.items():
        for team in cfg.team_urls:  # a misspelled team's messages went to the channel's url
            if team not in teams:
                problems.append(
                    f"notifications.channels.{channel}.team_urls.{team}: not a team of "
                    f"ladder.routing.teams {teams}{did_you_mean(team, teams)}"
                )
    return sorted(set(problems))


# --- planning (pure) -------------------------------------------------------------------------


def render(
    decision: Decision, signals: Signals, ladder: LadderParams, language: str
) -> tuple[str, str]:
    """Subject and plain-text body: account, level, why, reasons, owners, due time, playbook."""
    level = ladder.levels[decision.new_level]
    title = pick(level.title, language)
    name = signals.facts.name
    who = f"{name} ({decision.account_id})" if name and name != decision.account_id else None
    values: dict[str, Any] = {
        "account": decision.account_id,
        "who": who or decision.account_id,
        "level": decision.new_level,
        "old": decision.old_level or "-",
        "title": title,
        "priority": decision.priority,
        "team": decision.team,
        "owners": ", ".join(decision.owners),
        "escalation_risk": decision.escalation_risk,
        "churn_risk": decision.churn_risk,
    }
    subject = text(
        "subject_up" if decision.direction != "down" else "subject_down", language, **values
    )
    why = text(
        decision.reason_key,
        language,
        **{
            "rule": "",
            "days": "",
            "margin": "",
            "previous_due_at": "",
            **titled(decision.reason_params, ladder, language),
        },
    )
    lines = [
        text("line_account", language, **values),
        text("line_level", language, **values),
        text("line_why", language, why=why),
        text("line_risk", language, **values),
        text("line_owner", language, **values),
    ]
    if signals.facts.csm_owner:
        lines.insert(1, text("line_csm", language, csm=signals.facts.csm_owner))
    # a step down of an acknowledged or resolved episode: the level has a target, but there
    # is nothing left to acknowledge (`escrisk ack` would refuse)
    handled = decision.due_at is None and level.response_hours is not None
    if decision.due_at is not None:
        due = _local_time(decision.due_at, ladder.business_calendar.time_zone, language)
        lines.append(text("line_due", language, due=due))
    elif handled:
        lines.append(_said("line_handled", language))
    else:
        lines.append(_said("line_no_due", language))
    lines.append(_said("line_reasons", language))
    reasons = [_reason_line(r, language) for r in decision.reasons]
    lines += [f"  - {r}" for r in reasons] or [f"  - {_said('none', language)}"]
    lines.append(_said("line_actions", language))
    lines += [f"  - {pick(ladder.actions[a], language)}" for a in level.actions]
    if not handled:
        lines += ["", text("line_footer", language, **values)]
    return subject, "\n".join(lines)


def _reason_line(reason: Any, language: str) -> str:
    """A reason with the risk it explains ("churn: Renewal in 12 days"): a message lists both
    heads' reasons, and a flag raised by churn risk must not read as escalation's."""
    if not isinstance(reason, Mapping):
        return str(reason)
    head = reason.get("head")
    said = str(reason.get("text", ""))
    return f"{_said(f'head_{head}', language)}: {said}" if head in ("escalation", "churn") else said


@functools.lru_cache(maxsize=256)
def _said(key: str, language: str) -> str:
    """A catalog text without values (a heading, a head's name): the same for every message of
    a run, which renders thousands on a portfolio's first day."""
    return text(key, language)


@functools.lru_cache(maxsize=256)
def _local_time(moment: dt.datetime, zone: str, language: str) -> str:
    """`zone_time` of a due time: the accounts a run moves to a level share theirs."""
    return zone_time(moment, zone, language)


def idempotency_key(decision_id: str, channel: str, recipient: str) -> str:
    return name_uuid(f"{decision_id}|{channel}|{recipient}", _NAMESPACE_BYTES)


def plan_messages(
    decision: Decision,
    signals: Signals,
    ladder: LadderParams,
    notifications: NotificationParams,
) -> list[OutboxMessage]:
    """The messages a decision produces: the new level's channels and owners when going up; when
    going down (if `on_deescalation`) the old level's, who can stand down, and the new level's,
    who own the account now; without `on_deescalation` the new level's alone when the step down
    leaves them something to acknowledge (else its due time passed unheard of and timed the
    account back up); none when nothing changed. One message per channel and recipient."""
    if not decision.changed:
        return []
    if decision.direction == "down":
        if decision.old_level is None:
            return []
        if notifications.on_deescalation:
            levels = [ladder.levels[decision.old_level], ladder.levels[decision.new_level]]
        elif decision.due_at is not None:
            levels = [ladder.levels[decision.new_level]]
        else:
            return []
    else:
        levels = [ladder.levels[decision.new_level]]
    language = signals.facts.language or notifications.default_language
    subject, body = render(decision, signals, ladder, language)
    out: list[OutboxMessage] = []
    planned: set[str] = set()
    for level, channel in ((lv, c) for lv in levels for c in lv.channels):
        cfg = notifications.channels.get(channel)
        if cfg is None:
            raise UserError(f"channel {channel!r} has no entry under notifications.channels")
        if cfg.notifier == "none":
            continue
        if cfg.notifier == "smtp":
            recipients: list[str] = []
            for role in level.owners:
                for address in notifications.recipients.get(role, ()):
                    if address not in recipients:
                        recipients.append(address)
            if not recipients:
                raise UserError(
                    f"notifications.recipients: no e-mail address for owners {list(level.owners)}"
                )
        else:
            recipients = [cfg.team_urls.get(decision.team) or cfg.url or ""]
        for recipient in recipients:
            key = idempotency_key(decision.decision_id, channel, recipient)
            if key in planned:  # both levels reach them on this channel: once
                continue
            planned.add(key)
            payload: dict[str, Any] = (
                {"message_id": f"<{key}@escrisk>"}
                if cfg.notifier == "smtp"
                else {"text": f"*{_chat(subject)}*\n{_chat(body)}"}
            )
            out.append(
                OutboxMessage(
                    idempotency_key=key,
                    decision_id=decision.decision_id,
                    account_id=decision.account_id,
                    channel=channel,
                    notifier=cfg.notifier,
                    recipient=recipient,
                    subject=subject,
                    body=body,
                    payload=payload,
                )
            )
    return out


# --- notifiers (I/O) -------------------------------------------------------------------------


class Rejected(RuntimeError):
    """The receiver refused this message for good (a webhook's 4xx but 408/429, an SMTP 5xx
    about the recipient or the mail): another attempt would be refused alike, so the message
    fails at once instead of holding the outbox through every retry."""


class TryLater(RuntimeError):
    """The receiver is there but asks to be tried again later (an SMTP 4xx, a webhook's 408,
    429 or 5xx): like a server that cannot be reached, an outage, retried until the message is
    too old to send (`retry.max_age_hours`), however many attempts that takes. `busy`: it said
    so of itself, not of this message (a webhook's 429 rate limit, SMTP 421): not tried again
    in the same run, whose every other message it would turn away alike; SMTP 454 at login or
    STARTTLS likewise."""

    def __init__(self, said: str, busy: bool = False) -> None:
        super().__init__(said)
        self.busy = busy


class Notifier(Protocol):
    def send(self, message: Mapping[str, Any]) -> None:
        """Deliver one outbox row or raise."""


class SmtpNotifier:
    """Plain-text e-mail through an SMTP server (optionally STARTTLS and login), over one
    connection for as long as it is used: a run logged in once per message, thousands of
    connections (and logins) for a first run's thousands of messages, which servers throttle.
    A connection found closed (NOOP unanswered) is opened anew; `close` ends it."""

    def __init__(self, cfg: SmtpParams, password: str | None = None) -> None:
        self.cfg = cfg
        self.password = password
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: Mapping[str, Any]) -> None:
        mail = EmailMessage()
        mail["From"] = self.cfg.sender
        mail["To"] = message["recipient"]
        mail["Subject"] = message["subject"]
        # RFC 5322 requires a Date: without one a relay that adds none (Postfix for a remote
        # client) delivered mail that clients sorted as undated and spam filters scored up
        mail["Date"] = _mail_date(message.get("created_at"))
        mail["Message-ID"] = (
            message["payload"].get("message_id") or f"<{message['idempotency_key']}@escrisk>"
        )
        mail["X-Escrisk-Idempotency-Key"] = message["idempotency_key"]
        mail.set_content(message["body"])
        try:
            self._send(mail)
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:  # 421 busy, 451 local error, 452 out of space
                said = f"the SMTP server deferred the mail: {exc}"
                raise TryLater(said, busy=exc.smtp_code == 421) from None
            raise

    def close(self) -> None:
        """End the connection (QUIT); a later `send` opens another."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _connection(self) -> tuple[smtplib.SMTP, bool]:
        """The open connection if it still answers, else a new one logged in; and whether it
        was used before (a server may end a session after so many mails)."""
        if self._smtp is not None:
            try:
                if self._smtp.noop()[0] == 250:
                    return self._smtp, True
            except (smtplib.SMTPException, OSError):
                pass
            self.close()
        smtp = smtplib.SMTP(self.cfg.host, self.cfg.port, timeout=self.cfg.timeout_seconds)
        try:
            if self.cfg.starttls:
                smtp.starttls()
            if self.cfg.username:
                smtp.login(self.cfg.username, self.password or "")
        except smtplib.SMTPResponseException as exc:
            smtp.close()
            if 400 <= exc.smtp_code < 500:  # 454: its TLS or login backend down for now
                # the server's trouble, not a mail's: like 421, tried once per run (a login per
                # message made thousands of failed logins)
                said = f"the SMTP server deferred the session: {exc}"
                raise TryLater(said, busy=True) from None
            raise
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return smtp, False

    def _send(self, mail: EmailMessage) -> None:
        smtp, reused = self._connection()
        try:
            smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:  # the session stays usable (RSET)
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(500 <= code < 600 for code in codes):
                raise Rejected(f"the SMTP server refused the recipient: {exc}") from None
            if codes and all(400 <= code < 500 for code in codes):
                raise TryLater(f"the SMTP server deferred the recipient: {exc}") from None
            raise
        except smtplib.SMTPSenderRefused as exc:
            if 500 <= exc.smtp_code < 600:
                raise Rejected(f"the SMTP server refused the mail: {exc}") from None
            if reused and exc.smtp_code == 421:  # "too many mails this session": refused at
                self.close()  # MAIL FROM, nothing was sent; once more on a new connection
                self._send(mail)
                return
            raise
        except smtplib.SMTPDataError as exc:
            if 500 <= exc.smtp_code < 600:
                raise Rejected(f"the SMTP server refused the mail: {exc}") from None
            raise
        except BaseException:
            self.close()  # a connection in an unknown state is not used again
            raise

    def where(self, message: Mapping[str, Any]) -> str:
        return f"SMTP {self.cfg.host}:{self.cfg.port}"


def _mail_date(queued: Any) -> str:
    """The Date header: when the decision queued the message (a retried or `--no-send` message
    keeps the day it is about), else now; a naive time from SQLite is UTC."""
    if not isinstance(queued, dt.datetime):
        return email.utils.formatdate(usegmt=True)
    if queued.tzinfo is None:
        queued = queued.replace(tzinfo=dt.UTC)
    return email.utils.format_datetime(queued.astimezone(dt.UTC), usegmt=True)


class WebhookNotifier:
    """POST `{"text": ...}` as JSON, which Slack and Teams incoming webhooks accept."""

    def __init__(self, timeout_seconds: float, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(timeout=timeout_seconds)
        self.timeout_seconds = timeout_seconds

    def send(self, message: Mapping[str, Any]) -> None:
        """The answer's status is all a send needs: its body ("ok") is read while it comes
        within `timeout_seconds` and 64 KB (read whole, the connection serves the next message),
        else left. httpx's timeout bounds each read, not the whole: a receiver dripping its
        body a byte a second held a send 12 s at timeout 2 s, past the lease another sender
        takes as a crash (and sends again), and held the run as long for every message."""
        deadline = time.monotonic() + self.timeout_seconds
        body = b""
        with self.client.stream(
            "POST",
            message["recipient"],
            json=dict(message["payload"]),
            headers={"Idempotency-Key": message["idempotency_key"]},
        ) as response:
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= 65536 or time.monotonic() > deadline:
                    break  # the connection is closed, not reused
        if response.status_code >= 300:
            text = body[:200].decode(response.encoding or "utf-8", errors="replace")
            self._refused(response.status_code, text)

    @staticmethod
    def _refused(status: int, text: str) -> None:
        said = f"webhook answered HTTP {status}: {text}"
        # a client error stays one (a revoked or mistyped URL, a refused payload); a timeout
        # or a rate limit passes, as server errors may
        if 400 <= status < 500 and status not in (408, 429):
            raise Rejected(said)
        if status in (408, 429) or status >= 500:
            raise TryLater(said, busy=status == 429)
        raise RuntimeError(said)  # a 3xx: a moved webhook, not an outage

    def where(self, message: Mapping[str, Any]) -> str:
        """The webhook's server, not its address: an incoming-webhook path is its credential."""
        url = httpx.URL(str(message["recipient"]))
        return f"webhook {url.host}" + (f":{url.port}" if url.port else "")


def shown_recipient(notifier: str, recipient: str) -> str:
    """A message's recipient as a listing may show it: an e-mail address as it is, a webhook by
    its server alone (`https://hooks.slack.com/***`), as an incoming webhook's path (and any
    user:password in it) lets anyone who reads it post to the channel."""
    if notifier != "webhook":
        return recipient
    parts = urllib.parse.urlsplit(recipient)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/***"


def _chat(text: str) -> str:
    """Text for a Slack/Teams-style message: &, < and > escaped as Slack asks, so that an account
    name such as "<!channel>" or "<http://x|click>" is shown, not obeyed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def notifiers_from(
    notifications: NotificationParams, smtp_password: str | None = None
) -> dict[str, Notifier]:
    return {
        "smtp": SmtpNotifier(notifications.smtp, smtp_password),
        "webhook": WebhookNotifier(notifications.webhook_timeout_seconds),
    }


# --- delivery from the outbox (edge) ---------------------------------------------------------


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    retrying: int
    failed: int  # gave up: refused for good (Rejected), or out of attempts (see `deliver`)
    skipped: int  # claimed by another sender
    errors: tuple[str, ...] = ()  # the distinct reasons of this call's failures (type: message)
    expired: int = 0  # queued more than retry.max_age_hours ago: not sent
    waiting: int = 0  # failed in an earlier call, their next attempt not yet due: not tried
    next_attempt: dt.datetime | None = None  # the earliest next attempt of any pending message


# the server itself cannot be reached, whatever the message: connection refused or reset, a
# timeout, an unknown host (a refused recipient or a 5xx answer is about one message)
_UNREACHABLE = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    httpx.TransportError,
)
# nor one that refused the login (a wrong password: a failed login per message locked the
# account or banned the host) or its TLS (a certificate that does not verify): no outage, but
# the same for every message
_REFUSED_SERVER = (*_UNREACHABLE, smtplib.SMTPAuthenticationError, ssl.SSLError)


def backoff(attempts_before: int, retry: RetryParams) -> dt.timedelta:
    """Wait before the next attempt after `attempts_before + 1` failures (bounded exponential)."""
    try:
        seconds = retry.backoff_seconds * retry.backoff_factor**attempts_before
    except OverflowError:  # 2.0 ** 1024: far past any cap (max_attempts 5000 "for weeks")
        seconds = retry.max_backoff_seconds
    return dt.timedelta(seconds=min(seconds, retry.max_backoff_seconds))


def deliver(
    store: Store,
    notifiers: Mapping[str, Notifier],
    retry: RetryParams,
    now: dt.datetime,
    limit: int = 500,
    clock: Callable[[], dt.datetime] | None = None,
) -> DeliveryReport:
    """Send every outbox message that is due, read `limit` at a time: a run that queues more
    than `limit` sends them all now, not `limit` a day. A failure is recorded with its error and
    retried after back-off by a later call (never twice in one). An outage (the server cannot be
    reached, or asks to try later: `TryLater`) is retried until the message is
    `retry.max_age_hours` old, however many attempts that takes, the last attempt when it is
    about to expire: with `max_attempts` 5 and a back-off from 60 s, a mail server down for 15
    minutes failed every queued message for good, two days before they were too old to send.
    Any other failure is given up after `max_attempts` (and an outage too when there is no age
    limit); one the receiver refused for good (`Rejected`) at once. A message queued more than
    `retry.max_age_hours` ago (`--no-send` days ago, a mail server down for days) is not sent
    but marked failed as expired: "escalated to L2" a week late, beside what the ladder decided
    since, would mislead. The audit record is never touched. With `clock` (the commands' wall
    clock) each message is claimed, aged and marked at the time it is reached (never before
    `now`): stamped with `now`, a run longer than `lease_seconds` (a daily run's `now` is taken
    before scoring) made each claim look like a crashed sender's to a concurrent `escrisk
    notify`, which sent the message a second time."""
    try:
        return _deliver_due(store, notifiers, retry, now, limit, clock)
    finally:
        for notifier in notifiers.values():  # one SMTP session per call, ended here
            close = getattr(notifier, "close", None)
            if close is not None:
                close()


def _deliver_due(
    store: Store,
    notifiers: Mapping[str, Notifier],
    retry: RetryParams,
    start: dt.datetime,
    limit: int,
    clock: Callable[[], dt.datetime] | None,
) -> DeliveryReport:
    """`deliver`'s loop over the due messages."""
    lease = dt.timedelta(seconds=retry.lease_seconds)
    max_age = None if retry.max_age_hours is None else dt.timedelta(hours=retry.max_age_hours)
    sent = retrying = failed = skipped = expired = later = 0
    errors: list[str] = []
    # a server that cannot be reached (refused, timed out) is not tried again in this call: a
    # mail server that accepted connections but never answered held the run timeout_seconds per
    # message (500 messages, 80 minutes); its other messages fail the attempt with its reason
    unreachable: dict[str, Exception] = {}
    after = 0  # the last message id read: each due message is tried once per call
    now = start
    while True:
        due = store.due_messages(now, lease, limit, after=after)
        for row in due:
            after = row["id"]
            now = start if clock is None else max(now, clock())
            if not store.claim(row["id"], now, lease):
                skipped += 1
                continue
            if max_age is not None and now - row["created_at"] > max_age:
                store.mark_failed(row["id"], now, _expired(row, retry), None)
                expired += 1
                continue
            notifier = notifiers.get(row["notifier"])
            where = getattr(notifier, "where", None)
            server = where(row) if where is not None else None
            try:
                if notifier is None:
                    raise RuntimeError(f"no notifier {row['notifier']!r} configured")
                if server is not None and server in unreachable:
                    raise unreachable[server].with_traceback(None)
                notifier.send(row)
            except Exception as exc:
                attempts = row["attempts"] + 1
                # which channel and server: "ConnectionRefusedError" twice (the SMTP server and
                # a webhook down) told neither
                at = f" ({server})" if server is not None else ""
                reason = f"{row['channel']}{at}: {type(exc).__name__}: {exc}"
                if reason not in errors:
                    errors.append(reason)
                busy = isinstance(exc, TryLater) and exc.busy
                if server is not None and (busy or isinstance(exc, _REFUSED_SERVER)):
                    unreachable[server] = exc
                outage = isinstance(exc, (TryLater, *_UNREACHABLE))
                spent = attempts >= retry.max_attempts and not (outage and max_age is not None)
                ends = None if max_age is None else row["created_at"] + max_age
                if spent or isinstance(exc, Rejected):
                    store.mark_failed(row["id"], now, reason, None)
                    failed += 1
                elif ends is not None and ends <= now:  # its last attempt: no later one
                    store.mark_failed(row["id"], now, _expired(row, retry) + "; " + reason, None)
                    expired += 1
                else:
                    retry_at = now + backoff(row["attempts"], retry)
                    if ends is not None:  # a last attempt as it expires, not past it
                        retry_at = min(retry_at, ends)
                    store.mark_failed(row["id"], now, reason, retry_at)
                    retrying += 1
                    later += retry_at > now  # due again at once (no back-off): not waiting
                continue
            store.mark_sent(row["id"], now)
            sent += 1
        if len(due) < limit:
            break
    pending, next_attempt = store.waiting_messages(now)
    return DeliveryReport(
        sent, retrying, failed, skipped, tuple(errors), expired, pending - later, next_attempt
    )


def _expired(row: Mapping[str, Any], retry: RetryParams) -> str:
    queued = row["created_at"].isoformat(timespec="minutes")
    return (
        f"expired: queued {queued}, more than {retry.max_age_hours:g} h before "
        "(notifications.retry.max_age_hours)"
    )


def record_and_plan(
    store: Store,
    signals: Signals,
    ladder: LadderParams,
    notifications: NotificationParams,
    now: dt.datetime,
    model_version: str | None,
) -> Decision:
    """Decide, record the audit row and plan its messages in one transaction (no sending)."""
    return store.evaluate(
        signals,
        ladder,
        now,
        model_version,
        plan=lambda d, s: plan_messages(d, s, ladder, notifications),
    )


def evaluate_all(
    store: Store,
    signals: Sequence[Signals],
    ladder: LadderParams,
    notifications: NotificationParams,
    now: dt.datetime,
    model_version: str | None,
) -> list[Decision]:
    """The daily job's ladder step: record every account's decision; deliver separately."""
    check_config(ladder, notifications)
    return [record_and_plan(store, s, ladder, notifications, now, model_version) for s in signals]
