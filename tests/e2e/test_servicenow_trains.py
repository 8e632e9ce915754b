"""Issue 8: a ServiceNow export with only incidents (no usage, no churn) trains an escalation model.

The export is derived from a small simulated world: each ticket becomes an incident with one audit
row per update (opened, priority raised, first response, resolved), in ServiceNow's field names,
priority and state codes and its two usual date formats; each escalation of the world becomes a
priority raise in the audit trail, which is what the importer reads as an escalation. Then
`escrisk import servicenow`, `escrisk validate` and `escrisk train` run as a user would run them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from serving.cli import main
from training.registry import CHALLENGER, alias_version, connect, download_bundle

ROOT = Path(__file__).resolve().parents[2]
PRIORITY = {1: "1 - Critical", 2: "2 - High", 3: "3 - Moderate", 4: "4 - Low"}
STATE = {"new": "1", "open": "2", "pending": "2", "on_hold": "3", "solved": "6", "closed": "7"}
CONTACT = {"email": "email", "web": "self-service", "chat": "chat", "phone": "phone"}
ISO, US = "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %I:%M:%S %p"  # ServiceNow's default and US list formats


def _when(t: pd.Timestamp | None, us: bool) -> str:
    """Naive UTC text, as a ServiceNow list export by a user in UTC writes it."""
    if t is None or pd.isna(t):
        return ""
    return t.tz_convert("UTC").strftime(US if us else ISO)


def servicenow_export(world_tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(incident audit rows, core_company rows) carrying the world's tickets and escalations.

    An escalation raises its ticket's priority by one step at the escalation's time (unlinked ones
    raise the account's latest earlier ticket); the incident opens low enough for every raise.
    """
    accounts = world_tables["accounts"]
    tickets = world_tables["tickets"].sort_values("created_at", kind="stable")
    nth = accounts.groupby("name").cumcount()  # the simulator reuses a few names
    names = accounts["name"].where(nth == 0, accounts["name"] + " (" + (nth + 1).astype(str) + ")")
    company = dict(zip(accounts["account_id"], names, strict=True))

    raises: dict[str, list[pd.Timestamp]] = {}
    for e in world_tables["escalations"].itertuples(index=False):
        tid = e.ticket_id
        if tid is None or pd.isna(tid):
            earlier = tickets[
                (tickets["account_id"] == e.account_id) & (tickets["created_at"] < e.opened_at)
            ]
            if earlier.empty:
                continue
            tid = earlier["ticket_id"].iloc[-1]
        raises.setdefault(tid, []).append(e.opened_at)

    rows = []
    for i, t in enumerate(tickets.itertuples(index=False)):
        final = int(t.priority[1])
        times = sorted(raises.get(t.ticket_id, []))
        opened = min(final + len(times), 4)
        times = times[: opened - 1]  # priority 1 cannot be raised further
        final = opened - len(times)
        events = [t.created_at, *(max(x, t.created_at + pd.Timedelta(minutes=1)) for x in times)]
        if not pd.isna(t.first_response_at):
            events.append(t.first_response_at)
        done = None if pd.isna(t.resolved_at) else t.resolved_at
        if done is not None:
            events.append(done)
        number = f"INC{1_000_000 + i:07d}"
        us = i % 5 == 0  # every fifth incident exported with US dates: mixed formats in one file
        for at in sorted(events):
            raised = sum(x <= at for x in times)
            closed = done is not None and at >= done
            state = STATE[t.status] if closed else ("1" if at == t.created_at else "2")
            rows.append(
                {
                    "number": number,
                    "company": company[t.account_id],
                    "caller_id": f"user of {company[t.account_id]}",
                    "opened_at": _when(t.created_at, us),
                    "sys_updated_on": _when(at, us),
                    "resolved_at": _when(done, us) if closed else "",
                    "closed_at": _when(done, us) if closed and t.status == "closed" else "",
                    "priority": PRIORITY[opened - raised],
                    "impact": "2 - Medium",
                    "urgency": "2 - Medium",
                    "incident_state": state,
                    "reassignment_count": 0,
                    "reopen_count": int(t.reopen_count) if closed else 0,
                    "made_sla": "true",
                    "assignment_group": "Service Desk",
                    "contact_type": CONTACT[t.channel],
                    "short_description": t.subject,
                    "description": t.body,
                }
            )
        assert final >= 1
    companies = pd.DataFrame(
        {
            "name": names,
            "u_tier": accounts["tier"],
            "u_arr": accounts["arr"],
            "u_seats": accounts["seats"],
            "u_contract_start": accounts["contract_start"].dt.strftime("%Y-%m-%d"),
            "u_renewal_date": accounts["renewal_date"].dt.strftime("%Y-%m-%d"),
            "u_csm_owner": accounts["csm_owner"],
            "country": accounts["region"],
            "u_language": accounts["language"],
        }
    )
    return pd.DataFrame(rows), companies


@pytest.mark.slow
def test_servicenow_tickets_only_trains_an_escalation_model(
    make_world, fast_params_file, params, tmp_path, monkeypatch, capfd
):
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    settings = fast_params_file(
        tmp_path / "params.yaml", num_boost_round=60, early_stopping_rounds=10
    )

    world = make_world(60, 3, 9)
    incidents, companies = servicenow_export(world.tables)
    incidents.to_csv(tmp_path / "incident_audit.csv", index=False)
    companies.to_csv(tmp_path / "core_company.csv", index=False)
    out = tmp_path / "imported"
    argv = ["import", "servicenow", "incidents=incident_audit.csv", "companies=core_company.csv"]
    assert main([*argv, "--out", str(out), "--params", str(settings)]) == 0
    imported = capfd.readouterr().out
    assert not (out / "usage.parquet").exists() and not (out / "churn.parquet").exists()
    esc = pd.read_parquet(out / "escalations.parquet")
    assert len(esc) > 0 and (esc["kind"] == "hierarchical").all(), imported

    assert main(["validate", str(out), "--params", str(settings)]) == 0
    validated = capfd.readouterr().out
    assert "usage" in validated and "churn" in validated

    code = main(["train", str(out), "--params", str(settings)])
    captured = capfd.readouterr()
    assert code == 1, captured.err  # trained and registered, but not as challenger (no churn)
    said = captured.out + captured.err
    assert "internal error" not in said and "Traceback" not in said
    assert " INFO mlflow" not in said and "Downloading artifacts" not in said  # serving/cli.py
    # which feature families and labels are unavailable, and why
    assert "feature family left out: usage" in said
    assert "label unavailable: churn_90d" in said
    assert "escalation_30d: labelled positives" in said

    # without a churn head the model could not serve (daily and the service score both heads):
    # registered with its metrics, not as challenger, and the output says what it lacks
    client = connect(uri)
    name = params.promotion.model_name
    assert alias_version(client, name, CHALLENGER) is None
    assert "version 1, not as 'challenger'" in said and "add the missing table" in said
    bundle = download_bundle(name, "1", tmp_path / "escalation-only")
    assert set(bundle.heads) == {"escalation_30d"}
    assert not any(f.family == "usage" for f in bundle.spec.features)
