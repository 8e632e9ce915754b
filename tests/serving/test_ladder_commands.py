"""`escrisk ack / resolve / feedback / audit` end to end on a SQLite file named by the environment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from serving.cli import main
from serving.ladder import AccountFacts, Signals
from serving.store import Store

ROOT = Path(__file__).resolve().parents[2]
PARAMS = ["--params", str(ROOT / "params.yaml")]
NOW = dt.datetime(2025, 6, 4, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def db(tmp_path, monkeypatch, params) -> Store:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("ESCRISK_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps to the terminal width
    store = Store(url)
    facts = AccountFacts(
        arr=1e5,
        tier="business",
        seats=50,
        days_to_renewal=200,
        open_p1=0,
        open_p2=0,
        open_p1_past_sla=0,
        open_p2_past_sla=0,
    )
    store.evaluate(
        Signals("ACME-1", 0.6, 0.2, {}, "sla", facts, ({"text": "3 SLA near-misses"},)),
        params.ladder,
        NOW,
        "v3",
    )
    store.evaluate(Signals("QUIET-2", 0.1, 0.1, {}, None, facts), params.ladder, NOW, "v3")
    return store


def test_ack_resolve_feedback_and_audit(db, capsys):
    assert (
        main(
            [
                "ack",
                "ACME-1",
                "--by",
                "anna",
                "--note",
                "calling them",
                "--action",
                "schedule_call",
                *PARAMS,
            ]
        )
        == 0
    )
    assert "ACME-1: L2 acknowledged by anna" in capsys.readouterr().out
    assert main(["feedback", "ACME-1", "--disagree", "--comment", "seasonal", "--by", "anna"]) == 0
    assert "anna disagrees with flag" in capsys.readouterr().out
    assert main(["resolve", "ACME-1", "--outcome", "saved", "--by", "anna", *PARAMS]) == 0
    assert "resolved (saved)" in capsys.readouterr().out
    assert [e["kind"] for e in db.trail("ACME-1")] == [
        "level_changes",
        "actions_taken",
        "acknowledgements",
        "feedback",
        "resolutions",
    ]
    assert main(["audit", "ACME-1", "--kpis"]) == 0
    out = capsys.readouterr().out
    for part in (
        "Audit trail of ACME-1",
        "- -> L2",
        "3 SLA near-misses",
        "acknowledged",
        "Schedule a call with the customer's decision makers",
        "disagree",
        "saved",
        "Escalation KPIs",
        "flags confirmed by CSMs",
    ):
        assert part in out


def test_audit_written_to_a_file_keeps_its_words_whole(db, capsys, monkeypatch):
    """`escrisk audit > trail.txt` fitted rich's 80 columns and split words ("acknowledge d")."""
    monkeypatch.delenv("COLUMNS")
    assert main(["ack", "ACME-1", "--by", "anna", *PARAMS]) == 0
    capsys.readouterr()
    assert main(["audit", "ACME-1"]) == 0
    out = capsys.readouterr().out
    assert "acknowledged" in out and "3 SLA near-misses" in out


def test_audit_shows_notes_and_names_with_brackets_as_typed(db, capsys):
    """A note or name with square brackets was read as rich markup: "[/x]" stopped the command
    with an internal error, "[link]" vanished."""
    note = "called CFO [/x] see [link]"
    assert main(["ack", "ACME-1", "--by", "[bold]anna[/]", "--note", note, *PARAMS]) == 0
    capsys.readouterr()
    assert main(["audit", "ACME-1"]) == 0
    out = capsys.readouterr().out
    assert note in out and "[bold]anna[/]" in out


