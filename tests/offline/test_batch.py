"""The batch state machine offline, with the real handlers and the local model: a prefix of
more than one ListObjectsV2 page, images, keys that are not images and broken images mixed
in, and the verdicts read back from the ResultWriter's files as AWS documents them
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from mlwf.batch import BATCH_MACHINE, BatchRun, execute
from mlwf.batch_results import iter_verdicts
from mlwf.offline.runtime import OfflineStack
from mlwf.offline.workflow import Deployment, deploy_model, split_inputs
from tests.helpers.paths import EVENTS_DIR

pytestmark = pytest.mark.offline

PREFIX = "batch-big/"
# A full first page of keys that are not images: the images all sort after them, on page 2.
NOT_IMAGES = [f"{PREFIX}a-notes-{i:04d}.txt" for i in range(1000)]
FOLDER_MARKER = f"{PREFIX}b-folder/"  # what the S3 console writes for a folder
BROKEN = {f"{PREFIX}z-broken.png": b"not an image", f"{PREFIX}z-empty.jpg": b""}
BROKEN_ERRORS = {
    f"{PREFIX}z-broken.png": "UnsupportedImageFormat",
    f"{PREFIX}z-empty.jpg": "EmptyImage",
}


# Below the default (10): fewer environments cold-start at once on a shared machine, and
# the Map Run's counts show the parameter reaching the definition.
MAX_CONCURRENCY = 4


@pytest.fixture(scope="module")
def offline() -> Iterator[tuple[OfflineStack, Deployment]]:
    overrides = {"BatchMaxConcurrency": str(MAX_CONCURRENCY)}
    with OfflineStack.start(parameter_overrides=overrides, say=lambda _: None) as stack:
        deployment = deploy_model(stack, "synthetic", count=40, test_count=12, say=lambda _: None)
        yield stack, deployment


@pytest.fixture(scope="module")
def images(offline) -> dict[str, bytes]:
    """The test split's images under the batch prefix, named to sort after every note."""
    stack, deployment = offline
    bucket = stack.bucket_name()
    copied = {}
    for item in split_inputs(stack, deployment.settings, "test"):
        body = stack.s3.get_object(Bucket=bucket, Key=item.s3_key)["Body"].read()
        copied[f"{PREFIX}y-{item.s3_key.rsplit('/', 1)[-1]}"] = body
    for key, body in {**copied, **BROKEN}.items():
        stack.s3.put_object(Bucket=bucket, Key=key, Body=body)
    stack.s3.put_object(Bucket=bucket, Key=FOLDER_MARKER, Body=b"")
    # Straight into moto's S3: a thousand PutObject calls through botocore take ~30 s on a
    # shared machine, and what is tested is the listing of them, not their upload.
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    from mlwf.offline.template_spec import ACCOUNT_ID

    backend = s3_backends[ACCOUNT_ID][get_partition(stack.spec.region)]
    for key in NOT_IMAGES:
        backend.put_object(bucket, key, b"n")
    return copied


@pytest.fixture(scope="module")
def big_run(offline, images) -> tuple[BatchRun, list[dict[str, Any]]]:
    """One batch over the prefix, with the Map Run's counts read at each progress poll."""
    stack, _ = offline
    seen: list[dict[str, Any]] = []
    sfn = stack.sfn

    def poll(timeout: float) -> None:
        runs = sfn.list_map_runs(executionArn=started[0])["mapRuns"]
        if runs:
            seen.append(sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])["itemCounts"])
        stack.wait_for_executions(timeout)

    started: list[str] = []
    real_start = sfn.start_execution

    def start_execution(**kwargs: Any) -> Any:
        answer = real_start(**kwargs)
        started.append(answer["executionArn"])
        return answer

    sfn.start_execution = start_execution  # type: ignore[method-assign]
    batch = execute(
        sfn, stack.state_machine_arn(BATCH_MACHINE), stack.bucket_name(), PREFIX, 0.2, poll, False
    )
    return batch, seen


def all_keys(images: dict[str, bytes]) -> set[str]:
    return {*images, *BROKEN, *NOT_IMAGES, FOLDER_MARKER}


def test_every_key_of_every_page_gets_one_verdict(offline, images, big_run):
    stack, _ = offline
    batch, _ = big_run
    verdicts = list(iter_verdicts(stack.s3, batch.results_bucket, batch.manifest_key))

    # Every key under the prefix, from both pages, exactly once
    assert len(verdicts) == len(all_keys(images)) > 1000
    assert {v.s3_key for v in verdicts} == all_keys(images)
    by_key = {v.s3_key: v for v in verdicts}
    # Keys that are not images are skipped (no invocation), images are decided, broken
    # images carry their named error
    for key in [*NOT_IMAGES, FOLDER_MARKER]:
        assert (by_key[key].verdict, by_key[key].error) == ("SKIPPED", "NotAnImage")
    threshold = float(stack.spec.parameters["ConfidenceThreshold"])
    for key in images:
        verdict = by_key[key]
        assert verdict.verdict in ("ACCEPTED", "LOW_CONFIDENCE"), verdict
        assert (verdict.confidence >= threshold) == (verdict.verdict == "ACCEPTED")
    for key, error in BROKEN_ERRORS.items():
        assert (by_key[key].verdict, by_key[key].error) == ("ERROR", error)
    # Each inference id is the execution's name and the item's index, as the ItemSelector says
    execution_name = batch.execution_arn.rsplit(":", 1)[-1]
    assert {v.inference_id.rsplit("-", 1)[0] for v in verdicts} == {execution_name}


