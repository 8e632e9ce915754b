"""The fixed texts of the list, the report, the CSM page and the ladder, in English and German:
counts agree with their nouns."""

from __future__ import annotations

import re

import pytest

from features.importers import report
from serving import daily_text, ladder_cli_text, ladder_text, model_cli_text, params_text, ui_text
from training import text as training_text

CATALOGS = {
    "daily_text": daily_text.CATALOG,
    "ui_text": ui_text.CATALOG,
    "ladder_text": ladder_text.CATALOG,
    "ladder_cli_text": ladder_cli_text.CATALOG,
    "model_cli_text": model_cli_text.CATALOG,
    "params_text": params_text.CATALOG,
    "importers": report.MESSAGES,
    "training_text": training_text.CATALOG,
}


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "1 account scored; 0 at L1 or above; 1 level change recorded, 1 notification queued."),
        ("de", "1 Account bewertet; 0 ab Stufe L1; 1 Stufenwechsel erfasst, 1 Benachrichtigung eingereiht."),
    ],
)  # fmt: skip
def test_the_daily_summary_tells_one_of_each_in_the_singular(language, said):
    values = dict(n=1, flagged=0, first="L1", changed=1, queued=1)
    assert daily_text.t("summary", language, **values) == said


def test_the_daily_summary_keeps_the_plural_for_other_counts():
    values = dict(n=338, flagged=22, first="L1", changed=0, queued=60)
    assert daily_text.t("summary", "en", **values) == (
        "338 accounts scored; 22 at L1 or above; 0 level changes recorded, 60 notifications queued."
    )
    assert daily_text.t("summary", "de", **values) == (
        "338 Accounts bewertet; 22 ab Stufe L1; 0 Stufenwechsel erfasst, "
        "60 Benachrichtigungen eingereiht."
    )


@pytest.mark.parametrize(
    ("key", "values", "en", "de"),
    [
        ("pruned", {"days": 1, "keep": 1}, "of 1 run day older than 1 day", "von 1 Lauftag gelöscht, älter als 1 Tag"),
        ("pruned", {"days": 3, "keep": 400}, "of 3 run days older than 400 days", "von 3 Lauftagen gelöscht, älter als 400 Tage"),
        ("sec_kpis", {"days": 1}, "(last 1 day)", "(letzter 1 Tag)"),
        ("sec_kpis", {"days": 90}, "(last 90 days)", "(letzte 90 Tage)"),
        ("generated", {"model": "3", "accounts": 1, "at": "x"}, "1 active account scored", "1 aktiver Account bewertet"),
        ("no_retrain", {"n": 1}, "fewer than 1 main feature drifted", "weniger als 1 wichtiges Merkmal mit"),
    ],
)  # fmt: skip
def test_counts_in_the_list_and_report_agree_with_their_nouns(key, values, en, de):
    assert en in daily_text.t(key, "en", **values)
    assert de in daily_text.t(key, "de", **values)


def test_counts_on_the_page_in_the_ladder_and_the_import_report_agree_with_their_nouns():
    assert ui_text.text("other_features", "en", n=1) == "1 other feature"
    assert ui_text.text("other_features", "de", n=1) == "1 weiteres Merkmal"
    assert ui_text.text("sec_usage", "de", days=1) == "Nutzung (1 Tag vor dem Tag der Liste)"
    said = ladder_text.text("deescalated_after_cooldown", "en", days=1, margin=0.05)
    assert said.endswith("for 1 day")
    note = report.message("note_priority", n=1, value="P3")
    assert report.render(note, "en").startswith("priority missing on 1 ticket;")
    assert report.render(note, "de").startswith("Priorität fehlt bei 1 Ticket;")
    note = report.message("note_default", column="tier", n=1, total=1)
    assert report.render(note, "en").endswith("for 1 of 1 account")
    assert report.render(note, "de").endswith("für 1 von 1 Kunden")


def test_the_import_report_groups_thousands_as_its_language_does():
    """1.234 in German: "1,234" reads as one point two three four there."""
    told = report.ImportReport("zendesk")
    tickets = told.table("tickets", "tickets.json")
    tickets.read, tickets.written = 12_345, 11_000
    tickets.skip("skip_blank_row", 1_345)
    tickets.note("note_priority", n=1_234, value="P3")
    german = told.render("out", "de")
    assert "gelesen    12.345  geschrieben    11.000  übersprungen   1.345" in german, german
    assert "übersprungen 1.345: leere Zeile" in german and "bei 1.234 Tickets" in german
    english = told.render("out", "en")
    assert "read    12,345" in english and "skipped 1,345: blank row" in english


