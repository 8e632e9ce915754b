"""Notifications against real local servers: aiosmtpd for e-mail, http.server for the webhook."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import multiprocessing as mp
import os
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from features.errors import UserError
from serving.ladder import AccountFacts, Signals, decide
from serving.notify import (
    SmtpNotifier,
    WebhookNotifier,
    backoff,
    check_config,
    deliver,
    notifiers_from,
    plan_messages,
    record_and_plan,
)
from serving.params import LadderParams, NotificationParams
from serving.store import Store

NOW = dt.datetime(2025, 6, 4, 10, 0, tzinfo=dt.UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    def __init__(self) -> None:
        self.mails: list[Any] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.mails.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default_policy))
        )
        return "250 OK"


class Smtp:
    def __init__(self, port: int) -> None:
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=port)

    def __enter__(self) -> Inbox:
        self.controller.start()
        return self.inbox

    def __exit__(self, *exc: Any) -> None:
        self.controller.stop()


class Hook:
    """A local JSON webhook that fails its first `failures` requests with HTTP `status`."""

    def __init__(self, failures: int = 0, status: int = 500) -> None:
        self.received: list[tuple[str, dict[str, Any], str]] = []
        self.failures = failures
        self.calls = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.calls += 1
                if hook.failures > 0:
                    hook.failures -= 1
                    self.send_response(status)
                    self.end_headers()
                    self.wfile.write(b"boom")
                    return
                hook.received.append((self.path, json.loads(body), self.headers["Idempotency-Key"]))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.close()


def notif_params(params, smtp_port: int, hook_port: int, **changes: Any) -> NotificationParams:
    data = params.notifications.model_dump(mode="json")
    data["smtp"]["port"] = smtp_port
    data["smtp"]["timeout_seconds"] = 5
    data["channels"]["slack"] = {
        "notifier": "webhook",
        "url": f"http://127.0.0.1:{hook_port}/slack",
        "team_urls": {"billing": f"http://127.0.0.1:{hook_port}/slack-billing"},
    }
    data["channels"]["ticket"] = {
        "notifier": "webhook",
        "url": f"http://127.0.0.1:{hook_port}/ticket",
    }
    data["webhook_timeout_seconds"] = 5
    data.update(changes)
    return NotificationParams.model_validate(data)


def signals(
    account: str = "ACME-1", esc: float = 0.6, language: str = "en", family: str = "usage"
) -> Signals:
    facts = AccountFacts(
        arr=300_000.0,
        tier="enterprise",
        seats=400,
        days_to_renewal=200,
        open_p1=1,
        open_p2=0,
        open_p1_past_sla=0,
        open_p2_past_sla=0,
        language=language,
    )
    reasons = ({"text": "Usage down 46% against its 28-day baseline", "feature": "usage_drop"},)
    return Signals(account, esc, 0.1, {}, family, facts, reasons)


def test_messages_contain_account_level_reasons_owner_and_due_time(params):
    lp: LadderParams = params.ladder
    _, d = decide(signals(), None, lp, NOW)
    msgs = plan_messages(d, signals(), lp, notif_params(params, 1, 2))
    assert {m.channel for m in msgs} == {"email", "slack", "ticket"}
    emails = [m for m in msgs if m.channel == "email"]
    assert {m.recipient for m in emails} == {"cs-managers@example.com", "support-leads@example.com"}
    m = emails[0]
    assert m.subject == "[P1] ACME-1: escalated to L2 (CS manager and support lead)"
    for part in (
        "Account: ACME-1",
        "None -> L2".replace("None", "-"),
        "Usage down 46% against its 28-day baseline",
        "Owner: cs_manager, support_lead",
        "Acknowledge by: 2025-06-04 16:00 Europe/Berlin",
        "Agree a written recovery plan",
        "escrisk ack ACME-1",
        "Escalation risk 60%",
    ):
        assert part in m.body
    assert len({x.idempotency_key for x in msgs}) == len(msgs)


@pytest.mark.parametrize(
    ("utc", "zone", "shown"),
    [
        # the night clocks go back: 02:30 comes twice, so each says which one it is
        ("2026-10-25T00:30Z", "Europe/Berlin", "25.10.2026 02:30 Europe/Berlin (UTC+02:00)"),
        ("2026-10-25T01:30Z", "Europe/Berlin", "25.10.2026 02:30 Europe/Berlin (UTC+01:00)"),
        ("2026-11-01T05:30Z", "America/New_York", "01.11.2026 01:30 America/New_York (UTC-04:00)"),
        ("2026-11-01T06:30Z", "America/New_York", "01.11.2026 01:30 America/New_York (UTC-05:00)"),
        # any other wall time is one moment: no offset
        ("2026-10-25T02:30Z", "Europe/Berlin", "25.10.2026 03:30 Europe/Berlin"),
        ("2026-03-29T01:30Z", "Europe/Berlin", "29.03.2026 03:30 Europe/Berlin"),
        ("2026-03-08T07:30Z", "America/New_York", "08.03.2026 03:30 America/New_York"),
    ],
)
def test_a_due_time_in_the_hour_shown_twice_says_which_one(params, utc, zone, shown):
    """A due time of 02:30 Europe/Berlin on 25 October could be 00:30 or 01:30 UTC: the
    message read an hour early or late, and so did a timeout's missed due time."""
    from serving.ladder_text import local_time

    calendar = params.ladder.business_calendar.model_copy(update={"time_zone": zone})
    ladder = params.ladder.model_copy(update={"business_calendar": calendar})
    assert local_time(dt.datetime.fromisoformat(utc), ladder, "de") == shown


def test_chat_messages_show_markup_in_customer_data_instead_of_obeying_it(params):
    """An account id or a reason could hold Slack markup ("<!channel>", "<http://x|click>")."""
    lp: LadderParams = params.ladder
    sig = signals(account="<!channel> & <http://evil.example|click>")
    _, d = decide(sig, None, lp, NOW)
    chat = [
        m for m in plan_messages(d, sig, lp, notif_params(params, 1, 2)) if m.channel == "slack"
    ]
    text = (
        json.loads(chat[0].payload)["text"]
        if isinstance(chat[0].payload, str)
        else chat[0].payload["text"]
    )
    assert (
        "<!channel>" not in text
        and "&lt;!channel&gt; &amp; &lt;http://evil.example|click&gt;" in text
    )


def test_messages_in_german(params):
    lp = params.ladder
    _, d = decide(signals(language="de"), None, lp, NOW)
    m = plan_messages(d, signals(language="de"), lp, notif_params(params, 1, 2))[0]
    assert m.subject == "[P1] ACME-1: eskaliert auf L2 (CS-Manager und Support-Leitung)"
    assert "Bestätigen bis: 04.06.2025 16:00 Europe/Berlin" in m.body
    assert "Schriftlichen Maßnahmenplan vereinbaren" in m.body


