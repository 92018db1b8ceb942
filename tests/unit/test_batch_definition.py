"""The batch state machine's shape: a Distributed Map over the prefix, as docs/batch.md
explains, and `mlwf batch`'s side of it (its input, its progress, its errors)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from mlwf.batch import execute, report
from mlwf.offline.template_spec import TemplateSpec
from tests.helpers.batch_results import FakeS3, entry, results
from tests.helpers.paths import EVENTS_DIR
from training_job.errors import MlwfError

BATCH = "BatchClassificationStateMachine"


@pytest.fixture(scope="module")
def definition(template: TemplateSpec) -> dict[str, Any]:
    return json.loads(template.state_machines[BATCH].definition)


def the_map(definition: dict[str, Any]) -> dict[str, Any]:
    (state,) = [s for s in definition["States"].values() if s["Type"] == "Map"]
    return state


def test_the_map_is_distributed_with_express_children(definition):
    processor = the_map(definition)["ItemProcessor"]
    assert processor["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}


def test_the_items_are_every_object_under_the_prefix(definition):
    # https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html:
    # ListObjectsV2 through the ItemReader, with no MaxItems (no cap), paginated by AWS
    reader = the_map(definition)["ItemReader"]
    assert reader["Resource"] == "arn:aws:states:::s3:listObjectsV2"
    assert reader["Parameters"] == {"Bucket.$": "$.s3_bucket", "Prefix.$": "$.s3_prefix"}
    assert "ReaderConfig" not in reader


def test_each_child_gets_bucket_key_and_inference_id(definition):
    selector = the_map(definition)["ItemSelector"]
    assert selector == {
        "s3_bucket.$": "$.s3_bucket",
        "s3_key.$": "$$.Map.Item.Value.Key",
        "inference_id.$": "States.Format('{}-{}', $$.Execution.Name, $$.Map.Item.Index)",
    }


def test_max_concurrency_is_the_template_parameter(template, definition):
    planned = definition["States"][definition["StartAt"]]
    assert planned["Type"] == "Pass"
    value = planned["Parameters"]["max_concurrency.$"]
    expected = template.parameters["BatchMaxConcurrency"]
    assert value == f"States.StringToJson('{expected}')"
    assert the_map(definition)["MaxConcurrencyPath"] == "$.max_concurrency"


def test_results_go_to_s3_under_the_execution_name(template, definition):
    writer = the_map(definition)["ResultWriter"]
    assert writer["Resource"] == "arn:aws:states:::s3:putObject"
    prefix = template.parameters["BatchResultsPrefix"]
    assert writer["Parameters"] == {
        "Bucket": template.buckets["ImagesBucket"],
        "Prefix.$": f"States.Format('{prefix}/{{}}', $$.Execution.Name)",
    }


def test_keys_that_are_not_images_are_skipped_before_any_task(definition):
    states = the_map(definition)["ItemProcessor"]["States"]
    first = states[the_map(definition)["ItemProcessor"]["StartAt"]]
    assert first["Type"] == "Choice"
    (choice,) = first["Choices"]
    patterns = {c["StringMatches"] for c in choice["Or"]}
    assert patterns == {"*.png", "*.PNG", "*.jpg", "*.JPG", "*.jpeg", "*.JPEG"}
    assert states[choice["Next"]]["Type"] == "Task"
    skipped = states[first["Default"]]
    assert skipped["Type"] == "Pass" and skipped["Parameters"]["verdict"] == "SKIPPED"


def test_every_task_catches_into_a_verdict(definition):
    states = the_map(definition)["ItemProcessor"]["States"]
    verdicts = set()
    for name, state in states.items():
        if state["Type"] == "Task":
            assert any("States.ALL" in c["ErrorEquals"] for c in state["Catch"]), name
        if state["Type"] == "Pass":
            verdicts.add(state["Parameters"]["verdict"])
    assert verdicts == {"ACCEPTED", "LOW_CONFIDENCE", "ERROR", "SKIPPED"}
    # and a child's failure past its catches never fails the batch
    assert the_map(definition)["ToleratedFailurePercentage"] == 100


def test_the_list_images_function_and_its_cap_are_gone(template):
    assert "ListImagesFunction" not in template.functions
    assert "MAX_BATCH_IMAGES" not in json.dumps(
        {k: f.environment for k, f in template.functions.items()}
    )


# -- mlwf batch's side --------------------------------------------------------------------
class FakeSfn:
    """Step Functions as a batch execution goes: RUNNING with a Map Run, then `final`."""

    def __init__(self, counts: list[dict[str, int]], final: dict[str, Any]):
        self.counts, self.final, self.started = iter(counts), final, None
        self.polls = 0

    def start_execution(self, **kwargs: Any) -> dict[str, Any]:
        self.started = kwargs
        return {"executionArn": "arn:aws:states:r:1:execution:m:e", "startDate": datetime.now()}

    def describe_execution(self, executionArn: str) -> dict[str, Any]:  # noqa: N803
        self.polls += 1
        return {"status": "RUNNING"} if self.polls < 3 else self.final

    def list_map_runs(self, executionArn: str) -> dict[str, Any]:  # noqa: N803
        return {"mapRuns": [{"mapRunArn": "arn:mr"}]} if self.polls > 1 else {"mapRuns": []}

    def describe_map_run(self, mapRunArn: str) -> dict[str, Any]:  # noqa: N803
        return {"itemCounts": next(self.counts)}


def counts(total: int, succeeded: int, pending: int) -> dict[str, int]:
    return {"total": total, "succeeded": succeeded, "failed": 0, "pending": pending,
            "running": total - succeeded - pending, "timedOut": 0, "aborted": 0,
            "resultsWritten": 0}  # fmt: skip


SUCCEEDED = {
    "status": "SUCCEEDED",
    "output": json.dumps(
        {
            "MapRunArn": "arn:mr",
            "ResultWriterDetails": {"Bucket": "b", "Key": "r/e/1/manifest.json"},
        }
    ),
}


def test_execute_starts_with_the_batch_input_and_returns_where_the_results_are():
    sfn = FakeSfn([counts(5, 2, 3), counts(5, 5, 0)], SUCCEEDED)
    batch = execute(sfn, "arn:m", "my-bucket", "incoming/", 0.0, lambda _: None, progress=False)
    # The input has the shape of events/batch_input.json
    sent = json.loads(sfn.started["input"])
    assert set(sent) == set(json.loads((EVENTS_DIR / "batch_input.json").read_text()))
    assert sent == {"s3_bucket": "my-bucket", "s3_prefix": "incoming/"}
    assert (batch.results_bucket, batch.manifest_key) == ("b", "r/e/1/manifest.json")
    assert batch.map_run_arn == "arn:mr" and batch.item_counts["succeeded"] == 5


def test_execute_shows_progress_from_the_map_run(capsys, monkeypatch):
    from mlwf.batch import _ProgressBar

    monkeypatch.setattr(_ProgressBar, "disable", False)  # shown though stderr is captured
    sfn = FakeSfn([counts(5, 2, 3), counts(5, 5, 0)], SUCCEEDED)
    execute(sfn, "arn:m", "b", "p/", 0.0, lambda _: None, progress=True)
    err = capsys.readouterr().err
    assert "5/5" in err and "succeeded=5" in err and "pending=0" in err


def test_a_failed_batch_execution_is_a_one_line_error():
    failed = {"status": "FAILED", "error": "States.ItemReaderFailed", "cause": "NoSuchBucket"}
    sfn = FakeSfn([counts(0, 0, 0)] * 3, failed)
    with pytest.raises(MlwfError, match="batch execution FAILED: States.ItemReaderFailed"):
        execute(sfn, "arn:m", "b", "p/", 0.0, lambda _: None, progress=False)


def test_an_old_inline_batch_machine_is_named_as_the_cause():
    old = {"status": "SUCCEEDED", "output": json.dumps({"verdicts": []})}
    sfn = FakeSfn([counts(0, 0, 0)] * 3, old)
    with pytest.raises(MlwfError, match="names no result files"):
        execute(sfn, "arn:m", "b", "p/", 0.0, lambda _: None, progress=False)


def test_the_report_refuses_a_prefix_without_images(capsys):
    from mlwf.batch import BatchRun

    skipped = entry("SUCCEEDED", "a.txt", {"s3_key": "a.txt", "verdict": "SKIPPED"})
    s3 = FakeS3(results({"SUCCEEDED_0.json": [skipped]}))
    batch = BatchRun("arn:e", "SUCCEEDED", "arn:mr", "b", "r/x/manifest.json", {})
    with pytest.raises(MlwfError, match=r"no \.png/\.jpg/\.jpeg object under the prefix 'p/'"):
        report(s3, batch, "p/", None)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["batch", "--s3-prefix", "p/", "--poll", "0"], "--poll 0.0: must be a positive number"),
        (["batch"], "--s3-prefix is needed"),
        (["batch", "--parameter-overrides", "A=1"], "--parameter-overrides is for --offline"),
    ],
)
def test_a_batch_user_mistake_is_one_line(argv, message, capsys):
    from mlwf.cli import main

    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err
