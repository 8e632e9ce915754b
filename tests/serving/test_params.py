"""Golden params files: overlays on the repo's params.yaml that must load, or fail naming the key.

Overlays (not whole files) so that sections other engineers add to params.yaml never make these
files stale. Each file's first line states its expectation; see the header of any file.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from features.errors import UserError
from serving.params import Params, ParamsError, load_params, parse_params, read_yaml

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "data" / "params"
DELETE = "__delete__"
EXPECT = re.compile(r"^# expect: (?P<key>\S+)$|^# expect-error: (?P<text>.+)$")


def deep_merge(base: dict[str, Any], overlay: dict[str, Any], path: str = "") -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        where = f"{path}{key}"
        if value == DELETE:
            assert key in out, f"overlay deletes {where}, which params.yaml does not have"
            del out[key]
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value, f"{where}.")
        else:
            out[key] = value
    return out


def expectation(path: Path) -> tuple[str | None, str | None]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    m = EXPECT.match(first)
    assert m, (
        f"{path.name}: first line must be `# expect: valid|KEY.PATH` or `# expect-error: TEXT`"
    )
    return m.group("key"), m.group("text")


def load_overlay(path: Path) -> Params:
    base = read_yaml(ROOT / "params.yaml")
    overlay = read_yaml(path) or {}
    return parse_params(deep_merge(base, overlay), path.name)


VALID = sorted((GOLDEN / "valid").glob("*.yaml"))
INVALID = sorted((GOLDEN / "invalid").glob("*.yaml"))


def test_golden_files_exist():
    assert len(VALID) >= 3 and len(INVALID) >= 15


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_overlays_load(path):
    key, _ = expectation(path)
    assert key == "valid"
    assert isinstance(load_overlay(path), Params)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_overlays_fail_naming_the_key(path):
    key, text = expectation(path)
    assert key != "valid"
    with pytest.raises(UserError) as err:
        load_overlay(path)
    message = str(err.value)
    if key is not None:
        # The key's full path starts an error line: "  contract.sla_policy.starter: ..."
        assert re.search(rf"^  {re.escape(key)}: ", message, re.MULTILINE), message
    else:
        assert text in message, message
    assert "Traceback" not in message


def test_golden_overlays_change_what_they_say(params):
    custom = load_overlay(GOLDEN / "valid" / "custom-sla-policy.yaml")
    assert custom.contract.sla_policy["starter"]["P1"].resolution == 12
    assert custom.contract.sla_policy["business"] == params.contract.sla_policy["business"]


def test_misspelled_key_gets_a_suggestion():
    with pytest.raises(
        UserError, match=r"contract.max_futur_days: unknown key .*did you mean 'max_future_days'"
    ):
        load_overlay(GOLDEN / "invalid" / "misspelled-key.yaml")


def test_misspelled_reason_family_lists_the_families_and_suggests_one():
    with pytest.raises(UserError) as err:
        load_overlay(GOLDEN / "invalid" / "routing-misspelled-family.yaml")
    assert (
        "ladder.routing.families.tikets: unknown reason family (known: ['account', 'tickets'"
        in str(err.value)
    )
    assert "did you mean 'tickets'?" in str(err.value)


def test_every_unknown_routing_family_is_told_at_once():
    data = deep_merge(
        read_yaml(ROOT / "params.yaml"),
        {"ladder": {"routing": {"families": {"tikets": "support", "usge": "support"}}}},
    )
    with pytest.raises(ParamsError) as err:
        parse_params(data, "mine.yaml")
    told = str(err.value)
    assert "2 invalid settings" in told
    assert "ladder.routing.families.tikets: unknown reason family" in told
    assert "ladder.routing.families.usge: unknown reason family" in told


def test_a_key_added_since_an_older_params_file_says_what_this_version_sets():
    # a params.yaml kept from an older version lacks the settings added since: the error named
    # the key but not what to write, so every user had to dig it out of the new file
    base = read_yaml(ROOT / "params.yaml")
    mb = base["service"]["large_request_mb"]
    old = deep_merge(
        base, {"service": {"large_request_mb": DELETE}, "features": {"notice": DELETE}}
    )
    with pytest.raises(ParamsError) as err:
        parse_params(old, "mine.yaml")
    told = str(err.value)
    assert (
        "service.large_request_mb: required key is missing (a setting added since this file was "
        f"written?); the params.yaml of this version has large_request_mb: {mb}"
    ) in told
    assert "features.notice: required key is missing (a setting added since this file was " in told
    assert "copy it from the params.yaml of this version" in told
    assert f"die params.yaml dieser Version hat large_request_mb: {mb}" in err.value.told("de")


def test_a_missing_key_the_shipped_file_has_not_either_is_told_plainly():
    levels = read_yaml(ROOT / "params.yaml")["ladder"]["levels"]
    extra = {**levels["L3"], "entry": {"escalation_risk": 0.9, "churn_risk": 0.9}}
    del extra["owners"]
    data = deep_merge(read_yaml(ROOT / "params.yaml"), {"ladder": {"levels": {"L9": extra}}})
    with pytest.raises(ParamsError) as err:
        parse_params(data, "mine.yaml")
    assert "ladder.levels.L9.owners: required key is missing\n" in str(err.value) + "\n"


def test_routing_families_of_an_older_params_file_are_left_out():
    # params.yaml before the families were checked listed five no reason has: copied into a
    # user's own file, every command stopped at load after the upgrade
    params = load_overlay(GOLDEN / "valid" / "routing-retired-families.yaml")
    assert params.ladder.routing.families == {
        "tickets": "support",
        "sla": "support",
        "sentiment": "support",
        "usage": "product_adoption",
        "notice": "billing",
    }


@pytest.mark.parametrize(
    ("overlay", "line"),
    [
        (
            {"ladder": {"hysteresis": {"margin": True}}},
            "  ladder.hysteresis.margin: expected a number, not true/false (got true)",
        ),
        (
            {"simulation": {"tiers": {"starter": {"arr": [2000, False]}}}},
            "  simulation.tiers.starter.arr[1]: expected a number, not true/false (got false)",
        ),
        (
            {"model": {"monotone": {"tickets_p1_30d": True}}},
            "  model.monotone.tickets_p1_30d: expected one of [-1, 1], not true/false (got true)",
        ),
        ({"service": {"tracing": 0}}, "  service.tracing: expected true or false (got 0)"),
        ({"service": {"tracing": "yes"}}, "  service.tracing: expected true or false (got 'yes')"),
    ],
)
def test_true_false_and_numbers_are_not_taken_for_each_other(overlay, line):
    """pydantic's lax mode read `true` as 1 (a 1-day window, a margin of 1) and 0/1 as false/true."""
    with pytest.raises(UserError) as err:
        parse_params(deep_merge(read_yaml(ROOT / "params.yaml"), overlay))
    assert line in str(err.value).splitlines()