def test_a_message_names_the_account_its_csm_and_which_risk_each_reason_explains(params):
    from dataclasses import replace

    lp = params.ladder
    base = signals()
    facts = replace(base.facts, name="Acme GmbH", csm_owner="Jürgen Größ")
    reasons = (
        {"head": "escalation", "text": "3 open P1 tickets"},
        {"head": "churn", "text": "Renewal in 12 days"},
    )
    s = replace(base, facts=facts, reasons=reasons)
    _, d = decide(s, None, lp, NOW)
    m = plan_messages(d, s, lp, notif_params(params, 1, 2))[0]
    assert m.subject.startswith("[P1] Acme GmbH (ACME-1): escalated to L2")
    assert "Account: Acme GmbH (ACME-1)\nCSM: Jürgen Größ\n" in m.body
    assert "  - escalation: 3 open P1 tickets\n  - churn: Renewal in 12 days" in m.body
    assert m.body.rstrip().endswith("escrisk ack ACME-1")  # the command takes the id
    german = replace(s, facts=replace(facts, language="de"))
    _, d = decide(german, None, lp, NOW)
    de = plan_messages(d, german, lp, notif_params(params, 1, 2))[0]
    assert "  - Abwanderung: Renewal in 12 days" in de.body


def test_a_hard_rule_is_told_by_its_title_in_the_accounts_language(params):
    """A rule fires (an open P1 past its SLA): the message names it as params.yaml titles it."""
    lp = params.ladder
    s = signals(esc=0.01, language="de")
    facts = dataclasses.replace(s.facts, open_p1_past_sla=1)
    s = Signals(s.account_id, 0.01, 0.01, {}, s.reason_family, facts, s.reasons)
    _, d = decide(s, None, lp, NOW)
    assert d.reason_key == "escalated_by_rule"
    m = plan_messages(d, s, lp, notif_params(params, 1, 2))[0]
    assert "feste Regel 'offenes P1-Ticket über der SLA' greift" in m.body
    assert "p1_past_sla" not in m.body


def test_no_messages_without_a_change_and_deescalation_goes_to_the_old_owners(params):
    lp, np_ = params.ladder, notif_params(params, 1, 2)
    state, d = decide(signals(esc=0.0), None, lp, NOW)
    assert plan_messages(d, signals(esc=0.0), lp, np_) == []
    state, _ = decide(signals(esc=0.6), None, lp, NOW)
    state = dataclasses.replace(state, below_since=NOW - dt.timedelta(days=30))
    _, down = decide(signals(esc=0.0), state, lp, NOW + dt.timedelta(days=1))
    msgs = plan_messages(down, signals(esc=0.0), lp, np_)
    assert down.direction == "down" and msgs
    assert msgs[0].subject == "ACME-1: de-escalated to L0 (Watch)"
    assert "risk stayed below the entry threshold minus 0.05 for 7 days" in msgs[0].body
    assert (
        plan_messages(down, signals(esc=0.0), lp, np_.model_copy(update={"on_deescalation": False}))
        == []
    )


def test_a_step_down_also_reaches_the_new_levels_owners_once(params):
    """L3 -> L1: the exec sponsors stand down, and the CSM, who owns it now, hears it too."""
    lp, np_ = params.ladder, notif_params(params, 1, 2)
    top = lp.levels["L3"].entry.escalation_risk + 0.01
    low = lp.levels["L1"].entry.escalation_risk + 0.01
    state, first = decide(signals(esc=top), None, lp, NOW)
    assert first.new_level == "L3"
    state = dataclasses.replace(state, below_since=NOW - dt.timedelta(days=30))
    _, down = decide(signals(esc=low), state, lp, NOW + dt.timedelta(days=1))
    assert (down.old_level, down.new_level) == ("L3", "L1")
    msgs = plan_messages(down, signals(esc=low), lp, np_)
    emails = {m.recipient for m in msgs if m.channel == "email"}
    assert {"exec-sponsors@example.com", "csm-team@example.com"} <= emails
    keys = [m.idempotency_key for m in msgs]
    assert len(keys) == len(set(keys))  # a channel both levels use: one message per recipient


def test_without_stand_down_notices_the_new_owners_still_hear_of_what_is_due(params):
    """on_deescalation: false is to spare the old level's owners the stand-down notice; it also
    kept from the new level's owners an unacknowledged flag with their response target, which
    then timed out back up ("not acknowledged by ...") before they ever heard of it."""
    lp = params.ladder
    np_ = notif_params(params, 1, 2).model_copy(update={"on_deescalation": False})
    top = lp.levels["L3"].entry.escalation_risk + 0.01
    low = lp.levels["L1"].entry.escalation_risk + 0.01
    state, _ = decide(signals(esc=top), None, lp, NOW)
    state = dataclasses.replace(state, below_since=NOW - dt.timedelta(days=30))
    _, down = decide(signals(esc=low), state, lp, NOW + dt.timedelta(days=1))
    assert (down.old_level, down.new_level) == ("L3", "L1") and down.due_at is not None
    msgs = plan_messages(down, signals(esc=low), lp, np_)
    emails = {m.recipient for m in msgs if m.channel == "email"}
    assert emails == set(np_.recipients["csm"])  # the exec sponsors are spared the notice
    assert "Acknowledge by" in msgs[0].body
    # acknowledged before it stepped down: nothing is due, nobody is told
    acked = dataclasses.replace(state, acknowledged_at=NOW)
    _, quiet = decide(signals(esc=low), acked, lp, NOW + dt.timedelta(days=1))
    assert quiet.due_at is None and plan_messages(quiet, signals(esc=low), lp, np_) == []


def test_a_step_down_of_an_acknowledged_flag_does_not_ask_for_an_acknowledgement(params):
    """L2 acknowledged, then down to L1 (which has a response target): the episode carries its
    acknowledgement, so the message neither says the level has no target nor asks for an
    `escrisk ack` that would be refused as already acknowledged."""
    lp, np_ = params.ladder, notif_params(params, 1, 2)
    state, first = decide(signals(esc=lp.levels["L2"].entry.escalation_risk + 0.01), None, lp, NOW)
    state = dataclasses.replace(state, acknowledged_at=NOW, below_since=NOW - dt.timedelta(days=30))
    low = signals(esc=lp.levels["L1"].entry.escalation_risk + 0.01)
    _, down = decide(low, state, lp, NOW + dt.timedelta(days=1))
    assert (down.new_level, down.due_at) == ("L1", None)
    assert lp.levels["L1"].response_hours is not None
    for language, handled in (
        ("en", "nothing to acknowledge, this escalation was already acknowledged or resolved"),
        ("de", "nichts zu bestätigen, diese Eskalation wurde bereits bestätigt oder gelöst"),
    ):
        facts = dataclasses.replace(low.facts, language=language)
        body = plan_messages(down, dataclasses.replace(low, facts=facts), lp, np_)[0].body
        assert handled in body
        assert "no response target" not in body and "keine Reaktionszeit" not in body
        assert "escrisk ack" not in body