def test_audit_kpis_group_the_digits_as_the_report_does(db, capsys, monkeypatch):
    """A slow team's median of 1,234.5 hours read "1234.5" (German "1234,5"), where the HTML
    report writes 1,234.5 (1.234,5)."""
    from serving import kpis

    slow = kpis.LadderKpis(
        escalations=12_345, accounts_escalated=3, accounts_scored=4, account_days_scored=99_999,
        escalation_rate=0.1, escalations_per_account=1_234.5, median_hours_to_acknowledge=1_234.5,
        median_hours_to_resolve=12_345.0, acknowledged_share=0.5, confirmed_share=None,
        per_account={}, first_flags=0,
    )  # fmt: skip
    monkeypatch.setattr(kpis, "window_kpis", lambda store, **_: slow)
    assert main(["audit", "--kpis", "--language", "en", *PARAMS]) == 0
    out = capsys.readouterr().out
    assert "1,234.5 " in out and "12,345.0 " in out and "1,234.50 " in out and "12,345 " in out
    assert main(["audit", "--kpis", "--language", "de", *PARAMS]) == 0
    out = capsys.readouterr().out
    assert "1.234,5 " in out and "12.345,0 " in out and "1.234,50 " in out


def test_audit_in_german_says_who_acted_on_the_page_in_german(db, capsys):
    """The CSM page records "Nina (key 3fa9c2d1)": `audit --language de` wrote "key" in German
    output; a name given with --by is shown as given."""
    db.acknowledge("ACME-1", NOW, "Nina Becker (key 3fa9c2d1)", "angerufen")
    assert main(["audit", "ACME-1", "--language", "de", *PARAMS]) == 0
    out = capsys.readouterr().out
    assert "Nina Becker (Schlüssel 3fa9c2d1)" in out and "(key " not in out
    assert main(["audit", "ACME-1", "--language", "en", *PARAMS]) == 0
    assert "Nina Becker (key 3fa9c2d1)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ack", "NOPE", *PARAMS], "escrisk ack: unknown account 'NOPE'"),
        (
            ["resolve", "NOPE", "--outcome", "saved", *PARAMS],
            "escrisk resolve: unknown account 'NOPE'",
        ),
        (["feedback", "NOPE", "--agree"], "escrisk feedback: unknown account 'NOPE'"),
        (["audit", "NOPE"], "escrisk audit: unknown account 'NOPE'"),
        (["ack", "QUIET-2", *PARAMS], "never been flagged; nothing to acknowledge"),
        (
            ["resolve", "ACME-1", "--outcome", "won", *PARAMS],
            "unknown outcome 'won'; one of: saved, churned",
        ),
        (["ack", "ACME-1", "--action", "dance", *PARAMS], "1 unknown playbook action: ['dance']"),
        (["ack", "ACME-1", "--by", "x\x1b[31mred", *PARAMS], "give a name of 1 to 128 printable"),
        (["ack", "ACME-1", "--by", "", *PARAMS], "give a name of 1 to 128 printable"),
    ],
)
def test_clear_errors_never_a_traceback(db, capsys, argv, message):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["audit"], ["audit", "--kpis"], ["ack", "ACME-1", *PARAMS]])
def test_a_database_file_that_is_not_there_is_named_not_created(
    tmp_path, monkeypatch, capsys, argv
):
    """`escrisk audit` on a mistyped path said "No audit records yet" and created an empty store
    there, which the service then took for a store that never scored an account."""
    missing = tmp_path / "typo.db"
    monkeypatch.setenv("ESCRISK_DATABASE_URL", f"sqlite:///{missing}")
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"no database at {missing}" in err and "escrisk daily` creates it" in err
    assert not missing.exists()


def test_feedback_needs_a_verdict(db, capsys):
    with pytest.raises(SystemExit):
        main(["feedback", "ACME-1"])
    assert "one of the arguments --agree --disagree is required" in capsys.readouterr().err


@pytest.fixture(scope="module")
def params(params, classic_ladder):
    """The ladder's mechanics, tested against a pinned policy (tests/serving/conftest.py)."""
    return classic_ladder(params)


