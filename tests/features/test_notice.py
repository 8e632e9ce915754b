"""The notice family: which ticket texts count as notice of cancellation, and from when."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.build import as_of_grid, build_features, full_spec
from features.contract import validated
from features.notice import gives_notice, notice_test
from features.scorers import CachedScorer, LexiconScorer
from features.texts import ticket_keys

NOW = pd.Timestamp("2024-12-01", tz="UTC")


def test_phrases_match_subject_or_body_in_any_case_and_language(params):
    phrases = params.features.notice.phrases
    subject = np.array(["KÜNDIGUNG unseres Vertrags", None, "Login problem", "Invoice"], object)
    body = np.array(["", "We will NOT RENEW our contract.", None, "a plan we cancelled"], object)
    assert gives_notice(subject, body, phrases).tolist() == [True, True, False, False]
    assert not gives_notice(subject, body, ()).any()
    assert gives_notice(np.array([], object), np.array([], object), phrases).shape == (0,)


@pytest.mark.parametrize(
    ("text", "notice"),
    [
        ("I cannot renew my password", False),  # "not renew" inside "cannot renew"
        ("We are not renewing the contract", True),
        ("Vertragskündigungen bitte bestätigen", True),  # "vertragskündigung*": the word goes on
        ("Kuendigung zum Jahresende", True),  # ü typed as ue
        ("WIR WERDEN NICHT VERLAENGERN", True),
        ("Notice of non\u2011renewal", True),  # a non-breaking hyphen
        ("please cancel\u00a0 our plan", True),  # a no-break space and a double space
        ("a refund for a gekündigten Tarif", False),
        ("cancel ours too", False),
        # German puts the verb last: "kündigen" after its object was no notice
        ("Wir möchten unseren Vertrag kündigen.", True),
        ("Wir haben uns entschieden, den Wartungsvertrag zu kuendigen.", True),
        ("Ich möchte mein Abo kündigen", True),
        # and English said with "my", "the" or "-ing" was none either
        ("I want to cancel my plan.", True),
        ("We hereby give notice to terminate the contract.", True),
        ("We are terminating our contract effective 31 December.", True),
        ("Der Vertrag läuft seit 2021 ohne Probleme", False),
        # the formal letter's wording, and "Verlängerung" in a compound
        ("Bitte kündigen Sie unseren Vertrag zum nächstmöglichen Zeitpunkt.", True),
        ("Wir widersprechen der automatischen Vertragsverlängerung.", True),
        ("Wir wünschen keine Vertragsverlängerung.", True),
        ("Bitte kündigen Sie das Meeting am Freitag ab", False),
    ],
)
def test_phrases_match_whole_words_with_any_spacing_dash_and_german_spelling(params, text, notice):
    subject, body = np.array([text], object), np.array([""], object)
    assert gives_notice(subject, body, params.features.notice.phrases).tolist() == [notice]


@pytest.mark.parametrize(
    "text",
    [
        "<p>Hiermit&nbsp;k&uuml;ndigen wir unseren Vertrag.</p>",
        "<p><strong>K&Uuml;NDIGUNG</strong></p>",
        "<div>We will&nbsp;not renew our contract.</div>",
        "<p>We won&#39;t renew.</p>",
    ],
)
def test_an_html_body_is_matched_as_its_text(params, text):
    """A helpdesk's html_body writes letters and spaces as character references: the notice
    was missed while the scorer read the same body as text."""
    body = np.array([text], object)
    assert gives_notice(np.array([None], object), body, params.features.notice.phrases).all()


@pytest.mark.parametrize(
    ("phrase", "text"),
    [("İptal", "İPTAL ediyoruz"), ("λογαριασμός", "ΛΟΓΑΡΙΑΣΜΌΣ"), ("not renew", "NOT\u3000renew")],
)
def test_a_phrase_and_its_text_are_lower_cased_alike_in_any_script(phrase, text):
    """Python's lower() and Arrow's differ on İ and a final Σ: both sides go through Arrow."""
    assert gives_notice(np.array([text], object), np.array([""], object), (phrase,)).tolist() == [
        True
    ]


@pytest.mark.parametrize("phrases", [["not * renew"], ["*"], ["  "]])
def test_a_blank_phrase_or_a_star_inside_one_is_refused(params, phrases):
    with pytest.raises(ValueError, match="phrase"):
        type(params.features.notice).model_validate({"window_days": 90, "phrases": phrases})


def test_a_notice_counts_from_its_creation(params):
    accounts = pd.DataFrame(
        {"account_id": ["A"], "name": ["a"], "tier": ["business"], "arr": [1000.0], "seats": [10],
         "contract_start": ["2024-01-01"], "renewal_date": ["2025-01-01"], "csm_owner": ["c"],
         "region": ["eu"], "language": ["en"]}
    )  # fmt: skip
    tickets = pd.DataFrame(
        {"ticket_id": ["T1", "T2"], "account_id": ["A", "A"],
         "created_at": ["2024-05-01T10:00:00Z", "2024-06-10T09:00:00Z"],
         "priority": ["P3", "P3"], "channel": ["email", "email"],
         "subject": ["Notice of non-renewal", "Export question"], "body": ["", ""],
         "first_response_at": [None, None], "resolved_at": [None, None],
         "status": ["open", "open"], "reopen_count": [0, 0], "csat": [None, None],
         "sla_first_response_hours": [None, None], "sla_resolution_hours": [None, None]}
    )  # fmt: skip
    raw = {"accounts": accounts, "tickets": tickets, "usage": None, "escalations": None,
           "churn": None}  # fmt: skip
    history = validated(raw, params.contract, NOW)
    as_of = pd.DatetimeIndex(["2024-05-01", "2024-05-02", "2024-09-01"], tz="UTC")
    fs = build_features(history, as_of, params.features, spec=full_spec(params.features))
    rows = fs.frame.set_index("as_of")
    assert rows["notice_tickets_90d"].tolist() == [0.0, 1.0, 0.0]  # not yet / in window / aged out
    np.testing.assert_allclose(
        rows["notice_days_since"].to_numpy(), [np.nan, 14 / 24, 122 + 14 / 24], equal_nan=True
    )


def test_a_notice_recorded_in_the_crm_counts_from_the_next_midnight(params):
    """accounts.notice_at is a day: known as of the midnight after it; the later of a CRM notice
    and a notice ticket is the one counted."""
    accounts = pd.DataFrame(
        {"account_id": ["A", "B", "C"], "name": ["a", "b", "c"], "tier": ["business"] * 3,
         "arr": [1000.0] * 3, "seats": [10] * 3, "contract_start": ["2024-01-01"] * 3,
         "renewal_date": ["2025-01-01"] * 3, "csm_owner": ["c"] * 3, "region": ["eu"] * 3,
         "language": ["en"] * 3, "notice_at": ["2024-05-01", None, "2024-04-01"]}
    )  # fmt: skip
    tickets = pd.DataFrame(
        {"ticket_id": ["T1"], "account_id": ["C"], "created_at": ["2024-04-20T12:00:00Z"],
         "priority": ["P3"], "channel": ["email"], "subject": ["Notice of non-renewal"],
         "body": [""], "first_response_at": [None], "resolved_at": [None], "status": ["open"],
         "reopen_count": [0], "csat": [None], "sla_first_response_hours": [None],
         "sla_resolution_hours": [None]}
    )  # fmt: skip
    raw = {"accounts": accounts, "tickets": tickets, "usage": None, "escalations": None,
           "churn": None}  # fmt: skip
    history = validated(raw, params.contract, NOW)
    as_of = pd.DatetimeIndex(["2024-05-01", "2024-05-02"], tz="UTC")
    fs = build_features(history, as_of, params.features, spec=full_spec(params.features))
    days = fs.frame.pivot(index="as_of", columns="account_id", values="notice_days_since")
    np.testing.assert_allclose(days["A"].to_numpy(), [np.nan, 1.0], equal_nan=True)
    assert days["B"].isna().all()
    np.testing.assert_allclose(days["C"].to_numpy(), [10.5, 11.5])  # the ticket, not April 1st
    assert fs.frame["notice_tickets_90d"].sum() == 2.0  # the CRM date is not a ticket


def test_notice_flags_are_cached_per_phrase_list(params, make_history):
    """A warm build takes the notice flags from the scorer's cache, and a build with another
    phrase list never reuses the first list's flags: both equal a build from a fresh cache."""
    history = make_history(30, 3)
    as_of = as_of_grid(history, params.features)[-6:]
    first = params.features
    phrases = (*first.notice.phrases[:2], "login")  # some tickets say "login"
    other = first.model_copy(
        update={"notice": first.notice.model_copy(update={"phrases": phrases})}
    )
    scorer = CachedScorer(LexiconScorer())
    spec = full_spec(first)
    names = ["notice_tickets_90d", "notice_days_since"]

    def build(p, s):
        return build_features(history, as_of, p, s, spec=spec).frame[names]

    a, b, a_again = build(first, scorer), build(other, scorer), build(first, scorer)
    pd.testing.assert_frame_equal(a, build(first, CachedScorer(LexiconScorer())), check_exact=True)
    pd.testing.assert_frame_equal(b, build(other, CachedScorer(LexiconScorer())), check_exact=True)
    pd.testing.assert_frame_equal(a_again, a, check_exact=True)
    assert b["notice_tickets_90d"].sum() > a["notice_tickets_90d"].sum()
    found = gives_notice(
        history.tickets["subject"].to_numpy(), history.tickets["body"].to_numpy(), phrases
    )
    keys = ticket_keys(history)
    assert scorer.flags_keyed(keys, notice_test(phrases), _never).tolist() == found.tolist()