def test_check_config_names_missing_channel_and_recipient(params):
    np_ = notif_params(params, 1, 2)
    no_ticket = np_.model_copy(
        update={"channels": {k: v for k, v in np_.channels.items() if k != "ticket"}}
    )
    with pytest.raises(
        UserError, match=r"ladder\.levels\.L2\.channels: channel 'ticket' has no entry"
    ):
        check_config(params.ladder, no_ticket)
    no_exec = np_.model_copy(
        update={"recipients": {k: v for k, v in np_.recipients.items() if k != "exec_sponsor"}}
    )
    with pytest.raises(
        UserError, match=r"notifications\.recipients\.exec_sponsor: no e-mail address"
    ):
        check_config(params.ladder, no_exec)


def test_email_and_webhook_reach_the_local_servers(params, tmp_path, hook):
    port = free_port()
    np_ = notif_params(params, port, hook.port)
    store = Store(f"sqlite:///{tmp_path / 'e.db'}")
    record_and_plan(store, signals(family="notice"), params.ladder, np_, NOW, "v1")
    with Smtp(port) as inbox:
        report = deliver(store, notifiers_from(np_), np_.retry, NOW)
    assert (report.sent, report.retrying, report.failed) == (4, 0, 0)
    assert sorted(r for rcpts, _ in inbox.mails for r in rcpts) == [
        "cs-managers@example.com",
        "support-leads@example.com",
    ]
    mail = inbox.mails[0][1]
    assert mail["Subject"] == "[P1] ACME-1: escalated to L2 (CS manager and support lead)"
    assert "Usage down 46%" in mail.get_content()
    assert mail["Message-ID"].startswith("<") and mail["From"] == "escrisk@example.com"
    assert mail["Date"].datetime == NOW  # RFC 5322 requires it: when the change was queued
    paths = sorted(p for p, _, _ in hook.received)
    assert paths == ["/slack-billing", "/ticket"]  # the billing team has its own Slack webhook
    assert all("ACME-1" in body["text"] and "L2" in body["text"] for _, body, _ in hook.received)
    assert all(s["status"] == "sent" and s["attempts"] == 1 for s in store.rows("outbox"))
    assert deliver(store, notifiers_from(np_), np_.retry, NOW + dt.timedelta(hours=1)).sent == 0


def test_failed_sends_are_retried_with_backoff_then_delivered(params, tmp_path):
    port = free_port()
    hook = Hook(failures=1)
    try:
        np_ = notif_params(params, port, hook.port)
        store = Store(f"sqlite:///{tmp_path / 'r.db'}")
        record_and_plan(store, signals(), params.ladder, np_, NOW, "v1")
        # no SMTP server yet and the webhook fails once
        first = deliver(store, notifiers_from(np_), np_.retry, NOW)
        assert (first.sent, first.retrying) == (1, 3)
        assert first.errors and all(": " in e for e in first.errors)  # why, once per reason
        # where: the channel and its server (a webhook's path, its credential, left out)
        assert any(e.startswith(f"email (SMTP 127.0.0.1:{port}): ") for e in first.errors)
        assert any(e.startswith(f"slack (webhook 127.0.0.1:{hook.port}): ") for e in first.errors)
        assert not any("/slack" in e for e in first.errors)
        assert len(set(first.errors)) == len(first.errors)
        rows = {r["channel"] + r["recipient"]: r for r in store.rows("outbox")}
        failed = [r for r in rows.values() if r["status"] == "pending"]
        assert all(r["attempts"] == 1 and r["last_error"] for r in failed)
        assert any("HTTP 500" in r["last_error"] for r in failed)
        assert all(r["next_attempt_at"] == NOW + dt.timedelta(seconds=60) for r in failed)
        assert len(store.rows("level_changes")) == 1  # the audit record is untouched
        # not yet due: nothing is tried, but the report says they wait ("0 sent, 0 to retry, 0
        # failed" read as all done) and from when
        early = deliver(store, notifiers_from(np_), np_.retry, NOW + dt.timedelta(seconds=30))
        assert (early.sent, early.retrying, early.failed) == (0, 0, 0)
        assert (early.waiting, early.next_attempt) == (3, NOW + dt.timedelta(seconds=60))
        assert first.waiting == 0  # its own retries are counted as "to retry", not twice
        with Smtp(port) as inbox:
            second = deliver(store, notifiers_from(np_), np_.retry, NOW + dt.timedelta(seconds=61))
        assert (second.sent, second.retrying) == (3, 0) and second.errors == ()
        assert (second.waiting, second.next_attempt) == (0, None)
        assert len(inbox.mails) == 2 and len(hook.received) == 2
        assert all(r["status"] == "sent" for r in store.rows("outbox"))
    finally:
        hook.close()


def test_retries_are_bounded(params, tmp_path):
    """Without an age limit an outage ends after max_attempts (with one, at max_age_hours)."""
    np_ = notif_params(params, free_port(), free_port())
    retry = np_.retry.model_copy(update={"max_age_hours": None})
    store = Store(f"sqlite:///{tmp_path / 'b.db'}")
    record_and_plan(store, signals(), params.ladder, np_, NOW, "v1")
    t, reports = NOW, []
    for _ in range(retry.max_attempts + 2):
        reports.append(deliver(store, notifiers_from(np_), retry, t))
        t += dt.timedelta(seconds=retry.max_backoff_seconds + 1)
    assert sum(r.failed for r in reports) == 4
    assert all(
        r["status"] == "failed" and r["attempts"] == np_.retry.max_attempts
        for r in store.rows("outbox")
    )
    assert reports[-1] == reports[-1].__class__(0, 0, 0, 0)