def test_audit_lists_messages_that_failed_for_good(db, capsys):
    """A message whose retries are spent is otherwise only a count in the run that gave up."""
    from serving.store import bulk_insert

    base = {
        "decision_id": "d1", "account_id": "ACME-1", "notifier": "smtp", "subject": "s",
        "body": "b", "payload": {}, "created_at": NOW, "next_attempt_at": NOW,
    }  # fmt: skip
    rows = [
        base | {"idempotency_key": "k1", "channel": "email", "recipient": "cs@example.com",
                "status": "failed", "attempts": 5, "last_error": "ConnectionRefusedError"},
        base | {"idempotency_key": "k2", "channel": "slack", "notifier": "webhook",
                "recipient": "https://hooks.slack.com/services/T0/B0/s3cr3tT0ken", "status": "sent",
                "attempts": 1, "last_error": None},
    ]  # fmt: skip
    with db.engine.begin() as conn:
        bulk_insert(conn, db.t["outbox"], rows)
    assert main(["audit", "--messages", "failed"]) == 0
    out = capsys.readouterr().out
    assert "cs@example.com" in out and "ConnectionRefusedError" in out and "slack" not in out
    assert main(["audit", "ACME-1", "--messages", "all"]) == 0
    out = capsys.readouterr().out
    assert "cs@example.com" in out and "https://hooks.slack.com/***" in out
    # an incoming-webhook address is its own credential: the listing (pasted into a ticket when
    # sends fail) names the server, not the path that lets anyone post to the channel
    assert "s3cr3tT0ken" not in out and "services" not in out


def test_the_message_listing_tells_its_statuses_in_the_teams_language(db, capsys):
    """`escrisk audit --messages failed --language de` titled "Nachrichten (failed)" and listed
    each message as sent, pending or failed in English."""
    from serving.store import bulk_insert

    row = {
        "decision_id": "d1", "account_id": "ACME-1", "notifier": "smtp", "subject": "s",
        "body": "b", "payload": {}, "created_at": NOW, "next_attempt_at": NOW,
        "idempotency_key": "k1", "channel": "email", "recipient": "cs@example.com",
        "status": "failed", "attempts": 5, "last_error": "ConnectionRefusedError",
    }  # fmt: skip
    with db.engine.begin() as conn:
        bulk_insert(conn, db.t["outbox"], [row])
    assert main(["audit", "--messages", "failed", "--language", "de", *PARAMS]) == 0
    out = capsys.readouterr().out
    assert "Nachrichten (fehlgeschlagen)" in out and "│ fehlgeschlagen" in out
    assert "failed" not in out
    assert main(["audit", "--messages", "pending", "--language", "de", *PARAMS]) == 0
    assert "Keine Nachrichten (ausstehend)." in capsys.readouterr().out
    assert main(["audit", "--messages", "failed", "--language", "en", *PARAMS]) == 0
    out = capsys.readouterr().out
    assert "Messages (failed)" in out and "│ failed" in out


def test_a_german_teams_ladder_commands_answer_in_german(db, tmp_path, capsys):
    """Under daily.language: de `escrisk ack / resolve / feedback / audit` answered, refused and
    listed in English, and feedback and audit took no --params; --language overrides."""
    text = (ROOT / "params.yaml").read_text(encoding="utf-8")
    german = text.replace("terminal_rows: 20\n  language: en", "terminal_rows: 20\n  language: de")
    assert german != text
    (tmp_path / "de.yaml").write_text(german, encoding="utf-8")
    de = ["--params", str(tmp_path / "de.yaml")]
    assert main(["ack", "ACME-1", "--by", "anna", *de]) == 0
    assert "ACME-1: L2 bestätigt von anna am " in capsys.readouterr().out
    assert main(["ack", "ACME-1", "--by", "anna", *de]) == 1
    assert "wurde bereits am" in capsys.readouterr().err
    assert main(["ack", "QUIET-2", *de]) == 1
    assert "wurde nie gemeldet" in capsys.readouterr().err
    assert main(["resolve", "ACME-1", "--outcome", "won", *de]) == 1
    assert "unbekanntes Ergebnis 'won'" in capsys.readouterr().err
    assert main(["feedback", "ACME-1", "--agree", "--by", "anna", *de]) == 0
    assert "anna stimmt der Meldung" in capsys.readouterr().out
    assert main(["resolve", "ACME-1", "--outcome", "saved", "--by", "anna", *de]) == 0
    assert "gelöst (gehalten) von anna" in capsys.readouterr().out
    assert main(["audit", "ACME-1", "--kpis", *de]) == 0
    out = capsys.readouterr().out
    for part in ("Audit-Verlauf von ACME-1", "Zustimmung", "Eskalations-Kennzahlen", "Wert"):
        assert part in out
    assert "Audit trail" not in out and "acknowledged" not in out
    assert main(["audit", "ACME-1", "--language", "en", *de]) == 0
    assert "Audit trail of ACME-1" in capsys.readouterr().out