@pytest.mark.parametrize(
    ("key", "value", "line"),
    [
        ("ece_bins", 1_000_000_000, "  evaluation.ece_bins: must be at most 100 (got 1000000000)"),
        (
            "bootstrap_samples",
            2_000_000,
            "  evaluation.bootstrap_samples: must be at most 10000 (got 2000000)",
        ),
    ],
)
def test_evaluation_sizes_past_any_use_are_refused_at_load(key, value, line):
    """A zero too many passed the load: `escrisk train` trained both heads and then failed for
    memory (a billion ECE bins) or ran for days (two million bootstrap draws per metric)."""
    with pytest.raises(UserError) as err:
        parse_params(deep_merge(read_yaml(ROOT / "params.yaml"), {"evaluation": {key: value}}))
    assert line in str(err.value).splitlines()


def test_wrong_type_shows_the_value():
    with pytest.raises(UserError, match=r"contract.max_future_days: .*\(got 'soon'\)"):
        load_overlay(GOLDEN / "invalid" / "wrong-type-number.yaml")


def test_every_error_is_reported(tmp_path):
    base = read_yaml(ROOT / "params.yaml")
    broken = deep_merge(
        base, {"contract": {"max_future_days": -1, "tiers": []}, "extra_section": {}}
    )
    with pytest.raises(UserError) as err:
        parse_params(broken)
    message = str(err.value)
    assert "3 invalid settings" in message
    for key in ("contract.max_future_days", "contract.tiers", "extra_section"):
        assert f"  {key}: " in message