def test_a_run_sends_every_due_message_not_only_the_first_batch(params, tmp_path):
    """deliver read 500 messages and stopped: a first daily run that flags hundreds of accounts
    queued thousands, and the rest waited a day per 500 while the run said "N sent"."""

    class Recorder:
        def __init__(self, fail: bool = False) -> None:
            self.sent: list[int] = []
            self.fail = fail

        def send(self, row: Any) -> None:
            self.sent.append(row["id"])
            if self.fail:
                raise OSError("down")

    np_ = notif_params(params, free_port(), free_port())
    store = Store(f"sqlite:///{tmp_path / 'many.db'}")
    for k in range(3):
        record_and_plan(store, signals(f"ACME-{k}"), params.ladder, np_, NOW, "v1")
    queued = len(store.rows("outbox"))
    ok = Recorder()
    report = deliver(store, {"smtp": ok, "webhook": ok}, np_.retry, NOW, limit=2)
    assert report.sent == queued == len(set(ok.sent)) and queued > 2
    # failures with no back-off are due again at once: each is tried once per call, not forever
    store = Store(f"sqlite:///{tmp_path / 'down.db'}")
    for k in range(3):
        record_and_plan(store, signals(f"ACME-{k}"), params.ladder, np_, NOW, "v1")
    down = Recorder(fail=True)
    now_retry = np_.retry.model_copy(update={"backoff_seconds": 0})
    report = deliver(store, {"smtp": down, "webhook": down}, now_retry, NOW, limit=2)
    assert report.retrying == len(down.sent) == len(set(down.sent)) == queued
    assert report.waiting == 0  # due again at once: none waits (it was -queued)


def test_a_server_that_cannot_be_reached_is_tried_once_per_run(params, tmp_path):
    """A mail server that took connections but never answered held the run timeout_seconds for
    every message (500 messages: 80 minutes). Its other messages now fail the attempt with its
    reason at once; another server, and a server refusing one message, are still tried."""

    class Server:
        def __init__(self, name: str, error: Exception | None = None) -> None:
            self.name, self.error, self.tried = name, error, 0

        def send(self, row: Any) -> None:
            self.tried += 1
            if self.error is not None:
                raise self.error

        def where(self, row: Any) -> str:
            return self.name

    np_ = notif_params(params, free_port(), free_port())
    store = Store(f"sqlite:///{tmp_path / 'hole.db'}")
    for k in range(3):
        record_and_plan(store, signals(f"ACME-{k}"), params.ladder, np_, NOW, "v1")
    mails = sum(r["notifier"] == "smtp" for r in store.rows("outbox"))
    hooks = len(store.rows("outbox")) - mails
    hole = Server("SMTP mail:25", TimeoutError("timed out"))
    refusing = Server("webhook hooks", RuntimeError("webhook answered HTTP 500: no"))
    report = deliver(store, {"smtp": hole, "webhook": refusing}, np_.retry, NOW)
    assert mails > 1 and hole.tried == 1 and refusing.tried == hooks > 1
    assert report.retrying == mails + hooks and report.sent == 0
    rows = [r for r in store.rows("outbox") if r["notifier"] == "smtp"]
    assert all(r["attempts"] == 1 and "TimeoutError: timed out" in r["last_error"] for r in rows)
    assert [e for e in report.errors if e.startswith("email")] == [
        "email (SMTP mail:25): TimeoutError: timed out"
    ]
    back = Server("SMTP mail:25")  # up again: the next call sends them all
    later = NOW + dt.timedelta(seconds=61)
    assert deliver(store, {"smtp": back, "webhook": back}, np_.retry, later).sent == mails + hooks


@pytest.mark.parametrize(("before", "seconds"), [(0, 60), (1, 120), (3, 480), (10, 3600)])
def test_backoff_is_exponential_and_capped(params, before, seconds):
    assert backoff(before, params.notifications.retry) == dt.timedelta(seconds=seconds)


# --- a crash between deciding and notifying -----------------------------------------------------


def _decide_then_crash(url: str, params, np_: NotificationParams) -> None:
    store = Store(url)
    record_and_plan(store, signals(), params.ladder, np_, NOW, "v1")
    os._exit(17)  # dies before any message is sent


def test_crash_between_decide_and_notify_loses_nothing_and_sends_nothing_twice(
    params, tmp_path, hook
):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    port = free_port()
    np_ = notif_params(params, port, hook.port)
    proc = mp.get_context("fork").Process(target=_decide_then_crash, args=(url, params, np_))
    proc.start()
    proc.join(timeout=60)
    assert proc.exitcode == 17
    store = Store(url)
    assert len(store.rows("level_changes")) == 1
    assert {r["status"] for r in store.rows("outbox")} == {"pending"}
    # the rerun of the job: same decision again, then delivery
    again = record_and_plan(store, signals(), params.ladder, np_, NOW, "v1")
    assert not again.changed
    with Smtp(port) as inbox:
        deliver(store, notifiers_from(np_), np_.retry, NOW)
        deliver(store, notifiers_from(np_), np_.retry, NOW + dt.timedelta(hours=1))
    assert len(store.rows("level_changes")) == 1
    assert len(inbox.mails) == 2 and len(hook.received) == 2
    keys = [k for _, _, k in hook.received]
    assert len(set(keys)) == len(keys)


