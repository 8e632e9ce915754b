"""The CSM web page: an ASGI app (Starlette) that the service mounts under `/ui`.

Server-rendered HTML, no external script, style or font (works offline). The same bearer tokens
as the API: the login form takes a token and sets a signed, HttpOnly, SameSite=Strict session
cookie (`serving.uisession`); every other page redirects to the login without one. The forms
(acknowledge, resolve, feedback) are POSTs carrying a CSRF token and write to the audit store
(`serving.store.Store`) under the name given at login. Reads go through `serving.dailystore`.

Edges only: the database URL, tokens, clock and the optional source (for ticket and usage
timelines) are passed in by `serving.service`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import math
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit

import jinja2
import numpy as np
import pandas as pd
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Match, Route

from features.contract import ACCOUNTS, History, one_line, without_controls
from features.errors import UserError
from features.spec import FeatureInfo, FeatureSpec
from serving import charts, ladder_text
from serving.daily_text import day_text, figure
from serving.dailystore import SORTABLE, DailyStore
from serving.guard import forwarded_prefix, long_tokens
from serving.params import Params
from serving.reasons import change_retold, feature_specs, features_of, retold
from serving.risklist import owner_key, reasons_cell
from serving.settings import TokenSource, token_source
from serving.store import LadderConflict, Store, StoreUnavailable, open_existing, typed_note
from serving.throttle import SharedThrottle
from serving.ui_text import LANGUAGES, by_text, outcome, rule, text
from serving.uisession import (
    Session,
    client_key,
    cookie_name,
    csrf_ok,
    issue,
    login_ok,
    verify,
)

LANG_COOKIE = "escrisk_ui_lang"
MAX_FORM_BYTES = 64 * 1024  # the page's forms are a few fields; the API's Guard skips /ui
# the longest account id the data contract takes: a longer one names no account
MAX_ID = next(c.max_length for c in ACCOUNTS.columns if c.name == "account_id") or 128
MAX_NOTE = 2000  # the forms' note and comment fields (maxlength), as typed back after a refusal
MAX_HERE = 4096  # a longer address (a made-up one) is no page to come back to: the list is
TEMPLATES = Path(__file__).parent / "templates" / "ui"
Clock = Callable[[], pd.Timestamp]


def script_hashes(folder: Path = TEMPLATES) -> str:
    """The CSP sources of the templates' inline scripts, one SHA-256 each: `'unsafe-inline'` let
    any script run that a page came to hold (one injected through an account's name, should an
    escape ever be missed), these only the page's own. A script must be static text (a value
    written into it would change its hash); `'none'` without any."""
    sources = []
    for template in sorted(folder.glob("*.html")):
        for body in re.findall(r"<script>(.*?)</script>", template.read_text("utf-8"), re.S):
            if "{{" in body or "{%" in body:
                raise ValueError(f"{template.name}: an inline script must be static text")
            digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
            sources.append(f"'sha256-{digest}'")
    return " ".join(dict.fromkeys(sources)) or "'none'"


SCRIPT_HASHES = script_hashes()
R = TypeVar("R", bound=Response)


class SourceCache:
    """The source the daily job reads, loaded on first use and again after `refresh_seconds`."""

    def __init__(
        self, load: Callable[[], History], refresh_seconds: float, monotonic=time.monotonic
    ):
        self.load = load
        self.refresh_seconds = refresh_seconds
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._value: History | None = None
        self._loaded_at = -math.inf

    def get(self) -> History:
        with self._lock:
            if self._value is None or self.monotonic() - self._loaded_at > self.refresh_seconds:
                self._value = self.load()
                self._loaded_at = self.monotonic()
            return self._value


def source_cache(source: str, params: Params, clock: Clock) -> SourceCache:
    def load() -> History:
        from features.sources import load_history

        return load_history(source, params.contract, clock())

    return SourceCache(load, params.ui.source_refresh_seconds)


class _Stores:
    """Opened on the first request, not at import (every service worker imports the module)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._lock = threading.Lock()
        self._store: Store | None = None
        self._daily: DailyStore | None = None

    def get(self) -> tuple[Store, DailyStore]:
        with self._lock:
            if self._store is None:
                self._store = open_existing(self.database_url)
                self._daily = DailyStore(self._store)
            assert self._daily is not None
            return self._store, self._daily


@jinja2.pass_context
def _pct(ctx: Any, v: Any) -> str:
    return figure(v, ".0%", ctx["lang"])


@jinja2.pass_context
def _delta(ctx: Any, v: Any) -> str:
    """A change of a risk in percentage points ("+2 pp", "+2 Pp."): beside risks written as
    33 %, "+0.02" read as a change of 0.02 %."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return text("points", ctx["lang"], value=figure(100 * float(v), "+.0f", ctx["lang"]))


@jinja2.pass_context
def _money(ctx: Any, v: Any) -> str:
    return figure(v, ",.0f", ctx["lang"])


@jinja2.pass_context
def _count(ctx: Any, v: Any) -> str:
    return figure(v, ",", ctx["lang"])


@jinja2.pass_context
def _when(ctx: Any, v: Any) -> str:
    """A stored moment in a table whose heading names the zone: in the ladder's business time
    zone (`zone`), as the e-mails tell due times, as the page's language writes it (28.06.2026
    17:00 in German); it was UTC, two hours off the same due time in the CSM's e-mail."""
    if v is None:
        return ""
    return ladder_text.zone_time(pd.Timestamp(v).to_pydatetime(), ctx["zone"], ctx["lang"], False)


@jinja2.pass_context
def _at(ctx: Any, v: Any) -> str:
    """A stored moment on its own, its zone named: "28.06.2026 17:00 Europe/Berlin"."""
    if v is None:
        return ""
    return ladder_text.zone_time(pd.Timestamp(v).to_pydatetime(), ctx["zone"], ctx["lang"])


@jinja2.pass_context
def _day(ctx: Any, v: Any) -> str:
    return "" if v is None else day_text(v, ctx["lang"])


