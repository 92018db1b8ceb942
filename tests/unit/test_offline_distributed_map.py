"""mlwf/offline/distributed_map.py: each patch of moto's Distributed Map, pinned.

Each `test_the_pinned_moto_...` shows what moto does without the patch; when a moto upgrade
changes that, the test fails and the patch must be looked at again. The others show what
the patch does instead, as AWS documents it
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html,
https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html).
"""

from __future__ import annotations

import inspect
import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from mlwf.batch_results import iter_verdicts
from mlwf.offline import distributed_map, map_grammar
from mlwf.offline.map_states import map_state
from tests.helpers.paths import REGION

READER = "moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval"
WRITER = "moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer"


class PagedS3:
    """ListObjectsV2 over `count` keys, 1,000 a page as S3 answers; put_object recorded."""

    def __init__(self, count: int):
        self.keys = [f"p/{i:05d}.png" for i in range(count)]
        self.list_calls = 0
        self.puts: dict[str, bytes] = {}

    def list_objects_v2(self, **kwargs: Any) -> dict[str, Any]:
        self.list_calls += 1
        start = int(kwargs.get("ContinuationToken", 0))
        page = self.keys[start : start + 1000]
        answer: dict[str, Any] = {"KeyCount": len(page)}
        if page:
            answer["Contents"] = [
                {
                    "Key": k,
                    "Size": 1,
                    "ETag": '"e"',
                    "LastModified": datetime(2026, 1, 1, tzinfo=UTC),
                    "StorageClass": "STANDARD",
                }  # fmt: skip
                for k in page
            ]
        if start + 1000 < len(self.keys):
            answer.update(IsTruncated=True, NextContinuationToken=str(start + 1000))
        return answer

    def get_paginator(self, name: str) -> Any:
        assert name == "list_objects_v2"
        s3 = self

        class Paginator:
            def paginate(self, **kwargs: Any) -> Any:
                token = None
                while True:
                    page = s3.list_objects_v2(
                        **kwargs, **({"ContinuationToken": token} if token else {})
                    )
                    yield page
                    token = page.get("NextContinuationToken")
                    if not token:
                        return

        return Paginator()

    def put_object(self, Bucket: str, Key: str, Body: bytes) -> None:  # noqa: N803 (boto3's)
        self.puts[Key] = Body


def item_reader_class():
    from importlib import import_module

    return import_module(f"{READER}.resource_eval_s3").ResourceEvalS3


def read_items(s3: PagedS3, monkeypatch) -> list[Any]:
    cls = item_reader_class()
    monkeypatch.setattr(cls, "_get_s3_client", staticmethod(lambda **_: s3))
    # the reader's Map state is looked up in a machine moto does not know: a plain listing
    context = {"StateMachine": {"Id": f"arn:aws:states:{REGION}:1:stateMachine:x"}}
    context["State"] = {"Name": "M"}
    states = SimpleNamespace(context_object=SimpleNamespace(context_object_data=context))
    env = SimpleNamespace(stack=[{"Bucket": "b", "Prefix": "p/"}], states=states)
    cls._handle_list_objects_v2(env, None, None)
    return env.stack.pop()


# -- ItemReader -----------------------------------------------------------------------------
def test_the_pinned_moto_reads_only_the_first_listobjectsv2_page(monkeypatch):
    s3 = PagedS3(1001)
    items = read_items(s3, monkeypatch)
    assert (len(items), s3.list_calls) == (1000, 1)
    # and a prefix with no object fails (no "Contents"), where AWS finds no item
    with pytest.raises(KeyError):
        read_items(PagedS3(0), monkeypatch)


def test_every_page_is_read_into_items_shaped_as_aws_gives_them(monkeypatch):
    s3 = PagedS3(2345)
    with distributed_map.every_page_listed():
        items = read_items(s3, monkeypatch)
        assert read_items(PagedS3(0), monkeypatch) == []
    assert (len(items), s3.list_calls) == (2345, 3)
    assert items[-1] == {
        "Etag": '"e"',
        "Key": "p/02344.png",
        "LastModified": int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()),
        "Size": 1,
        "StorageClass": "STANDARD",
    }
    json.dumps(items)  # what the children get is JSON, as in AWS
    # and moto is as it was afterwards
    assert len(read_items(PagedS3(1001), monkeypatch)) == 1000