def test_notes_and_comments_keep_no_control_characters(db, capsys):
    """A --note or --comment with a terminal escape was stored as typed and printed raw by
    `escrisk audit` (ESC[2J cleared the reader's screen); the CSM page already made such
    characters spaces, as the command line now does."""
    assert main(["ack", "ACME-1", "--note", "call\x1b[2J them\x00", *PARAMS]) == 0
    assert main(["feedback", "ACME-1", "--agree", "--comment", "ok\x1b]0;x\x07", *PARAMS]) == 0
    assert main(["resolve", "ACME-1", "--outcome", "saved", "--note", "\x1b", *PARAMS]) == 0
    capsys.readouterr()
    trail = db.trail("ACME-1")
    notes = [e.get("note") or e.get("comment") for e in trail if e["kind"] != "level_changes"]
    assert notes == ["call [2J them", "ok ]0;x", None]
    assert main(["audit", "ACME-1", *PARAMS]) == 0
    assert "\x1b" not in capsys.readouterr().out


def test_audit_takes_an_account_pasted_with_spaces_around_it(db, capsys):
    """ack, resolve and feedback strip the account id; audit told " ACME-1 " an unknown account."""
    assert main(["audit", " ACME-1\t", *PARAMS]) == 0
    assert "Audit trail of ACME-1" in capsys.readouterr().out
    assert main(["audit", "  ", *PARAMS]) == 1
    assert "unknown account ''" in capsys.readouterr().err


def test_audit_tells_a_level_changes_reasons_in_the_teams_language(db, params, capsys):
    """`escrisk audit --language de` wrote a level change's reasons as stored, in the account's
    language ("25 first response SLA breaches in the last 90 days") amid German columns; they
    are told again in the command's language, as the CSM page tells them."""
    facts = AccountFacts(100_000.0, "business", 50, 200, 0, 0, 0, 0)
    reason = {
        "head": "escalation", "feature": "sla_first_response_breaches_90d", "family": "sla",
        "direction": "up", "value": 25.0, "contribution": 0.05,
        "text": "25 first response SLA breaches in the last 90 days",
    }  # fmt: skip
    db.evaluate(Signals("EN-3", 0.6, 0.2, {}, "sla", facts, (reason,)), params.ladder, NOW, "v3")
    assert main(["audit", "EN-3", "--language", "de", *PARAMS]) == 0
    out = capsys.readouterr().out
    assert "25 verletzte Erstantwort-SLAs in den letzten 90 Tagen" in out
    assert "first response" not in out
    assert main(["audit", "EN-3", "--language", "en", *PARAMS]) == 0
    assert "25 first response SLA breaches in the last 90 days" in capsys.readouterr().out


def test_audit_tells_reasons_with_the_settings_of_the_model_that_gave_them(
    db, params, capsys, tmp_path
):
    """`escrisk audit` told stored reasons by params.yaml's feature settings of today: a drop
    against the 90-day usage baseline, scored by a model trained with it, read "against the
    180-day baseline" once params.yaml moved to 180. It tells them with the settings the daily
    run kept for the model version that gave them."""
    facts = AccountFacts(100_000.0, "business", 50, 200, 0, 0, 0, 0)
    reason = {
        "head": "churn", "feature": "usage_active_users_pct_drop", "family": "usage",
        "direction": "up", "value": 0.4, "contribution": 0.05,
        "text": "Active users down 40% against the 90-day baseline",
    }  # fmt: skip
    db.keep_model_settings("v7", params.features.model_dump(mode="json"), NOW)
    db.evaluate(Signals("USE-5", 0.6, 0.2, {}, "usage", facts, (reason,)), params.ladder, NOW, "v7")
    assert params.features.usage.baseline_days == 90
    text = (ROOT / "params.yaml").read_text(encoding="utf-8")
    changed = tmp_path / "params.yaml"
    old = "usage: {short_days: 7, long_days: 28, baseline_days: 90}"
    assert old in text
    changed.write_text(text.replace(old, old.replace("90", "180")), encoding="utf-8")
    later = ["--params", str(changed)]
    for lang, told in (("de", "unter dem 90-Tage-Mittel"), ("en", "down 40% against the 90-day")):
        assert main(["audit", "USE-5", "--language", lang, *later]) == 0
        out = capsys.readouterr().out
        assert told in out and "180" not in out, out
    # a version the store kept no settings for (a store of an older release): today's settings
    db.evaluate(Signals("OLD-6", 0.6, 0.2, {}, "usage", facts, (reason,)), params.ladder, NOW, "v1")
    assert main(["audit", "OLD-6", "--language", "en", *later]) == 0
    assert "against the 180-day baseline" in capsys.readouterr().out


