"""Bounded labels for BentoML's request metrics.

BentoML's traffic metrics middleware labels every request with its raw path, before our Guard or
the router see it. Any client, with or without a token, could then create a Prometheus series per
made-up path (`/x1`, `/x2`, ...): `/metrics` and the multiprocess directory behind it grow until
the service restarts. Here that middleware sees a bounded label instead: the service's own routes
and open paths as they are, the CSM page as `/ui`, anything else as `other`. The request itself
still reaches the app with its real path.
"""

from __future__ import annotations

from typing import Any

from serving.guard import OPEN_PATHS, SELF_AUTHENTICATED_PREFIXES, is_self_authenticated

OTHER = "other"


def metric_path(path: str, routes: frozenset[str]) -> str:
    """The label a request's path is counted under."""
    if path in routes or path in OPEN_PATHS:
        return path
    if is_self_authenticated(path):
        return SELF_AUTHENTICATED_PREFIXES[0].rstrip("/")
    return OTHER


class _Relabelled:
    """The metrics middleware as its own code sees it, but calling the app with the real scope."""

    def __init__(self, middleware: Any, app: Any) -> None:
        self._middleware = middleware
        self.app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(self._middleware, name)


def bound_metric_labels(routes: frozenset[str]) -> None:
    """Make BentoML's metrics middleware count requests under `metric_path` (idempotent)."""
    from bentoml._internal.server.http.instruments import RunnerTrafficMetricsMiddleware as M

    if getattr(M.__call__, "_escrisk_bounded", False):
        return
    original = M.__call__

    async def bounded(self: Any, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        label = metric_path(path, routes)
        if scope.get("type") != "http" or label == path:
            await original(self, scope, receive, send)
            return
        app = self.app

        async def real(_labelled: Any, r: Any, s: Any) -> None:
            await app(scope, r, s)

        relabelled: Any = _Relabelled(self, real)
        await original(relabelled, {**scope, "path": label}, receive, send)

    bounded._escrisk_bounded = True  # type: ignore[attr-defined]
    M.__call__ = bounded  # type: ignore[method-assign]