def test_repo_params_load(params):
    assert params.contract.max_date > params.contract.min_date


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(UserError, match="params file not found"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("contract: [unclosed\n")
    with pytest.raises(UserError, match="not valid YAML") as err:
        load_params(bad)
    # one line naming the file once and where, not PyYAML's four naming it twice
    assert str(err.value).startswith(f"{bad}: not valid YAML at line 2, column 1: ")
    assert "\n" not in str(err.value)
    with pytest.raises(UserError, match="a folder, not a params file"):
        load_params(tmp_path)
    top = tmp_path / "list.yaml"
    top.write_text("- a\n- b\n")
    with pytest.raises(UserError, match="expected a mapping of sections"):
        load_params(top)


@pytest.mark.parametrize("text", ["", "# every setting commented out\n"])
def test_an_empty_params_file_is_said_to_be_empty(tmp_path, text):
    """An empty file was "expected a mapping of sections", which sent users looking for a typo."""
    empty = tmp_path / "params.yaml"
    empty.write_text(text)
    with pytest.raises(UserError, match=r"params\.yaml: the file is empty .*contract, simulation"):
        load_params(empty)


def test_yaml_merge_keys_are_not_duplicates(tmp_path):
    path = tmp_path / "anchors.yaml"
    path.write_text("a: &x {k: 1, j: 2}\nb:\n  <<: *x\n  k: 3\n")
    assert read_yaml(path) == {"a": {"k": 1, "j": 2}, "b": {"k": 3, "j": 2}}


def _with(overlay: dict[str, Any]) -> Params:
    return parse_params(deep_merge(read_yaml(ROOT / "params.yaml"), overlay))


def test_alert_thresholds_follow_each_heads_lowest_ladder_entry():
    p = _with(
        {
            "evaluation": {"alert_threshold": None},
            "ladder": {"levels": {"L1": {"entry": {"escalation_risk": 0.2, "churn_risk": None}}}},
        }
    )
    levels = list(p.ladder.levels.values())
    churn_entry = next(lv.entry.churn_risk for lv in levels if lv.entry and lv.entry.churn_risk)
    assert p.evaluation.for_target("escalation_30d").alert_threshold == 0.2
    assert p.evaluation.for_target("churn_90d").alert_threshold == churn_entry != 0.2


def test_a_set_alert_threshold_judges_every_head():
    p = _with({"evaluation": {"alert_threshold": 0.3}})
    assert {
        p.evaluation.for_target(t).alert_threshold for t in ("escalation_30d", "churn_90d")
    } == {0.3}


def test_alert_threshold_null_without_a_ladder_entry_for_a_head_says_so():
    base = read_yaml(ROOT / "params.yaml")
    for level in base["ladder"]["levels"].values():
        if level.get("entry"):
            level["entry"]["churn_risk"] = None
    base["evaluation"]["alert_threshold"] = None
    with pytest.raises(UserError, match=r"evaluation.*no ladder level has an entry for churn_risk"):
        parse_params(base)


@pytest.mark.parametrize(
    "overlay, named",
    [
        ({"model": {"targets": ["escalation_30d", "churn_90dd"]}}, "model.targets: 'churn_90dd'"),
        ({"model": {"targets": ["escalation_30d"]}}, "model.targets: no churn target"),
        ({"model": {"monotone": {"csat_mean_90dd": -1}}}, "model.monotone: 'csat_mean_90dd'"),
        ({"replay": {"flag_level": "L5"}}, "replay.flag_level: 'L5'"),
        ({"daily": {"language": "fr"}}, "daily.language: 'fr'"),
        ({"ui": {"language": "fr"}}, "ui.language: 'fr'"),
        ({"notifications": {"default_language": "fr"}}, "notifications.default_language"),
        ({"promotion": {"model_name": "a/b:c@d"}}, "promotion.model_name: String should match"),
        (
            {"notifications": {"channels": {"slack": {"notifier": "webhook", "url": "not a url"}}}},
            "'not a url' is not an http(s) URL",
        ),
        (
            {"notifications": {"recipients": {"csm": ["not-an-email"]}}},
            "csm[0]: 'not-an-email' is not an email",
        ),
        ({"notifications": {"smtp": {"sender": "me"}}}, "sender: 'me' is not an email"),
    ],
)
def test_names_given_across_sections_must_exist(overlay, named):
    """A misspelled feature, label, level or language is an error at load naming the key, not
    a rule skipped silently or a failure in the middle of a job."""
    with pytest.raises(UserError) as exc:
        _with(overlay)
    assert named in str(exc.value)


def test_health_score_features_must_exist():
    raw = read_yaml(ROOT / "params.yaml")
    raw["model"]["health_score"][0]["feature"] = "tickets_300d"
    with pytest.raises(UserError, match=r"health_score\[0\].feature: 'tickets_300d'"):
        parse_params(raw)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("escalations_count", "escalations_365d"),
        ("csat_mean", "csat_mean_365d"),
        ("csat_count", "csat_count_365d"),
        ("csat_low_count", "csat_low_count_365d"),
    ],
)
def test_a_feature_renamed_since_is_told_its_new_name(old, new):
    """An older params.yaml's rules on the long-memory features (renamed with bundle format 2)
    were told the nearest spelling: `escalations_count` -> 'escalations_open' (open escalations,
    not a count over the year), `csat_mean` -> the 90-day mean, unlike README's "Upgrading"."""
    raw = read_yaml(ROOT / "params.yaml")
    raw["model"]["health_score"][0]["feature"] = old
    raw["ladder"]["rules"][0]["when"] = [{"feature": old, "op": ">=", "value": 1}]
    with pytest.raises(UserError) as exc:
        parse_params(raw)
    told = str(exc.value)
    assert f"health_score[0].feature: {old!r} is not a feature; did you mean {new!r}?" in told
    assert f"rules[0].when[0].feature: unknown feature {old!r}" in told
    assert told.count(f"did you mean {new!r}? ({old!r} was renamed") == 2
    # with another long memory, its own window
    raw["features"]["long_window_days"] = 400
    with pytest.raises(UserError, match=new.replace("365", "400")):
        parse_params(raw)