def preferred(header: str) -> list[str]:
    """An Accept-Language header's languages (two letters), most wanted first: by q, then in
    the order given; q=0 means not wanted."""
    ranked = []
    for i, part in enumerate(header.split(",")):
        code, *params = part.split(";")
        q = 1.0
        for p in params:
            name, _, value = p.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if code.strip() and q > 0:
            ranked.append((-q, i, code.strip().lower()[:2]))
    return [code for _, _, code in sorted(ranked)]


def flag_status(state: Any, due_at: Any, now: pd.Timestamp, flagged: bool = False) -> str:
    """What became of the list's flag since the daily run: resolved, acknowledged, or overdue
    (its due time passed with neither); "" otherwise. The list is the morning's; this is now.
    A `flagged` row without a due time (a run after the flag was handled stores none) still
    says how it was handled: an L3 resolved as a false alarm read as untouched."""
    if state is None or (pd.isna(due_at) and not flagged):
        return ""
    if state.resolved_at is not None:
        return "resolved"
    if state.acknowledged_at is not None:
        return "acknowledged"
    return "overdue" if not pd.isna(due_at) and pd.Timestamp(due_at) <= now else ""


def stale_days(day: dt.date | None, now: pd.Timestamp) -> int | None:
    """How many days the latest list is behind today (UTC), when more than one: the daily job
    runs each day for that day (yesterday's list is this morning's before the run), so an older
    one means it stopped. None otherwise."""
    if day is None:
        return None
    behind = (now.tz_convert("UTC").date() - day).days
    return behind if behind > 1 else None


# the trail's `by` is the name typed at login and its token's key: a name may neither carry a
# key of its own ("Nina (key 3fa9c2d1)" read as Nina's act) nor turn the text after it round
# (U+202E wrote the real key backwards), and so no bidirectional formatting characters
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_KEY_IN_NAME = re.compile(r"\((key|schlüssel)\s*[0-9a-f]{8}\s*\)", re.IGNORECASE)

# a database that is not there or went away: a 503 page (forms give back what was typed)
OUTAGE = (StoreUnavailable, OperationalError, InterfaceError)


def shown(value: str, limit: int = MAX_ID) -> str:
    """A value of the request as a page quotes it: cut after `limit` characters (an address or a
    form can carry a megabyte; no id of ours is longer)."""
    return value if len(value) <= limit else value[:limit] + "…"


class FormTooLarge(Exception):
    pass


def _one_line_or_none(value: str | None) -> str | None:
    """A filter value from the address without surrounding blanks, or None when nothing is left
    or it holds control characters (no account, owner or tier has them: the data contract strips
    the blanks and refuses the rest; "Ann " from a spreadsheet's link listed no account)."""
    value = (value or "").strip()
    return value if value and one_line(value) else None


def ladder_level(value: str | None, levels: list[str]) -> str | None:
    """A level filter from the address: the ladder's level it names (case aside, as the owner
    and tier filters compare), else the value as given, which names no level; None when empty.
    An unknown level was dropped, and the page listed every account under "Level: any"."""
    value = _one_line_or_none(value)
    if value is None:
        return None
    same = [lv for lv in levels if lv.casefold() == value.casefold()]
    return same[0] if same else value


def with_chosen(options: list[str], chosen: str | None) -> tuple[list[str], str | None]:
    """A filter's options and its chosen one as they spell it, compared as the list's filter
    compares (case and Unicode form aside); a value none matches (a bookmarked CSM who is on no
    account today) is added: the form shows the filter that is applied, not "any"."""
    if chosen is None:
        return options, None
    same = [o for o in options if owner_key(o) == owner_key(chosen)]
    return (options, same[0]) if same else ([*options, chosen], chosen)


# columns a first click sorts A to Z (names) or soonest first (due times); the others highest first
ASCENDING_FIRST = frozenset({"account_name", "csm_owner", "due_at"})


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form body, read with a size bound (first value of each field)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() not in (
        "application/x-www-form-urlencoded",
        "",
    ):
        return {}
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        raise FormTooLarge
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormTooLarge
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


def _host(value: str) -> str:
    """host[:port] as compared: lower case, without the scheme's default port."""
    value = value.strip().lower()
    return value.removesuffix(":80").removesuffix(":443")


def cross_site(headers: Any) -> bool:
    """A form a browser sent from another site's page (which could sign a user in as someone
    else, or out): its Origin (or, without one, its Referer) names another host than the one
    asked (Host, or X-Forwarded-Host from a proxy that rewrites Host). Every browser sends
    Origin with a form's POST; a request without either is no browser's form (curl, a test)."""
    sent = headers.get("origin") or headers.get("referer")
    if not sent:
        return False
    if sent.strip().lower() == "null":  # a sandboxed or privacy-hidden page: not ours
        return True
    try:
        theirs = _host(urlsplit(sent.strip()).netloc)
    except ValueError:  # not an address at all
        return True
    forwarded = headers.get("x-forwarded-host", "").split(",")[0]
    ours = {_host(h) for h in (headers.get("host", ""), forwarded) if h.strip()}
    return theirs not in ours


# the catch-all route's methods (a route without methods takes GET only)
ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"]

# a form's confirmation: the code in the redirect -> the trail table its action writes
DONE_KINDS = {"ack": "acknowledgements", "resolve": "resolutions", "feedback": "feedback"}
DONE_WITHIN = pd.Timedelta(minutes=10)  # how recent that entry must be to be confirmed


