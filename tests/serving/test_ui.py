"""The CSM page (`serving.ui`) in process, with Starlette's TestClient on a real SQLite store."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from serving import ladder_text
from serving.dailystore import LIST_COLUMNS, DailyStore
from serving.ladder import AccountFacts, Signals
from serving.store import Store
from serving.ui import SourceCache, create_app, with_chosen
from serving.uisession import COOKIE, SECURE_COOKIE, issue, verify

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "ui-test-token-123"
NOW = pd.Timestamp("2025-06-04 10:00", tz="UTC")
DAYS = [dt.date(2025, 6, 2), dt.date(2025, 6, 3), dt.date(2025, 6, 4)]
FEATURES = ["tickets_30d", "usage_events_pct_drop", "sla_resolution_breaches_30d"]


def _facts() -> AccountFacts:
    return AccountFacts(
        arr=20_000.0, tier="starter", seats=20, days_to_renewal=300,
        open_p1=0, open_p2=0, open_p1_past_sla=0, open_p2_past_sla=0,
    )  # fmt: skip


def _rows(day_index: int) -> pd.DataFrame:
    accounts = [("A-1", "Acme", "Ann", "enterprise", 0.2 + 0.2 * day_index, "L1"),
                ("B-2", "Beta <b>", "Bob", "starter", 0.1, "L0"),
                ("C-3", "Cobalt", "Ann", "business", 0.05, "L0")]  # fmt: skip
    out = []
    for rank, (aid, name, owner, tier, esc, level) in enumerate(accounts, start=1):
        out.append(
            {
                "account_id": aid, "rank": rank, "priority": 1.0 - rank / 10, "account_name": name,
                "csm_owner": owner, "tier": tier, "arr": 50_000.0, "escalation_risk": esc,
                "churn_risk": esc / 2, "delta_prev": 0.2 if day_index else None, "delta_7d": None,
                "why_changed": "+0.20 since yesterday: more tickets" if day_index else "",
                "level": level, "level_index": 1 if level == "L1" else 0,
                "level_changed": "new" if level == "L1" else "", "reasons": "Many tickets; Usage down",
                "next_action": "Call the customer", "due_at": None, "model_version": "m/1",
            }
        )  # fmt: skip
    return pd.DataFrame(out, columns=LIST_COLUMNS)


@pytest.fixture
def database(tmp_path, params) -> str:
    return _filled(f"sqlite:///{tmp_path / 'ui.db'}", params)


def _filled(url: str, params) -> str:
    """A store at `url` holding three days' lists and two accounts' ladder states."""
    store = Store(url)
    daily = DailyStore(store)
    for i, day in enumerate(DAYS):
        contrib = np.array([[0.3, 0.1, -0.05], [0.0, 0.01, 0.0], [0.0, 0.0, 0.0]])
        run = {"ran_at": NOW.to_pydatetime(), "evaluated_at": NOW.to_pydatetime(),
               "model_version": "m/1", "accounts": 3, "report": None}  # fmt: skip
        daily.save_day(day, _rows(i), contrib, FEATURES, run)
    store.save_daily_scores(
        [{"account_id": "A-1", "day": DAYS[-1], "escalation_risk": 0.6, "churn_risk": 0.3,
          "level": "L1", "reasons": [{"head": "escalation", "feature": "tickets_30d",
                                      "text": "12 tickets in 30 days"}]}],
        NOW.to_pydatetime(),
    )  # fmt: skip
    high = Signals("A-1", 0.95, 0.5, {}, "tickets", _facts(), ({"text": "Many tickets"},))
    store.evaluate(high, params.ladder, NOW.to_pydatetime(), "m/1")
    store.evaluate(
        Signals("B-2", 0.01, 0.01, {}, None, _facts()), params.ladder, NOW.to_pydatetime(), "m/1"
    )
    store.close()
    return url


@pytest.fixture
def client(database, params):
    app = create_app(params, database, ["other", TOKEN], clock=lambda: NOW)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        yield c


def login(client: TestClient, name: str = "Ann Example") -> None:
    r = client.post("/login", data={"token": TOKEN, "name": name, "next": "/"})
    assert r.status_code == 303, r.text


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


@contextmanager
def database_failing(why: str, statements: str = "") -> Iterator[None]:
    """Every statement (or those starting with `statements`) fails as on a database that broke or
    went away: the driver's error, raised where SQLAlchemy runs it."""

    def fail(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(statements.upper()):
            raise sa.exc.OperationalError(statement, parameters, Exception(why))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", fail)


def test_without_a_session_pages_redirect_to_the_login(client):
    for path in ("/", "/account/A-1", "/?owner=Ann"):
        r = client.get(path)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")
    r = client.post("/ack", data={"account_id": "A-1"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert client.get("/login").status_code == 200


def test_a_form_sent_after_the_session_ended_returns_to_its_account_saying_so(client, database):
    r = client.post("/ack", data={"account_id": "A/1 x", "note": "calling"})
    assert r.status_code == 303
    target = r.headers["location"]
    assert target.startswith("/login?") and "lost=1" in target
    assert parse_qs(urlsplit(target).query)["next"] == ["/account/A%2F1%20x"]
    page = client.get(target).text
    assert "nothing was recorded" in page and 'value="/account/A%2F1%20x"' in page
    assert Store(database).rows("acknowledgements") == []


def test_the_language_links_of_a_forms_answer_lead_to_its_account_page(client):
    login(client)
    page = client.get("/account/A-1").text
    client.post("/ack", data={"account_id": "A-1", "csrf": csrf_of(page)})
    again = client.post("/ack", data={"account_id": "A-1", "csrf": csrf_of(page)})
    assert again.status_code == 409
    assert "next=%2Fack" not in again.text and "next=%2Faccount%2FA-1" in again.text


def test_pages_name_their_icon_so_browsers_never_ask_for_favicon_ico(client):
    """/favicon.ico is outside /ui: a browser asking for it logged an error on every page."""
    assert '<link rel="icon" href="data:,">' in client.get("/login").text
    login(client)
    assert '<link rel="icon" href="data:,">' in client.get("/").text


def test_an_unknown_address_or_a_forms_address_opened_is_a_page_with_the_way_back(client):
    """Starlette answered both in plain text ("Not Found", "Method Not Allowed")."""
    for path, status, told in (
        ("/nothing", 404, "There is no such page."),
        ("/ack", 405, "forms only; open the list"),
        ("/resolve?lang=de", 405, "nimmt nur die Formulare"),
    ):
        r = client.get(path)
        assert r.status_code == status
        assert r.headers["content-type"].startswith("text/html")
        assert told in r.text and 'href="/"' in r.text  # the way back to the list
    assert client.get("/ack").headers["allow"] == "POST"


def test_a_token_beyond_ascii_signs_in_as_it_works_with_the_api(database, params):
    """The API takes "tök€" (its UTF-8 bytes in the header); the login form refused it."""
    app = create_app(params, database, ["tök€-token"], clock=lambda: NOW)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        r = c.post("/login", data={"token": "tök€-token", "name": "Ann", "next": "/"})
        assert r.status_code == 303, r.text
        assert c.get("/").status_code == 200
        assert c.post("/login", data={"token": "tök", "name": "Ann"}).status_code == 401


def test_a_form_sent_after_its_token_was_revoked_says_the_session_ended(database, params, tmp_path):
    """A CSM whose token was taken out of the tokens file was told in German that the session
    had expired, and signed in again with the same token, to be refused."""
    from serving.settings import TokenSource

    file = tmp_path / "tokens.txt"
    file.write_text(f"other\n{TOKEN}\n")
    ticks = iter(range(0, 1000, 5))  # each look at the file is 5 s after the last
    app = create_app(params, database, TokenSource((), str(file), lambda: next(ticks)), lambda: NOW)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        login(c)
        page = c.get("/account/A-1").text
        file.write_text("other\n")
        r = c.post("/ack?lang=de", data={"account_id": "A-1", "csrf": csrf_of(page)})
        assert r.status_code == 303 and "lost=1" in r.headers["location"]
        told = c.get(r.headers["location"]).text
        assert "Token entzogen" in told and "abgelaufen, daher" not in told
    assert Store(database).rows("acknowledgements", "A-1") == []


@pytest.mark.parametrize(("days_later", "stale"), [(0, False), (1, False), (5, True)])
def test_a_list_the_daily_job_left_days_ago_says_so(database, params, days_later, stale):
    """A daily job that stopped left the page showing its last list, every flag overdue, with
    nothing but the date in the title to tell: the page says how old the list is."""
    now = NOW + pd.Timedelta(days=days_later)
    app = create_app(params, database, [TOKEN], clock=lambda: now)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        login(c)
        english, german = c.get("/").text, c.get("/?lang=de").text
    assert ('id="stale"' in english) is stale
    if stale:
        assert "This list is from 2025-06-04, 5 days ago" in english
        assert "Diese Liste ist vom 04.06.2025, vor 5 Tagen" in german


def test_a_wrong_token_is_refused_and_sets_no_cookie(client):
    r = client.post("/login", data={"token": "nope", "name": "Ann", "next": "/"})
    assert r.status_code == 401
    assert "Unknown token" in r.text
    assert SECURE_COOKIE not in r.cookies and COOKIE not in r.cookies
    assert client.get("/").status_code == 303


@pytest.mark.parametrize("lang", ["en", "de"])
def test_a_wrong_token_names_the_tokens_file_too(client, lang):
    """A service whose tokens come from ESCRISK_API_TOKENS_FILE sent its operators looking in
    ESCRISK_API_TOKENS, the only place the refusal named."""
    r = client.post(f"/login?lang={lang}", data={"token": "nope", "name": "Ann", "next": "/"})
    assert r.status_code == 401
    assert "ESCRISK_API_TOKENS_FILE" in r.text


def test_login_sets_a_strict_httponly_cookie_without_the_token(client):
    r = client.post("/login", data={"token": TOKEN, "name": "Ann", "next": "/account/A-1"})
    assert r.status_code == 303 and r.headers["location"] == "/account/A-1"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie
    assert TOKEN not in cookie and TOKEN not in r.headers["location"]


def test_the_pages_policy_runs_their_own_scripts_only(client):
    """script-src 'unsafe-inline' ran any script a page came to hold: the policy names the
    page's own inline script by its hash, so an injected one would not run."""
    login(client)
    r = client.get("/")
    policy = dict(p.strip().split(" ", 1) for p in r.headers["content-security-policy"].split(";"))
    allowed = policy["script-src"].split()
    assert "'unsafe-inline'" not in allowed
    scripts = re.findall(r"<script>(.*?)</script>", r.text, re.S)
    assert scripts, "the list has its filter script"
    for body in scripts:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed


def test_login_never_redirects_off_site(client):
    r = client.post("/login", data={"token": TOKEN, "name": "Ann", "next": "https://evil.example/"})
    assert r.headers["location"] == "/"


def test_failed_sign_ins_make_the_client_wait_before_its_token_is_checked(database, params):
    """The login form answered every guess at once: a token could be guessed as fast as the
    service answered. After ui.login_free_failures failures in a row a client waits 1 s, 2 s,
    4 s, ... (ui.login_max_wait_seconds at most); a try before then is refused, the right token
    too (a short one: see the next test for long ones)."""
    from serving.ui import ui_app

    ui = ui_app(params, database, [TOKEN], lambda: NOW)
    now = [1000.0]
    ui.throttle.clock = lambda: now[0]
    free = params.ui.login_free_failures
    with TestClient(ui.app, base_url="https://testserver", follow_redirects=False) as c:

        def sign_in(token: str, lang: str = "en"):  # type: ignore[no-untyped-def]
            return c.post(f"/login?lang={lang}", data={"token": token, "name": "Ann", "next": "/"})

        for _ in range(free):
            assert sign_in("guess").status_code == 401
        r = sign_in(TOKEN)  # the right one, but within the wait: not looked at
        assert r.status_code == 429 and r.headers["retry-after"] == "1"
        assert "set-cookie" not in r.headers or COOKIE not in r.headers["set-cookie"]
        assert "wait 1 s, then try again" in r.text and TOKEN not in r.text
        now[0] += 1
        assert sign_in("guess").status_code == 401  # the wait doubles
        r = sign_in(TOKEN, "de")
        assert r.status_code == 429 and r.headers["retry-after"] == "2"
        assert "Warten Sie 2 s" in r.text
        now[0] += 2
        assert sign_in(TOKEN).status_code == 303  # over: signed in


def test_a_sign_in_that_works_forgets_no_failures(database, params):
    """A sign-in that worked started the count again: a guesser holding one token (its own, a
    colleague's old one) signed in after every few guesses and guessed the others' at full
    speed, and a colleague behind the same NAT wiped out the count of a guesser there. Now the
    failures stay (an hour without one forgets them), and, as with the API's bearer tokens, a
    long token (20 characters or more) is checked during the wait: its holder is not held back."""
    from serving.ui import ui_app

    long = "a-long-random-token-0123456789"
    ui = ui_app(params, database, [TOKEN, long], lambda: NOW)
    now = [1000.0]
    ui.throttle.clock = lambda: now[0]
    free = params.ui.login_free_failures
    with TestClient(ui.app, base_url="https://testserver", follow_redirects=False) as c:

        def sign_in(token: str):  # type: ignore[no-untyped-def]
            return c.post("/login", data={"token": token, "name": "Ann", "next": "/"})

        for _ in range(free):
            assert sign_in("guess").status_code == 401
        assert sign_in(long).status_code == 303  # during the wait: a long token goes on
        assert sign_in("guess").status_code == 429  # and the guesser still waits
        now[0] += 1
        assert sign_in(TOKEN).status_code == 303  # the wait over: the short token signs in
        assert sign_in("guess").status_code == 401  # checked, and counted on top
        r = sign_in("guess")
        assert r.status_code == 429 and r.headers["retry-after"] == "2"
        now[0] += 2 + ui.throttle.QUIET_SECONDS  # an hour without a failure forgets them
        for _ in range(free):
            assert sign_in("guess").status_code == 401


def test_the_sign_in_throttle_is_bounded_and_caps_the_wait():
    from serving.uisession import LoginThrottle, client_key

    now = [0.0]
    throttle = LoginThrottle(free=2, max_seconds=60, max_clients=3, clock=lambda: now[0])
    for i in range(100):  # a flood of addresses keeps the 3 latest
        throttle.failed(f"10.0.0.{i}")
    assert len(throttle._failed) == 3 and throttle.wait("10.0.0.0") == 0
    for _ in range(40):
        throttle.failed("10.0.0.99")
    assert throttle.wait("10.0.0.99") == 60  # 2**38 s capped
    now[0] += LoginThrottle.QUIET_SECONDS + 1  # an hour without a try forgets the failures
    assert throttle.wait("10.0.0.99") == 0 and "10.0.0.99" not in throttle._failed
    # a host's IPv6 addresses count as one, an IPv4 client seen as IPv6 as its IPv4 address
    assert client_key("2001:db8::1") == client_key("2001:db8::ffff") == "2001:db8::/64"
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7" and client_key(None) == ""


def test_the_documented_proxy_passes_what_the_service_reads_from_it():
    """docs/ui.md's nginx example set X-Forwarded-Prefix and -Proto but not X-Forwarded-For:
    behind it every client had the proxy's address, and one person's wrong tokens made the
    whole team wait at sign-in (the throttle counts per client address)."""
    text = (ROOT / "docs" / "ui.md").read_text(encoding="utf-8")
    block = re.search(r"```nginx\n(.*?)```", text, re.S)
    assert block is not None
    sent = set(re.findall(r"proxy_set_header\s+(\S+)", block[1]))
    assert {"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Prefix"} <= sent


def test_a_name_typed_at_login_cannot_claim_another_key_or_turn_the_trail_round(client):
    """The trail names who acted by the name typed and the token's key: "Nina (key 3fa9c2d1)"
    was taken, and the trail read "Nina (key 3fa9c2d1) (key <own>)"; a U+202E in the name
    wrote the real key after it backwards."""
    for name in ("Nina (key 3fa9c2d1)", "Nina (Schlüssel 3FA9C2D1 )"):
        r = client.post("/login", data={"token": TOKEN, "name": name, "next": "/"})
        assert r.status_code == 400 and COOKIE not in r.headers.get("set-cookie", "")
        assert "without a key: the page adds the key of your token itself" in r.text
    login(client, "Ann\u202e Example\u2066")
    page = client.get("/account/A-1").text
    assert "Signed in as Ann Example<" in page and "\u202e" not in page
    r = client.post("/ack", data={"csrf": csrf_of(page), "account_id": "A-1"})
    assert r.status_code == 303
    trail = client.get("/account/A-1").text
    key = hashlib.sha256(TOKEN.encode()).hexdigest()[:8]
    assert f"Ann Example (key {key})" in trail
    r = client.post("/login?lang=de", data={"token": TOKEN, "name": name, "next": "/"})
    assert r.status_code == 400 and "ohne Schlüssel ein" in r.text


def test_sessions_expire_and_die_with_their_token():
    tokens = [TOKEN.encode()]
    value = issue(TOKEN, "Ann", expires=1000)
    assert verify(value, tokens, now=999).name == "Ann"
    assert verify(value, tokens, now=1000) is None
    assert verify(value, [b"another-token"], now=999) is None
    forged = value.rsplit(".", 1)[0].replace("1000", "9999") + "." + value.rsplit(".", 1)[1]
    assert verify(forged, tokens, now=999) is None
    assert verify("YQ." + "9" * 5000 + ".ab.cd", tokens, now=999) is None  # int() refuses it


def test_list_shows_the_day_filters_and_sorts(client):
    login(client)
    page = client.get("/").text
    assert "Daily risk list 2025-06-04" in page
    assert 'class="level lv' in page and 'class="level L' not in page
    assert page.index("A-1") < page.index("B-2") < page.index("C-3")
    assert "Beta &lt;b&gt;" in page and "Beta <b>" not in page  # escaped
    only_ann = client.get("/", params={"owner": "ann"}).text
    assert "A-1" in only_ann and "C-3" in only_ann and "B-2" not in only_ann
    assert "accounts 1–2 of 2" in only_ann
    tier = client.get("/", params={"tier": "starter"}).text
    assert "B-2" in tier and "A-1" not in tier
    tier = client.get("/", params={"tier": "Starter"}).text  # the filter ignores case
    assert "B-2" in tier and "A-1" not in tier
    assert '<option value="starter" selected>' in tier
    level = client.get("/", params={"min_level": "L1"}).text
    assert "A-1" in level and "B-2" not in level
    by_name = client.get("/", params={"sort": "account_name", "desc": "0"}).text
    body = by_name[by_name.index("<tbody>") :]
    assert body.index("Acme") < body.index("Beta") < body.index("Cobalt")
    # a first click on a name sorts A to Z, on a risk highest first
    assert "?sort=account_name&amp;desc=0" in page and "?sort=churn_risk&amp;desc=1" in page
    assert "?sort=account_name&amp;desc=1" in by_name  # the second click turns it round


def test_tiers_sort_in_the_contracts_order_not_alphabetically(client):
    """params.yaml ranks the tiers enterprise, business, starter: a click on "Tier" put starter
    first (alphabetically last), and the other way round business first."""
    login(client)

    def order(**query: str) -> list[str]:
        page = client.get("/", params={"sort": "tier", **query}).text
        return re.findall(r'<tr data-account="([^"]+)"', page)

    assert order(desc="1") == ["A-1", "C-3", "B-2"]  # enterprise, business, starter
    assert order(desc="0") == ["B-2", "C-3", "A-1"]
    assert "?sort=tier&amp;desc=1" in client.get("/").text  # a first click: highest tier first


def test_levels_are_coloured_by_rank_whatever_they_are_called():
    """The colours were tied to the names L0-L3: renamed levels (watch, amber) lost them."""
    assert ladder_text.level_classes(["watch", "amber", "red", "black", "extra"]) == {
        "watch": "lv0", "amber": "lv1", "red": "lv2", "black": "lv3", "extra": "lv3"
    }  # fmt: skip


def test_a_filter_on_a_value_the_day_lacks_is_shown_as_chosen_not_as_any(client):
    """A bookmarked CSM who is on no account today: the list was empty while the form said
    "CSM: any", and pressing "Filter" dropped the filter."""
    login(client)
    page = client.get("/", params={"owner": "Jörg Müller", "tier": "platinum"}).text
    assert '<option value="Jörg Müller" selected>Jörg Müller</option>' in page
    assert '<option value="platinum" selected>platinum</option>' in page
    page = client.get("/", params={"owner": "ANN"}).text  # a listed CSM as typed: that one
    assert '<option value="Ann" selected>Ann</option>' in page and ">ANN</option>" not in page
    # in the other Unicode form (macOS writes ü as u + diaeresis): the listed one, as the filter
    decomposed = "ju\u0308rgen mu\u0308ller"
    assert with_chosen(["Ann", "Jürgen Müller"], decomposed) == (
        ["Ann", "Jürgen Müller"],
        "Jürgen Müller",
    )


def test_an_unknown_level_in_the_address_lists_no_account_and_says_so(client):
    """?level=L9 (a typo, or a level renamed in params.yaml) listed every account under
    "Level: any", as if no filter had been asked for."""
    login(client)
    for field in ("level", "min_level"):
        page = client.get("/", params={field: "L9"}).text
        assert "A-1" not in page and "B-2" not in page and "C-3" not in page
        assert "There is no level &#39;L9&#39; (the ladder&#39;s levels: L0, L1, L2, L3)" in page
        assert '<option value="L9" selected>L9</option>' in page
    page = client.get("/", params={"level": "l1"}).text  # a level as typed, case aside: that one
    assert "A-1" in page and "B-2" not in page and 'id="notice"' not in page
    assert '<option value="L1" selected>L1</option>' in page
    page = client.get("/", params={"min_level": "L9", "lang": "de"}).text
    assert "Eine Stufe &#39;L9&#39; gibt es nicht" in page and "A-1" not in page


def test_an_account_without_stored_scores_is_not_said_never_scored(client, params):
    """Scores older than daily.keep_days are deleted (a churned account's last ones too): the
    page said "has never been scored" of such an account, POST /account names the window."""
    login(client)
    keep = params.daily.keep_days
    r = client.get("/account/NOPE")
    assert r.status_code == 404 and "never been scored" not in r.text
    assert f"no score of the daily run in the {keep:,} days it keeps (daily.keep_days)" in r.text
    r = client.get("/account/NOPE", params={"lang": "de"})
    assert f"in den {keep:,} aufbewahrten Tagen (daily.keep_days)".replace(",", ".") in r.text


def test_a_filter_with_blanks_around_it_filters_as_the_value(client):
    """A link from a spreadsheet says owner=" Ann ": owners never have such blanks (the
    contract strips them), and the list showed no account."""
    login(client)
    page = client.get("/", params={"owner": " Ann ", "tier": "enterprise "}).text
    assert '<option value="Ann" selected>Ann</option>' in page and "Acme" in page


def test_a_page_past_the_end_shows_the_last_page(client):
    login(client)
    for page in ("100000000000000000000", "5", "-3", "x"):
        r = client.get("/", params={"page": page})
        assert r.status_code == 200 and "A-1" in r.text and "1 / 1" in r.text


def test_german_page(client):
    login(client)
    client.get("/lang/de", params={"next": "/"})
    assert "Tägliche Risikoliste 04.06.2025" in client.get("/").text


def test_a_lang_in_the_address_chooses_the_language_and_keeps_it(client):
    """/ui?lang=de (a link in a German mail) is German, and stays so as the header's links do."""
    r = client.get("/", params={"lang": "de", "owner": "Ann"})  # before the login: kept through it
    assert r.status_code == 303 and client.cookies.get("escrisk_ui_lang") == "de"
    assert "Anmelden" in client.get(r.headers["location"]).text
    login(client)
    page = client.get("/", params={"lang": "de", "owner": "Ann"}).text
    assert "Tägliche Risikoliste" in page
    # the language links lead back to this page without its `lang`, which would undo them
    assert 'href="/lang/en?next=%2F%3Fowner%3DAnn"' in page, page
    assert "Tägliche Risikoliste" in client.get("/").text
    assert "Tägliche Risikoliste" in client.get("/", params={"lang": "xx"}).text  # unknown: ignored
    client.get("/lang/en", params={"next": "/"})
    assert "Daily risk list" in client.get("/").text
    assert '<html lang="de">' in client.get("/account/A-1", params={"lang": "de"}).text


def test_the_german_pages_write_days_as_german_readers_do(client):
    """28.06.2026 and, where short (a chart's axis), 28.06.; never 2026-06-28 or 06-28."""
    login(client)
    client.get("/lang/de", params={"next": "/"})
    for path in ("/", "/account/A-1"):
        page = client.get(path).text
        shown = re.sub(r"<[^>]+>", " ", page)  # the words, not the links and form values
        assert not re.search(r"\d{4}-\d\d-\d\d|(?<![\w-])\d\d-\d\d(?![\w-])", shown), path
    page = client.get("/account/A-1").text
    assert re.search(r"\d\d\.\d\d\.2025 \d\d:\d\d Europe/Berlin", page)  # the ladder state
    assert re.search(r">\d\d\.\d\d\.<", page)  # the score history's axis


def test_the_page_tells_times_in_the_ladders_time_zone_as_the_emails_do(client, database, params):
    """A CSM in Berlin read the due time 14:00 UTC on the page and 16:00 Europe/Berlin in the
    e-mail; the page now tells the ladder's calendar zone too, named where a time stands alone
    and in the heading of a table of times (the CSV and the API keep UTC)."""
    assert params.ladder.business_calendar.time_zone == "Europe/Berlin"
    state = Store(database).state("A-1")
    assert state is not None and state.due_at is not None
    login(client)
    for lang in ("en", "de"):
        page = client.get("/account/A-1", params={"lang": lang}).text
        ladder = re.search(r'<p id="ladder-state">(.*?)</p>', page, re.S)
        assert ladder is not None
        told = ladder.group(1)
        # the e-mail's own words for the due time (serving.notify), and the summer offset of +2 h
        assert ladder_text.local_time(state.due_at, params.ladder, lang) in told, told
        since = "2025-06-04 12:00" if lang == "en" else "04.06.2025 12:00"
        assert f"{since} Europe/Berlin" in told and "UTC" not in told, told
        trail = re.search(r'<table id="audit-trail">.*?</table>', page, re.S)
        assert trail is not None
        assert "(Europe/Berlin)</th>" in trail.group(0)
        assert f"<td>{since}</td>" in trail.group(0)
    page = client.get("/account/A-1", params={"lang": "en"}).text
    acked = client.post("/ack", data={"account_id": "A-1", "csrf": csrf_of(page)})
    again = client.post("/ack", data={"account_id": "A-1", "csrf": csrf_of(page)})
    assert acked.status_code == 303 and again.status_code == 409
    assert re.search(r"already acknowledged at 2025-06-04 12:00 Europe/Berlin", again.text)


def test_the_list_tells_a_due_time_in_the_ladders_time_zone(tmp_path, params):
    url = f"sqlite:///{tmp_path / 'due.db'}"
    store = Store(url)
    rows = _rows(1)
    rows["due_at"] = [pd.Timestamp("2025-06-04 14:00", tz="UTC"), pd.NaT, pd.NaT]
    run = {"ran_at": NOW.to_pydatetime(), "evaluated_at": NOW.to_pydatetime(),
           "model_version": "m/1", "accounts": 3, "report": None}  # fmt: skip
    DailyStore(store).save_day(DAYS[-1], rows, np.zeros((3, 3)), FEATURES, run)
    store.close()
    app = create_app(params, url, [TOKEN], clock=lambda: NOW)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        login(c)
        assert "2025-06-04 16:00 Europe/Berlin" in c.get("/").text
        assert "04.06.2025 16:00 Europe/Berlin" in c.get("/", params={"lang": "de"}).text


def test_the_german_account_page_writes_its_charts_numbers_in_german(client):
    login(client)
    client.get("/lang/de", params={"next": "/"})
    page = client.get("/account/A-1").text
    charts = "".join(re.findall(r"<svg.*?</svg>", page, re.S))
    assert charts and re.search(r"\d\u00a0%", charts), charts  # "25 %", not "25%"
    labels = "|".join(re.findall(r">([^<>]+)<", charts))
    assert not re.search(r"\d\.\d+\s?%|\d%", labels), labels


def test_reasons_are_told_in_the_pages_language(database, client):
    """The daily run stored the reasons in the account's language (English here); a CSM reading
    the page in German reads them in German, on the list and on the account page."""
    store = Store(database)
    reason = {"head": "escalation", "feature": "tickets_30d", "family": "tickets",
              "direction": "up", "value": 12.0, "contribution": 0.3,
              "text": "12 tickets in the last 30 days"}  # fmt: skip
    store.save_daily_scores(
        [{"account_id": "A-1", "day": DAYS[-1], "escalation_risk": 0.6, "churn_risk": 0.3,
          "level": "L1", "reasons": [reason]}],
        NOW.to_pydatetime(),
    )  # fmt: skip
    store.close()
    login(client)
    assert "12 tickets in the last 30 days" in client.get("/").text
    client.get("/lang/de", params={"next": "/"})
    for page in (client.get("/").text, client.get("/account/A-1").text):
        assert "12 Tickets in den letzten 30 Tagen" in page
        assert "12 tickets in the last 30 days" not in page


def test_reasons_are_told_as_the_served_models_features_were_built(database, params):
    """The champion's features are built with the settings it was trained with; after
    params.yaml changed the usage baseline (90 -> 180 days) and dropped the 90-day window, the
    page told its usage drop "against the 180-day baseline" and its 90-day count not at all."""
    from features.build import full_spec
    from serving.ui import ui_app

    trained = full_spec(params.features)
    usage = params.features.usage.model_copy(update={"baseline_days": 180})
    now = params.features.model_copy(update={"usage": usage, "windows_days": [7, 30]})
    store = Store(database)
    reasons = [{"head": "escalation", "feature": "usage_events_pct_drop", "family": "usage",
                "direction": "up", "value": 0.4, "contribution": 0.3, "text": "stored"},
               {"head": "escalation", "feature": "tickets_90d", "family": "tickets",
                "direction": "up", "value": 31.0, "contribution": 0.2, "text": "stored"}]  # fmt: skip
    store.save_daily_scores(
        [{"account_id": "A-1", "day": DAYS[-1], "escalation_risk": 0.6, "churn_risk": 0.3,
          "level": "L1", "reasons": reasons}],
        NOW.to_pydatetime(),
    )  # fmt: skip
    store.close()
    ui = ui_app(params.model_copy(update={"features": now}), database, [TOKEN], lambda: NOW)
    ui.tell_with(trained)
    with TestClient(ui.app, base_url="https://testserver", follow_redirects=False) as client:
        login(client)
        client.get("/lang/de", params={"next": "/"})
        page = client.get("/account/A-1").text
    assert "Ereignisse 40\u00a0% unter dem 90-Tage-Mittel" in page, page
    assert "180-Tage" not in page
    assert "31 Tickets in den letzten 90 Tagen" in page


def test_reasons_are_told_as_the_model_version_that_gave_them(database, params):
    """A day scored by an earlier champion (m/1, trained with a 90-day usage baseline) was told
    with the served champion's settings (180 days) on the list and the account page; it is told
    with the settings the daily run kept for m/1, as `escrisk audit` tells it."""
    from features.build import full_spec
    from serving.ui import ui_app

    usage = params.features.usage.model_copy(update={"baseline_days": 180})
    served = params.features.model_copy(update={"usage": usage})
    store = Store(database)
    store.keep_model_settings("m/1", params.features.model_dump(mode="json"), NOW.to_pydatetime())
    reasons = [{"head": "escalation", "feature": "usage_events_pct_drop", "family": "usage",
                "direction": "up", "value": 0.4, "contribution": 0.3, "text": "stored"}]  # fmt: skip
    store.save_daily_scores(
        [{"account_id": "A-1", "day": DAYS[-1], "escalation_risk": 0.6, "churn_risk": 0.3,
          "level": "L1", "reasons": reasons, "model_version": "m/1"}],
        NOW.to_pydatetime(),
    )  # fmt: skip
    store.close()
    ui = ui_app(params.model_copy(update={"features": served}), database, [TOKEN], lambda: NOW)
    ui.tell_with(full_spec(served))
    with TestClient(ui.app, base_url="https://testserver", follow_redirects=False) as client:
        login(client)
        for page in (client.get("/").text, client.get("/account/A-1").text):
            assert "Events down 40% against the 90-day baseline" in page, page
            assert "180-day" not in page


PG_URL = __import__("os").environ.get("ESCRISK_TEST_POSTGRES_URL")


@pytest.mark.skipif(not PG_URL, reason="set ESCRISK_TEST_POSTGRES_URL to run against PostgreSQL")
def test_a_store_the_page_cannot_bring_up_to_date_still_tells_reasons(params, pg_schema_and_role):
    """The service's role may not change the schema (no DDL rights): the store of an older
    release is then read as it is, and the list and account pages asked it for the tables and
    columns it lacks (model_settings, ui_signouts, daily_list.why_parts), a 500 on every page
    until the next daily run added them. Without kept settings the reasons are told with the
    served model's; a sign-out that cannot be recorded says so and what adds the table."""
    admin, schema, role, owner, reader = pg_schema_and_role
    _filled(owner, params)
    with admin.begin() as conn:  # the first release had none of these
        conn.execute(sa.text(f"DROP TABLE {schema}.model_settings"))
        conn.execute(sa.text(f"DROP TABLE {schema}.ui_signouts"))
        conn.execute(sa.text(f"ALTER TABLE {schema}.daily_list DROP COLUMN why_parts"))
        for column in ("owners", "team", "priority"):
            conn.execute(sa.text(f"ALTER TABLE {schema}.daily_scores DROP COLUMN {column}"))
        conn.execute(sa.text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))
        conn.execute(sa.text(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}"
        ))  # fmt: skip
        conn.execute(sa.text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"))
    app = create_app(params, reader, [TOKEN], clock=lambda: NOW)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        login(client)
        listed, account = client.get("/"), client.get("/account/A-1")
        out = client.post("/logout", data={"csrf": csrf_of(listed.text)})
    assert listed.status_code == account.status_code == 200
    assert "Acme" in listed.text and "12 tickets in" in account.text
    # ui_signouts (added since) was a 500 on every page; a sign-out it cannot record is told
    assert out.status_code == 503 and "could not be recorded" in out.text
    assert "lacks the table ui_signouts" in out.text and "escrisk audit --last 1" in out.text


def test_why_it_changed_is_told_in_the_pages_language(tmp_path, params):
    """The daily run stores "why it changed" in the account's language; a German page showed an
    English account's "Risk +0.20 since 2025-06-03: ..." (and an English page a German one's
    "Risiko ..."). It is told again from its makings (why_parts); a row without them (an older
    version's) keeps its stored text."""
    url = f"sqlite:///{tmp_path / 'why.db'}"
    store = Store(url)
    daily = DailyStore(store)
    made = {"delta": 0.2, "since": "2025-06-03",
            "parts": [{"feature": "tickets_30d", "change": 0.15, "value": 12.0}]}  # fmt: skip
    model = {"delta": -0.05, "since": "2025-06-02", "old": "m/1", "new": "m/2"}
    run = {"ran_at": NOW.to_pydatetime(), "evaluated_at": NOW.to_pydatetime(),
           "model_version": "m/1", "accounts": 3, "report": None}  # fmt: skip
    for i, day in enumerate(DAYS):
        rows = _rows(i)
        rows["why_changed"] = ["Risk stored in English", "", ""] if i else ["", "", ""]
        rows["why_parts"] = [json.dumps(made if i == 2 else model) if i else None, None, None]
        daily.save_day(day, rows, np.zeros((3, 3)), FEATURES, run)
    store.evaluate(
        Signals("A-1", 0.95, 0.5, {}, "tickets", _facts()),
        params.ladder,
        NOW.to_pydatetime(),
        "m/1",
    )
    store.close()
    app = create_app(params, url, [TOKEN], clock=lambda: NOW)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        login(client)
        english = client.get("/account/A-1").text
        assert "Risk +0.20 since 2025-06-03: +0.15 (12 tickets in the last 30 days)" in english
        client.get("/lang/de", params={"next": "/"})
        german = client.get("/account/A-1").text
        assert "Risiko +0,20 seit 03.06.2025: +0,15 (12 Tickets in den letzten 30 Tagen)" in german
        assert "Risiko -0,05 seit 02.06.2025; Modell gewechselt (m/1 → m/2)" in german
        assert "Risk stored in English" not in german


def test_an_account_off_the_latest_list_says_since_when_and_why(tmp_path, params):
    """A churned account's page showed its last run's risks, level and due time as today's,
    with nothing to tell that the daily run no longer scores it."""
    from types import SimpleNamespace

    from serving.ui import UiApp

    url = f"sqlite:///{tmp_path / 'left.db'}"
    daily = DailyStore(Store(url))
    run = {"ran_at": NOW.to_pydatetime(), "evaluated_at": NOW.to_pydatetime(),
           "model_version": "m/1", "accounts": 3, "report": None}  # fmt: skip
    for i, day in enumerate(DAYS):
        rows = _rows(i)
        rows = rows if i == 0 else rows[rows["account_id"] != "C-3"]  # C-3 churned after day 1
        daily.save_day(day, rows, np.zeros((len(rows), 3)), FEATURES, run)
    daily.store.close()
    tickets = pd.DataFrame({"account_id": pd.Series([], dtype=object),
                            "created_at": pd.Series([], dtype="datetime64[ns, UTC]")})  # fmt: skip
    churn = pd.DataFrame(
        {"account_id": ["C-3"], "churned_at": [pd.Timestamp("2025-06-02 12:00", tz="UTC")]}
    )
    world = SimpleNamespace(tickets=tickets, usage=None, churn=churn)
    for source, said in ((None, "Not on the latest list (2025-06-04)"),
                         (SourceCache(lambda: world, 60), "Churned on 2025-06-02, so not on the latest list (2025-06-04)")):  # fmt: skip
        app = UiApp(params, url, [TOKEN], lambda: NOW, source).app  # type: ignore[arg-type]
        with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
            login(client)
            page = client.get("/account/C-3").text
            assert said in page and "last scored this account on 2025-06-02" in page, page
            assert 'id="left"' not in client.get("/account/A-1").text
            german = client.get("/account/C-3", params={"lang": "de"}).text
            assert "zuletzt am 02.06.2025 bewertet" in german


def test_account_page_has_charts_reasons_and_trail(client):
    login(client)
    page = client.get("/account/A-1").text
    assert page.count("<svg") >= 2  # score history and the reasons waterfall
    assert "12 tickets in 30 days" in page  # a waterfall bar labelled with the reason text
    # a bar without a stored reason: its sentence without the value, not its column name
    assert "Events down …% against the 90-day baseline" in page
    assert "usage_events_pct_drop" not in page
    assert "+0.20 since yesterday: more tickets" in page
    assert "ESCRISK_SOURCE" in page  # no source configured: the timelines say how
    assert 'class="ev-level_changes"' in page
    assert client.get("/account/NOPE").status_code == 404


@pytest.mark.parametrize("lang,start", [("en", "model average"), ("de", "Modellmittel")])
def test_the_waterfalls_caption_names_its_start_as_its_first_bar_does(client, lang, start):
    """The first bar says "model average" (not the observed escalation rate); the caption above
    it said the bars start from "the base rate", which is what the label was renamed from."""
    login(client)
    page = client.get("/account/A-1", params={"lang": lang}).text
    caption = re.search(
        r'<section class="card" id="reasons">.*?<p class="muted">(.*?)</p>', page, re.S
    )
    assert caption and start in caption.group(1), caption
    assert not re.search("base rate|Basisrate", page, re.I)
    waterfall = re.search(r'id="reasons">.*?(<svg.*?</svg>)', page, re.S)
    assert waterfall and f">{start}</text>" in waterfall.group(1)


def test_timelines_show_the_days_before_the_lists_day(database, params, tmp_path):
    """Opened weeks later, the account page still shows the history its scores came from."""
    src = tmp_path / "source"
    src.mkdir()
    pd.DataFrame(
        [{"account_id": "A-1", "name": "Acme", "tier": "enterprise", "arr": 50_000, "seats": 20,
          "contract_start": "2024-01-01", "renewal_date": "2026-01-01", "csm_owner": "Ann",
          "region": "DE", "language": "en"}]
    ).to_csv(src / "accounts.csv", index=False)  # fmt: skip
    pd.DataFrame(
        [{"ticket_id": tid, "account_id": "A-1", "created_at": at, "priority": "P3",
          "channel": "email", "subject": "s", "body": "b", "first_response_at": None,
          "resolved_at": None, "status": "open", "reopen_count": 0, "csat": None,
          "sla_first_response_hours": None, "sla_resolution_hours": None}
         for tid, at in (("T-BEFORE", "2025-05-20T09:00:00Z"), ("T-AFTER", "2025-06-20T09:00:00Z"),
                         ("T-OLD", "2024-06-01T09:00:00Z"))]
    ).to_csv(src / "tickets.csv", index=False)  # fmt: skip
    later = NOW + pd.Timedelta(days=30)  # the list is of 2025-06-04
    app = create_app(params, database, [TOKEN], clock=lambda: later, source=str(src))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        login(c)
        page = c.get("/account/A-1").text
    tickets = page[page.index('id="tickets"') : page.index('id="usage"')]
    assert tickets.count("<circle") == 1  # T-BEFORE only: T-AFTER is newer, T-OLD too old
    assert "06-04</text></svg>" in tickets  # the axis ends at the list's day, not at the clock
    # pointing at the dot names the ticket, open as of the list's day, in the ladder's zone
    tip = "T-BEFORE (P3): opened 2025-05-20 11:00 Europe/Berlin, still open on the list's day"
    assert f"<title>{tip}</title>" in html.unescape(tickets)


def test_a_source_that_cannot_be_read_is_told_in_the_pages_language(database, params, tmp_path):
    """The German page said "Die Quelle konnte nicht gelesen werden:" and then the source's
    refusal in English."""
    src = tmp_path / "source"
    src.mkdir()  # no table of the contract in it
    app = create_app(params, database, [TOKEN], clock=lambda: NOW, source=str(src))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        login(c)
        page = html.unescape(c.get("/account/A-1?lang=de").text)
    assert "Die Quelle konnte nicht gelesen werden: " in page
    assert "keine Tabellen des Datenvertrags in diesem Ordner" in page, page
    assert "no data contract tables" not in page


def test_a_refused_form_keeps_what_the_user_typed(client, database):
    """Two CSMs acknowledging one account at once: the second's note, lost with the 409 page,
    is back in its field to copy or send elsewhere; nothing of it is recorded."""
    login(client, "Ann Example")
    page = client.get("/account/A-1").text
    first = client.post("/ack", data={"account_id": "A-1", "note": "x", "csrf": csrf_of(page)})
    assert first.status_code == 303
    note = 'called the CFO, "renewal" <at risk>'
    r = client.post("/ack", data={"account_id": "A-1", "note": note, "csrf": csrf_of(page)})
    assert r.status_code == 409
    ack_form = r.text[r.text.index('id="ack-form"') : r.text.index('id="resolve-form"')]
    assert 'value="called the CFO, &#34;renewal&#34; &lt;at risk&gt;"' in ack_form
    assert [a["note"] for a in Store(database).rows("acknowledgements", "A-1")] == ["x"]
    bad = client.post(
        "/resolve",
        data={"account_id": "A-1", "outcome": "nope", "note": "kept", "csrf": csrf_of(page)},
    )
    assert bad.status_code == 400
    resolve_form = bad.text[
        bad.text.index('id="resolve-form"') : bad.text.index('id="feedback-form"')
    ]
    assert 'value="kept"' in resolve_form
    assert 'value="kept"' not in bad.text[: bad.text.index('id="resolve-form"')]  # not the ack's


def test_acknowledge_writes_the_store_and_shows_the_result(client, database):
    login(client, "Ann Example")
    page = client.get("/account/A-1").text
    r = client.post(
        "/ack", data={"account_id": "A-1", "note": "calling them", "csrf": csrf_of(page)}
    )
    assert r.status_code == 303
    shown = client.get(r.headers["location"]).text
    assert "Acknowledged by Ann Example." in shown
    assert 'class="ev-acknowledgements"' in shown
    acks = Store(database).rows("acknowledgements", "A-1")
    key = hashlib.sha256(TOKEN.encode()).hexdigest()[:8]  # which token acted (docs/ui.md)
    assert [(a["by"], a["note"]) for a in acks] == [(f"Ann Example (key {key})", "calling them")]
    assert f"<td>Ann Example (key {key})</td>" in shown
    again = client.post("/ack", data={"account_id": "A-1", "csrf": csrf_of(page)})
    assert again.status_code == 409 and "already acknowledged" in again.text
    german = client.post(
        "/ack", data={"account_id": "A-1", "csrf": csrf_of(page)}, headers={"Accept-Language": "de"}
    )  # the page's language, not the command line's English
    assert german.status_code == 409 and "bereits am" in german.text and "bestätigt" in german.text
    for missing in ({}, {"account_id": "  "}, {"account_id": "A\x00-1"}):
        r = client.post("/ack", data={**missing, "csrf": csrf_of(page)})
        assert r.status_code == 400 and "account_id" in r.text
    # the German page says who acted in German; the store keeps what it recorded
    german = client.get("/account/A-1", params={"lang": "de"}).text
    assert f"<td>Ann Example (Schlüssel {key})</td>" in german and "(key " not in german


def test_control_characters_never_reach_the_store(client, database):
    """A NUL cannot be stored in PostgreSQL (it was a 500 there, logged with the note)."""
    r = client.post("/login", data={"token": TOKEN, "name": "A\x00na", "next": "/"})
    assert r.status_code == 303
    page = client.get("/account/A-1").text
    r = client.post(
        "/ack", data={"account_id": "A-1", "note": "nul\x00byte", "csrf": csrf_of(page)}
    )
    assert r.status_code == 303
    acks = Store(database).rows("acknowledgements", "A-1")
    assert [(a["by"].split(" (key ")[0], a["note"]) for a in acks] == [("A na", "nul byte")]
    assert client.get("/account/A%00B").status_code == 404
    assert client.get("/", params={"tier": "a\x00b", "owner": "x\x00"}).status_code == 200


def test_a_confirmation_is_shown_only_for_what_the_user_just_did(client, params):
    """`?done=` in a link claims nothing: the page confirms only the latest action of the
    signed-in user recorded in the trail, and only what that action was."""
    login(client, "Ann Example")
    outcome = params.ladder.outcomes[0]
    claims = ("Acknowledged by", "Resolved (", "Feedback recorded")
    for done in ("ack", f"resolve:{outcome}", "feedback:agree"):
        page = client.get("/account/A-1", params={"done": done}).text
        assert not any(c in page for c in claims)
    csrf = csrf_of(client.get("/account/A-1").text)
    client.post("/feedback", data={"account_id": "A-1", "verdict": "agree", "csrf": csrf})
    assert "Feedback recorded" in client.get("/account/A-1", params={"done": "feedback:agree"}).text
    for other in ("feedback:disagree", "ack", f"resolve:{outcome}"):
        page = client.get("/account/A-1", params={"done": other}).text
        assert not any(c in page for c in claims)


def test_resolve_and_feedback_write_the_store(client, database, params):
    login(client)
    csrf = csrf_of(client.get("/account/A-1").text)
    outcome = params.ladder.outcomes[0]
    r = client.post("/resolve", data={"account_id": "A-1", "outcome": outcome, "csrf": csrf})
    resolved = client.get(r.headers["location"]).text
    assert r.status_code == 303 and "Resolved" in resolved
    assert re.search(r'id="ack" disabled', resolved)  # a resolved flag cannot be acknowledged
    r = client.post(
        "/feedback",
        data={"account_id": "A-1", "verdict": "disagree", "comment": "seasonal", "csrf": csrf},
    )
    assert r.status_code == 303
    store = Store(database)
    assert [x["outcome"] for x in store.rows("resolutions", "A-1")] == [outcome]
    assert [(f["agree"], f["comment"]) for f in store.rows("feedback", "A-1")] == [
        (False, "seasonal")
    ]


def test_resolving_asks_for_an_outcome_and_never_assumes_saved(client, database, params):
    """The outcome list opened on its first outcome, "saved": a CSM who pressed Resolve to
    close a flag recorded the account as saved, which the KPIs count. No outcome is chosen
    until the CSM chooses one; a form sent without one records nothing and says so."""
    login(client)
    page = client.get("/account/A-1").text
    select = re.search(r'<select name="outcome"([^>]*)>(.*?)</select>', page, re.S)
    assert select and "required" in select.group(1)
    options = re.findall(r'<option value="([^"]*)"([^>]*)>', select.group(2))
    assert options[0][0] == "" and not any("selected" in attrs for _, attrs in options)
    assert [v for v, _ in options[1:]] == list(params.ladder.outcomes)
    for lang, told in (("en", "Choose the outcome"), ("de", "Ergebnis wählen")):
        client.get(f"/lang/{lang}", params={"next": "/"})
        csrf = csrf_of(client.get("/account/A-1").text)
        r = client.post(
            "/resolve", data={"account_id": "A-1", "outcome": "", "note": "done", "csrf": csrf}
        )
        assert r.status_code == 400 and told in r.text
        assert 'value="done"' in r.text  # the note typed stays in its field
    assert Store(database).rows("resolutions", "A-1") == []


def test_bad_form_values_are_400_and_write_nothing(client, database):
    login(client)
    csrf = csrf_of(client.get("/account/A-1").text)
    r = client.post("/resolve", data={"account_id": "A-1", "outcome": "bogus", "csrf": csrf})
    assert r.status_code == 400 and "Unknown outcome" in r.text
    r = client.post("/feedback", data={"account_id": "A-1", "csrf": csrf})
    assert r.status_code == 400
    r = client.post("/ack", data={"account_id": "B-2", "csrf": csrf})
    assert r.status_code == 409 and "never been flagged" in r.text
    assert 'id="actions-none"' in client.get("/account/B-2").text  # the page says why
    store = Store(database)
    assert store.rows("resolutions") == [] and store.rows("feedback") == []


@pytest.mark.parametrize("csrf", [None, "", "0" * 64])
def test_forms_without_a_valid_csrf_token_are_403(client, database, csrf):
    login(client)
    data = {"account_id": "A-1"} | ({} if csrf is None else {"csrf": csrf})
    for path in ("/ack", "/resolve", "/feedback", "/logout"):
        assert client.post(path, data=data | {"outcome": "saved"}).status_code == 403
    assert Store(database).rows("acknowledgements") == []


def test_over_https_the_session_cookie_is_one_no_plain_http_page_can_set(client):
    """The cookie was `escrisk_ui` over HTTPS too: any plain-HTTP answer for the host (another
    port's service, a network attacker's) could set one, signing the user in under another's
    name and key. Over HTTPS it is `__Secure-escrisk_ui`, which a browser takes only from HTTPS,
    and a plain one is no session there."""
    planted = issue(TOKEN, "Mallory", int(NOW.timestamp()) + 3600)
    client.cookies.set(COOKIE, planted)
    assert client.get("/").status_code == 303  # to the sign-in: not Mallory's session
    client.cookies.clear()
    r = client.post("/login", data={"token": TOKEN, "name": "Ann", "next": "/"})
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{SECURE_COOKIE}=") and "Secure" in cookie and "Path=/" in cookie
    assert client.get("/").status_code == 200


def test_logout_ends_the_session(client, database):
    """Signing out ends the session on the server too: a copy of the cookie kept from before
    (another tab, a stolen copy) no longer opens a page or writes the audit trail."""
    login(client)
    kept = client.cookies.get(SECURE_COOKIE)
    csrf = csrf_of(client.get("/").text)
    r = client.post("/logout", data={"csrf": csrf})
    assert r.status_code == 303 and "SameSite=strict" in r.headers["set-cookie"]
    assert client.get("/").status_code == 303
    client.cookies.set(SECURE_COOKIE, kept)
    assert client.get("/").status_code == 303
    r = client.post("/feedback", data={"account_id": "A-1", "verdict": "agree", "csrf": csrf})
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert Store(database).rows("feedback") == []
    client.cookies.clear()
    login(client)  # a new login is a new session, even within the same second
    assert client.get("/").status_code == 200


def test_source_cache_reloads_only_after_the_refresh_time():
    clock = [0.0]
    loads: list[int] = []

    def load():
        loads.append(1)
        return len(loads)

    cache = SourceCache(load, 10, monotonic=lambda: clock[0])  # type: ignore[arg-type]
    assert cache.get() == 1 and cache.get() == 1
    clock[0] = 11
    assert cache.get() == 2


def test_oversized_forms_are_413(client):
    r = client.post("/login", content=b"token=" + b"x" * 100_000,
                    headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("text/html"), r.text
    assert "larger than 64 KB" in r.text and 'href="/">← Back to the list' in r.text
    login(client)
    client.get("/lang/de", params={"next": "/"})
    r = client.post("/ack", content=b"note=" + b"x" * 100_000,
                    headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status_code == 413 and "größer als 64 KB" in r.text, r.text


def test_no_database_yet_is_a_503_page_and_creates_none(tmp_path, params):
    """A wrong ESCRISK_DATABASE_URL (or no daily run yet) says so; it does not open an empty list."""
    missing = tmp_path / "nowhere.db"
    app = create_app(params, f"sqlite:///{missing}", [TOKEN], clock=lambda: NOW)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        login(c)
        r = c.get("/", params={"owner": "ann"}, headers={"Accept-Language": "de"})
        assert r.status_code == 503
        assert "nicht erreichbar" in r.text and "nowhere.db" in r.text
        # the detail too is German (the exception's English text is for the API and the log)
        assert "Unter " in r.text and "keine Datenbank" in r.text, r.text
        assert "no database at" not in r.text and "creates it" not in r.text
        # the list is what failed: the page offers it again, with its filters
        assert 'href="/?owner=ann">↻ Erneut versuchen' in r.text
    assert not missing.exists()


def test_a_database_without_the_store_is_told_in_the_pages_language(tmp_path, params):
    other = tmp_path / "other.db"
    sqlite3.connect(other).close()  # an empty SQLite file: not the daily run's store
    app = create_app(params, f"sqlite:///{other}", [TOKEN], clock=lambda: NOW)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        login(c)
        for lang, said in (("de", "enthält keinen Escalation-Risk-Speicher"), ("en", "holds no")):
            r = c.get("/", headers={"Accept-Language": lang})
            assert r.status_code == 503 and said in r.text, r.text
        assert "holds no" not in c.get("/", headers={"Accept-Language": "de"}).text


def test_the_list_marks_flags_overdue_until_acknowledged(tmp_path, params):
    """The list is the morning's; whether its flags were handled, or are late, is now."""
    url = f"sqlite:///{tmp_path / 'due.db'}"
    store = Store(url)
    high = Signals("A-1", 0.95, 0.5, {}, "tickets", _facts(), ({"text": "Many tickets"},))
    due = store.evaluate(high, params.ladder, NOW.to_pydatetime(), "m/1").due_at
    assert due is not None
    rows = _rows(0)
    rows["due_at"] = rows["due_at"].astype(object)
    rows.loc[0, "due_at"] = due
    run = {"ran_at": NOW.to_pydatetime(), "evaluated_at": NOW.to_pydatetime(),
           "model_version": "m/1", "accounts": 3, "report": None}  # fmt: skip
    DailyStore(store).save_day(DAYS[-1], rows, np.zeros((3, 3)), FEATURES, run)

    def status_of_a1(now: pd.Timestamp, lang: str = "en") -> str:
        app = create_app(params, url, [TOKEN], clock=lambda: now)
        with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
            login(c)
            page = c.get("/", headers={"Accept-Language": lang}).text
            account = c.get("/account/A-1", headers={"Accept-Language": lang}).text
        row = re.search(r'<tr data-account="A-1">(.*?)</tr>', page, re.S)
        assert row, page[:2000]
        found = re.search(r'class="status (\w+)">([^<]+)<', row.group(1))
        # the account page says so too: "acknowledge by" a time long past read as ahead
        state = re.search(r'<p id="ladder-state">(.*?)</p>', account, re.S)
        assert state and ('id="overdue"' in state.group(1)) == bool(
            found and "overdue" in found.group(1)
        )
        return f"{found.group(1)}:{found.group(2)}" if found else ""

    assert status_of_a1(NOW) == ""  # not due yet
    late = pd.Timestamp(due) + pd.Timedelta(minutes=1)
    assert status_of_a1(late) == "overdue:overdue"
    assert status_of_a1(late, "de") == "overdue:überfällig"
    store.acknowledge("A-1", late.to_pydatetime(), "Ann")
    assert status_of_a1(late) == "acknowledged:acknowledged"
    store.close()


def test_the_list_says_a_flag_was_handled_after_the_next_run(tmp_path, params):
    """The run after an acknowledgement or resolution stores the row without a due time (nothing
    is due): the list still says the flag was handled, not an L3 with its action as if untouched."""
    url = f"sqlite:///{tmp_path / 'handled.db'}"
    store = Store(url)
    high = Signals("A-1", 0.95, 0.5, {}, "tickets", _facts(), ({"text": "Many tickets"},))
    level = store.evaluate(high, params.ladder, NOW.to_pydatetime(), "m/1").new_level
    rows = _rows(0)
    rows.loc[0, ["level", "level_index"]] = [level, list(params.ladder.levels).index(level)]
    run = {"ran_at": NOW.to_pydatetime(), "evaluated_at": NOW.to_pydatetime(),
           "model_version": "m/1", "accounts": 3, "report": None}  # fmt: skip
    DailyStore(store).save_day(DAYS[-1], rows, np.zeros((3, 3)), FEATURES, run)  # no due_at

    def status_of_a1(lang: str = "en") -> str:
        app = create_app(params, url, [TOKEN], clock=lambda: NOW)
        with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
            login(c)
            page = c.get("/", headers={"Accept-Language": lang}).text
        row = re.search(r'<tr data-account="A-1">(.*?)</tr>', page, re.S)
        assert row, page[:2000]
        found = re.search(r'class="status (\w+)">([^<]+)<', row.group(1))
        return f"{found.group(1)}:{found.group(2)}" if found else ""

    assert status_of_a1() == ""  # neither handled nor late (the row has no due time to pass)
    store.acknowledge("A-1", NOW.to_pydatetime(), "Ann")
    assert status_of_a1() == "acknowledged:acknowledged"
    store.resolve("A-1", NOW.to_pydatetime(), "Ann", "false_alarm")
    assert status_of_a1("de") == "resolved:gelöst"
    # an account the ladder took down to the floor is no flag, whatever its episode's state says
    rows.loc[0, ["level", "level_index"]] = ["L0", 0]
    DailyStore(store).save_day(DAYS[-1], rows, np.zeros((3, 3)), FEATURES, run)
    assert status_of_a1() == ""
    store.close()


def test_outcomes_are_told_in_the_pages_language(client, params):
    """The form offers, and the trail tells, "Fehlalarm" in German, not the key false_alarm;
    an outcome a team adds to params.yaml reads as its key with spaces."""
    from serving.ui_text import outcome

    assert "false_alarm" in params.ladder.outcomes
    login(client)
    client.get("/lang/de", params={"next": "/"})
    page = client.get("/account/A-1").text
    assert '<option value="false_alarm">Fehlalarm</option>' in page
    csrf = csrf_of(page)
    r = client.post("/resolve", data={"account_id": "A-1", "outcome": "false_alarm", "csrf": csrf})
    after = client.get(r.headers["location"]).text
    assert after.count("Fehlalarm") >= 3, after  # form, confirmation, audit trail
    assert outcome("won_back_by_sales", "de") == "won back by sales"


def test_the_german_list_writes_numbers_and_next_actions_in_german(client, params):
    """The stored list is in each account's language (English here) and English number
    formats; a CSM reading German reads 50.000, 60 % and +20 Pp., and the level's action in
    German."""
    action = params.ladder.actions[params.ladder.levels["L1"].actions[0]]
    login(client)

    def row_of_a1() -> str:
        page = client.get("/").text
        return re.search(r'<tr data-account="A-1">(.*?)</tr>', page, re.S).group(1)

    english = row_of_a1()
    # a change beside risks in %: in percentage points ("+0.20" read as a change of 0.2 %)
    assert "50,000" in english and "60%" in english and "+20\u00a0pp" in english, english
    assert "+0.20" not in english, english
    assert ladder_text.pick(action, "en") in english
    client.get("/lang/de", params={"next": "/"})
    german = row_of_a1()
    assert "50.000" in german and "60\u00a0%" in german and "+20\u00a0Pp." in german, german
    assert ladder_text.pick(action, "de") in german, german


def test_accept_language_is_read_by_its_q_values():
    from serving.ui import preferred

    assert preferred("en;q=0.5, de;q=0.9") == ["de", "en"]
    assert preferred("de-CH, en;q=0.8") == ["de", "en"]
    assert preferred("fr, de;q=0, en;q=bogus") == ["fr"]
    assert preferred("") == []


def test_the_count_says_which_rows_the_page_shows(client, params):
    login(client)
    page = client.get("/").text
    assert "accounts 1–3 of 3" in page
    client.get("/lang/de", params={"next": "/"})
    assert "Accounts 1–3 von 3" in client.get("/").text


def test_an_empty_page_says_no_account_matches_the_filters(client, tmp_path, params):
    login(client)
    page = client.get("/", params={"owner": "Nobody"}).text
    assert "No account matches the filters." in page and "0–0" not in page
    client.get("/lang/de", params={"next": "/"})
    page = client.get("/", params={"owner": "Nobody"}).text
    assert "Kein Account passt zu den Filtern." in page and "0–0" not in page
    url = f"sqlite:///{tmp_path / 'empty.db'}"  # a run that scored no account: no filter to blame
    store = Store(url)
    run = {"ran_at": NOW.to_pydatetime(), "evaluated_at": NOW.to_pydatetime(),
           "model_version": "m/1", "accounts": 0, "report": None}  # fmt: skip
    DailyStore(store).save_day(DAYS[0], _rows(0).iloc[:0], np.zeros((0, 3)), FEATURES, run)
    store.close()
    app = create_app(params, url, [TOKEN], clock=lambda: NOW)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        login(c)
        page = c.get("/").text
        assert "This day&#39;s list holds no accounts." in page and "0–0" not in page, page


def test_the_page_before_the_first_run_has_a_title_without_a_gap(tmp_path, params):
    """With no daily list yet the title read "Daily risk list  · Escalation risk"."""
    url = f"sqlite:///{tmp_path / 'new.db'}"
    store = Store(url)
    DailyStore(store)  # the store with its daily tables, before any daily run
    store.close()
    app = create_app(params, url, [TOKEN], clock=lambda: NOW)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        login(c)
        for lang, title, none in (
            ("en", "Daily risk list · Escalation risk", "No daily list yet."),
            ("de", "Tägliche Risikoliste · Eskalationsrisiko", "Noch keine Tagesliste."),
        ):
            page = c.get("/", headers={"Accept-Language": lang}).text
            assert f"<title>{title}</title>" in page and none in page, page


def test_the_german_list_groups_the_thousands_of_its_ranks_and_pages(tmp_path, params):
    """Rank 1234 and page "1 / 1200" were written bare on the German page (1.234 there)."""
    url = f"sqlite:///{tmp_path / 'ranks.db'}"
    store = Store(url)
    run = {"ran_at": NOW.to_pydatetime(), "evaluated_at": NOW.to_pydatetime(),
           "model_version": "m/1", "accounts": 3, "report": None}  # fmt: skip
    rows = _rows(0).assign(rank=[1_234, 1_235, 1_236])
    DailyStore(store).save_day(DAYS[0], rows, np.zeros((3, 3)), FEATURES, run)
    store.close()
    app = create_app(params, url, [TOKEN], clock=lambda: NOW)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        login(c)
        page = c.get("/", headers={"Accept-Language": "de"}).text
        assert '<td class="num">1.234</td>' in page and "1 / 1" in page, page
        assert '<td class="num">1,234</td>' in c.get("/", headers={"Accept-Language": "en"}).text


def test_the_ladder_history_tells_why_in_the_pages_language(client, params):
    """The fixture's first evaluation of A-1 moved it by risk: "Risiko", not the key risk. A hard
    rule is told by its translated title (params.yaml), one without a title by its name."""
    from serving.ui_text import rule

    login(client)
    client.get("/lang/de", params={"next": "/"})
    page = client.get("/account/A-1").text
    assert "<td>Risiko</td>" in page or "<td>erster Lauf</td>" in page, page[-3000:]
    assert rule("rule:renewal_at_risk", "de", params.ladder) == "Regel: Verlängerung gefährdet"
    assert rule("rule:renewal_at_risk", "en", params.ladder) == "rule: renewal at risk"
    assert rule("rule:gone_since", "de", params.ladder) == "Regel: gone since"
    assert rule("something_new", "en", params.ladder) == "something_new"


def test_a_form_acts_on_the_account_it_shows_when_the_id_has_spaces_around_it(client, database):
    """The form's answer is the page of the stripped id; the action used the id as sent, so
    "A-1 " was told 'Account A-1  has no ladder state' on A-1's own page and wrote nothing."""
    login(client, "Ann Example")
    page = client.get("/account/A-1").text
    r = client.post("/ack", data={"account_id": " A-1\n", "csrf": csrf_of(page)})
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith("/account/A-1?")
    assert [
        a["by"].split(" (key ")[0] for a in Store(database).rows("acknowledgements", "A-1")
    ] == ["Ann Example"]


def test_a_days_scores_and_contributions_are_read_in_one_pass(database):
    """The daily job's read of the previous run: the day's scores, and its float32
    contributions as float64 rows only where their width is the model's."""
    daily = DailyStore(Store(database))
    scores, contrib = daily.scores_and_contributions(DAYS[1], len(FEATURES))
    assert scores.equals(daily.scores(DAYS[1]))
    assert list(scores.columns) == ["escalation_risk", "churn_risk", "level"]
    assert scores.loc["A-1", "level"] == "L1" and scores.index.name == "account_id"
    assert sorted(contrib) == ["A-1", "B-2", "C-3"]
    assert contrib["A-1"].dtype == np.float64
    assert contrib["A-1"].tolist() == np.float32([0.3, 0.1, -0.05]).astype(float).tolist()
    assert daily.scores_and_contributions(DAYS[1], None)[1] == {}
    assert daily.scores_and_contributions(DAYS[1], 4)[1] == {}  # stored by another model
    empty, none = daily.scores_and_contributions(dt.date(2020, 1, 1), len(FEATURES))
    assert empty.empty and none == {}
    daily.store.close()


def test_the_trend_is_each_runs_summary_also_for_runs_stored_without_it(database):
    """The report's trend reads each run's stored summary (median, 90th percentile, flagged);
    a run stored by a version before the summary existed has it worked out from its list."""
    store = Store(database)
    daily = DailyStore(store)
    tr = daily.t["daily_runs"]
    with store.engine.begin() as conn:  # the first day as an older version stored it
        conn.execute(
            tr.update()
            .where(tr.c.day == DAYS[0])
            .values(escalation_median=None, escalation_p90=None, flagged=None)
        )
    trend = daily.trend(DAYS[-1], 8)
    assert daily.trend(DAYS[1], 1)["day"].tolist() == [DAYS[1]]
    store.close()
    assert trend["day"].tolist() == DAYS  # oldest first
    for i, row in trend.iterrows():
        risk = _rows(i)["escalation_risk"]
        assert row["escalation_median"] == pytest.approx(risk.median())
        assert row["escalation_p90"] == pytest.approx(risk.quantile(0.9))
        assert row["flagged"] == 1  # A-1 at L1


def test_a_very_long_id_is_quoted_cut_on_the_answer(client):
    """An address or a form can carry any length: the 404 page quoted a 60,000-character id three
    times (message and language links), the form's answers too."""
    login(client)
    huge = "X" * 60_000
    r = client.get(f"/account/{huge}")
    assert r.status_code == 404
    assert "X" * 128 + "…" in r.text and "X" * 129 not in r.text
    csrf = csrf_of(client.get("/").text)
    r = client.post("/ack", data={"csrf": csrf, "account_id": huge})
    assert r.status_code == 404 and "X" * 129 not in r.text
    data = {"csrf": csrf, "account_id": "A-1", "outcome": "Z" * 60_000}
    r = client.post("/resolve", data=data)
    assert r.status_code == 400 and "Z" * 128 + "…" in r.text and "Z" * 129 not in r.text


@pytest.mark.parametrize(
    "sent",
    [
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"referer": "https://evil.example/page"},
        {"origin": "https://testserver.evil.example"},
    ],
)
def test_a_form_from_another_sites_page_is_refused(client, database, sent):
    """Login had no CSRF token to check: another site's page could sign a user in (as whoever's
    token it holds); every form now also refuses an Origin or Referer of another host."""
    r = client.post("/login", data={"token": TOKEN, "name": "Eve", "next": "/"}, headers=sent)
    assert r.status_code == 403 and COOKIE not in r.cookies
    assert "another site" in r.text
    login(client)
    csrf = csrf_of(client.get("/").text)
    for path in ("/ack", "/resolve", "/feedback", "/logout"):
        data = {"csrf": csrf, "account_id": "A-1", "outcome": "saved", "verdict": "agree"}
        assert client.post(path, data=data, headers=sent).status_code == 403
    assert Store(database).rows("acknowledgements") == []
    assert client.get("/").status_code == 200  # still signed in


def test_a_form_from_the_page_itself_is_taken(client, database):
    """The same host in Origin or Referer (a default port aside, or as a proxy forwards it)."""
    same = {"origin": "https://testserver:443"}
    r = client.post("/login", data={"token": TOKEN, "name": "Ann", "next": "/"}, headers=same)
    assert r.status_code == 303
    csrf = csrf_of(client.get("/").text)
    proxied = {"origin": "https://escrisk.example", "x-forwarded-host": "escrisk.example"}
    r = client.post("/ack", data={"csrf": csrf, "account_id": "A-1"}, headers=proxied)
    assert r.status_code == 303, r.text
    assert len(Store(database).rows("acknowledgements")) == 1
    r = client.get("/?lang=de")
    r = client.post("/login", data={"token": TOKEN, "name": "Eve"}, headers={"origin": "null"})
    assert "anderen Website" in r.text


def test_the_list_scrolls_inside_its_card_on_a_narrow_window(client):
    # at 800 px the German list was 1100 px wide: the table ran past its card's edge and the
    # whole page (header and filters too) scrolled sideways
    login(client)
    page = client.get("/", params={"lang": "de"}).text
    assert re.search(r"\.wide\s*\{\s*overflow-x:\s*auto", page)
    assert re.search(r'<div class="wide">\s*<table id="risk-list">', page)
    assert re.search(r"</table>\s*</div>\s*<div class=\"pager\">", page)


def test_the_lists_reasons_column_is_titled_for_the_several_reasons_it_shows(client, params):
    # the column lists daily.top_reasons reasons but was titled "Top reason" (as the terminal's
    # column, which shows one)
    login(client)
    assert params.daily.top_reasons > 1
    assert "<th>Top reasons</th>" in client.get("/", params={"lang": "en"}).text
    assert "<th>Wichtigste Gründe</th>" in client.get("/", params={"lang": "de"}).text


def test_the_trail_says_the_ladder_made_its_level_changes(client):
    # a level change's "By" cell was empty beside the named people of the other events
    login(client)
    for lang, who in (("en", "ladder (automatic)"), ("de", "Stufenregel (automatisch)")):
        page = client.get("/account/A-1", params={"lang": lang}).text
        row = re.search(r'<tr class="ev-level_changes">(.*?)</tr>', page, flags=re.S)
        assert row, lang
        cells = re.findall(r"<td>(.*?)</td>", row.group(1))
        assert cells[2] == who, (lang, cells)


def test_the_score_history_draws_each_heads_thresholds_when_they_differ(database, params, tmp_path):
    """With churn entry thresholds other than the escalation ones, the churn line ran against
    the escalation thresholds alone; each head's thresholds are now drawn in its line's colour
    (and named with the head on hover), the same ones once in grey when they agree."""
    from serving.params import load_params

    def history_svg(p) -> str:
        app = create_app(p, database, [TOKEN], clock=lambda: NOW)
        with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
            login(c)
            page = c.get("/account/A-1").text
        return re.search(r'<section class="card" id="history">.*?</svg>', page, re.S).group(0)

    def ys(svg: str, color: str = "") -> list[float]:
        style = f' style="stroke:{color}"' if color else ""
        lines = re.findall(r'<line [^>]*y1="([\d.]+)"[^>]*class="threshold"' + style + "/>", svg)
        return sorted(float(v) for v in lines)

    def y(value: float) -> float:  # the chart's plot: 12 px from the top, 168 px high
        return round(12 + 168 * (1 - value), 1)

    same = history_svg(params)
    assert ys(same) == [y(0.5), y(0.3), y(0.15)] and "style=" not in same, same
    text = (ROOT / "params.yaml").read_text()
    for old, new in (("0.15}", "0.20}"), ("0.30}", "0.40}"), ("0.50}", "0.70}")):
        text = text.replace(f"churn_risk: {old}", f"churn_risk: {new}")
    (tmp_path / "params.yaml").write_text(text)
    differ = history_svg(load_params(tmp_path / "params.yaml"))
    assert ys(differ, "#c0392b") == [y(0.5), y(0.3), y(0.15)], differ  # escalation's colour
    assert ys(differ, "#2471a3") == [y(0.7), y(0.4), y(0.2)], differ  # churn's colour
    assert "<title>churn risk ≥ 20%</title>L1" in differ, differ


def test_the_waterfalls_steps_are_percentage_points_as_the_changes_are(client):
    """The waterfall went from a model average of 5.1 % by "+12.1 %" steps, read as relative
    rises, beside changes the page writes in percentage points; its steps are now "+12.1 pp"."""
    login(client)
    for lang, unit in (("en", "\u00a0pp"), ("de", "\u00a0Pp.")):
        client.get(f"/lang/{lang}", params={"next": "/"})
        page = client.get("/account/A-1").text
        svg = re.search(r'<section class="card" id="reasons">.*?</svg>', page, re.S).group(0)
        steps = re.findall(r">([-+][\d.,]+[^<]*)</text>", svg)
        point = "." if lang == "en" else ","
        assert steps == [f"+30{point}0{unit}", f"+10{point}0{unit}", f"-5{point}0{unit}"], steps


def test_a_note_sent_while_the_database_fails_is_given_back(client):
    """The database failed as an acknowledgement was sent: the 503 page said so and the note the
    CSM had typed was gone with the form; now the page holds it, to copy and send again."""
    login(client)
    client.get("/lang/de", params={"next": "/"})
    csrf = csrf_of(client.get("/account/A-1").text)
    note = "Kunde angerufen <b>morgen</b> Rückruf"
    with database_failing("disk I/O error", "INSERT INTO ACKNOWLEDGEMENTS"):
        r = client.post("/ack", data={"account_id": "A-1", "note": note, "csrf": csrf})
    assert r.status_code == 503, r.text
    assert "nicht erreichbar" in r.text and "Nichts wurde gespeichert" in r.text
    assert "Kunde angerufen &lt;b&gt;morgen&lt;/b&gt; Rückruf</textarea>" in r.text, r.text
    # nothing was recorded: the same note goes in once the database is back
    r = client.post("/ack", data={"account_id": "A-1", "note": note, "csrf": csrf})
    assert r.status_code == 303, r.text


def test_a_note_sent_while_the_database_is_down_altogether_is_given_back(client):
    """A database that is down fails every statement, the session's sign-out check before the
    write: the 503 page came from that check and the note typed was lost with the form."""
    login(client)
    csrf = csrf_of(client.get("/account/A-1").text)
    with database_failing("connection refused"):
        ack = client.post("/ack", data={"account_id": "A-1", "note": "Rückruf", "csrf": csrf})
        said = {"account_id": "A-1", "verdict": "disagree", "comment": "renewed", "csrf": csrf}
        feedback = client.post("/feedback", data=said)
    assert ack.status_code == 503 and "Rückruf</textarea>" in ack.text, ack.text
    assert feedback.status_code == 503 and "renewed</textarea>" in feedback.text, feedback.text


def test_signing_out_while_the_database_is_gone_still_ends_it_in_the_browser(client):
    """Sign-out with the database down answered 503 and kept the cookie: on a shared computer
    the next person had the session. Now the browser lets go of it and the page says the
    sign-out could not be recorded."""
    from serving.uisession import COOKIE

    login(client)
    csrf = csrf_of(client.get("/").text)
    with database_failing("disk I/O error"):
        r = client.post("/logout", data={"csrf": csrf}, headers={"Accept-Language": "de"})
    assert r.status_code == 503, r.text
    assert "in diesem Browser abgemeldet" in r.text and "nicht erreichbar" in r.text, r.text
    assert COOKIE in r.headers["set-cookie"] and "Max-Age=0" in r.headers["set-cookie"]
    assert client.get("/").status_code == 303  # to the login: the browser holds no session


@pytest.mark.parametrize("forwarded", [False, True])
def test_x_forwarded_prefix_is_believed_only_behind_a_proxy_said_to_set_it(
    database, params, forwarded
):
    """Any client's `X-Forwarded-Prefix` set the page's links, redirects, sign-in way back and
    cookie path: one talking to the service itself sent the browser wherever on this host it
    named. It counts only with ESCRISK_FORWARDED_PREFIX=1 (a proxy that sets it), as the
    service's Guard (the /ui redirect) and the page mounted under /ui get it."""
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from serving.guard import Guard
    from serving.settings import Settings

    on = Settings.from_env({"ESCRISK_FORWARDED_PREFIX": "1" if forwarded else "0"})
    assert on.forwarded_prefix is forwarded
    page = create_app(params, database, [TOKEN], clock=lambda: NOW, forwarded=on.forwarded_prefix)
    app = Guard(
        Starlette(routes=[Mount("/ui", page)]), [TOKEN], max_body_bytes=10_000,
        forwarded_prefix=on.forwarded_prefix,
    )  # fmt: skip
    prefix = "/risk" if forwarded else ""
    headers = {"X-Forwarded-Prefix": "/risk"}
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        r = c.get("/ui", headers=headers)
        assert r.status_code == 307 and r.headers["location"] == f"{prefix}/ui/"
        r = c.get("/ui/account/A-1", headers=headers)
        assert r.status_code == 303
        back = urlencode({"next": f"{prefix}/ui/account/A-1"})
        assert r.headers["location"] == f"{prefix}/ui/login?{back}"
        r = c.post("/ui/login", data={"token": TOKEN, "name": "Ann", "next": "/"}, headers=headers)
        assert r.status_code == 303 and f"Path={prefix}/ui/" in r.headers["set-cookie"]


@pytest.mark.parametrize("value", ["ja", "2", "tru"])
def test_a_mistyped_switch_is_refused_naming_it(value):
    """A typo must not quietly leave the proxy's prefix ignored (or believed)."""
    from features.errors import UserError
    from serving.settings import Settings

    with pytest.raises(UserError, match=f"ESCRISK_FORWARDED_PREFIX={value}: not a switch"):
        Settings.from_env({"ESCRISK_FORWARDED_PREFIX": value})


def _contrast(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""

    def lum(h: str) -> float:
        c = [int(h.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((lum(fg), lum(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_small_grey_text_is_readable_on_the_page_its_charts_and_the_report(client):
    """The page's grey text (account ids, due times, captions, "accounts 1-100 of 338") had
    4.4:1 on its cards and 4.0:1 on the page, the charts' small labels 4.2:1 and the report's L1
    4.4:1; WCAG AA asks 4.5:1 of text this size."""
    from serving.report_html import CSS as REPORT_CSS

    login(client)
    page = client.get("/account/A-1").text
    muted = re.search(r"\.muted \{ color: (#[0-9a-f]{6})", page)
    small = re.search(r"svg \.small\{[^}]*fill:(#[0-9a-f]{6})", page)
    assert muted and small
    for bg in ("#ffffff", "#f4f6f7", "#f8f9f9"):  # card, page, a row under the pointer
        assert _contrast(muted.group(1), bg) >= 4.5, bg
    assert _contrast(small.group(1), "#fbfcfc") >= 4.5  # a chart's plot area
    levels = re.findall(r"\.lv\d\{color:(#[0-9a-f]{6})", REPORT_CSS)
    assert levels and all(_contrast(c, "#ffffff") >= 4.5 for c in levels), levels


@pytest.mark.parametrize("lang,told", [("en", "escalation and churn"), ("de", "Abwanderung")])
def test_the_lists_reasons_under_the_waterfall_say_they_cover_both_risks(client, lang, told):
    """Under the escalation waterfall the list's reasons stood bare: "Renewal in 43 days", the
    churn risk's first reason, had no bar and read as a reason the waterfall forgot."""
    login(client)
    page = client.get("/account/A-1", params={"lang": lang}).text
    card = page[page.index('id="reasons"') : page.index('id="why"')]
    listed = re.search(r'<p id="reasons-listed">([^<]*)</p>\s*<ul>', card)
    assert listed and told in listed.group(1), card


def test_the_sorted_column_tells_a_screen_reader_its_order(client):
    """The sorted column's ▾/▴ is drawn by the style sheet, which a screen reader does not
    read: the list's order was told to sighted users only."""
    login(client)
    for params, order in (({}, "descending"), ({"sort": "account_name", "desc": "0"}, "ascending")):
        page = client.get("/", params=params).text
        head = page[page.index("<thead>") : page.index("</thead>")]
        assert re.findall(r'aria-sort="([a-z]+)"', head) == [order], head


@pytest.mark.parametrize(
    "lang,question", [("en", "Is the flag right?"), ("de", "Stimmt die Meldung?")]
)
def test_the_feedback_choice_is_a_group_a_screen_reader_names(client, lang, question):
    """The two verdicts stood as loose radio buttons: a screen reader announced "The flag is
    right, radio button, 1 of 2" with no question. They now form a group with its question."""
    login(client)
    page = client.get("/account/A-1", params={"lang": lang}).text
    form = page[
        page.index('id="feedback-form"') : page.index("</form>", page.index('id="feedback-form"'))
    ]
    group = re.search(r"<fieldset[^>]*><legend>([^<]+)</legend>(.*?)</fieldset>", form, re.S)
    assert group and group.group(1) == question, form
    assert re.findall(r'name="verdict" value="(\w+)"', group.group(2)) == ["agree", "disagree"]