def test_an_owner_without_an_address_is_named():
    raw = read_yaml(ROOT / "params.yaml")
    del raw["notifications"]["recipients"]["exec_sponsor"]
    with pytest.raises(UserError, match="notifications.recipients.exec_sponsor"):
        parse_params(raw)


def test_an_impossible_date_names_its_line(tmp_path):
    path = tmp_path / "p.yaml"
    text = (ROOT / "params.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("min_date: 1990-01-01", "min_date: 1990-13-45"), encoding="utf-8")
    with pytest.raises(UserError, match=r"line 12: '1990-13-45' is not a valid date"):
        load_params(path)


def test_a_bad_condition_is_one_error_not_also_an_empty_list():
    """pydantic also calls the list "too short" once its one bad item is left out."""
    raw = read_yaml(ROOT / "params.yaml")
    raw["ladder"]["rules"][0]["when"] = [{"fact": "open_p0", "op": ">=", "value": 1}]
    with pytest.raises(UserError) as err:
        parse_params(raw)
    assert "1 invalid setting\n" in str(err.value) and "at least 1 item" not in str(err.value)
    assert "ladder.rules[0].when[0].fact: unknown fact 'open_p0'" in str(err.value)
    raw["ladder"]["rules"][0]["when"] = []  # truly empty: still said
    with pytest.raises(UserError, match=r"ladder\.rules\[0\]\.when: .*at least 1 item"):
        parse_params(raw)


def test_errors_are_told_in_german_frame_and_common_kinds():
    """Every params error was English under --lang de: the frame and the common rule kinds are
    now told from serving.params_text; a rule of one setting alone keeps its English text."""
    base = read_yaml(ROOT / "params.yaml")
    broken = deep_merge(
        base, {"contract": {"max_future_days": -1, "max_futur_days": 1}, "labels": None}
    )
    with pytest.raises(UserError) as err:
        parse_params(broken)
    german = err.value.told("de")
    assert german.startswith("params.yaml: ")
    assert "contract.max_future_days: muss mindestens 0 sein (angegeben: -1)" in german
    assert "meinten Sie 'max_future_days'?" in german
    assert "labels: erwartet wird eine Zuordnung von Einstellungen (angegeben: null)" in german
    assert "must be" not in german and "unknown key" not in german


@pytest.mark.parametrize(
    ("text", "en", "de"),
    [
        ("a:\n\tb: 1\n", "line 2, column 1: a tab character", "Zeile 2, Spalte 1: ein Tabulator"),
        ("a: [1,\nb: 2\n", "not valid YAML at line 3, column 1: ", "kein gültiges YAML in Zeile 3"),
        ("a: 1\nb: 2\na: 3\n", "line 3: a is given a second time (first at line 1)",
         "Zeile 3: a wird ein zweites Mal angegeben (zuerst in Zeile 1)"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_yaml_is_one_line_in_either_language(tmp_path, text, en, de):
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as err:
        load_params(path)
    assert en in err.value.told("en") and "\n" not in err.value.told("en")
    assert de in err.value.told("de") and "\n" not in err.value.told("de")


def test_each_cross_section_problem_is_a_line_of_its_own():
    """Two problems across sections were one line joined by '; ', counted as 1 invalid setting."""
    raw = read_yaml(ROOT / "params.yaml")
    raw["replay"]["flag_level"] = "L9"
    raw["ui"]["language"] = "fr"
    with pytest.raises(UserError) as err:
        parse_params(raw)
    lines = str(err.value).splitlines()
    assert lines[0] == "params.yaml: 2 invalid settings"
    assert lines[1].startswith("  replay.flag_level: 'L9' is not a ladder level")
    assert lines[2] == "  ui.language: 'fr' is not one of ['en', 'de']"


def test_a_setting_left_empty_is_said_to_be_null():
    raw = read_yaml(ROOT / "params.yaml")
    raw["contract"]["max_future_days"] = None
    with pytest.raises(UserError, match=r"max_future_days: expected a whole number \(got null\)"):
        parse_params(raw)


def test_the_params_texts_have_every_key_in_both_languages_with_the_same_values():
    from string import Formatter

    from serving.params_text import CATALOG

    def names(template: str) -> set[str]:
        return {f for _, f, _, _ in Formatter().parse(template) if f}

    assert set(CATALOG["de"]) == set(CATALOG["en"])
    for key, template in CATALOG["en"].items():
        assert names(CATALOG["de"][key]) == names(template), key


def test_true_false_for_a_number_is_told_in_german_too():
    """The true/false mix-ups, the commonest wrong type (yes/no are true/false in YAML), stayed
    English under --lang de."""
    raw = read_yaml(ROOT / "params.yaml")
    raw["contract"]["max_future_days"] = True
    raw["features"]["windows_days"] = [7, False]
    raw["simulation"]["existing_share"] = 10**400  # a value this long is cut
    with pytest.raises(UserError) as err:
        parse_params(raw)
    german = err.value.told("de")
    assert (
        "contract.max_future_days: erwartet wird eine ganze Zahl, nicht true/false "
        "(angegeben: true)" in german
    )
    assert "features.windows_days[1]: erwartet wird eine ganze Zahl, nicht true/false" in german
    assert "(angegeben: false)" in german
    assert f"(angegeben: {'1' + '0' * 56}...)" in german


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("a:\n  b: 1\n  c: 2\n  b: 3\n", "line 4: a.b is given a second time (first at line 2)"),
        ("a:\n  - {x: 1, x: 2}\n", "line 2: a[0].x is given a second time (first at line 2)"),
        ("d: &d {k: 1}\na: *d\nb:\n  <<: *d\n  k: 2\n  k: 3\n",
         "line 6: b.k is given a second time (first at line 5)"),
    ],
)  # fmt: skip
def test_a_key_given_twice_is_named_by_its_path_and_both_lines(tmp_path, text, said):
    """The error named only the key ('max_future_days'), not under which section it stood."""
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as err:
        read_yaml(path)
    assert str(err.value) == f"{path}: {said}; give it once"


@pytest.mark.parametrize(
    ("data", "en", "de"),
    [
        ("a: 1\nb: Grüße\n".encode("latin-1"),
         "line 2: not UTF-8 text (byte 0xfc); save the file as UTF-8",
         "Zeile 2: kein UTF-8-Text (Byte 0xfc); die Datei als UTF-8 speichern"),
        (b"a: 1\n\nb: \x01\n", "line 3: a control character (#x0001) YAML does not allow",
         "Zeile 3: ein Steuerzeichen (#x0001), das YAML nicht erlaubt"),
    ],
)  # fmt: skip
def test_a_file_that_is_no_text_names_its_line(tmp_path, data, en, de):
    """A file saved as ANSI was "cannot read the params file ('utf-8' codec can't decode byte
    0xfc in position 10: invalid start byte)", and a control character PyYAML's position."""
    path = tmp_path / "params.yaml"
    path.write_bytes(data)
    with pytest.raises(UserError) as err:
        read_yaml(path)
    assert err.value.told("en") == f"{path}: {en}"
    assert err.value.told("de") == f"{path}: {de}"


def test_a_file_saved_as_utf16_with_a_bom_loads(tmp_path):
    """Notepad's "Unicode" saves UTF-16: YAML reads it by its byte order mark."""
    path = tmp_path / "params.yaml"
    path.write_text((ROOT / "params.yaml").read_text(encoding="utf-8"), encoding="utf-16")
    assert load_params(path).contract.min_date.year == 1990


@pytest.mark.parametrize(
    ("section", "key", "value", "line"),
    [
        ("usage", "short_days", 9999,
         "  features.usage.short_days: must be shorter than usage.long_days"),
        ("tickets", "by_priority_windows", [3],
         "  features.tickets.by_priority_windows: [3] are not in windows_days"),
        ("notice", "phrases", ["ok", " * "],
         "  features.notice.phrases[1]: ' * ' is blank (a blank phrase matches every ticket)"),
    ],
)  # fmt: skip
def test_a_rule_across_feature_settings_names_the_key_it_is_about(section, key, value, line):
    """These were told under 'features: ...' (or 'features.notice'), the key inside the text."""
    raw = read_yaml(ROOT / "params.yaml")
    raw["features"][section][key] = value
    with pytest.raises(UserError) as err:
        parse_params(raw)
    assert line in str(err.value).splitlines()


def test_a_bad_condition_names_its_key_and_quotes_the_value_once():
    raw = read_yaml(ROOT / "params.yaml")
    raw["ladder"]["rules"][0]["when"][0]["op"] = "=>"
    raw["importers"]["naive_time_zone"] = "Berlin"
    with pytest.raises(UserError) as err:
        parse_params(raw)
    lines = str(err.value).splitlines()
    assert any(x.startswith("  ladder.rules[0].when[0].op: unknown operator '=>'") for x in lines)
    assert (
        "  importers.naive_time_zone: unknown time zone 'Berlin' (use an IANA name such as UTC "
        "or Europe/Berlin)" in lines
    )


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (("split", "validation_end", None),
         "  split.validation_end: give both train_end and validation_end, or neither"),
        (("split", "test_share", 0.75),
         "  split.test_share: validation_share + test_share must leave most positives for "
         "training (together below 0.9)"),
        (("simulation.tiers.starter", "arr", [10, 5]),
         "  simulation.tiers.starter.arr: must be [low, high] with 0 < low <= high"),
    ],
)  # fmt: skip
def test_a_rule_across_training_settings_names_the_key_it_is_about(change, line):
    """These were told under 'split: ...' or 'simulation.tiers.starter: ...' alone."""
    raw = read_yaml(ROOT / "params.yaml")
    where, key, value = change
    section = raw
    for part in where.split("."):
        section = section[part]
    if key == "validation_end":
        section["train_end"] = "2025-01-01"
    section[key] = value
    with pytest.raises(UserError) as err:
        parse_params(raw)
    assert line in str(err.value).splitlines(), str(err.value)


