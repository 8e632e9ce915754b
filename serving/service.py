"""The scoring service for the helpdesk: `bentoml serve serving.service:EscalationRisk`.

The edge of the online path: reads params.yaml (path in ESCRISK_PARAMS, default ./params.yaml),
the environment (MLflow URI, database URL, API tokens), the clock, and loads the `champion` model
once per worker. Each endpoint validates (pydantic, then the data contract), builds features with
the same `build_features` as training and the batch, and answers through `serving.scoring`.
Logs carry counts and ids of requests only, never ticket text or personal data.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import traceback
from pathlib import Path
from typing import Any

import anyio
import bentoml
import pandas as pd
from starlette.responses import JSONResponse

from features.build import build_features
from features.errors import UserError
from serving.facts import account_facts
from serving.guard import ClientErrorLogs, Guard, OneLineLogs
from serving.intake import RequestError, request_history, resolve_as_of
from serving.ladder import validate_against
from serving.metrics_labels import bound_metric_labels
from serving.model import DEFAULT_TRACKING_URI
from serving.openapi import enrich
from serving.params import load_params
from serving.schemas import (
    AccountRequest,
    AccountScore,
    ErrorDetail,
    ScoreFeaturesRequest,
    ScoreRequest,
    ScoreResponse,
)
from serving.settings import Settings, TokenSource, short_tokens, worker_language
from serving.store import StoreUnavailable, unreachable
from serving.throttle import SharedThrottle
from serving.ui import ui_app, utc_clock

logger = logging.getLogger("escrisk.service")
# BentoML's log keeps other loggers' WARNING and above: the model each worker loaded is INFO
logger.setLevel(logging.INFO)


PARAMS = load_params(os.environ.get("ESCRISK_PARAMS", "params.yaml"))
SETTINGS = Settings.from_env()
TOKENS = TokenSource.from_env(SETTINGS, os.environ)  # the file is read again when it changes
# the CSM web page (issue 7), mounted below; it checks the same tokens itself, through a cookie
UI = ui_app(
    PARAMS, SETTINGS.database_url, TOKENS, utc_clock, SETTINGS.source, SETTINGS.forwarded_prefix
)
if not TOKENS.current():
    logger.warning("no API tokens configured (ESCRISK_API_TOKENS): every scoring call gets 401")
elif short := short_tokens(t.decode("utf-8") for t in TOKENS.current()):
    logger.warning(short)


def _check_store() -> None:
    from serving.lookup import store_problem

    problem = store_problem(SETTINGS.database_url)
    if problem:
        logger.warning("POST /account and /ui answer 503 until this is fixed: %s", problem)


def _error(status: int, message: str, detail: list[ErrorDetail] | None = None) -> JSONResponse:
    body = {"error": message, "detail": [d.model_dump() for d in detail or []]}
    return JSONResponse(body, status_code=status)


@bentoml.service(
    name="escalation_risk",
    workers=int(os.environ.get("ESCRISK_SERVICE_WORKERS") or PARAMS.service.workers),
    # the Guard answers service.timeout_seconds in the error shape; BentoML's own (no `detail`)
    # stays behind it, for a loop too busy to let the Guard's timer run
    traffic={"timeout": PARAMS.service.timeout_seconds + 5},
    metrics={"enabled": True},
    logging={"access": {"enabled": PARAMS.service.access_log, "request_content_length": True}},
    # OpenTelemetry spans (and the X-BentoML-Request-ID header) only when asked for: every URL excluded
    tracing={} if PARAMS.service.tracing else {"excluded_urls": [".*"]},
)
class EscalationRisk:
    """Scores, levels and reasons for the helpdesk, from the registered champion model."""

    def __init__(self) -> None:
        from serving.model import feature_code_warning, load_champion

        uri = SETTINGS.mlflow_tracking_uri or DEFAULT_TRACKING_URI
        self.params = PARAMS
        name = PARAMS.promotion.model_name
        cache = Path(SETTINGS.model_cache)
        self.model = load_champion(uri, name, version=SETTINGS.model_version, cache=cache)
        # the ladder's rules name features of this model (`escrisk serve` said so before start)
        validate_against(PARAMS.ladder, self.model.spec.names)
        UI.tell_with(self.model.spec)  # the page tells reasons as this model's features are built
        self.clock_skew = pd.Timedelta(seconds=PARAMS.service.clock_skew_seconds)
        logger.info("loaded %s (%d features)", self.model.version, len(self.model.spec.names))
        stale = feature_code_warning(self.model, worker_language(SETTINGS, PARAMS))
        if stale:  # once per worker: an upgrade changed the features under the champion
            logger.warning(stale)
        # the daily run's database, checked beside start-up: a server that does not answer
        # must not keep the worker from scoring
        threading.Thread(target=_check_store, name="escrisk-store-check", daemon=True).start()
        self._bulk: anyio.CapacityLimiter | None = None  # made on the event loop, at first use
        # what is loaded now stays for good: keep it out of the collector's full sweeps
        gc.collect()
        gc.freeze()

    def __is_ready__(self) -> bool:
        return self.model is not None

    def _guarded(self, endpoint: str, fn, *args: Any) -> Any:
        """Run an endpoint: rule violations become 4xx JSON, anything else a logged 500 without data."""
        try:
            return fn(*args)
        except RequestError as exc:
            return _error(exc.status, exc.message, exc.detail)
        except StoreUnavailable as exc:
            return _error(503, str(exc))
        except UserError as exc:
            return _error(422, str(exc))
        except Exception as exc:
            if unreachable(exc):  # the database went away after the store was opened
                logger.error("%s: database unreachable (%s)", endpoint, type(exc).__name__)
                return _error(503, "the database is unreachable; try again later")
            # the type and the code location only: exception messages may quote request data
            where = " <- ".join(
                f"{Path(f.filename).name}:{f.lineno}"
                for f in traceback.extract_tb(exc.__traceback__)[-4:]
            )
            logger.error("%s failed: %s at %s", endpoint, type(exc).__name__, where)
            return _error(500, "internal error; see the service log")

    async def _run(self, endpoint: str, fn, req: Any, accounts: int, rows: int) -> Any:
        """Small requests run on the event loop, saving the hop to a worker thread and back;
        larger ones in one worker thread, so health checks and the timeout stay live meanwhile."""
        if self.params.service.runs_inline(accounts, rows):
            return self._guarded(endpoint, fn, req)
        if self._bulk is None:
            self._bulk = anyio.CapacityLimiter(1)
        return await anyio.to_thread.run_sync(self._guarded, endpoint, fn, req, limiter=self._bulk)

    @bentoml.api(route="/score")
    async def score(self, request: ScoreRequest, /) -> ScoreResponse:
        """Score accounts from their records and recent history (1 to 1,000 per call)."""
        rows = sum(
            len(a.tickets) + len(a.usage or ()) + len(a.escalations or ()) for a in request.accounts
        )
        return await self._run("score", self._score, request, len(request.accounts), rows)

    def _score(self, req: ScoreRequest) -> ScoreResponse:
        from serving.scoring import score_rows

        now = pd.Timestamp.now(tz="UTC")
        p = self.params
        day = resolve_as_of(req.as_of, now, p.contract)
        # the model's own feature settings, its custom fields too: those it reads, as the batch does
        built_with = self.model.features(p.features)
        history = request_history(
            req,
            p.contract,
            built_with.custom_fields,
            now,
            self.clock_skew,
            declared=p.features.custom_fields,  # checked, not read, until a model reads them
        )
        fs = build_features(history, [day], built_with, spec=self.model.spec)
        built = set(fs.columns["account_id"].tolist())
        inactive = [
            ErrorDetail(
                loc=["accounts", i, "account", "contract_start"],
                msg=f"account is not active on as_of {day.date()} (contract not started, or churned)",
                type="inactive",
            )
            for i, a in enumerate(req.accounts)
            if a.account.account_id not in built
        ]
        if inactive:
            raise RequestError(422, "some accounts cannot be scored on as_of", inactive)
        facts = account_facts(history, day, p.features)
        answers = score_rows(self.model, fs, facts, p.ladder, now, p.service.top_reasons)
        by_id = {a["account_id"]: a for a in answers}
        scores = [AccountScore(**by_id[a.account.account_id]) for a in req.accounts]
        logger.debug("scored %d account(s) as of %s", len(scores), day.date())  # access log has it
        return ScoreResponse(
            model_version=self.model.version,
            as_of=day.date(),
            unavailable={k: str(v) for k, v in fs.unavailable.items()},  # English, as the API
            scores=scores,
        )

    @bentoml.api(route="/score_features")
    async def score_features(self, request: ScoreFeaturesRequest, /) -> ScoreResponse:
        """Score precomputed feature rows, checked against the model's feature spec."""
        n = len(request.rows)
        return await self._run("score_features", self._score_features, request, n, n)

    def _score_features(self, req: ScoreFeaturesRequest) -> ScoreResponse:
        from serving.featurerows import feature_frame
        from serving.scoring import score_rows

        now = pd.Timestamp.now(tz="UTC")
        day = resolve_as_of(req.as_of, now, self.params.contract)
        frame, facts = feature_frame(req, self.model.spec, day, self.params.contract)
        p = self.params
        answers = score_rows(self.model, frame, facts, p.ladder, now, p.service.top_reasons)
        return ScoreResponse(
            model_version=self.model.version,
            as_of=day.date(),
            unavailable={},
            scores=[AccountScore(**a) for a in answers],
        )

    @bentoml.api(route="/account")
    def account(self, request: AccountRequest, /) -> AccountScore:
        """The latest daily score stored for an account (written by `escrisk daily`)."""
        return self._guarded("account", self._account, request)

    def _account(self, req: AccountRequest) -> AccountScore:
        from serving.lookup import latest_score

        found = latest_score(SETTINGS.database_url, req.account_id)
        if found is None:
            keep = self.params.daily.keep_days
            kept = "" if keep is None else f" within the {keep} days it keeps (daily.keep_days)"
            raise RequestError(
                404,
                f"account {req.account_id!r} has never been scored by the daily run{kept}",
                [ErrorDetail(loc=["account_id"], msg="never scored", type="not_found")],
            )
        return AccountScore(**found)


