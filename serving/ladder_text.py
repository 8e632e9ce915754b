"""The message catalog of the ladder: notification and command texts in English and German.

Level titles and playbook actions are configured (translated) in params.yaml; the fixed texts
live here. To add a language, add a mapping with the same keys; a missing key falls back to
English.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from serving.daily_text import time_text, told

if TYPE_CHECKING:
    from serving.params import LadderParams

CATALOG: Mapping[str, Mapping[str, str]] = {
    "en": {
        "subject_up": "[{priority}] {who}: escalated to {level} ({title})",
        "subject_down": "{who}: de-escalated to {level} ({title})",
        "line_account": "Account: {who}",
        "line_csm": "CSM: {csm}",
        "head_escalation": "escalation",
        "head_churn": "churn",
        "line_level": "Level: {old} -> {level} ({title})",
        "line_why": "Why: {why}",
        "line_risk": "Escalation risk {escalation_risk:.0%}, churn risk {churn_risk:.0%}",
        "line_reasons": "Top reasons:",
        "line_owner": "Owner: {owners} (team: {team}, priority {priority})",
        "line_due": "Acknowledge by: {due}",
        "line_no_due": "Acknowledge by: no response target at this level",
        "line_handled": "Acknowledge by: nothing to acknowledge, this escalation was already "
        "acknowledged or resolved",
        "line_actions": "Playbook:",
        "line_footer": "Acknowledge with: escrisk ack {account}",
        "none": "none",
        "escalated_by_risk": "calibrated risk reached the level's entry threshold",
        "escalated_by_rule": "hard rule '{rule}' applies",
        "escalated_by_timeout": "the previous level was not acknowledged by {previous_due_at}",
        "deescalated_after_cooldown": "risk stayed below the entry threshold minus {margin} for {days:g} [day|days]",
        "held_by_hysteresis": "risk is below the entry threshold but within the margin",
        "cooling_down": "risk is below the entry threshold minus the margin; cooling down",
        "unchanged": "no change",
        # the ladder's rules against the loaded model (serving.ladder.LadderMismatch)
        "mismatch": "ladder settings do not match the model:",
        "mismatch_line": "{where}: unknown feature {feature!r} in {whose} (not in the model's "
        "feature spec)",
        "mismatch_rule": "rule {name!r}",
        "mismatch_class": "{axis} class {name!r}",
        "mismatch_close": "; did you mean {close!r}?",
    },
    "de": {
        "subject_up": "[{priority}] {who}: eskaliert auf {level} ({title})",
        "subject_down": "{who}: zurückgestuft auf {level} ({title})",
        "line_account": "Account: {who}",
        "line_csm": "CSM: {csm}",
        "head_escalation": "Eskalation",
        "head_churn": "Abwanderung",
        "line_level": "Stufe: {old} -> {level} ({title})",
        "line_why": "Grund: {why}",
        "line_risk": "Eskalationsrisiko {escalation_risk:.0%}, Abwanderungsrisiko {churn_risk:.0%}",
        "line_reasons": "Wichtigste Gründe:",
        "line_owner": "Verantwortlich: {owners} (Team: {team}, Priorität {priority})",
        "line_due": "Bestätigen bis: {due}",
        "line_no_due": "Bestätigen bis: auf dieser Stufe keine Reaktionszeit",
        "line_handled": "Bestätigen bis: nichts zu bestätigen, diese Eskalation wurde bereits "
        "bestätigt oder gelöst",
        "line_actions": "Playbook:",
        "line_footer": "Bestätigen mit: escrisk ack {account}",
        "none": "keine",
        "escalated_by_risk": "das kalibrierte Risiko hat die Eintrittsschwelle der Stufe erreicht",
        "escalated_by_rule": "feste Regel '{rule}' greift",
        "escalated_by_timeout": "die vorige Stufe wurde nicht bis {previous_due_at} bestätigt",
        "deescalated_after_cooldown": "das Risiko lag {days:g} [Tag|Tage] unter der Eintrittsschwelle minus {margin}",
        "held_by_hysteresis": "das Risiko liegt unter der Eintrittsschwelle, aber innerhalb der Marge",
        "cooling_down": "das Risiko liegt unter der Schwelle minus Marge; Abkühlphase läuft",
        "unchanged": "keine Änderung",
        "mismatch": "die Stufen-Einstellungen (ladder) passen nicht zum Modell:",
        "mismatch_line": "{where}: unbekanntes Merkmal {feature!r} in {whose} (nicht in der "
        "Merkmalsliste des Modells)",
        "mismatch_rule": "Regel {name!r}",
        "mismatch_class": "{axis}-Klasse {name!r}",
        "mismatch_close": "; meinten Sie {close!r}?",
    },
}


def text(key: str, language: str, **values: Any) -> str:
    """The ladder catalog's entry for `key` (`serving.daily_text.told`)."""
    return told(CATALOG, key, language, values)


def level_classes(levels: Sequence[str]) -> dict[str, str]:
    """The CSS class of each ladder level by its rank ("lv0" ... "lv3", the higher ones as the
    highest), so that levels named anything (watch, amber, red) get the colours L0-L3 have."""
    return {name: f"lv{min(i, 3)}" for i, name in enumerate(levels)}


def pick(translations: Mapping[str, str], language: str) -> str:
    """A configured translated text (level title, action) in `language`, else English."""
    return translations.get(language) or translations["en"]


def next_action(ladder: LadderParams, level: str, language: str) -> str:
    """What to do next at `level`: the first action of its playbook (params.yaml ladder), in
    `language`; "" for a level without one, or one the ladder no longer has."""
    found = ladder.levels.get(level)
    if found is None or not found.actions:
        return ""
    return pick(ladder.actions[found.actions[0]], language)


def titled(params: Mapping[str, Any], ladder: LadderParams, language: str) -> dict[str, Any]:
    """A decision's stored reason values as people read them: the hard rule (`rule`) by its
    title, the missed due time (`previous_due_at`, stored as ISO text) in the ladder's time
    zone as `language` writes it."""
    out = dict(params)
    if isinstance(out.get("rule"), str):
        out["rule"] = rule_title(ladder, out["rule"], language)
    if isinstance(out.get("previous_due_at"), str):
        due = dt.datetime.fromisoformat(out["previous_due_at"])
        out["previous_due_at"] = local_time(due, ladder, language)
    return out


def local_time(moment: dt.datetime, ladder: LadderParams, language: str) -> str:
    """A moment in the ladder's business time zone, as `language` writes it:
    "2026-06-30 15:00 Europe/Berlin", "30.06.2026 15:00 Europe/Berlin" (see `zone_time`)."""
    return zone_time(moment, ladder.business_calendar.time_zone, language)


def zone_time(moment: dt.datetime, zone: str, language: str, named: bool = True) -> str:
    """A moment in time zone `zone`, as `language` writes it, the zone `named` after it (not in
    a table whose heading names it). A wall time the zone shows twice (02:30 on the night clocks
    go back) carries its offset, "(UTC+01:00)": without it a due time could be read an hour
    early or late."""
    local = moment.astimezone(ZoneInfo(zone))
    shown = time_text(local, language) + (f" {zone}" if named else "")
    offset = local.utcoffset()
    if offset is None or local.replace(fold=1 - local.fold).utcoffset() == offset:
        return shown
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{shown} (UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"


def rule_title(ladder: LadderParams, name: str, language: str) -> str:
    """A hard rule for people: its configured title in `language`, else its name with spaces
    (a rule params.yaml no longer has keeps its name)."""
    for r in ladder.rules:
        if r.name == name and r.title is not None:
            return pick(r.title, language)
    return name.replace("_", " ")