def test_a_ladder_rule_across_settings_names_the_key_it_is_about():
    """These were told under 'ladder.priority: priority.matrix.low has no priority...' and
    'ladder: hysteresis.margin 0.9: not below ...'."""
    raw = read_yaml(ROOT / "params.yaml")
    raw["ladder"]["priority"]["matrix"]["low"] = {"high": "P3", "medium": "P4"}
    with pytest.raises(UserError) as err:
        parse_params(raw)
    assert (
        "  ladder.priority.matrix.low: no priority for urgency ['low']"
        in str(err.value).splitlines()
    )
    raw = read_yaml(ROOT / "params.yaml")
    raw["ladder"]["hysteresis"]["margin"] = 0.9
    with pytest.raises(UserError) as err:
        parse_params(raw)
    lines = str(err.value).splitlines()
    assert any(x.startswith("  ladder.hysteresis.margin: 0.9 is not below levels.") for x in lines)


def test_shares_that_add_up_to_the_limit_are_refused_despite_float_rounding():
    """0.2 + 0.7 is 0.8999999999999999 in floats and passed the 'below 0.9' rule."""
    raw = read_yaml(ROOT / "params.yaml")
    raw["split"]["validation_share"], raw["split"]["test_share"] = 0.2, 0.7
    with pytest.raises(UserError, match=r"split\.test_share: validation_share \+ test_share"):
        parse_params(raw)