ROUTES = frozenset({"/score", "/score_features", "/account"})

# Prometheus series per endpoint, not per path a client makes up (serving.metrics_labels)
bound_metric_labels(ROUTES)

# requests BentoML rejects: one line each, without the traceback that would quote their fields
logging.getLogger("bentoml._internal.server.http_app").addFilter(ClientErrorLogs())
# paths with line breaks (%0a) in the access log: escaped, not a line the client wrote
logging.getLogger("bentoml.access").addFilter(OneLineLogs())

# @bentoml.service wraps the class; its methods are invisible to the type checker
EscalationRisk.add_asgi_middleware(  # type: ignore[attr-defined]
    Guard,
    tokens=TOKENS,
    max_body_bytes=int(PARAMS.service.max_request_mb * 1024 * 1024),
    openapi=lambda spec: enrich(spec, ROUTES),  # the bearer scheme and the error shape
    large_body_bytes=int(PARAMS.service.large_request_mb * 1024 * 1024),
    concurrent_large=PARAMS.service.concurrent_large_requests,
    timeout_seconds=PARAMS.service.timeout_seconds,
    forwarded_prefix=SETTINGS.forwarded_prefix,
    throttle=(  # counted in the state database the page uses, for every worker at once
        SharedThrottle(
            "api",
            lambda: UI.stores.get()[0],
            PARAMS.service.auth_free_failures,
            PARAMS.service.auth_max_wait_seconds,
        )
        if PARAMS.service.auth_max_wait_seconds > 0
        else None
    ),
)

# the CSM web page (issue 7); it checks the same tokens itself, through a session cookie
EscalationRisk.mount_asgi_app(UI.app, path="/ui")  # type: ignore[attr-defined]