def test_the_pages_texts_group_thousands_as_their_language_does():
    """The CSM page formatted its counts bare: "Accounts 1–50 von 12345", "1234 weitere
    Merkmale", and a number given as a float came out as English writes it."""
    assert ui_text.text("shown", "de", first=12_301, last=12_345, total=12_345) == (
        "Accounts 12.301–12.345 von 12.345"
    )
    assert ui_text.text("shown", "en", first=1, last=50, total=12_345) == "accounts 1–50 of 12,345"
    assert ui_text.text("other_features", "de", n=1_234) == "1.234 weitere Merkmale"
    assert ui_text.text("page_of", "de", page=1_001, pages=2_000) == "1.001 / 2.000"
    assert ui_text.text("form_too_large", "de", kb=1_024).startswith(
        "Das Formular war größer als 1.024 KB"
    )
    assert ui_text.text("sec_tickets", "de", days=1_095).startswith("Tickets (1.095 Tage vor")


@pytest.mark.parametrize("catalog", CATALOGS)
def test_no_text_leaves_the_plural_to_the_reader(catalog):
    """ "account(s)", "Lauftag(en)", "Kunde(n)": a count's noun is chosen, never bracketed."""
    for language, texts in CATALOGS[catalog].items():
        for key, template in texts.items():
            assert not re.search(r"\w\((s|e|n|en|nen)\)", template), (language, key, template)


def test_days_and_times_are_written_as_each_language_writes_them():
    import datetime as dt

    day = dt.date(2026, 6, 28)
    at = dt.datetime(2026, 6, 30, 15, 0, tzinfo=dt.UTC)
    assert daily_text.day_text(day, "en") == "2026-06-28"
    assert daily_text.day_text(day, "de") == "28.06.2026"
    assert daily_text.day_text(day, "de", short=True) == "28.06."
    assert daily_text.time_text(at, "en", short=True) == "06-30 15:00"
    assert daily_text.time_text(at, "de") == "30.06.2026 15:00"


def test_a_missed_due_time_is_told_in_the_ladders_time_zone_and_the_readers_language(params):
    """The CSM page told "not acknowledged by 2026-06-30T13:00:00+00:00" (the stored ISO text)."""
    told = ladder_text.titled({"previous_due_at": "2026-06-30T13:00:00+00:00"}, params.ladder, "de")
    zone = params.ladder.business_calendar.time_zone
    assert told["previous_due_at"] == f"30.06.2026 15:00 {zone}"


def test_a_left_out_family_and_its_reason_are_told_in_the_runs_language():
    """ "Ausgelassen: die Merkmale usage (usage table absent)": the family and the reason were
    English inside the German sentence."""
    from features.context import Absence

    absent = Absence("table_absent", "usage")
    assert daily_text.left_out("usage", absent, "en") == (
        "Left out: the usage features (usage table absent)."
    )
    assert daily_text.left_out("usage", absent, "de") == (
        "Ausgelassen: die Nutzungsmerkmale (Tabelle usage fehlt)."
    )
    column = Absence("column_absent", "accounts", "industry")
    assert daily_text.left_out("custom.industry", column, "de") == (
        "Ausgelassen: das eigene Merkmal industry (Tabelle accounts hat keine Spalte 'industry')."
    )
    assert str(column) == "accounts table has no column 'industry'"  # the API's English
    empty = Absence("column_empty", "tickets", "csat")
    assert daily_text.left_out("csat", empty, "de") == (
        "Ausgelassen: die CSAT-Merkmale (Tabelle tickets hat keine Werte in csat)."
    )
    responses = Absence("column_empty", "tickets", "first_response_at")
    assert daily_text.left_out("sla.first_response", responses, "en") == (
        "Left out: the first response SLA features (tickets table has no first_response_at values)."
    )
    assert daily_text.left_out("sla.first_response", responses, "de") == (
        "Ausgelassen: die Erstantwort-SLA-Merkmale (Tabelle tickets hat keine Werte in "
        "first_response_at)."
    )