def test_names_the_audit_store_keeps_fit_its_columns():
    """A level name, a priority, a team or an outcome longer than its column in the audit store
    loaded, and PostgreSQL refused it in the middle of `escrisk daily`, after the scoring."""
    base = read_yaml(ROOT / "params.yaml")
    levels = base["ladder"]["levels"]
    long_name = "L3_" + "x" * 62
    base["ladder"]["levels"] = {(long_name if k == "L3" else k): v for k, v in levels.items()}
    with pytest.raises(UserError) as err:
        parse_params(base)
    assert f"  ladder.levels.{long_name}: a level name is stored in at most 64 characters" in (
        str(err.value)
    )
    with pytest.raises(ParamsError) as told:
        _with({"ladder": {"priority": {"matrix": {"low": {"low": "P4 (when time allows)"}}}}})
    assert told.value.told("de").splitlines()[1] == (
        "  ladder.priority.matrix.low.low: nimmt höchstens 16 Zeichen "
        "(angegeben: 'P4 (when time allows)')"
    )


@pytest.mark.parametrize(
    ("section", "key", "documented"),
    [
        ("daily", "keep_days", 400),
        ("notifications.retry", "max_age_hours", 48),
        ("features.sentiment", "cache_dir", ".escrisk-cache"),
    ],
)
def test_an_omitted_optional_setting_takes_its_documented_default(section, key, documented):
    """README and docs/ladder.md give these defaults; omitting the key gave null (keep every day,
    send however late, no score cache) instead."""
    data = read_yaml(ROOT / "params.yaml")
    node = data
    for part in section.split("."):
        node = node[part]
    del node[key]
    value: Any = parse_params(data)
    for part in [*section.split("."), key]:
        value = getattr(value, part)
    assert value == documented


def test_key_paths_write_a_list_item_one_way():
    """pydantic's own errors said `ladder.rules.0.when.0` while the cross-checks said
    `rules[0].when[0]`; every path now writes a list's item as [i] and a mapping's key as .key."""
    raw = read_yaml(ROOT / "params.yaml")
    overlay = {
        "features": {"windows_days": [7, "x", 90]},
        "ladder": {"rules": [{**raw["ladder"]["rules"][0], "min_level": "L9"}]},
        "simulation": {"churn": {"contract_months": {12: -1, 24: 0.15, 36: 0.05}}},
    }
    overlay["ladder"]["rules"][0]["when"] = [{"fact": "open_p1", "op": ">=", "value": "x"}]
    with pytest.raises(UserError) as err:
        parse_params(deep_merge(raw, overlay))
    lines = str(err.value).splitlines()
    assert any(x.startswith("  features.windows_days[1]: ") for x in lines), lines
    assert any(x.startswith("  ladder.rules[0].when[0].value: ") for x in lines), lines
    assert any(x.startswith("  simulation.churn.contract_months.12: ") for x in lines), lines
    assert not any(re.search(r"\.\d+\.|\.\d+:", x) and "contract_months" not in x for x in lines)