def test_crash_inside_the_recording_transaction_writes_nothing(params, tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")

    def exploding_plan(decision, sig):
        raise KeyboardInterrupt("power cut")  # not retryable: aborts the transaction

    with pytest.raises(KeyboardInterrupt):
        store.evaluate(signals(), params.ladder, NOW, "v1", exploding_plan)
    assert (
        store.rows("level_changes") == []
        and store.rows("outbox") == []
        and store.state("ACME-1") is None
    )
    np_ = notif_params(params, 1, 2)
    record_and_plan(store, signals(), params.ladder, np_, NOW, "v1")
    assert len(store.rows("level_changes")) == 1 and len(store.rows("outbox")) == 4


def test_a_claimed_message_is_not_resent_before_its_lease_expires(params, tmp_path, hook):
    np_ = notif_params(params, free_port(), hook.port)
    store = Store(f"sqlite:///{tmp_path / 'l.db'}")
    record_and_plan(store, signals(), params.ladder, np_, NOW, "v1")
    lease = dt.timedelta(seconds=np_.retry.lease_seconds)
    ids = [r["id"] for r in store.rows("outbox")]
    assert all(store.claim(i, NOW, lease) for i in ids)  # a sender claims them, then dies
    assert not store.claim(ids[0], NOW, lease)
    assert deliver(store, notifiers_from(np_), np_.retry, NOW + lease / 2).sent == 0
    assert hook.received == []


@pytest.fixture(scope="module")
def params(params, classic_ladder):
    """The ladder's mechanics, tested against a pinned policy (tests/serving/conftest.py)."""
    return classic_ladder(params)


def test_idempotency_keys_are_uuid5_of_decision_channel_and_recipient():
    import uuid

    from serving.notify import _NAMESPACE, idempotency_key

    for did, channel, recipient in [
        ("d-1", "email", "a@b.c"),
        ("Ä|ß", "slack", ""),
        ("x" * 99, "", "u"),
    ]:
        name = f"{did}|{channel}|{recipient}"
        assert idempotency_key(did, channel, recipient) == str(uuid.uuid5(_NAMESPACE, name))


def test_a_message_queued_too_long_ago_is_not_sent_but_marked_expired(params, tmp_path):
    """Messages queued by a `--no-send` run (or during a long mail outage) were all sent by the
    next run however old: "escalated to L2" a week late. Older than retry.max_age_hours: failed,
    told as expired, never sent; younger ones go out as before."""

    class Recorder:
        def __init__(self) -> None:
            self.sent: list[int] = []

        def send(self, row: Any) -> None:
            self.sent.append(row["id"])

    np_ = notif_params(params, free_port(), free_port())
    retry = np_.retry.model_copy(update={"max_age_hours": 48.0})
    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    record_and_plan(store, signals("OLD-1"), params.ladder, np_, NOW, "v1")
    old = len(store.rows("outbox"))
    later = NOW + dt.timedelta(hours=49)
    record_and_plan(store, signals("NEW-1"), params.ladder, np_, later, "v1")
    ok = Recorder()
    report = deliver(store, {"smtp": ok, "webhook": ok}, retry, later)
    rows = store.rows("outbox")
    assert report.expired == old > 0 and report.sent == len(rows) - old == len(ok.sent)
    assert report.failed == 0 and report.errors == ()
    gone = [r for r in rows if r["account_id"] == "OLD-1"]
    assert all(r["status"] == "failed" and r["last_error"].startswith("expired") for r in gone)
    assert not {r["id"] for r in gone} & set(ok.sent)
    # no limit (null): sent however old
    store = Store(f"sqlite:///{tmp_path / 'any.db'}")
    record_and_plan(store, signals("OLD-1"), params.ladder, np_, NOW, "v1")
    report = deliver(
        store, {"smtp": ok, "webhook": ok}, retry.model_copy(update={"max_age_hours": None}), later
    )
    assert report.expired == 0 and report.sent == old


@pytest.mark.parametrize(("factor", "before"), [(2, 1100), (1e6, 60)])
def test_backoff_far_past_the_cap_is_the_cap(params, factor, before):
    """max_attempts 5000 ("retry for weeks") with factor 2 overflowed a float at the 1025th
    attempt: every later delivery run stopped with an internal error and the message stayed."""
    retry = params.notifications.retry.model_copy(
        update={"backoff_factor": factor, "max_attempts": 5000}
    )
    assert backoff(before, retry) == dt.timedelta(seconds=retry.max_backoff_seconds)


def test_escrisk_notify_sends_what_is_due_without_scoring_and_nothing_twice(
    params, tmp_path, monkeypatch, capsys
):
    """A failed send waited for the next morning's `escrisk daily`, and what a --no-send run
    queued went out only with a second scoring of the portfolio: `escrisk notify` sends the
    outbox's due messages on its own (cron), once each."""
    import yaml

    from serving.cli import main

    smtp_port = free_port()
    hook = Hook(failures=1)  # the first webhook call fails: retried after its back-off
    try:
        np_ = notif_params(params, smtp_port, hook.port)
        data = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))
        data["notifications"] = np_.model_dump(mode="json")
        path = tmp_path / "params.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        db = tmp_path / "state.db"
        store = Store(f"sqlite:///{db}")
        record_and_plan(store, signals(), params.ladder, np_, dt.datetime.now(dt.UTC), "v1")
        queued = len(store.rows("outbox"))
        monkeypatch.setenv("ESCRISK_DATABASE_URL", f"sqlite:///{db}")
        with Smtp(smtp_port) as inbox:
            assert main(["notify", "--params", str(path), "--quiet"]) == 0  # a retry: told
            out = " ".join(capsys.readouterr().out.split())
            assert f"Notifications: {queued - 1} sent, 1 to retry, 0 failed." in out, out
            # the failed one waits out its back-off: a second call at once sends nothing
            assert main(["notify", "--params", str(path), "--language", "de"]) == 0
            out = " ".join(capsys.readouterr().out.split())
            assert "Benachrichtigungen: 0 gesendet" in out and "escrisk notify" in out, out
            # from cron, whose every line is a mail: nothing when nothing went wrong
            assert main(["notify", "--params", str(path), "--quiet"]) == 0
            assert capsys.readouterr().out == ""
            rows = store.rows("outbox")
            assert sum(r["status"] == "sent" for r in rows) == queued - 1
            assert len(inbox.mails) + len(hook.received) == queued - 1
    finally:
        hook.close()
    # a mistyped database is one line, and no empty database is left there
    monkeypatch.setenv("ESCRISK_DATABASE_URL", f"sqlite:///{tmp_path / 'nope.db'}")
    assert main(["notify", "--params", str(path)]) == 1
    assert "nope.db" in capsys.readouterr().err
    assert not (tmp_path / "nope.db").exists()


def test_escrisk_notify_exits_3_when_a_message_failed_for_good_quiet_or_not(
    params, tmp_path, monkeypatch, capsys
):
    """A webhook refusing for good (404) failed its messages, and `escrisk notify --quiet` still
    exited 0: a scheduler watching the exit status never heard of it. It exits 3 now, and says
    so; a message still to retry is no failure yet (exit 0)."""
    import yaml

    from serving.cli import main

    hook = Hook(failures=100, status=404)
    try:
        np_ = notif_params(params, free_port(), hook.port)
        data = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))
        data["notifications"] = np_.model_dump(mode="json")
        path = tmp_path / "params.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        db = tmp_path / "state.db"
        store = Store(f"sqlite:///{db}")
        record_and_plan(store, signals(), params.ladder, np_, dt.datetime.now(dt.UTC), "v1")
        monkeypatch.setenv("ESCRISK_DATABASE_URL", f"sqlite:///{db}")
        # the mail server is down (nothing listens): its messages wait for a retry, no failure
        assert main(["notify", "--params", str(path), "--quiet"]) == 3
        out = " ".join(capsys.readouterr().out.split())
        hooks = sum(r["notifier"] == "webhook" for r in store.rows("outbox"))
        assert hooks > 0 and f"{hooks} failed" in out and "HTTP 404" in out, out
        assert (
            f"{hooks} notifications failed: once the cause is fixed, escrisk notify --requeue"
            in out
        )
        # nothing due any more (the mails wait out their back-off): nothing failed this time
        assert main(["notify", "--params", str(path), "--quiet"]) == 0
    finally:
        hook.close()


