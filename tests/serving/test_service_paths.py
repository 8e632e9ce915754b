"""The service's two ways of running a call: small calls on the event loop, larger ones in a worker
thread (params.yaml service.inline_accounts, inline_rows). Both must give the same answers."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def test_threaded_call_answers_as_inline_calls(client, auth, body_for, world, params):
    day = pd.Timestamp.now(tz="UTC").date().isoformat()
    n = params.service.inline_accounts + 1  # one more than runs inline: a worker thread
    alone: dict[str, dict] = {}
    for aid in sorted(world["accounts"]["account_id"]):
        r = client.post("/score", json=body_for([aid], day), headers=auth)
        if r.status_code == 200:  # 422: not active on that day
            alone[aid] = r.json()["scores"][0]
        if len(alone) == n:
            break
    assert len(alone) == n
    r = client.post("/score", json=body_for(list(alone), day), headers=auth)
    assert r.status_code == 200, r.text
    together = {s["account_id"]: s for s in r.json()["scores"]}
    assert together.keys() == alone.keys()
    for aid, s in together.items():
        assert s["escalation_risk"] == alone[aid]["escalation_risk"]
        assert s["churn_risk"] == alone[aid]["churn_risk"]
        assert s["level"] == alone[aid]["level"]
        assert s["reasons"] == alone[aid]["reasons"]


def test_a_few_accounts_with_long_histories_leave_the_event_loop(params):
    """A call blocks its worker's health checks while it runs inline: rows count, not accounts."""
    s = params.service
    assert s.runs_inline(1, 100)
    assert s.runs_inline(s.inline_accounts, s.inline_rows)
    assert not s.runs_inline(s.inline_accounts + 1, 10)
    assert not s.runs_inline(2, s.inline_rows + 1)