# -- ResultWriter ---------------------------------------------------------------------------
def map_run_record(count: int) -> Any:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.map_run_record import (  # noqa: E501
        MapRunRecord,
    )

    record = MapRunRecord(
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:m:e",
        max_concurrency=2,
        tolerated_failure_count=0,
        tolerated_failure_percentage=100.0,
        label="L",
    )
    now = datetime.now(UTC)
    record.mlwf_children = [
        distributed_map.ChildResult(
            i,
            {"s3_key": f"k{i}.png"},
            status="SUCCEEDED" if i % 3 else "FAILED",
            output={"s3_key": f"k{i}.png", "verdict": "ACCEPTED"},
            error=None if i % 3 else "States.Runtime",
            start=now,
            stop=now,
        )
        for i in range(count)
    ]
    record.mlwf_express = True
    return record


def write_with_moto_handler(record: Any, monkeypatch) -> PagedS3:
    from importlib import import_module

    cls = import_module(f"{WRITER}.resource_eval.resource_eval_s3").ResourceEvalS3
    s3 = PagedS3(0)
    monkeypatch.setattr(cls, "_get_s3_client", staticmethod(lambda **_: s3))
    pool = SimpleNamespace(get_all=lambda: [record])
    env = SimpleNamespace(
        stack=[[{"a": 1}], {"Bucket": "b", "Prefix": "out"}], map_run_record_pool_manager=pool
    )
    cls._handle_put_object(env, None, None)
    result = env.stack.pop()
    assert result["ResultWriterDetails"]["Key"] in s3.puts
    return s3


def test_the_pinned_moto_writes_a_manifest_listing_no_result_file(monkeypatch):
    s3 = write_with_moto_handler(map_run_record(5), monkeypatch)
    (manifest,) = [json.loads(v) for k, v in s3.puts.items() if k.endswith("manifest.json")]
    assert manifest["ResultFiles"] == {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    assert len(s3.puts) == 1


def test_results_are_written_as_aws_lays_them_out(monkeypatch):
    record = map_run_record(5)
    with distributed_map.results_written_in_aws_layout():
        s3 = write_with_moto_handler(record, monkeypatch)
    run_id = record.map_run_arn.rsplit(":", 1)[-1]
    folder = f"out/{run_id}/"
    assert set(s3.puts) == {
        folder + n for n in ("manifest.json", "SUCCEEDED_0.json", "FAILED_0.json")
    }
    manifest = json.loads(s3.puts[folder + "manifest.json"])
    assert manifest["DestinationBucket"] == "b" and manifest["MapRunArn"] == record.map_run_arn
    for status, count in (("SUCCEEDED", 3), ("FAILED", 2)):
        (listed,) = manifest["ResultFiles"][status]
        body = s3.puts[listed["Key"]]
        assert listed["Size"] == len(body)
        entries = json.loads(body)
        assert len(entries) == count and {e["Status"] for e in entries} == {status}
    failed = json.loads(s3.puts[folder + "FAILED_0.json"])[0]
    assert failed["Error"] == "States.Runtime" and "Output" not in failed
    assert json.loads(failed["Input"]) == {"s3_key": "k0.png"}
    assert manifest["ResultFiles"]["PENDING"] == []
    assert record.item_counter.results_written.get() == 5


def test_result_files_split_past_their_size_and_read_back_whole(aws):
    # Given a Map Run's results written with files of at most ~1 KB, into real (moto) S3
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="results-bucket")
    record = map_run_record(30)
    record.mlwf_children[7].status = "PENDING"
    key = distributed_map.write_results(
        s3, "results-bucket", "out", record, record.mlwf_children, express=True, max_bytes=1024
    )
    manifest = json.loads(s3.get_object(Bucket="results-bucket", Key=key)["Body"].read())
    # Then each status has numbered files, and every child is read back exactly once
    assert len(manifest["ResultFiles"]["SUCCEEDED"]) > 1
    assert [f["Key"].rsplit("/", 1)[-1] for f in manifest["ResultFiles"]["SUCCEEDED"]][:2] == [
        "SUCCEEDED_0.json",
        "SUCCEEDED_1.json",
    ]
    assert [f["Key"].rsplit("/", 1)[-1] for f in manifest["ResultFiles"]["PENDING"]] == [
        "PENDING_0.json"
    ]
    keys = [v.s3_key for v in iter_verdicts(s3, "results-bucket", key)]
    assert sorted(keys) == sorted(f"k{i}.png" for i in range(30))


