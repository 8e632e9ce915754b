"""A champion an older release saved in a bundle format this version does not read: refused
naming the version and what to do, and replaced by `escrisk promote` without a comparison."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from features.errors import UserError
from serving.model import read_champion
from training.bundle import SCHEMA_VERSION, UnsupportedBundle, load_bundle


def old_bundle(tmp_path):
    (tmp_path / "bundle.json").write_text(
        json.dumps({"schema_version": SCHEMA_VERSION - 1, "targets": [], "features": []})
    )
    return tmp_path


def test_an_older_bundle_format_says_to_train_and_promote(tmp_path):
    with pytest.raises(UnsupportedBundle) as err:
        load_bundle(old_bundle(tmp_path))
    assert err.value.found == SCHEMA_VERSION - 1
    assert "escrisk train SOURCE && escrisk promote SOURCE" in str(err.value)


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "the champion, model escalation-risk version 3, was saved by an older release"),
        ("de", "der Champion, Modell escalation-risk Version 3, wurde von einer älteren Version"),
    ],
)
def test_the_champion_in_an_older_format_is_refused_naming_its_version(tmp_path, language, said):
    # the refusal named a temporary download folder and said "retrain or upgrade"; a retrained
    # version is only a challenger, and promote could not replace the old one (next test)
    with pytest.raises(UserError) as err:
        read_champion(old_bundle(tmp_path), "escalation-risk", "3", language)
    assert said in str(err.value)
    assert str(tmp_path) not in str(err.value)


@pytest.mark.slow
def test_promote_replaces_a_champion_in_an_older_format(trained, tmp_path, monkeypatch):
    # promote scored the champion first: its bundle raised, with or without --force, so a
    # store whose champion an older release wrote could get no champion at all
    import training.promotion_job as job
    from features.contract import validated
    from serving.params import load_params
    from training.registry import CHALLENGER, connect

    db = tmp_path / "mlflow.db"
    shutil.copyfile(trained.tracking_uri.removeprefix("sqlite:///"), db)
    client = connect(f"sqlite:///{db}")
    v1 = client.get_model_version_by_alias("escalation-risk", "champion")
    v2 = client.create_model_version("escalation-risk", v1.source, run_id=v1.run_id)
    client.set_registered_model_alias("escalation-risk", CHALLENGER, v2.version)
    download = job.download_bundle

    def older_champion(name, version):
        if str(version) == str(v1.version):
            raise UnsupportedBundle(SCHEMA_VERSION - 1)
        return download(name, version)

    monkeypatch.setattr(job, "download_bundle", older_champion)
    params = load_params(trained.params_file)
    now = pd.Timestamp.now(tz="UTC")
    result = job.promote(client, validated(trained.tables, params.contract, now), params, now=now)
    assert result.decision.promote
    assert f"champion v{v1.version} replaced without comparison" in result.decision.reason
    assert client.get_model_version_by_alias("escalation-risk", "champion").version == v2.version
    connect(trained.tracking_uri)  # the process's MLflow URIs back on the suite's store