class RefusingInbox(Inbox):
    """An SMTP server that refuses every recipient for good (550)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        return "550 5.1.1 no such mailbox"


@pytest.mark.parametrize(("status", "for_good"), [(404, True), (410, True), (429, False)])
def test_a_webhook_that_refuses_for_good_fails_at_once(params, tmp_path, status, for_good):
    """A webhook answering 404 (a revoked or mistyped URL, which the message keeps) was tried
    max_attempts times over days, every run reporting it 'to retry'; a client error now fails
    the message at once with its reason; a rate limit (429) is still retried."""
    hook = Hook(failures=100, status=status)
    try:
        np_ = notif_params(params, free_port(), hook.port)
        store = Store(f"sqlite:///{tmp_path / 'hook.db'}")
        record_and_plan(store, signals(), params.ladder, np_, NOW, "v1")
        hooks = [r for r in store.rows("outbox") if r["notifier"] == "webhook"]
        ok = type("Ok", (), {"send": lambda self, row: None})()
        report = deliver(store, {"smtp": ok, "webhook": WebhookNotifier(5)}, np_.retry, NOW)
        assert hook.calls == (len(hooks) if for_good else 1) and len(hooks) > 1  # 429: once
        assert (report.failed, report.retrying) == (
            (len(hooks), 0) if for_good else (0, len(hooks))
        )
        assert f"HTTP {status}" in report.errors[0]
        rows = [r for r in store.rows("outbox") if r["notifier"] == "webhook"]
        assert all((r["status"] == "failed") == for_good for r in rows)
    finally:
        hook.close()


def test_a_recipient_the_mail_server_refuses_for_good_fails_at_once(params, tmp_path):
    """A 550 'no such mailbox' was retried max_attempts times; it now fails at once, named."""
    port = free_port()
    np_ = notif_params(params, port, free_port())
    store = Store(f"sqlite:///{tmp_path / 'smtp.db'}")
    record_and_plan(store, signals(), params.ladder, np_, NOW, "v1")
    mails = [r for r in store.rows("outbox") if r["notifier"] == "smtp"]
    controller = Controller(RefusingInbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        ok = type("Ok", (), {"send": lambda self, row: None})()
        notifiers = {"smtp": SmtpNotifier(np_.smtp), "webhook": ok}
        report = deliver(store, notifiers, np_.retry, NOW)
    finally:
        controller.stop()
    assert report.failed == len(mails) > 0 and report.retrying == 0
    assert any("refused the recipient" in e and "550" in e for e in report.errors)


class BusyInbox(Inbox):
    """An SMTP server that takes connections but defers every mail (421: try again later)."""

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        return "421 4.3.2 service not available, try again later"


def test_an_outage_is_retried_until_the_message_is_too_old_not_max_attempts_times(params, tmp_path):
    """With the shipped retry settings (5 attempts, back-off from 60 s), a mail server down for
    15 minutes failed every queued message for good, two days before max_age_hours: an outage
    (refused, deferred with 4xx, a webhook's 5xx) is now retried with capped back-off until the
    message expires; another error still gives up after max_attempts."""
    port = free_port()
    hook = Hook(failures=10_000, status=503)
    try:
        np_ = notif_params(params, port, hook.port)
        retry = np_.retry
        assert (retry.max_attempts, retry.backoff_seconds, retry.max_age_hours) == (5, 60, 48)
        store = Store(f"sqlite:///{tmp_path / 'down.db'}")
        record_and_plan(store, signals(), params.ladder, np_, NOW, "v1")
        queued = len(store.rows("outbox"))
        t = NOW
        busy = Controller(BusyInbox(), hostname="127.0.0.1", port=port)
        for minute in range(0, 120, 5):  # cron every 5 minutes: down, then busy (421)
            if minute == 60:
                busy.start()
            report = deliver(store, notifiers_from(np_), retry, t + dt.timedelta(minutes=minute))
            assert report.failed == 0, (minute, report)
        busy.stop()
        rows = store.rows("outbox")
        assert all(r["status"] == "pending" for r in rows)
        assert all(r["attempts"] > retry.max_attempts for r in rows)
        mail = next(r for r in rows if r["notifier"] == "smtp")
        assert "421" in mail["last_error"] and "TryLater" in mail["last_error"]
        assert any("HTTP 503" in r["last_error"] for r in rows)
        # back (the webhook too): everything goes out at its next attempt
        hook.failures = 0
        with Smtp(port) as inbox:
            report = deliver(store, notifiers_from(np_), retry, t + dt.timedelta(hours=3))
        assert report.sent == queued and len(inbox.mails) + len(hook.received) == queued
    finally:
        hook.close()


def test_an_outage_past_max_age_ends_in_a_last_attempt_then_expiry(params, tmp_path):
    np_ = notif_params(params, free_port(), free_port())
    retry = np_.retry.model_copy(update={"max_age_hours": 2.0})
    store = Store(f"sqlite:///{tmp_path / 'long.db'}")
    record_and_plan(store, signals(), params.ladder, np_, NOW, "v1")
    end = NOW + dt.timedelta(hours=2)
    t = NOW + dt.timedelta(hours=1, minutes=50)
    for r in store.rows("outbox"):  # failed often: the next back-off (1 h) ends past the age
        for _ in range(8):
            store.mark_failed(r["id"], NOW, "down", t)
    report = deliver(store, notifiers_from(np_), retry, t)
    assert report.retrying == len(store.rows("outbox")) and report.next_attempt == end
    assert all(r["next_attempt_at"] == end for r in store.rows("outbox"))  # not past it
    last = deliver(store, notifiers_from(np_), retry, end)  # tried as it expires, the last time
    assert (last.retrying, last.expired, last.waiting) == (0, len(store.rows("outbox")), 0)
    rows = store.rows("outbox")
    assert all(r["status"] == "failed" and r["last_error"].startswith("expired") for r in rows)
    assert all("ConnectionRefusedError" in r["last_error"] for r in rows if r["notifier"] == "smtp")


def test_an_error_that_is_no_outage_gives_up_after_max_attempts(params, tmp_path):
    """A webhook channel without a webhook notifier (no outage: it will not pass) is given up
    after max_attempts, as is an outage when max_age_hours is null (no other end)."""
    port = free_port()
    np_ = notif_params(params, port, free_port())
    store = Store(f"sqlite:///{tmp_path / 'bug.db'}")
    record_and_plan(store, signals(), params.ladder, np_, NOW, "v1")
    only_mail = {"smtp": notifiers_from(np_)["smtp"]}
    no_limit = np_.retry.model_copy(update={"max_age_hours": None})
    t, failed = NOW, 0
    for _ in range(np_.retry.max_attempts):
        failed += deliver(store, only_mail, np_.retry, t).failed  # the SMTP server is down
        t += dt.timedelta(seconds=np_.retry.max_backoff_seconds)
    rows = store.rows("outbox")
    hooks = sum(r["notifier"] == "webhook" for r in rows)
    assert failed == hooks > 0
    assert {r["status"] for r in rows if r["notifier"] == "smtp"} == {"pending"}
    for _ in range(np_.retry.max_attempts):
        deliver(store, only_mail, no_limit, t)
        t += dt.timedelta(seconds=np_.retry.max_backoff_seconds)
    assert {r["status"] for r in store.rows("outbox")} == {"failed"}


def test_escrisk_notify_requeue_sends_failed_messages_again_once(
    params, tmp_path, monkeypatch, capsys
):
    """After an outage the messages that failed for good could be sent again only by editing
    the database. `escrisk notify --requeue [--since DAY]` puts them back (not those too old to
    send, nor those queued before DAY), sends them, notes who did it, and a second call finds
    nothing left to put back."""
    import yaml

    from serving.cli import main

    port = free_port()
    hook = Hook(failures=100, status=404)  # a webhook refusing for good, then fixed
    try:
        np_ = notif_params(params, port, hook.port)
        data = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))
        data["notifications"] = np_.model_dump(mode="json")
        path = tmp_path / "params.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        db = tmp_path / "state.db"
        store = Store(f"sqlite:///{db}")
        now = dt.datetime.now(dt.UTC)
        record_and_plan(
            store, signals("OLD-1"), params.ladder, np_, now - dt.timedelta(days=3), "v"
        )
        record_and_plan(
            store, signals("ACME-1"), params.ladder, np_, now - dt.timedelta(days=1), "v"
        )
        record_and_plan(store, signals("NEW-1"), params.ladder, np_, now, "v")
        monkeypatch.setenv("ESCRISK_DATABASE_URL", f"sqlite:///{db}")
        controller = Controller(RefusingInbox(), hostname="127.0.0.1", port=port)
        controller.start()
        try:
            assert main(["notify", "--params", str(path), "--quiet"]) == 3
        finally:
            controller.stop()
        capsys.readouterr()
        rows = store.rows("outbox")
        per_account = len(rows) // 3
        assert {r["status"] for r in rows} == {"failed"}  # expired, or refused for good
        hook.failures = 0
        assert main(["notify", "--params", str(path), "--since", "2000-01-01"]) == 1
        assert "--requeue" in capsys.readouterr().err
        day = (now - dt.timedelta(days=1)).date().isoformat()
        with Smtp(port) as inbox:
            args = ["notify", "--params", str(path), "--requeue", "--since", day, "--by", "ops"]
            assert main([*args, "--language", "de"]) == 0
            out = " ".join(capsys.readouterr().out.split())
            assert f"{2 * per_account} fehlgeschlagene Benachrichtigungen wieder" in out, out
            assert f"Benachrichtigungen: {2 * per_account} gesendet" in out, out
            assert main(args) == 0  # again: nothing left to put back, nothing sent twice
            out = " ".join(capsys.readouterr().out.split())
            assert "0 failed notifications put back to send (by ops)" in out, out
            rows = {r["account_id"]: r for r in store.rows("outbox")}
            assert rows["OLD-1"]["status"] == "failed"  # queued before --since
            # without --since: the old one is too old to send (max_age_hours 48), said so
            assert main(["notify", "--params", str(path), "--requeue", "--by", "ops"]) == 0
            out = " ".join(capsys.readouterr().out.split())
            assert f"{per_account} failed notifications stay failed" in out, out
        assert len(inbox.mails) + len(hook.received) == 2 * per_account
        rows = store.rows("outbox")
        assert sum(r["status"] == "sent" for r in rows) == 2 * per_account
        assert all(r["status"] == "failed" for r in rows if r["account_id"] == "OLD-1")
    finally:
        hook.close()


class SessionInbox(Inbox):
    """Records each mail's connection (the client's address and port); with `per_session`, says
    421 to the MAIL after that many mails of one connection, as servers limiting a session do;
    with `hang_up`, closes the connection after each mail."""

    def __init__(self, per_session: int | None = None, hang_up: bool = False) -> None:
        super().__init__()
        self.peers: list[Any] = []
        self.per_session, self.hang_up = per_session, hang_up

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        if self.per_session is not None and self.peers.count(session.peer) >= self.per_session:
            return "421 4.7.0 too many messages in this session"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        import asyncio

        self.peers.append(session.peer)
        if self.hang_up:
            asyncio.get_running_loop().call_soon(server.transport.close)
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize(
    ("inbox", "connections"),
    [
        (SessionInbox(), lambda mails: 1),
        (SessionInbox(per_session=2), lambda mails: (mails + 1) // 2),
        (SessionInbox(hang_up=True), lambda mails: mails),
    ],
    ids=["one-session", "server-limits-a-session", "server-hangs-up"],
)
def test_a_run_sends_its_mails_over_one_connection_and_reconnects_when_ended(
    params, tmp_path, inbox, connections
):
    """Each e-mail opened a connection (and logged in) of its own: a first run with thousands
    of messages opened thousands, which mail servers throttle. A run uses one; a session the
    server ends (421 after so many mails, a hang-up) is opened anew without failing a mail."""
    port = free_port()
    np_ = notif_params(params, port, free_port())
    store = Store(f"sqlite:///{tmp_path / 'many.db'}")
    for k in range(3):
        record_and_plan(store, signals(f"ACME-{k}", family="notice"), params.ladder, np_, NOW, "v")
    mails = sum(r["notifier"] == "smtp" for r in store.rows("outbox"))
    ok = type("Ok", (), {"send": lambda self, row: None})()
    smtp = SmtpNotifier(np_.smtp)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        report = deliver(store, {"smtp": smtp, "webhook": ok}, np_.retry, NOW)
        assert (report.retrying, report.failed) == (0, 0), report.errors
        assert len(inbox.mails) == mails > 2
        assert len(set(inbox.peers)) == connections(mails)
        assert smtp._smtp is None  # the run ended its session (QUIT)
    finally:
        controller.stop()


def test_a_long_run_claims_each_message_at_its_own_time_not_the_runs_start(params, tmp_path):
    """Every claim of a run was stamped with the time the run started (`escrisk daily`: before
    scoring): once the run was older than lease_seconds, each message it was sending looked like
    a crashed sender's to `escrisk notify` from cron, which sent it a second time. With the
    clock, a claim is stamped when made; a concurrent sender leaves the message being sent."""
    np_ = notif_params(params, free_port(), free_port())
    url = f"sqlite:///{tmp_path / 'long.db'}"
    store = Store(url)
    for k in range(3):
        record_and_plan(store, signals(f"ACME-{k}"), params.ladder, np_, NOW, "v1")
    queued = len(store.rows("outbox"))
    ticks = iter(range(1, 1000))
    wall = [NOW]

    def clock() -> dt.datetime:  # each message 200 s after the last: the run outlasts the lease
        wall[0] = NOW + dt.timedelta(seconds=200 * next(ticks))
        return wall[0]

    sent: list[int] = []
    other = Store(url)  # cron's `escrisk notify`, another process on the same database

    class Cron:
        def send(self, row: Any) -> None:
            sent.append(row["id"])

    class Slow:
        def send(self, row: Any) -> None:
            sent.append(row["id"])
            if len(sent) == 3:  # cron starts 600 s into the run, the lease is 300 s
                deliver(other, {"smtp": Cron(), "webhook": Cron()}, np_.retry, wall[0])

    report = deliver(store, {"smtp": Slow(), "webhook": Slow()}, np_.retry, NOW, clock=clock)
    assert sorted(sent) == sorted(set(sent)) and len(sent) == queued
    assert report.sent >= 1 and report.sent + report.skipped == queued
    rows = store.rows("outbox")
    assert all(r["status"] == "sent" for r in rows)
    first = min(r["id"] for r in rows)
    assert next(r for r in rows if r["id"] == first)["sent_at"] > NOW  # when it was sent


class Drip:
    """An HTTP server that answers `status` at once, then its body a byte every 0.5 s."""

    def __init__(self, status: int, body: bytes = b"slow body, byte by byte") -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.port = self.server.getsockname()[1]
        self.status, self.body = status, body
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        import time

        with contextlib.suppress(OSError):
            conn, _ = self.server.accept()
            with conn:
                conn.recv(65536)
                head = f"HTTP/1.1 {self.status} X\r\nContent-Length: {len(self.body)}\r\n\r\n"
                conn.sendall(head.encode())
                for b in self.body:
                    time.sleep(0.5)
                    conn.sendall(bytes([b]))

    def close(self) -> None:
        self.server.close()


@pytest.mark.parametrize(("status", "error"), [(200, None), (503, "TryLater")])
def test_a_webhook_dripping_its_answer_is_not_waited_for_past_the_timeout(status, error):
    """httpx's timeout bounds each read: a webhook dripping its body a byte at a time held a
    send 12 s at a 1 s timeout (past the lease: another sender took the message and sent it
    again). A send now ends about `timeout_seconds` after the answer begins."""
    import time

    drip = Drip(status)
    row = {
        "recipient": f"http://127.0.0.1:{drip.port}/hook",
        "payload": {"text": "x"},
        "idempotency_key": "k",
    }
    start = time.monotonic()
    try:
        if error is None:
            WebhookNotifier(1).send(row)
        else:
            with pytest.raises(Exception, match="webhook answered HTTP 503: s") as caught:
                WebhookNotifier(1).send(row)
            assert type(caught.value).__name__ == error
    finally:
        drip.close()
    assert time.monotonic() - start < 4  # the whole body takes 11.5 s


def test_a_login_the_mail_server_refuses_is_tried_once_per_run(params, tmp_path):
    """A wrong SMTP password (535) was tried for every message: a first run with thousands of
    mails made thousands of failed logins, which lock the account or ban the host. The server
    is tried once per run; its other mails fail the attempt with its reason."""
    from aiosmtpd.smtp import AuthResult

    logins: list[str] = []

    def refuse(server, session, envelope, mechanism, auth_data):
        logins.append(mechanism)
        return AuthResult(success=False, handled=False)

    store, mails, report = _deliver_three_with_login(params, tmp_path, refuse, "wrong")
    assert len(logins) == len(set(logins)) and len(mails) > 2  # one login (each mechanism once)
    assert report.retrying == len(mails) and report.sent == len(store.rows("outbox")) - len(mails)
    rows = [r for r in store.rows("outbox") if r["notifier"] == "smtp"]
    assert all("SMTPAuthenticationError" in r["last_error"] for r in rows)


def test_a_login_the_mail_server_defers_is_tried_once_per_run(params, tmp_path):
    """A login the server answers 454 (its authentication backend down, "try again later") was
    a deferral like a busy recipient's: every message of the run logged in again, thousands of
    failed logins where a refused one (535) is tried once. A deferred login or STARTTLS is the
    server's, not the message's: tried once per run, its other mails waiting their back-off."""
    from aiosmtpd.smtp import AuthResult

    logins: list[str] = []

    def defer(server, session, envelope, mechanism, auth_data):
        logins.append(mechanism)
        return AuthResult(
            success=False, handled=False, message="454 4.7.0 Temporary authentication failure"
        )

    store, mails, report = _deliver_three_with_login(params, tmp_path, defer, "right")
    assert len(mails) > 2 and len(logins) == len(set(logins))  # one login (each mechanism once)
    assert report.retrying == len(mails) and report.failed == 0
    rows = [r for r in store.rows("outbox") if r["notifier"] == "smtp"]
    assert all("454" in r["last_error"] and r["status"] == "pending" for r in rows)


def test_a_rate_limited_webhook_is_not_hammered_for_the_rest_of_the_run(params, tmp_path):
    """A webhook answering 429 (Slack allows about one message a second) was posted every other
    message of the run all the same, each turned away alike and the limit prolonged. It is
    tried once per run; its other messages wait their back-off with its reason."""
    hook = Hook(failures=100, status=429)
    try:
        np_ = notif_params(params, free_port(), hook.port)
        store = Store(f"sqlite:///{tmp_path / 'rate.db'}")
        for k in range(3):
            record_and_plan(store, signals(f"ACME-{k}"), params.ladder, np_, NOW, "v1")
        hooks = [r for r in store.rows("outbox") if r["notifier"] == "webhook"]
        ok = type("Ok", (), {"send": lambda self, row: None})()
        report = deliver(store, {"smtp": ok, "webhook": WebhookNotifier(5)}, np_.retry, NOW)
        assert hook.calls == 1 and len(hooks) > 2
        assert report.retrying == len(hooks) and report.failed == 0
        rows = [r for r in store.rows("outbox") if r["notifier"] == "webhook"]
        assert all("HTTP 429" in r["last_error"] and r["status"] == "pending" for r in rows)
    finally:
        hook.close()


def _deliver_three_with_login(params, tmp_path, authenticator, password):
    """Three accounts' messages planned and delivered once, the mail server logging in with
    `authenticator`, the webhook taking everything: the store, its mails and the report."""
    port = free_port()
    np_ = notif_params(params, port, free_port())
    smtp = np_.smtp.model_copy(update={"username": "escrisk"})
    store = Store(f"sqlite:///{tmp_path / 'auth.db'}")
    for k in range(3):
        record_and_plan(store, signals(f"ACME-{k}", family="notice"), params.ladder, np_, NOW, "v")
    mails = [r for r in store.rows("outbox") if r["notifier"] == "smtp"]
    ok = type("Ok", (), {"send": lambda self, row: None})()
    controller = Controller(
        Inbox(),
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        notifiers = {"smtp": SmtpNotifier(smtp, password), "webhook": ok}
        report = deliver(store, notifiers, np_.retry, NOW)
    finally:
        controller.stop()
    return store, mails, report