def test_only_images_cost_an_invocation(offline, images, big_run):
    stack, _ = offline
    # The serializer's log group holds one "Serialized image" line per image it read; the
    # 1,001 skipped keys never reached it
    logs = stack.client("logs")
    group = f"/aws/lambda/{stack.spec.functions['SerializeImageDataFunction'].name}"
    keys = set()
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group):
        for event in page["events"]:
            try:
                line = json.loads(event["message"])
            except ValueError:
                continue
            if str(line.get("s3_key", "")).startswith(PREFIX):
                keys.add(line["s3_key"])
    assert keys <= {*images, *BROKEN}
    assert set(images) <= keys


def test_result_files_are_laid_out_as_aws_documents(offline, images, big_run):
    stack, _ = offline
    batch, _ = big_run
    s3, bucket = stack.s3, stack.bucket_name()
    execution = stack.sfn.describe_execution(executionArn=batch.execution_arn)

    # The Map state's output: the Map Run and where its manifest is
    output = json.loads(execution["output"])
    assert set(output) == {"MapRunArn", "ResultWriterDetails"}
    map_run_id = output["MapRunArn"].rsplit(":", 1)[-1]
    name = execution["name"]
    folder = f"{stack.spec.parameters['BatchResultsPrefix']}/{name}/{map_run_id}/"
    assert output["ResultWriterDetails"] == {"Bucket": bucket, "Key": folder + "manifest.json"}

    # The manifest names every result file, with its size
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=folder + "manifest.json")["Body"].read())
    assert manifest["DestinationBucket"] == bucket
    assert manifest["MapRunArn"] == output["MapRunArn"]
    assert set(manifest["ResultFiles"]) == {"SUCCEEDED", "FAILED", "PENDING"}
    assert manifest["ResultFiles"]["FAILED"] == manifest["ResultFiles"]["PENDING"] == []
    (succeeded,) = manifest["ResultFiles"]["SUCCEEDED"]
    assert succeeded["Key"] == folder + "SUCCEEDED_0.json"
    head = s3.head_object(Bucket=bucket, Key=succeeded["Key"])
    assert head["ContentLength"] == succeeded["Size"]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=folder)["Contents"]
    assert {o["Key"] for o in listed} == {folder + "manifest.json", succeeded["Key"]}

    # Each entry: the child's input and output as JSON strings, with the child's metadata
    entries = json.loads(s3.get_object(Bucket=bucket, Key=succeeded["Key"])["Body"].read())
    assert len(entries) == len(all_keys(images))
    for entry in entries[:50]:
        assert entry["Status"] == "SUCCEEDED"
        assert entry["InputDetails"] == entry["OutputDetails"] == {"Included": True}
        child_input = json.loads(entry["Input"])
        assert set(child_input) == {"s3_bucket", "s3_key", "inference_id"}
        assert child_input["s3_bucket"] == bucket
        assert json.loads(entry["Output"])["s3_key"] == child_input["s3_key"]
        assert entry["StateMachineArn"].endswith(":offline-batch-classification/ClassifyEachImage")
        assert ":express:" in entry["ExecutionArn"]  # EXPRESS children
        assert entry["StartDate"] <= entry["StopDate"]


def test_the_map_run_counts_items_as_aws_does(offline, images, big_run):
    stack, _ = offline
    batch, seen = big_run
    total = len(all_keys(images))
    # At the end: every item succeeded (each caught its own failure) and was written
    assert batch.item_counts["total"] == batch.item_counts["succeeded"] == total
    assert batch.item_counts["resultsWritten"] == total
    assert batch.item_counts["pending"] == batch.item_counts["running"] == 0
    # While it ran: once the items were read, all of them in the total, and every item
    # pending, running or done
    assert any(counts["total"] == total for counts in seen), seen[:3]
    for counts in seen:
        assert counts["total"] in (0, total)
        done = counts["succeeded"] + counts["failed"] + counts["timedOut"] + counts["aborted"]
        assert counts["pending"] + counts["running"] + done == counts["total"]
        assert counts["running"] <= MAX_CONCURRENCY
    description = stack.sfn.describe_map_run(mapRunArn=batch.map_run_arn)
    assert description["maxConcurrency"] == MAX_CONCURRENCY