class UiApp:
    """Routes and rendering; `app` is the Starlette application to mount."""

    def __init__(
        self,
        params: Params,
        database_url: str,
        tokens: TokenSource | Sequence[str],
        clock: Clock,
        source: SourceCache | None = None,
        forwarded: bool = False,
    ) -> None:
        self.params = params
        self.forwarded = forwarded  # X-Forwarded-Prefix believed (ESCRISK_FORWARDED_PREFIX)
        self.stores = _Stores(database_url)
        self.tokens = token_source(tokens)
        self.clock = clock
        self.source = source
        # counted in the state database, for every worker at once
        self.throttle = SharedThrottle(
            "ui",
            lambda: self.stores.get()[0],
            params.ui.login_free_failures,
            params.ui.login_max_wait_seconds,
        )
        # every feature the params define: reasons are told again in the page's language
        # (the served model's own, once `tell_with` names them, before these)
        self.features = features_of(params.features)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.env.globals["chart_css"] = charts.CSS
        self.env.globals["lvl"] = ladder_text.level_classes(list(params.ladder.levels))
        self.env.filters.update(
            pct=_pct,
            delta=_delta,
            money=_money,
            count=_count,
            when=_when,
            at=_at,
            day=_day,
            q=self._quote,
        )
        self.env.globals["outcome"] = outcome
        self.env.globals["by_text"] = by_text
        self.env.globals["rule"] = lambda kind, lang: rule(kind, lang, params.ladder)
        self.app = Starlette(
            routes=[
                Route("/", self.list_page, methods=["GET"]),
                Route("/login", self.login_page, methods=["GET"]),
                Route("/login", self.login, methods=["POST"]),
                Route("/logout", self.logout, methods=["POST"]),
                Route("/lang/{code}", self.language, methods=["GET"]),
                Route("/account/{account_id:path}", self.account_page, methods=["GET"]),
                Route("/ack", self.acknowledge, methods=["POST"]),
                Route("/resolve", self.resolve, methods=["POST"]),
                Route("/feedback", self.feedback, methods=["POST"]),
                Route("/{elsewhere:path}", self.elsewhere, methods=ANY_METHOD),  # last: the rest
            ],
            exception_handlers={
                404: self.no_such_page,
                405: self.no_such_page,
                FormTooLarge: self.too_large,
                ClientDisconnect: self.gone,
                StoreUnavailable: self.unavailable,
                OperationalError: self.unavailable,
                InterfaceError: self.unavailable,
                DataError: self.refused,
            },
        )

    # --- helpers -------------------------------------------------------------------------------

    def tell_with(self, spec: FeatureSpec) -> None:
        """Tell reasons with the served model's features: it was trained, and its features are
        built, with its own settings, which params.yaml may since have changed (a usage baseline
        of 90 days told as one of 180, a window since dropped not told at all)."""
        self.features = {**self.features, **{f.name: f for f in spec.features}}

    def _told_with(self, store: Store) -> Callable[[str | None], Mapping[str, FeatureInfo]]:
        """A stored row's model version -> the features its reasons are told with: the settings
        that version scored with (as `escrisk audit` tells them), the served model's for a
        version not recorded."""
        return feature_specs(store.model_settings(), self.features)

    @staticmethod
    def _quote(value: Any) -> str:
        return quote(str(value), safe="")

    def _root(self, request: Request) -> str:
        """The page's address as the browser sees it: behind a proxy that publishes the service
        under a prefix, that prefix (`X-Forwarded-Prefix`, when believed) before the mount's `/ui`."""
        mount = str(request.scope.get("root_path", "")).rstrip("/")
        return forwarded_prefix(request.headers, self.forwarded) + mount

    def _lang(self, request: Request) -> str:
        """The address's `lang` (a link that says ?lang=de), else the header links' cookie, else
        the browser's languages, else params.yaml's."""
        for chosen in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
            if chosen in LANGUAGES:
                return chosen
        for code in preferred(request.headers.get("accept-language", "")):
            if code in LANGUAGES:
                return code
        return self.params.ui.language

    def _now(self) -> pd.Timestamp:
        return self.clock().tz_convert("UTC")

    def _session(self, request: Request) -> Session | None:
        cookie = request.cookies.get(_cookie(request))
        session = verify(cookie, self.tokens.current(), int(self._now().timestamp()))
        if session is None or self.stores.get()[0].signed_out(_cookie_key(cookie)):
            return None
        return session

    def _to_login(self, request: Request, account_id: str | None = None) -> RedirectResponse:
        """To the login page, and back here after it; a form sent after the session ended goes
        back to its account's page, and the login page says that nothing was recorded."""
        query = {"lost": "1"} if request.method != "GET" else {}
        query["next"] = self._here(request, account_id)
        response = RedirectResponse(
            f"{self._root(request)}/login?{urlencode(query)}", status_code=303
        )
        return self._keep_lang(request, response)

    def _keep_lang(self, request: Request, response: R) -> R:
        """A language asked for in the address stays for the session, as the header's links do."""
        code = request.query_params.get("lang")
        if code in LANGUAGES and request.cookies.get(LANG_COOKIE) != code:
            self._set_lang(request, response, code)
        return response

    def _set_lang(self, request: Request, response: Response, code: str) -> None:
        response.set_cookie(
            LANG_COOKIE, code, max_age=365 * 86400, path=self._root(request) + "/",
            samesite="strict", secure=request.url.scheme == "https",
        )  # fmt: skip

    def _here(self, request: Request, account_id: str | None = None) -> str:
        """The page a request belongs to: its own address for a GET; for a form, the page it was
        sent from (its account's, or the list): a GET of /ui/ack is a 405."""
        if request.method == "GET":  # without `lang`: the language links would undo themselves
            if len(request.url.path) + len(request.url.query) > MAX_HERE:
                return self._root(request) + "/"
            kept = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True)
                    if k != "lang"]  # fmt: skip
            path = forwarded_prefix(request.headers, self.forwarded) + request.url.path
            return path + (f"?{urlencode(kept)}" if kept else "")
        return self._page_of(request, account_id)

    def _page_of(self, request: Request, account_id: str | None) -> str:
        """An account's page, or the list."""
        root = self._root(request)
        if account_id and one_line(account_id) and len(account_id) <= MAX_ID:
            return f"{root}/account/{quote(account_id, safe='')}"
        return root + "/"

    def _safe_next(self, request: Request, target: str | None) -> str:
        root = self._root(request)
        if target and target.startswith(root + "/") and not target.startswith("//"):
            return target
        return root + "/"

    def render(
        self, request: Request, template: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        lang = self._lang(request)
        root = self._root(request)
        zone = self.params.ladder.business_calendar.time_zone
        page = self.env.get_template(template).render(
            _=lambda key, **values: text(
                key, lang, **{"delta_days": self.params.daily.delta_days, "zone": zone, **values}
            ),
            lang=lang,
            zone=zone,
            languages=LANGUAGES,
            root=root,
            here=self._here(request, context.get("account_id")),
            **context,
        )
        headers = {
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'unsafe-inline'; script-src {SCRIPT_HASHES}; "
                "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            ),
        }
        return self._keep_lang(request, HTMLResponse(page, status_code=status, headers=headers))

    async def no_such_page(self, request: Request, exc: Exception) -> Response:
        """An address the page does not have (404), or a form's address opened as a page (405:
        a bookmarked /ui/ack): a page in the user's language with the way back, not Starlette's
        plain "Not Found"."""
        status = getattr(exc, "status_code", 404)
        key = "form_only" if status == 405 else "no_such_page"
        response = self.render(
            request, "error.html", status=status, message=text(key, self._lang(request))
        )
        allow = (getattr(exc, "headers", None) or {}).get("Allow")
        if allow:
            response.headers["Allow"] = allow
        return response

    async def elsewhere(self, request: Request) -> Response:
        """An address no other route takes. BentoML mounts the page for the addresses its routes
        match only and answered the rest itself, in plain text: a 405 for a route's address with
        another method, else a 404, both answered by `no_such_page`."""
        allowed = {
            method
            for route in self.app.routes[:-1]
            if route.matches(request.scope)[0] == Match.PARTIAL
            for method in getattr(route, "methods", None) or ()
        }
        if allowed:
            raise HTTPException(405, headers={"Allow": ", ".join(sorted(allowed))})
        raise HTTPException(404)

    async def too_large(self, request: Request, exc: Exception) -> Response:
        """A form body beyond MAX_FORM_BYTES: a page in the user's language, with the way back."""
        message = text("form_too_large", self._lang(request), kb=MAX_FORM_BYTES // 1024)
        return self.render(request, "error.html", status=413, message=message)

    async def gone(self, request: Request, exc: Exception) -> Response:
        """A browser that closed the connection mid-form (a closed tab): nobody reads the answer,
        the access log does (499, as nginx writes it), not a 500 with a traceback."""
        return Response(status_code=499)

    async def refused(self, request: Request, exc: Exception) -> Response:
        """A value the database cannot hold: the request's fault, a 400 page (and no log line
        quoting the statement's parameters, which hold what the user typed)."""
        message = text("value_refused", self._lang(request))
        return self.render(request, "error.html", status=400, message=message)

    async def unavailable(self, request: Request, exc: Exception) -> Response:
        """No database yet, or one that went away: a 503 page saying so, not a 500, in the page's
        language (the exception's own text is English, for the API and the log)."""
        return self._unavailable_page(request, exc)

    def _unavailable_page(
        self, request: Request, exc: Exception, kept: str = "", lead: str = ""
    ) -> Response:
        """`unavailable`'s page; `kept`: what a form's user typed, shown to copy and send again
        (the database went away while the note was sent: the browser's form is gone); `lead`:
        a catalog key told before the outage (what was done all the same)."""
        lang = self._lang(request)
        if isinstance(exc, StoreUnavailable):
            detail = text(f"unavailable_{exc.key}", lang, **exc.values)
        else:
            detail = text("unavailable_gone", lang, cause=type(exc).__name__)
        message = text("store_unavailable", lang, detail=detail)
        if lead:
            message = f"{text(lead, lang)} {message}"
        # the list itself may be what failed: offer the same page again (`here`), not only the list
        retry = request.method == "GET"
        return self.render(
            request, "error.html", status=503, message=message, retry=retry, kept=kept
        )

    # --- login ---------------------------------------------------------------------------------

    async def login_page(self, request: Request) -> Response:
        return self.render(
            request,
            "login.html",
            next=self._safe_next(request, request.query_params.get("next")),
            lost=request.query_params.get("lost") == "1",
        )

    async def login(self, request: Request) -> Response:
        if cross_site(request.headers):
            return self._refuse_cross_site(request)
        form = await read_form(request)
        token = str(form.get("token") or "")
        name = " ".join(_BIDI.sub("", without_controls(str(form.get("name") or ""))).split())
        name = name[:128]
        target = self._safe_next(request, str(form.get("next") or ""))
        client = client_key(request.client.host if request.client else None)
        # as the API's bearer check (guard.Guard._refused): a long token is checked during the
        # wait too; a sign-in that works forgets no failures, or a guesser holding one token
        # (or a colleague behind the same NAT signing in) wiped out the count every few guesses
        tokens = self.tokens.current()
        long = long_tokens(tokens)
        known = login_ok(token, long)
        if not known:
            wait = math.ceil(await run_in_threadpool(self.throttle.wait, client))
            if wait:  # guessing tokens: a short token is not looked at till the wait is over
                refused = self.render(
                    request, "login.html", status=429, next=target, error="login_wait",
                    seconds=wait, name=name,
                )  # fmt: skip
                refused.headers["Retry-After"] = str(wait)
                return refused
            known = login_ok(token, [t for t in tokens if t not in long])
            if not known:
                await run_in_threadpool(self.throttle.failed, client)
        error = None
        if not known:
            error, status = "login_failed", 401
        elif not name:
            error, status = "login_name_missing", 400
        elif _KEY_IN_NAME.search(name):  # the trail would name two keys, the typed one first
            error, status = "login_name_key", 400
        if error is not None:
            return self.render(
                request, "login.html", status=status, next=target, error=error, name=name
            )
        expires = int(self._now().timestamp() + self.params.ui.session_hours * 3600)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            _cookie(request),
            issue(token, name, expires),
            max_age=int(self.params.ui.session_hours * 3600),
            path=self._root(request) + "/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    async def logout(self, request: Request) -> Response:
        if cross_site(request.headers):
            return self._refuse_cross_site(request)
        # the cookie's signature only, not the store's record of sign-outs: signing out again
        # does no harm, and with the database gone the browser still lets go of the session
        cookie = request.cookies.get(_cookie(request))
        session = verify(cookie, self.tokens.current(), int(self._now().timestamp()))
        if session is None:
            return self._to_login(request)
        form = await read_form(request)
        if not csrf_ok(session, form.get("csrf")):
            return self.render(request, "error.html", status=403, message=self._csrf_text(request))
        expires = dt.datetime.fromtimestamp(session.expires, dt.UTC)
        key = _cookie_key(cookie)
        response: Response
        try:
            store, _ = self.stores.get()
            await run_in_threadpool(store.sign_out, key, expires, self._now().to_pydatetime())
            response = RedirectResponse(self._root(request) + "/login", status_code=303)
        except OUTAGE as exc:
            # the browser lets go of the session all the same (a shared computer); the server
            # could not record it, which the page says
            response = self._unavailable_page(request, exc, lead="signed_out_here")
        response.delete_cookie(
            _cookie(request), path=self._root(request) + "/", httponly=True, samesite="strict",
            secure=request.url.scheme == "https",
        )  # fmt: skip
        return response

    async def language(self, request: Request) -> Response:
        code = request.path_params["code"]
        response = RedirectResponse(
            self._safe_next(request, request.query_params.get("next")), status_code=303
        )
        if code in LANGUAGES:
            self._set_lang(request, response, code)
        return response

    def _refuse_cross_site(self, request: Request) -> Response:
        """403, nothing recorded, no cookie set: the form came from another site's page."""
        message = text("cross_site", self._lang(request))
        return self.render(request, "error.html", status=403, message=message)

    def _csrf_text(self, request: Request) -> str:
        return text("csrf_failed", self._lang(request))

    # --- the list ------------------------------------------------------------------------------

    async def list_page(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return self._to_login(request)
        q = request.query_params
        levels = list(self.params.ladder.levels)
        filters = {
            "owner": _one_line_or_none(q.get("owner")),
            "level": ladder_level(q.get("level"), levels),
            "min_level": ladder_level(q.get("min_level"), levels),
            "tier": _one_line_or_none(q.get("tier")),
        }
        unknown = [v for k in ("level", "min_level") if (v := filters[k]) and v not in levels]
        sort = q.get("sort") or "priority"
        sort = sort if sort in SORTABLE else "priority"
        desc = q.get("desc", "0" if sort in ASCENDING_FIRST else "1") != "0"
        try:
            page = max(int(q.get("page", "1")), 1)
        except ValueError:
            page = 1
        lang = self._lang(request)
        ctx = await run_in_threadpool(self._list_context, filters, sort, desc, page, lang)
        rows = ctx["rows"]
        for r in rows:
            r["level_title"] = ladder_text.pick(self.params.ladder.levels[r["level"]].title, lang)

        def link(**changes: Any) -> str:
            values = {**{k: v for k, v in filters.items() if v}, "sort": sort,
                      "desc": "1" if desc else "0", **changes}  # fmt: skip
            return "?" + urlencode({k: v for k, v in values.items() if v not in (None, "")})

        owners, owner = with_chosen(ctx["owners"], filters["owner"])
        tiers, tier = with_chosen(list(self.params.contract.tiers), filters["tier"])
        notice = None
        stale = stale_days(ctx["day"], self._now())
        if stale is not None:  # a daily job that stopped left the page showing its last list
            stale_text = text("list_stale", lang, day=day_text(ctx["day"], lang), days=stale)
        else:
            stale_text = None
        if unknown:  # applied, so the list is empty, and said: not silently dropped to "any"
            names = ", ".join(levels)
            notice = text("unknown_level", lang, level=shown(unknown[0]), levels=names)
        return self.render(
            request,
            "list.html",
            session=session,
            filters={**filters, "owner": owner, "tier": tier},
            sort=sort,
            desc=desc,
            levels=levels,
            level_options={k: with_chosen(levels, filters[k])[0] for k in ("level", "min_level")},
            notice=notice,
            stale=stale_text,
            link=link,
            ascending_first=ASCENDING_FIRST,
            owners=owners,
            tiers=tiers,
            **{k: v for k, v in ctx.items() if k != "owners"},
        )

    def _list_context(
        self, filters: dict[str, Any], sort: str, desc: bool, page: int, lang: str
    ) -> dict[str, Any]:
        _, daily = self.stores.get()
        day = daily.latest_day()
        size = self.params.ui.page_size
        if day is None:
            return {"day": None, "rows": [], "owners": [], "total": 0, "pages": 1, "page": 1,
                    "first": 0}  # fmt: skip
        levels = list(self.params.ladder.levels)
        common = dict(
            day=day,
            owner=filters["owner"],
            level=filters["level"],
            # an unknown level is above every level: no account is at it or above it
            min_level_index=(
                None
                if filters["min_level"] is None
                else levels.index(filters["min_level"])
                if filters["min_level"] in levels
                else len(levels)
            ),
            tier=filters["tier"],
        )
        total = daily.list_count(**common)
        pages = max(1, math.ceil(total / size))
        page = min(page, pages)  # past the end (or a page number no database holds): the last
        rows = daily.daily_list(
            **common, sort=sort, descending=desc, limit=size, offset=(page - 1) * size,
            tier_order=list(self.params.contract.tiers),
        )  # fmt: skip
        ids = [r["account_id"] for r in rows]
        stored = daily.store.day_reasons(day, ids)
        states = daily.store.states_of(ids)
        told_with = self._told_with(daily.store)
        now = self._now()
        for r in rows:  # in the page's language (the stored cell is in the account's)
            if r["account_id"] in stored:
                features = told_with(r.get("model_version"))
                told = retold(stored[r["account_id"]], features, lang)
                r["reasons"] = reasons_cell(told, self.params.daily.top_reasons)
            state = states.get(r["account_id"])
            # above the floor, at the level the ladder holds: the flag the row shows
            flagged = state is not None and r["level_index"] > 0 and state.level == r["level"]
            r["status"] = flag_status(state, r["due_at"], now, flagged)
            if r["level"] in self.params.ladder.levels:  # the stored text is the account's language
                r["next_action"] = ladder_text.next_action(self.params.ladder, r["level"], lang)
        return {
            "day": day,
            "rows": rows,
            "owners": daily.owners(day),
            "total": total,
            "pages": pages,
            "page": page,
            "first": (page - 1) * size + 1,  # the page's first row's number in the list
        }

    # --- the account page ----------------------------------------------------------------------

    async def account_page(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return self._to_login(request)
        return await self._render_account(request, session, request.path_params["account_id"])

    async def _render_account(
        self,
        request: Request,
        session: Session,
        account_id: str,
        message: str | None = None,
        error: str | None = None,
        status: int = 200,
        typed: dict[str, dict[str, str]] | None = None,
    ) -> Response:
        lang = self._lang(request)
        try:
            if not one_line(account_id):  # no such id: the contract refuses control characters
                raise UserError(account_id)
            ctx = await run_in_threadpool(self._account_context, account_id, lang)
        except UserError:
            return self.render(
                request,
                "error.html",
                status=404,
                message=self._not_found(account_id, lang),
            )
        if message is None and request.query_params.get("done"):
            message = self._done_text(request.query_params["done"], session, lang, ctx["trail"])
        return self.render(
            request,
            "account.html",
            status=status,
            session=session,
            message=message,
            error=error,
            outcomes=list(self.params.ladder.outcomes),
            typed=typed or {},
            **ctx,
        )

    def _not_found(self, account_id: str, lang: str) -> str:
        """No stored score: never scored, or its scores are older than `daily.keep_days` (a
        churned account's last ones are deleted in time), as POST /account says; "never been
        scored" was false of an account the list held a year ago."""
        account = shown(_one_line_or_none(account_id) or "?")
        keep = self.params.daily.keep_days
        if keep is None:
            return text("not_found", lang, account=account)
        return text("not_found_kept", lang, account=account, keep=keep)

    def _done_text(
        self, done: str, session: Session, lang: str, trail: list[dict[str, Any]]
    ) -> str | None:
        """The confirmation after a form, from a code in the redirect (never free text), shown
        only when the trail's latest entry by this user is that very action, made just now: a
        link with `?done=` cannot claim what nobody did."""
        kind, _, value = done.partition(":")
        mine = [e for e in trail if e["kind"] in DONE_KINDS.values() and e["by"] == session.by]
        if not mine or mine[-1]["kind"] != DONE_KINDS.get(kind):
            return None
        last = mine[-1]
        if self._now() - pd.Timestamp(last["at"]) > DONE_WITHIN:
            return None
        if (kind == "resolve" and last["outcome"] != value) or (
            kind == "feedback" and last["agree"] != (value == "agree")
        ):
            return None
        if kind == "ack":
            return text("done_ack", lang, by=session.name)
        if kind == "resolve" and value in self.params.ladder.outcomes:
            return text("done_resolve", lang, by=session.name, outcome=outcome(value, lang))
        if kind == "feedback" and value in ("agree", "disagree"):
            verdict = text("agrees" if value == "agree" else "disagrees", lang)
            return text("done_feedback", lang, by=session.name, verdict=verdict)
        return None

    def _account_context(self, account_id: str, lang: str) -> dict[str, Any]:
        store, daily = self.stores.get()
        ui = self.params.ui
        history = daily.account_history(account_id, days=ui.history_runs)
        today = history[-1]
        told_with = self._told_with(store)
        reasons = retold(
            daily.store.day_reasons(today["day"], [account_id]).get(account_id, []),
            told_with(today.get("model_version")),
            lang,
        )
        if reasons:
            today["reasons"] = reasons_cell(reasons, self.params.daily.top_reasons)
        # in the page's language, as on the list
        today["next_action"] = ladder_text.next_action(self.params.ladder, today["level"], lang)
        level = self.params.ladder.levels[today["level"]]
        escalation, churn = text("escalation_risk", lang), text("churn_risk", lang)
        history_svg = charts.line_chart(
            [r["day"] for r in history],
            {
                escalation: [r["escalation_risk"] for r in history],
                churn: [r["churn_risk"] for r in history],
            },
            text("sec_history", lang),
            lang=lang,
            **self._entry_thresholds(escalation, churn),
        )
        state = store.state(account_id)
        trail = daily.audit_trail(account_id) if state is not None else []
        changes = [e for e in trail if e["kind"] == "level_changes"]
        for e in changes:
            e["why"] = self._level_reason(e, lang)
        for e in trail:
            e["detail"] = self._event_detail(e, lang)
        return {
            "account_id": account_id,
            "today": today,
            "level_title": ladder_text.pick(level.title, lang),
            "history": history,
            "history_svg": history_svg,
            "waterfall_svg": self._waterfall(daily, account_id, today, reasons, lang),
            "whys": [
                {
                    **r,
                    "why_changed": change_retold(
                        r.get("why_parts"), told_with(r.get("model_version")), lang
                    )
                    or r["why_changed"],
                }
                for r in history[::-1]
                if r["why_changed"]
            ][:5],  # told in the page's language (stored in the account's)
            "state": state,
            # as the list marks it: "acknowledge by" a time long past read as a deadline ahead
            "overdue": state is not None
            and flag_status(state, state.due_at, self._now()) == "overdue",
            "changes": changes,
            "trail": trail,
            "left": self._left(daily, account_id, today["day"], lang),
            **self._timelines(account_id, today["day"], lang),
        }

    def _left(self, daily: DailyStore, account_id: str, day: dt.date, lang: str) -> str | None:
        """What the page says of an account the latest list does not hold (churned, or its
        contract over): the day its page is of, and its churn from the source when known. The
        page showed an old run's risks, level and due time as "today's", with nothing to tell."""
        latest = daily.latest_day()
        if latest is None or day >= latest:
            return None
        words = {"latest": day_text(latest, lang), "day": day_text(day, lang)}
        churned = None
        if self.source is not None:
            try:
                churn = self.source.get().churn
            except UserError:  # the timelines below say why the source could not be read
                churn = None
            if churn is not None:
                at = churn.loc[churn["account_id"] == account_id, "churned_at"]
                churned = None if at.empty else pd.Timestamp(at.max()).date()
        if churned is None:
            return text("not_latest", lang, **words)
        return text("not_latest_churned", lang, churned=day_text(churned, lang), **words)

    def _entry_thresholds(self, escalation: str, churn: str) -> dict[str, Any]:
        """The ladder's entry thresholds for the score history: grey for both lines when each
        level's two are the same, else each head's in its line's colour (the churn line ran
        against the escalation thresholds alone)."""
        levels = self.params.ladder.levels.items()
        esc = [(n, lv.entry.escalation_risk) for n, lv in levels
               if lv.entry is not None and lv.entry.escalation_risk is not None]  # fmt: skip
        chu = [(n, lv.entry.churn_risk) for n, lv in levels
               if lv.entry is not None and lv.entry.churn_risk is not None]  # fmt: skip
        if esc == chu:
            return {"thresholds": esc}
        return {"series_thresholds": {escalation: esc, churn: chu}}

    def _waterfall(
        self,
        daily: DailyStore,
        account_id: str,
        today: dict[str, Any],
        reasons: list[dict[str, Any]],
        lang: str,
    ) -> str | None:
        """Base rate -> top contributions -> the rest -> today's escalation risk, from the
        probability-scale contributions the daily job stored (they sum to risk - base)."""
        tl = daily.t["daily_list"]
        import sqlalchemy as sa

        q = sa.select(tl.c.contributions).where(
            tl.c.day == today["day"], tl.c.account_id == account_id
        )
        blob = daily.store._read(lambda c: c.execute(q).scalar())
        run = daily.run_on_or_before(today["day"])
        if blob is None or run is None:
            return None
        names = list(run["feature_names"])
        contrib = np.frombuffer(blob, dtype=np.float32).astype(np.float64)
        if len(contrib) != len(names):
            return None
        texts = {r["feature"]: r["text"] for r in reasons if r.get("head") == "escalation"}
        k = self.params.ui.waterfall_features
        order = np.argsort(-np.abs(contrib), kind="stable")
        top, rest = order[:k], order[k:]
        steps = [
            charts.Step(texts.get(names[j]) or self._label(names[j], lang), float(contrib[j]))
            for j in top
            if contrib[j] != 0
        ]
        if len(rest) and float(contrib[rest].sum()) != 0:
            steps.append(
                charts.Step(text("other_features", lang, n=len(rest)), float(contrib[rest].sum()))
            )
        risk = float(today["escalation_risk"])
        return charts.waterfall(
            text("base_rate", lang),
            risk - float(contrib.sum()),
            steps,
            text("today_risk", lang),
            text("sec_reasons", lang),
            lang=lang,  # a step in percentage points, as the changes beside the risks are
            change=lambda v: text("points", lang, value=figure(100 * v, "+.1f", lang)),
        )

    def _label(self, name: str, lang: str) -> str:
        """A feature without a stored reason, for people: its sentence without the value (a
        feature the current spec does not know: its name)."""
        info = self.features.get(name)
        return info.label(lang) if info is not None else name.replace("_", " ")

    def _timelines(self, account_id: str, day: dt.date, lang: str) -> dict[str, Any]:
        """Tickets and usage of the `timeline_days` before the shown run's day: the history its
        scores and reasons were computed from, whenever the page is opened."""
        days = self.params.ui.timeline_days
        out: dict[str, Any] = {"timeline_days": days, "source_note": None}
        out.update(tickets_svg=None, usage_svg=None, tickets=[])
        if self.source is None:
            out["source_note"] = text("no_source", lang)
            return out
        try:
            history = self.source.get()
        except UserError as exc:
            error = (exc.told(lang).splitlines() or [""])[0]  # in the page's language
            out["source_note"] = text("source_error", lang, error=error)
            return out
        end = pd.Timestamp(day, tz="UTC")
        start = end - pd.Timedelta(days=days)
        t = history.tickets
        t = t[
            (t["account_id"] == account_id) & (t["created_at"] >= start) & (t["created_at"] < end)
        ]
        t = t.sort_values("created_at")
        records: list[dict[str, Any]] = t.to_dict("records")  # type: ignore[assignment]
        tickets = [
            {
                "ticket_id": r["ticket_id"],
                "priority": str(r["priority"]),
                "created_at": pd.Timestamp(r["created_at"]).to_pydatetime(),
                "resolved_at": None
                if pd.isna(r["resolved_at"])
                else pd.Timestamp(r["resolved_at"]).to_pydatetime(),
                "status": str(r["status"]),
            }
            for r in records
        ]
        zone = self.params.ladder.business_calendar.time_zone
        for k in tickets:  # which ticket a dot is: the dots alone named none to follow up
            told = {"ticket": k["ticket_id"], "priority": k["priority"]}
            told["opened"] = ladder_text.zone_time(k["created_at"], zone, lang)
            done = k["resolved_at"]
            if done is None or done >= end:  # resolved after the list's day: open as of then
                k["tip"] = text("ticket_tip_open", lang, **told)
            else:
                k["tip"] = text(
                    "ticket_tip", lang, **told, resolved=ladder_text.zone_time(done, zone, lang)
                )
        out["tickets"] = tickets
        if tickets:
            out["tickets_svg"] = charts.ticket_timeline(
                tickets,
                start.to_pydatetime(),
                end.to_pydatetime(),
                text("sec_tickets", lang, days=days),
                lang=lang,
            )
        u = history.usage
        if u is not None:
            u = u[(u["account_id"] == account_id) & (u["date"] >= start) & (u["date"] < end)]
            u = u.sort_values("date")
            if len(u):
                out["usage_svg"] = charts.line_chart(
                    [d.date() for d in u["date"]],
                    {
                        text("usage_active", lang): [
                            None if pd.isna(v) else float(v) for v in u["active_users"]
                        ]
                    },
                    text("sec_usage", lang, days=days),
                    y_max=None,
                    percent=False,
                    lang=lang,
                )
        return out

    def _level_reason(self, e: dict[str, Any], lang: str) -> str:
        params = ladder_text.titled(e.get("reason_params") or {}, self.params.ladder, lang)
        try:
            return ladder_text.text(e["reason_key"], lang, **params)
        except (KeyError, IndexError, ValueError):
            return str(e["reason_key"])

    def _event_detail(self, e: dict[str, Any], lang: str) -> str:
        kind = e["kind"]
        if kind == "level_changes":
            return f"{e['old_level'] or '–'} → {e['new_level']}: {self._level_reason(e, lang)}"
        if kind == "resolutions":
            told = outcome(str(e["outcome"]), lang)
            return told + (f": {e['note']}" if e.get("note") else "")
        if kind == "feedback":
            verdict = text("agree_yes" if e["agree"] else "agree_no", lang)
            return verdict + (f": {e['comment']}" if e.get("comment") else "")
        if kind == "actions_taken":
            action = self.params.ladder.actions.get(e["action"])
            return ladder_text.pick(action, lang) if action else str(e["action"])
        return str(e.get("note") or "")

    # --- the forms -----------------------------------------------------------------------------

    async def _form(self, request: Request) -> tuple[Session, dict[str, str]] | Response:
        if cross_site(request.headers):
            return self._refuse_cross_site(request)
        form = await read_form(request)
        try:
            session = self._session(request)
        except OUTAGE as exc:
            # a database that is down fails the sign-out check before the write: the note
            # typed comes back all the same, as it does when the write itself fails
            return self._unavailable_page(request, exc, kept=_typed(form))
        if session is None:
            return self._to_login(request, str(form.get("account_id") or "").strip())
        if not csrf_ok(session, form.get("csrf")):
            return self.render(request, "error.html", status=403, message=self._csrf_text(request))
        return session, form

    async def _write(
        self, request: Request, action: Callable[[Session, Any, str], str]
    ) -> Response:
        got = await self._form(request)
        if isinstance(got, Response):
            return got
        session, form = got
        account_id = str(form.get("account_id") or "").strip()
        lang = self._lang(request)
        if not account_id or not one_line(account_id):  # no id, or control characters
            return self.render(request, "error.html", status=400, message=text("no_account", lang))
        # what the user typed, back in the form the page shows with the refusal: a note written
        # while a colleague acknowledged the same account was thrown away with the form
        typed = {request.url.path.rsplit("/", 1)[-1]: {
            k: shown(str(form.get(k) or ""), MAX_NOTE) for k in ("note", "comment", "outcome", "verdict")
        }}  # fmt: skip
        try:  # the id as checked and as the answer's page shows it, not as sent
            form = {**form, "account_id": account_id}
            done = await run_in_threadpool(action, session, form, lang)
        except LadderConflict as exc:
            zone = self.params.ladder.business_calendar.time_zone
            values = {  # the moment it was done, as the page's language writes it, in the zone
                k: ladder_text.zone_time(v, zone, lang) if isinstance(v, dt.datetime) else v
                for k, v in exc.values.items()
            }
            told = text(f"conflict_{exc.key}", lang, **values)
            return await self._render_account(
                request, session, account_id, error=told, status=409, typed=typed
            )
        except UserError as exc:
            return await self._render_account(
                request, session, account_id, error=exc.told(lang), status=409, typed=typed
            )
        except ValueError as exc:
            return await self._render_account(
                request, session, account_id, error=str(exc), status=400, typed=typed
            )
        except OUTAGE as exc:
            return self._unavailable_page(request, exc, kept=_typed(form))
        where = self._page_of(request, account_id)
        return RedirectResponse(f"{where}?{urlencode({'done': done})}", status_code=303)

    def _note(self, form: Any, key: str) -> str | None:
        return typed_note(str(form.get(key) or ""))

    async def acknowledge(self, request: Request) -> Response:
        def act(session: Session, form: Any, lang: str) -> str:
            store, _ = self.stores.get()
            now = self._now().to_pydatetime()
            store.acknowledge(
                str(form.get("account_id")), now, session.by, self._note(form, "note")
            )
            return "ack"

        return await self._write(request, act)

    async def resolve(self, request: Request) -> Response:
        def act(session: Session, form: Any, lang: str) -> str:
            outcome = str(form.get("outcome") or "")
            if not outcome.strip():
                raise ValueError(text("no_outcome", lang))
            if outcome not in self.params.ladder.outcomes:
                raise ValueError(text("bad_outcome", lang, outcome=shown(outcome)))
            store, _ = self.stores.get()
            now = self._now().to_pydatetime()
            store.resolve(
                str(form.get("account_id")), now, session.by, outcome, self._note(form, "note")
            )
            return f"resolve:{outcome}"

        return await self._write(request, act)

    async def feedback(self, request: Request) -> Response:
        def act(session: Session, form: Any, lang: str) -> str:
            verdict = form.get("verdict")
            if verdict not in ("agree", "disagree"):
                raise ValueError(text("bad_verdict", lang))
            store, _ = self.stores.get()
            now = self._now().to_pydatetime()
            agree = verdict == "agree"
            store.feedback(
                str(form.get("account_id")), now, session.by, agree, self._note(form, "comment")
            )
            return f"feedback:{verdict}"

        return await self._write(request, act)


def _typed(form: Mapping[str, Any]) -> str:
    """A form's note or comment, given back on a 503 page to copy and send again."""
    return str(form.get("note") or form.get("comment") or "").strip()


def create_app(
    params: Params,
    database_url: str,
    tokens: TokenSource | Sequence[str],
    clock: Clock,
    source: str | None = None,
    forwarded: bool = False,
) -> Starlette:
    """The `/ui` app; `source` (ESCRISK_SOURCE) enables the ticket and usage timelines;
    `forwarded` (ESCRISK_FORWARDED_PREFIX) believes a proxy's X-Forwarded-Prefix."""
    return ui_app(params, database_url, tokens, clock, source, forwarded).app


def ui_app(
    params: Params,
    database_url: str,
    tokens: TokenSource | Sequence[str],
    clock: Clock,
    source: str | None = None,
    forwarded: bool = False,
) -> UiApp:
    """`create_app`'s UiApp, for the service to `tell_with` the model it loads."""
    cache = source_cache(source, params, clock) if source else None
    return UiApp(params, database_url, tokens, clock, cache, forwarded)


def _cookie(request: Request) -> str:
    return cookie_name(request.url.scheme == "https")


def _cookie_key(cookie: str | None) -> str:
    """What the store keeps of a signed-out session: a hash, never the cookie itself."""
    return hashlib.sha256((cookie or "").encode("utf-8", "replace")).hexdigest()


def utc_clock() -> pd.Timestamp:
    return pd.Timestamp(dt.datetime.now(dt.UTC))