# -- Parsing --------------------------------------------------------------------------------
EXPRESS_MAP = {
    "StartAt": "M",
    "States": {
        "M": {
            "Type": "Map",
            "ToleratedFailurePercentage": 100,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                "StartAt": "P",
                "States": {"P": {"Type": "Pass", "End": True}},
            },
            "End": True,
        }
    },
}


def test_the_pinned_moto_refuses_express_children_and_integer_percentages():
    from moto.stepfunctions.parser.asl.parse.asl_parser import (
        AmazonStateLanguageParser,
        ASLParserException,
    )

    with pytest.raises(ASLParserException) as refused:
        AmazonStateLanguageParser.parse(json.dumps(EXPRESS_MAP))
    assert "EXPRESS" in str(refused.value) and "ToleratedFailurePercentage" in str(refused.value)


def test_express_children_and_integer_percentages_are_parsed():
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    with map_grammar.parsed_as_aws_accepts():
        program, _ = AmazonStateLanguageParser.parse(json.dumps(EXPRESS_MAP))
    assert program is not None
    assert map_grammar.express_children(map_state(json.dumps(EXPRESS_MAP), "M") or {})
    standard = json.loads(json.dumps(EXPRESS_MAP))
    standard["States"]["M"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = "STANDARD"
    assert not map_grammar.express_children(map_state(json.dumps(standard), "M") or {})
    # a definition moto already reads is given to it unchanged
    assert map_grammar.for_moto_grammar(json.dumps(standard)) != json.dumps(standard)
    plain = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert map_grammar.for_moto_grammar(plain) == plain


# -- Workers: a loop, not a recursion -------------------------------------------------------
class Jobs:
    def __init__(self, count: int):
        self.jobs = [SimpleNamespace(job_index=i, job_output=None) for i in range(count)]
        self.closed = 0

    def next_job(self) -> Any:
        return self.jobs.pop() if self.jobs else None

    def close_job(self, job: Any) -> None:
        self.closed += 1


def worker(jobs: Jobs) -> Any:
    frame = SimpleNamespace(open_inner_frame=lambda: object(), delete_frame=lambda f: None)
    return SimpleNamespace(
        _job_pool=jobs,
        _env=SimpleNamespace(delete_frame=lambda f: None),
        _eval_job=lambda env, job: None,
        stopped=lambda: False,
        frame=frame,
    )


def test_the_pinned_moto_worker_recurses_once_per_job():
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (  # noqa: E501
        DistributedItemProcessorWorker,
    )

    original = DistributedItemProcessorWorker.__dict__["_eval_pool"]
    assert "self._eval_pool(job=next_job" in inspect.getsource(original)
    jobs = Jobs(5000)
    fake = worker(jobs)
    fake._eval_pool = lambda job, worker_frame: original(fake, job, worker_frame)
    with pytest.raises(RecursionError):
        original(fake, jobs.next_job(), fake.frame)


def test_a_worker_takes_any_number_of_jobs():
    jobs = Jobs(5000)
    fake = worker(jobs)
    distributed_map._eval_pool(fake, jobs.next_job(), fake.frame)
    assert jobs.closed == 5000


# -- ListMapRuns / DescribeMapRun while an execution starts ----------------------------------
def test_the_pinned_moto_fails_listmapruns_before_the_execution_has_an_environment():
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    starting = SimpleNamespace(exec_worker=None)
    backend = SimpleNamespace(describe_execution=lambda execution_arn: starting)
    with pytest.raises(AttributeError):
        StepFunctionsParserBackend.list_map_runs(backend, "arn")
    with distributed_map.map_runs_found_while_executions_start():
        assert StepFunctionsParserBackend.list_map_runs(backend, "arn") == {"mapRuns": []}


def test_the_pinned_moto_lists_executions_by_state_machine_only():
    # mlwf.offline.map_run_children answers a mapRunArn; when moto reads it, reconcile
    import inspect

    from moto.stepfunctions.responses import StepFunctionResponse

    source = inspect.getsource(StepFunctionResponse.list_executions)
    assert 'self._get_param("stateMachineArn")' in source
    assert "mapRunArn" not in source


def test_the_pinned_moto_gives_the_legacy_iterator_a_worker_of_its_own():
    # mlwf.offline.distributed_map patches both workers' _eval_job and _eval_pool
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iterator import (
        distributed_iterator_worker as legacy,
    )

    worker = legacy.DistributedIteratorWorker
    assert "_eval_job" in worker.__dict__ and "_eval_pool" in worker.__dict__