def test_the_batch_input_event_runs_the_batch(offline, images):
    # Given events/batch_input.json, pointed at the offline bucket and a small prefix
    stack, _ = offline
    bucket = stack.bucket_name()
    key = next(iter(images))
    stack.s3.put_object(Bucket=bucket, Key="batch-event/one.png", Body=images[key])
    event = json.loads((EVENTS_DIR / "batch_input.json").read_text())
    event.update(s3_bucket=bucket, s3_prefix="batch-event/")

    # When it starts the batch state machine
    started = stack.sfn.start_execution(
        stateMachineArn=stack.state_machine_arn(BATCH_MACHINE), input=json.dumps(event)
    )
    description = stack.wait_for_execution(started["executionArn"])

    # Then it succeeds, with its one verdict in the result files
    assert description["status"] == "SUCCEEDED"
    manifest_key = json.loads(description["output"])["ResultWriterDetails"]["Key"]
    (verdict,) = iter_verdicts(stack.s3, bucket, manifest_key)
    assert verdict.s3_key == "batch-event/one.png"
    assert verdict.verdict in ("ACCEPTED", "LOW_CONFIDENCE")


def test_the_report_writes_verdicts_csv_and_summary_json(offline, images, tmp_path, capsys):
    # What `mlwf batch --out DIR` writes once the execution has ended
    from mlwf.batch import report

    stack, _ = offline
    # its own image (it read test_the_batch_input_event_runs_the_batch's, an order it needed)
    one = next(iter(images.values()))
    stack.s3.put_object(Bucket=stack.bucket_name(), Key="batch-event/one.png", Body=one)
    batch = execute(
        stack.sfn,
        stack.state_machine_arn(BATCH_MACHINE),
        stack.bucket_name(),
        "batch-event/",
        0.2,
        stack.wait_for_executions,
        False,
    )
    assert report(stack.s3, batch, "batch-event/", tmp_path) == 0
    out = capsys.readouterr().out
    assert "1 images:" in out
    rows = (tmp_path / "verdicts.csv").read_text().splitlines()
    assert rows[0] == "s3_key,verdict,predicted,confidence,error,inference_id"
    assert len(rows) == 2 and rows[1].startswith("batch-event/one.png,")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["images"] == 1 and summary["execution_arn"] == batch.execution_arn


def test_a_prefix_without_images_is_refused_after_the_run(offline):
    from mlwf.batch import report
    from training_job.errors import MlwfError

    stack, _ = offline
    stack.s3.put_object(Bucket=stack.bucket_name(), Key="batch-none/readme.md", Body=b"#")
    batch = execute(
        stack.sfn,
        stack.state_machine_arn(BATCH_MACHINE),
        stack.bucket_name(),
        "batch-none/",
        0.2,
        stack.wait_for_executions,
        False,
    )
    with pytest.raises(
        MlwfError, match=r"no .png/.jpg/.jpeg object under the prefix 'batch-none/'"
    ):
        report(stack.s3, batch, "batch-none/", None)


@pytest.mark.parametrize(
    "writer_config",
    [
        {"Transformation": "COMPACT", "OutputType": "JSONL"},
        {"Transformation": "COMPACT", "OutputType": "JSON"},
    ],
    ids=["compact-jsonl", "compact-json"],
)
def test_a_batch_machine_with_a_writer_config_reports_its_verdicts(
    offline, images, tmp_path, capsys, writer_config
):
    # Given the batch machine edited to write compact results (docs/batch.md says offline
    # takes a WriterConfig as AWS does); before, mlwf batch counted each an ERROR, or refused
    from mlwf.batch import report

    stack, _ = offline
    prefix = "batch-writer-config/"  # its own image: no other test's object is relied on
    stack.s3.put_object(
        Bucket=stack.bucket_name(), Key=f"{prefix}one.png", Body=next(iter(images.values()))
    )
    arn = stack.state_machine_arn(BATCH_MACHINE)
    original = stack.sfn.describe_state_machine(stateMachineArn=arn)["definition"]
    edited = json.loads(original)
    (each,) = [s for s in edited["States"].values() if "ResultWriter" in s]
    each["ResultWriter"]["WriterConfig"] = writer_config
    stack.sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(edited))
    try:
        # When a batch runs and is reported
        batch = execute(
            stack.sfn,
            arn,
            stack.bucket_name(),
            prefix,
            0.2,
            stack.wait_for_executions,
            False,
        )
        status = report(stack.s3, batch, prefix, tmp_path)
    finally:
        stack.sfn.update_state_machine(stateMachineArn=arn, definition=original)
    # Then its one image has its verdict
    assert status == 0
    assert "1 images:" in capsys.readouterr().out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["verdicts"]) <= {"ACCEPTED", "LOW_CONFIDENCE"}, summary