def _never(items):
    raise AssertionError("flags should all be cached")


@pytest.mark.parametrize(
    "text",
    [
        "wir kündigen hiermit fristgerecht",
        "Wir kündigen den Rahmenvertrag außerordentlich.",
        "Hiermit kündige ich den Vertrag zum nächstmöglichen Zeitpunkt.",
        "Kündigung zum Vertragsende",
        "Wir werden den Vertrag nicht mehr verlängern.",
        "Unser Vertrag soll nicht verlängert werden.",
        "Wir haben uns entschieden, den Vertrag auslaufen zu lassen.",
        "Wir widersprechen der automatischen Verlängerung.",
        "we will not renew",
        "We will not be renewing our contract.",
        "We have decided not to renew the contract.",
        "We won\u2019t renew when the contract ends.",
        "please cancel our subscription",
        "Please cancel my subscription at the end of the term.",
        "We would like to terminate our contract effective March 31.",
        "Notice of termination: Acme Corp",
        "Wir beenden die Zusammenarbeit zum Ende der Laufzeit.",
        "Wir haben beschlossen, die Zusammenarbeit zu beenden.",
        "We do not wish to renew our agreement.",
        "We don\u2019t want to renew our subscription.",  # the typographic apostrophe
        "Please do not auto-renew our plan.",
        "We\u2019d like to cancel our account.",
        "Vertragskündigung Acme GmbH",
    ],
)
def test_the_default_phrases_find_notice_as_customers_word_it(params, text):
    """Half of these went unnoticed: "wir kündigen" (only "kündigen wir" was listed), "not to
    renew", "won't renew", "cancel my subscription", "terminate our", "auslaufen lassen"."""
    subject, body = np.array([text], object), np.array([""], object)
    assert gives_notice(subject, body, params.features.notice.phrases).tolist() == [True]