def test_audit_tells_what_moved_the_level_in_the_teams_words(db, params, capsys):
    """`escrisk audit --language de` showed a level change's cause as its stored code
    ("rule:p1_past_sla", "risk", "timeout") amid German columns; it is told as the CSM page
    tells it: the hard rule by its configured title, the others from the catalog."""
    facts = AccountFacts(100_000.0, "business", 50, 200, 1, 0, 1, 0)
    db.evaluate(Signals("P1-4", 0.01, 0.01, {}, "sla", facts), params.ladder, NOW, "v3")
    assert main(["audit", "P1-4", "--language", "de", *PARAMS]) == 0
    out = capsys.readouterr().out
    assert "- -> L2 (Regel: offenes P1-Ticket über der SLA)" in out
    assert "rule:" not in out
    assert main(["audit", "ACME-1", "--language", "de", *PARAMS]) == 0
    assert "(Risiko)" in capsys.readouterr().out
    assert main(["audit", "P1-4", "--language", "en", *PARAMS]) == 0
    assert "- -> L2 (rule: open P1 ticket past its SLA)" in capsys.readouterr().out


def test_actions_taken_after_the_acknowledgement_are_recorded_for_the_same_flag(db, capsys):
    """A CSM who acknowledged on Monday and scheduled the call on Wednesday could not record it:
    `escrisk ack --action` was refused as a double acknowledgement."""
    assert main(["ack", "ACME-1", "--by", "anna", *PARAMS]) == 0
    capsys.readouterr()
    assert main(["ack", "ACME-1", "--by", "ben", "--action", "schedule_call", *PARAMS]) == 0
    out = capsys.readouterr().out
    assert "was acknowledged at" in out and "schedule_call" in out and "ben" in out
    trail = db.trail("ACME-1")
    assert [e["kind"] for e in trail].count("acknowledgements") == 1
    [taken] = [e for e in trail if e["kind"] == "actions_taken"]
    assert taken["action"] == "schedule_call" and taken["by"] == "ben"
    assert taken["decision_id"] == db.state("ACME-1").decision_id
    # a second acknowledgement without actions is still refused, and so are actions once resolved
    assert main(["ack", "ACME-1", "--by", "ben", *PARAMS]) == 1
    assert "already acknowledged" in capsys.readouterr().err
    assert main(["resolve", "ACME-1", "--outcome", "saved", "--by", "anna", *PARAMS]) == 0
    assert main(["ack", "ACME-1", "--action", "schedule_call", *PARAMS]) == 1
    assert "already resolved" in capsys.readouterr().err
    assert main(["ack", "QUIET-2", "--action", "schedule_call", *PARAMS]) == 1
    assert "never been flagged" in capsys.readouterr().err


def test_audit_tells_an_action_taken_by_its_playbook_text(db, capsys):
    """`escrisk audit` listed an action by its params key ("schedule_call", in a German team's
    trail too) where the CSM page and the messages tell the playbook's text in the language."""
    assert main(["ack", "ACME-1", "--by", "anna", "--action", "schedule_call", *PARAMS]) == 0
    capsys.readouterr()
    assert main(["audit", "ACME-1", "--language", "en", *PARAMS]) == 0
    out = capsys.readouterr().out
    assert "Schedule a call with the customer's decision makers" in out
    assert "schedule_call" not in out
    assert main(["audit", "ACME-1", "--language", "de", *PARAMS]) == 0
    assert "Termin mit den Entscheidern des Kunden vereinbaren" in capsys.readouterr().out
