"""`escrisk serve`: run the scoring service (BentoML) after checking that a champion exists."""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import os
import shutil
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from serving.cli import add_params_option, port_number, positive_int, team_language
from serving.ladder_cli import add_language_option
from serving.model_cli_text import say
from serving.params import MAX_WORKERS

if TYPE_CHECKING:
    from serving.params import Params
    from serving.scoring import ScoringModel

SERVICE = "serving.service:EscalationRisk"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "serve",
        help="serve /score, /score_features and /account over HTTP (BentoML)",
        description="Start the scoring service with the registered champion model. "
        "Tokens: ESCRISK_API_TOKENS (comma-separated) or ESCRISK_API_TOKENS_FILE; "
        "MLflow: MLFLOW_TRACKING_URI (default sqlite:///mlflow.db). See docs/api.md.",
    )
    add_params_option(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=3000, help="port (default 3000)")
    parser.add_argument(
        "--workers",
        type=worker_count,
        default=None,
        help=f"worker processes, 1 to {MAX_WORKERS} (default: params.yaml service.workers)",
    )
    add_language_option(parser)
    parser.set_defaults(run=run)


def worker_count(value: str) -> int:
    """An argparse type: as many workers as service.workers may be (`--workers 1000` started a
    thousand processes, each loading the model, past the bound params.yaml keeps)."""
    n = positive_int(value)
    if n > MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"{value!r}: at most {MAX_WORKERS}")
    return n


def command(args: argparse.Namespace) -> list[str]:
    """The `bentoml serve` command line this runs."""
    bentoml = shutil.which("bentoml", path=os.path.dirname(sys.executable)) or "bentoml"
    return [bentoml, "serve", SERVICE, "--host", args.host, "--port", str(args.port)]


def source_problem(source: str | None, lang: str = "en") -> str | None:
    """Why the CSM page will show no timelines from ESCRISK_SOURCE (a folder that is not there,
    a mistyped path), or None: said at start, not only on each account's page. A database
    URL is read by the page itself (a server may be down for now)."""
    from features.sources import is_url

    if source is None or is_url(source) or os.path.isdir(source):
        return None
    return say("serve_no_source", lang, source=source, cwd=os.getcwd())


def port_problem(host: str, port: int, lang: str = "en") -> str | None:
    """Why the service could not listen on host:port (a port in use, an address not of this
    machine), or None. BentoML said so after the start-up line, in a 50-line traceback."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except OSError as exc:
        return say("serve_no_host", lang, host=host, why=exc.strerror or exc)
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as BentoML binds it
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return say("serve_port_in_use", lang, port=str(port), host=host)
            why = exc.strerror or exc
            return say("serve_cannot_listen", lang, host=host, port=str(port), why=why)
    return None


def model_to_serve(
    uri: str, params: Params, cache: Path, now: dt.datetime, lang: str = "en"
) -> tuple[str, ScoringModel, str | None]:
    """The champion's version and model, loaded once here (so a bad model or ladder is one line, not an
    error from every worker, and its bundle is kept in `cache`), and a warning to print, if any.
    A registry that cannot be reached refused every start, though the workers load a pinned
    version from `cache`: the champion last seen there is served then, said loudly; without
    one kept, a UserError saying so (MLflow's own error for a URI it cannot use at all). A
    registry that answers without a champion is refused."""
    from features.errors import UserError
    from features.sources import describe
    from serving.daily_text import t
    from serving.ladder import validate_against
    from serving.model import (
        ALIAS,
        NoChampion,
        champion_version,
        last_champion,
        load_champion,
        note_champion,
        read_champion,
        scoring_model,
    )

    name = params.promotion.model_name
    warning = None
    try:
        version = champion_version(uri, name, lang)
    except NoChampion:
        raise
    except Exception as exc:  # the store gone, its server down, its database refusing
        # a refusal told in serve's language: "keine Verbindung", not the English inside German
        told = exc.told(lang) if isinstance(exc, UserError) else str(exc)
        why = (told.strip().splitlines() or [type(exc).__name__])[0]
        words = {"uri": describe(uri), "why": why, "alias": ALIAS, "model": name, "cache": cache}
        seen = last_champion(cache, uri, name)
        if seen is None and not isinstance(exc, UserError):
            raise  # MLflow's own (an unknown scheme): `escrisk` tells it with the store's URI
        if seen is None:
            raise UserError(t("registry_down_nothing_seen", lang, **words)) from None
        version, seen_at, kept = seen[0], f"{seen[1].astimezone(dt.UTC):%Y-%m-%d %H:%M}", seen[2]
        warning = t("registry_down_serving_seen", lang, version=version, seen=seen_at, **words)
        model = scoring_model(read_champion(kept, name, version, lang), f"{name}/{version}")
    else:
        note_champion(cache, uri, name, version, now)
        model = load_champion(uri, name, lang, version, cache)
    # the ladder's rules must name the champion's features (else a rule never fires)
    validate_against(params.ladder, model.spec.names)
    return version, model, warning


def run(args: argparse.Namespace) -> int:
    from features.errors import UserError
    from serving.cli import utc_now
    from serving.model import DEFAULT_TRACKING_URI, feature_code_warning
    from serving.params import load_params
    from serving.settings import Settings, api_tokens, exposed_token_file, short_tokens
    from serving.store import Store

    params = load_params(args.params)
    lang = team_language(args, params)
    settings = Settings.from_env()
    uri = settings.mlflow_tracking_uri or DEFAULT_TRACKING_URI
    cache = Path(settings.model_cache)
    version, model, warning = model_to_serve(uri, params, cache, utc_now().to_pydatetime(), lang)
    if warning:
        print(warning, file=sys.stderr)
    # every worker loads the version announced below, also one started after a promotion
    # (a crashed worker's replacement): answers never mix two models; a restart takes the new one
    env = dict(
        os.environ,
        ESCRISK_PARAMS=str(args.params.resolve()),
        MLFLOW_TRACKING_URI=uri,
        ESCRISK_MODEL_VERSION=version,
        ESCRISK_SERVE_LANGUAGE=lang,  # the workers' warnings, as serve's own
    )
    if args.workers is not None:
        env["ESCRISK_SERVICE_WORKERS"] = str(args.workers)
    Store.check_url(settings.database_url)  # a malformed URL: one line here, not per request
    # read the tokens as the service will, so that a bad file is one line here, not a
    # traceback from every worker
    tokens = api_tokens(settings, env)
    if not tokens:
        print(say("serve_warning", lang, line=say("serve_no_tokens", lang)), file=sys.stderr)
    for warning in (
        short_tokens(tokens, lang),
        exposed_token_file(env.get("ESCRISK_API_TOKENS_FILE") or "", lang),
        source_problem(settings.source, lang),
    ):
        if warning:
            print(say("serve_warning", lang, line=warning), file=sys.stderr)
    stale = feature_code_warning(model, lang)
    if stale:
        print(stale, file=sys.stderr)
    problem = port_problem(args.host, args.port, lang)  # last: the port may be taken meanwhile
    if problem:
        raise UserError(problem)
    print(
        say(
            "serve_serving", lang, model=params.promotion.model_name, version=version,
            host=args.host, port=str(args.port),
        ),
        file=sys.stderr,
    )  # fmt: skip
    cmd = command(args)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe(cmd[0], cmd, env)
    return 0  # not reached