def test_the_page_and_report_texts_read_as_their_language_writes():
    assert "since 7 days" not in ui_text.text(
        "delta_line", "en", prev="+0.01", week="+0.02", delta_days=7
    )
    assert ui_text.text("conflict_never_flagged", "de", account="A").endswith(
        ": Es gibt nichts zu tun."
    )
    assert (
        ui_text.text("state_acked", "de", at="28.06.2026 10:00 Europe/Berlin")
        == "bestätigt am 28.06.2026 10:00 Europe/Berlin"
    )
    assert daily_text.t("kpi_ack", "de") == "Stunden bis zur Bestätigung (Median)"


def test_the_ladders_texts_write_numbers_as_their_language_does():
    """German notifications said "Eskalationsrisiko 19%" and "das Risiko lag 7.0 Tage unter der
    Eintrittsschwelle minus 0.05"."""
    said = ladder_text.text("line_risk", "de", escalation_risk=0.193, churn_risk=0.35)
    assert said == "Eskalationsrisiko 19\u00a0%, Abwanderungsrisiko 35\u00a0%"
    cooled = ladder_text.text("deescalated_after_cooldown", "de", days=7.0, margin=0.05)
    assert cooled == "das Risiko lag 7 Tage unter der Eintrittsschwelle minus 0,05"
    cooled = ladder_text.text("deescalated_after_cooldown", "en", days=1.5, margin=0.05)
    assert cooled == "risk stayed below the entry threshold minus 0.05 for 1.5 days"


def test_a_change_that_rounds_to_zero_is_told_without_a_minus():
    """ "-0.00" read as a fall where nothing moved (deltas and why-it-changed parts)."""
    from serving.reasons import render_change

    assert daily_text.figure(-0.001, "+.2f", "en") == "+0.00"
    assert daily_text.figure(-0.001, "+.2f", "de") == "+0,00"
    assert daily_text.figure(-0.02, "+.2f", "de") == "-0,02"
    assert daily_text.figure(-0.0004, ".1%", "en") == "0.0%"
    said = render_change(0.06, "2026-06-20", [{"change": -0.001, "text": "x"}], "en")
    assert said.endswith("+0.00 (x)")


@pytest.mark.parametrize("days", [1, 14])
def test_the_delta_headings_say_the_days_of_daily_delta_days(days):
    """The headings said "7d" / "over 7 days" whatever `daily.delta_days` was."""
    import io

    import pandas as pd
    from rich.console import Console

    from serving.commands.daily import print_table
    from serving.report_html import _table

    assert daily_text.t("col_delta", "en", delta_days=days) == f"Δ prev / {days}d"
    assert daily_text.t("col_delta", "de", delta_days=days) == f"Δ vorher / {days} T"
    line = ui_text.text("delta_line", "en", delta_days=days, prev="+0.01", week="+0.02")
    assert f"over {days} {'day' if days == 1 else 'days'} +0.02" in line
    row = {"rank": 1, "account_name": "Acme", "account_id": "A-1", "csm_owner": "Jo",
           "escalation_risk": 0.5, "churn_risk": 0.2, "delta_prev": None, "delta_7d": 0.1,
           "level": "L2", "level_index": 2, "level_changed": "", "reasons": "r",
           "why_changed": "", "next_action": "a", "due_at": None}  # fmt: skip
    out = io.StringIO()
    print_table(
        Console(file=out, width=400, color_system=None), pd.DataFrame([row]), "d", "en", days
    )
    assert f"/ {days}d" in out.getvalue()
    assert f"/ {days}d" in _table(pd.DataFrame([row]), "en", ["L0", "L1", "L2"], days)


def test_a_run_that_fails_at_its_files_counts_in_the_singular_too():
    from types import SimpleNamespace

    from serving.daily import _already_done

    one = SimpleNamespace(changes=1, queued=1)
    said = _already_done(one, SimpleNamespace(sent=1), "en")  # type: ignore[arg-type]
    assert "scores and 1 level change are stored" in said  # the scores and the change: plural
    assert "1 notification queued, 1 sent:" in said
    two = SimpleNamespace(changes=2, queued=0)
    assert "2 level changes" in _already_done(two, None, "en")  # type: ignore[arg-type]
    gesagt = _already_done(one, SimpleNamespace(sent=1), "de")  # type: ignore[arg-type]
    assert "1 Stufenwechsel sind gespeichert, 1 Benachrichtigung eingereiht, 1 gesendet:" in gesagt
    assert "0 Benachrichtigungen eingereiht: denselben Tag" in _already_done(two, None, "de")  # type: ignore[arg-type]


