"""The SAM transform's results kept on disk (mlwf.offline.sam_transform): the same template
and values are translated once, anything else anew, a refusal is never kept, and the
cache's folder holds at most its newest KEPT transforms and never loses a file it did not
write."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mlwf.offline import sam_transform

SAM = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Transform": "AWS::Serverless-2016-10-31",
    "Resources": {
        "Worker": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "CodeUri": "s3://bucket/worker.zip",
                "Handler": "app.handler",
                "Runtime": "python3.13",
            },
        }
    },
}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLWF_CACHE_DIR", str(tmp_path))
    return tmp_path / "sam-transform"


@pytest.fixture
def translations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stack names the translator itself was run for."""
    ran: list[str] = []
    translate = sam_transform._translate

    def counted(sam, values, region, path):
        ran.append(values["AWS::StackName"])
        return translate(sam, values, region, path)

    monkeypatch.setattr(sam_transform, "_translate", counted)
    return ran


def translate(sam: dict | None = None, stack_name: str = "s", **parameters: str) -> dict:
    return sam_transform.translate(
        json.loads(json.dumps(sam or SAM)), parameters, "us-east-1", stack_name, Path("t.yaml")
    )


def test_the_same_template_and_values_are_translated_once(cache: Path, translations: list):
    first = translate()
    again = translate()
    assert again == first
    assert first["Resources"]["Worker"]["Type"] == "AWS::Lambda::Function"
    assert translations == ["s"]
    assert len(list(cache.glob("*.json"))) == 1


def test_another_template_or_value_is_translated_anew(cache: Path, translations: list):
    translate()
    edited = json.loads(json.dumps(SAM))
    edited["Resources"]["Worker"]["Properties"]["Timeout"] = 9
    translate(edited)
    translate(stack_name="other")
    translate(Stage="prod")
    assert translations == ["s", "s", "other", "s"]
    assert translate(edited)["Resources"]["Worker"]["Properties"]["Timeout"] == 9


def test_a_refusal_is_never_kept(cache: Path, translations: list):
    from training_job.errors import MlwfError

    broken = json.loads(json.dumps(SAM))
    broken["Resources"]["Worker"]["Properties"]["Events"] = 3
    for _ in range(2):
        with pytest.raises(MlwfError, match="SAM transform refuses it"):
            translate(broken)
    assert translations == ["s", "s"]
    assert not cache.exists() or not list(cache.iterdir())


def test_an_unreadable_kept_transform_is_translated_again(cache: Path, translations: list):
    translate()
    (kept,) = cache.glob("*.json")
    kept.write_text("{half a file")
    assert translate()["Resources"]["Worker"]["Type"] == "AWS::Lambda::Function"
    assert translations == ["s", "s"]


def test_a_cache_that_cannot_be_written_only_costs_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, translations: list
):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("MLWF_CACHE_DIR", str(blocked))
    assert translate() == translate()
    assert translations == ["s", "s"]


def test_only_the_newest_kept_transforms_stay_and_nothing_else_is_touched(
    cache: Path, monkeypatch: pytest.MonkeyPatch
):
    # Given a limit of two, and a user's file in the folder
    monkeypatch.setattr(sam_transform, "KEPT", 2)
    cache.mkdir(parents=True)
    mine = cache / "notes.json"
    mine.write_text("{}")
    os.utime(mine, (1, 1))  # older than any transform
    # When three transforms are made, one after another (each aged by hand: the
    # filesystem's clock may be too coarse to tell them apart)
    made = []
    for age, name in ((100, "a"), (200, "b"), (None, "c")):
        before = set(cache.glob("*.json"))
        translate(stack_name=name)
        (new,) = set(cache.glob("*.json")) - before
        made.append(new)
        if age is not None:
            os.utime(new, (age, age))
    # Then the oldest transform went, the two newest stay, and so does the user's file
    assert [path.exists() for path in made] == [False, True, True]
    assert mine.read_text() == "{}"


def test_reading_a_kept_transform_makes_it_the_newest(cache: Path):
    translate()
    (kept,) = cache.glob("*.json")
    os.utime(kept, (100, 100))
    translate()
    assert kept.stat().st_mtime > 100