@pytest.mark.parametrize(
    "text",
    [
        "Der Token wird nicht verlängert, Login schlägt fehl.",
        "Das Passwort ist nicht verlängert worden.",
        "Can we cancel our meeting tomorrow?",  # "cancel our" found these
        "Please cancel our order #4711, it was duplicated.",
        "The API seems to terminate our connections after 30 s.",  # and "terminate our" this
        "Wie lang ist unsere Kündigungsfrist?",  # asking about notice is not giving it
        "Kündigungsschutz für Mitarbeiter-Datensätze: wo finde ich das Feld?",
        "Ankündigung: Wartung am Samstag",  # "*kündigung*" found these
        "The export does not renew the token.",  # "not renew*" found these
        "The certificate did not renew automatically.",
        "The session token does not auto-renew, is that expected?",
    ],
)
def test_the_default_phrases_pass_over_texts_that_give_no_notice(params, text):
    subject, body = np.array([text], object), np.array([""], object)
    assert gives_notice(subject, body, params.features.notice.phrases).tolist() == [False]


def test_the_default_phrases_find_every_simulated_notice_and_no_other_simulated_text(params):
    """The simulator's cancellation texts (subjects and bodies, every product filled in) are all
    notice; none of its other texts (other topics, impact, tone, urgency, greetings, closings,
    sign-offs) is."""
    from training import phrases as ph

    def filled(bank, keep):
        return [
            template.format(p=p, P=p[:1].upper() + p[1:])
            for lang in ph.LANGUAGES
            for topic, templates in bank[lang].items()
            if keep(topic)
            for template in templates
            for p in ph.PRODUCTS[lang]
        ]

    notice = [
        *filled(ph.SUBJECTS, "cancellation".__eq__),
        *filled(ph.SYMPTOMS, "cancellation".__eq__),
    ]
    other = [
        *filled(ph.SUBJECTS, "cancellation".__ne__),
        *filled(ph.SYMPTOMS, "cancellation".__ne__),
    ]
    for parts in (ph.IMPACT, ph.TONE, ph.URGENCY, ph.CLOSINGS):
        other += [text for lang in ph.LANGUAGES for texts in parts[lang].values() for text in texts]
    for flat in (ph.GREETINGS, ph.SIGNOFFS, ph.URGENT_PREFIX):
        other += [text for lang in ph.LANGUAGES for text in flat[lang]]
    phrases = params.features.notice.phrases

    def found(texts):
        return gives_notice(np.array(texts, object), np.array([""] * len(texts), object), phrases)

    assert len(notice) > 100 and found(notice).all()
    hits = found(other)
    assert len(other) > 1000 and not hits.any(), [t for t, h in zip(other, hits, strict=True) if h][
        :5
    ]