def test_an_output_folder_that_cannot_be_written_says_so_in_the_runs_language(tmp_path):
    """`escrisk daily --language de` refused an unwritable folder in English."""
    from features.errors import UserError
    from serving.daily import _writable

    blocker = tmp_path / "reports"
    blocker.write_text("a file where the folder goes")
    with pytest.raises(UserError, match="können dort nicht geschrieben werden .*nichts wurde"):
        _writable(blocker, "de")
    with pytest.raises(UserError, match="cannot write the risk list and report there"):
        _writable(blocker, "en")


def test_the_reports_drift_table_says_what_a_feature_means():
    """The drift table named inputs by column ("usage_seat_utilisation"): a CSM lead read nothing."""
    from serving.report_html import _drift_name

    shown = _drift_name("usage_seat_utilisation", {"usage_seat_utilisation": "… % of seats in use"})
    assert shown.startswith("… % of seats in use") and "usage_seat_utilisation" in shown
    assert _drift_name("escalation_30d", {}) == "escalation_30d"


def test_the_reports_drift_chart_names_its_bars_as_the_table_does(params):
    """The bars read "sentiment_trend" above a table saying "Ticket tone changed by …"; they now
    say what the feature means too (whole where the chart's room allows, cut beyond it, whole with
    the column on hover), and an input without a label keeps its name."""
    import pandas as pd

    from serving.drift import DriftReport
    from serving.report_html import drift_plot

    label = "… days since the last login by any of the administrators of the account, any seat"
    table = pd.DataFrame(
        {"kind": ["feature", "feature", "score"], "psi": [0.3, 0.05, 0.01],
         "name": ["sentiment_trend", "days_since_admin_login", "escalation_30d"],
         "noise": [0.01] * 3, "band": ["major", "stable", "stable"]}
    )  # fmt: skip
    tone = "Ticket tone changed by … against its own baseline"
    labels = {"sentiment_trend": tone, "days_since_admin_login": label}
    svg = drift_plot(
        DriftReport(table, True, ("sentiment_trend",), 500), params.daily, "en", labels
    )
    names = re.findall(
        r'text-anchor="end" class="t">(?:<title>([^<]*)</title>)?([^<]*)</text>', svg
    )
    assert names == [
        ("sentiment_trend", tone),
        (f"{label} · days_since_admin_login", label[:51] + "…"),
        ("", "escalation_30d"),
    ], names


@pytest.mark.parametrize("value", [1, 0.125, -3, 1234567.5, "text", None])
def test_told_formats_each_entry_as_the_localized_values_would(value):
    """`told` localizes only the values an entry names; the text (or the error) is the one
    formatting every value localized gives, for every entry of every catalog."""
    from string import Formatter

    from features.spec import localized, number_forms

    def plain(catalog, key, language, values):
        template = number_forms(catalog.get(language, {}).get(key) or catalog["en"][key], values)
        return template.format(**{k: localized(v, language) for k, v in values.items()})

    def outcome(fn, *args):
        try:
            return fn(*args)
        except Exception as exc:  # the same error either way
            return type(exc)

    for catalog in CATALOGS.values():
        for language in catalog:
            for key, template in catalog[language].items():
                names = {f for _, f, _, _ in Formatter().parse(template) if f}
                values = {n: value for n in names} | {"unused": 2.5}
                args = (catalog, key, language, values)
                assert outcome(daily_text.told, *args) == outcome(plain, *args)
                if names:  # a value the entry names but is not given
                    short = (catalog, key, language, {})
                    assert outcome(daily_text.told, *short) is outcome(plain, *short) is KeyError


@pytest.mark.parametrize("catalog", [daily_text.CATALOG, ladder_cli_text.CATALOG])
def test_german_kpis_tell_acknowledged_flags_apart_from_confirmed_ones(catalog):
    """German says "bestätigen" for acknowledging a flag (`escrisk ack`, the page's button):
    "bestätigte Eskalationen 47 %" beside "von CSMs bestätigte Meldungen 57 %" read as one thing
    said twice. A confirmed flag is one the CSM agreed with ("zustimmen", as on the page)."""
    de = catalog["de"]
    assert "bestätig" not in de["kpi_confirmed"].lower()
    assert "zustimm" in de["kpi_confirmed"].lower()
