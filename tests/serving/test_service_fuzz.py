"""Fuzz the service's own OpenAPI schema: whatever schemathesis sends, never a 5xx.

Runs schemathesis' case strategies under hypothesis directly (its pytest plugin's lazy fixture
does not work with this pytest version), bounded and derandomized."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("path", ["/score_features", "/account"])
def test_no_server_errors(server, auth, path):
    schema = schemathesis.openapi.from_url(f"{server['url']}/docs.json")
    ops = [r.ok() for r in schema.get_all_operations()]
    op = next(o for o in ops if o.path == path and o.method.upper() == "POST")
    failures: list[str] = []

    @given(case=op.as_strategy())
    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case) -> None:
        response = case.call(base_url=server["url"], headers=auth, timeout=60)
        if response.status_code >= 500:
            failures.append(f"{response.status_code}: {case.body!r:.300}")
        assert response.status_code < 500

    fuzz()
    assert not failures


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:3]):
            yield from _paths(v, (*prefix, i))


def test_score_mutations_never_5xx(client, auth, body_for):
    """/score's schema is beyond schemathesis' generator (UnsupportedSchema), so mutate a valid
    body instead: any one field replaced by any JSON value (NaN and infinities included)."""
    import copy
    import json

    base = body_for(["ACC-001"])
    base["accounts"][0]["tickets"] = base["accounts"][0]["tickets"][:3]
    base["accounts"][0]["usage"] = base["accounts"][0]["usage"][-5:]
    paths = [p for p in _paths(base) if p]
    failures: list[str] = []

    @given(path=st.sampled_from(paths), value=JSON)
    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(path, value) -> None:
        body = copy.deepcopy(base)
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        r = client.post(
            "/score", content=json.dumps(body), headers={**auth, "Content-Type": "application/json"}
        )
        if r.status_code >= 500:
            failures.append(f"{path}: {r.status_code}")
        assert r.status_code < 500

    fuzz()
    assert not failures
