"""Distributed Map states offline as AWS runs them, in moto's copy of the interpreter.

moto 5.2.5 runs a Distributed Map's definition but not as AWS does:
- its S3 ItemReader reads only the first ListObjectsV2 page (1,000 keys), fails on a prefix
  with no objects (no "Contents"), and hands each child boto3's dict (a datetime in it);
- its ResultWriter writes a manifest that lists no result file, and no result file at all;
- its Map Run counts `total` as children start and never `pending`; a failed child stays
  `running` in the execution counts;
- each worker recurses once per item it processes: a worker given more than ~1,000 items
  (5,000 images at MaxConcurrency 4) dies of RecursionError.

What AWS does, and so what the patches below do:
- ItemReader over S3 lists every object under the prefix, one item per object shaped
  {Etag, Key, LastModified, Size, StorageClass}
  (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html);
- ResultWriter writes `<Prefix>/<map run id>/manifest.json` plus SUCCEEDED_n.json /
  FAILED_n.json / PENDING_n.json, one JSON array of child executions per status, and the
  Map state's result is {MapRunArn, ResultWriterDetails: {Bucket, Key of the manifest}}
  (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html);
- DescribeMapRun counts every item from the start: `total` once the items are read,
  `pending` until a child starts, then `running`, then `succeeded`/`failed`, and
  `resultsWritten` once written
  (https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeMapRun.html);
- ListMapRuns and DescribeMapRun answer while an execution is starting (moto reads its
  environment before it exists: AttributeError, a 500);
- at most MaxConcurrency children run at once (0: no limit below AWS's 10,000);
- a definition AWS accepts and moto's grammar refuses (EXPRESS children, an integer
  ToleratedFailurePercentage, an ItemBatcher, a JSONL or listing ReaderConfig, a
  WriterConfig) is valid: moto's parser is given an equivalent text (mlwf.offline.map_grammar),
  and what moto never saw is done here: the batches (mlwf.offline.map_batches), the readers
  (mlwf.offline.map_item_readers), the WriterConfig's transformation and format
  (mlwf.offline.map_result_formats).

Still not modelled (docs/batch.md): the children are evaluated in the parent's process, not
as executions of their own (ListExecutions --map-run-arn lists them from the Map Run's
record, mlwf.offline.map_run_children, and EXPRESS children's five-minute limit is not
enforced); UpdateMapRun's new MaxConcurrency does not reach a running Map Run. The result
files' layout is mlwf.offline.map_run_results'; a Map Run's failure past its tolerated
threshold, mlwf.offline.map_run_failures'.

Each patch is set and put back with unittest.mock's patch.object, and pinned by
tests/unit/test_offline_distributed_map.py, which fails when moto changes underneath it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

from mlwf.offline.map_batches import batch_input, batches
from mlwf.offline.map_grammar import express_children, parsed_as_aws_accepts
from mlwf.offline.map_item_readers import (
    item_readers_as_aws,
    loaded,
    max_items_path_checked_before_the_map_run,
)
from mlwf.offline.map_result_formats import previewed, transformed, writer_config
from mlwf.offline.map_run_children import find_map_run, map_run_children_listed, map_run_pool
from mlwf.offline.map_run_failures import check_threshold
from mlwf.offline.map_run_results import RESULT_FILE_MAX_BYTES, ChildResult, write_results
from mlwf.offline.map_states import map_state, stored_definition

# AWS: "Step Functions can run up to 10,000 parallel child workflow executions"
# (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html).
AWS_MAX_CHILDREN = 10_000


@contextmanager
def distributed_maps_as_aws() -> Iterator[None]:
    """Every patch of this module, while the block runs."""
    with ExitStack() as patches:
        patches.enter_context(parsed_as_aws_accepts())
        patches.enter_context(every_page_listed())
        patches.enter_context(item_readers_as_aws())
        patches.enter_context(max_items_path_checked_before_the_map_run())
        patches.enter_context(map_runs_found_while_executions_start())
        patches.enter_context(children_counted_and_recorded())
        patches.enter_context(results_written_in_aws_layout())
        patches.enter_context(map_run_children_listed())
        yield


# -- ListMapRuns, DescribeMapRun: while executions start ------------------------------
@contextmanager
def map_runs_found_while_executions_start() -> Iterator[None]:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend as Backend

    Backend.__dict__["list_map_runs"]  # KeyError: moto changed; see the test
    Backend.__dict__["describe_map_run"]

    def list_map_runs(self: Any, execution_arn: str) -> dict[str, Any]:
        pool = map_run_pool(self.describe_execution(execution_arn=execution_arn))
        return {"mapRuns": [r.list_item() for r in pool.get_all()] if pool else []}

    def describe_map_run(self: Any, map_run_arn: str) -> dict[str, Any]:
        return dict(find_map_run(self, map_run_arn).describe())

    with (
        patch.object(Backend, "list_map_runs", list_map_runs),
        patch.object(Backend, "describe_map_run", describe_map_run),
    ):
        yield


# -- ItemReader: every ListObjectsV2 page -------------------------------------------------
def list_items(s3_client: Any, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """Every object under the prefix, as the ItemReader hands them to the Map."""
    items = []
    for page in s3_client.get_paginator("list_objects_v2").paginate(**parameters):
        for obj in page.get("Contents", []):
            items.append(
                {
                    "Etag": obj.get("ETag", ""),
                    "Key": obj["Key"],
                    "LastModified": int(obj["LastModified"].timestamp()),
                    "Size": obj.get("Size", 0),
                    "StorageClass": obj.get("StorageClass", "STANDARD"),
                }
            )
    return items


@contextmanager
def every_page_listed() -> Iterator[None]:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import (
        resource_eval_s3 as reader,
    )

    cls = reader.ResourceEvalS3
    cls.__dict__["_handle_list_objects_v2"]  # KeyError: moto changed; see the test

    def handle(env: Any, runtime_part: Any, credentials: Any) -> None:
        s3_client = cls._get_s3_client(
            resource_runtime_part=runtime_part, state_credentials=credentials
        )
        parameters = env.stack.pop()
        listed = list_items(s3_client, parameters)
        env.stack.append(loaded(env, s3_client, parameters["Bucket"], listed))

    with patch.object(cls, "_handle_list_objects_v2", staticmethod(handle)):
        yield


# -- Children: counted as AWS counts them, recorded for the ResultWriter -------------------
@contextmanager
def children_counted_and_recorded() -> Iterator[None]:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        distributed_iteration_component as component,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (  # noqa: E501
        distributed_item_processor_worker as worker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iterator import (
        distributed_iterator_worker as legacy,
    )

    Component = component.DistributedIterationComponent
    # the legacy `Iterator` with a DISTRIBUTED ProcessorConfig has its own worker: left to
    # moto's, it recorded no child and the Map's result was a null per item
    workers = (worker.DistributedItemProcessorWorker, legacy.DistributedIteratorWorker)
    Component.__dict__["_map_run"]  # KeyError: moto changed; see the test
    with ExitStack() as patches:
        patches.enter_context(patch.object(Component, "_map_run", _map_run))
        for Worker in workers:
            Worker.__dict__["_eval_job"]
            Worker.__dict__["_eval_pool"]
            patches.enter_context(patch.object(Worker, "_eval_job", _eval_job))
            patches.enter_context(patch.object(Worker, "_eval_pool", _eval_pool))
        yield


def _map_run(self: Any, env: Any, eval_input: Any) -> None:
    """moto's _map_run, with the items counted from the start, each child recorded, and
    no more workers than MaxConcurrency (or items) allow."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.job import (
        JobPool,
    )

    input_items: list[Any] = env.stack.pop()
    record = eval_input.map_run_record
    # the Map state as created, read once: moto's parser was given a rewritten one
    state = map_state(stored_definition(env), eval_input.state_name) or {}
    record.mlwf_express = express_children(state)
    batcher = state.get("ItemBatcher")
    record.mlwf_batcher = batcher if isinstance(batcher, dict) else None
    jobs: list[Any] = input_items
    if record.mlwf_batcher is not None:  # a child per batch (mlwf.offline.map_batches)
        record.mlwf_state_input = env.states.get_input()
        context = env.states.context_object.context_object_data  # a copy, as JSON: as bound
        record.mlwf_state_context = json.loads(json.dumps(context, default=str))
        jobs = batches(
            input_items, record.mlwf_batcher, record.mlwf_state_input, env.variable_store.get
        )
        record.mlwf_starts = [sum(len(b) for b in jobs[:i]) for i in range(len(jobs))]
    record.mlwf_children = [ChildResult(i, None) for i in range(len(jobs))]
    for counter, count in (
        (record.item_counter, len(input_items)),
        (record.execution_counter, len(jobs)),
    ):
        counter.total.offset(count)
        counter.pending.offset(count)

    job_pool = JobPool(job_program=self._get_iteration_program(), job_inputs=jobs)
    limit = record.max_concurrency or AWS_MAX_CHILDREN
    for _ in range(max(1, min(limit, len(jobs)))):
        self._launch_worker(env=env, eval_input=eval_input, job_pool=job_pool)
    job_pool.await_jobs()

    worker_exception = job_pool.get_worker_exception()
    if worker_exception is not None:
        raise worker_exception
    check_threshold(env, record, state)
    children = record.mlwf_children
    record.mlwf_writer_config = config = writer_config(state)  # read by the ResultWriter
    if config is not None and previewed(state):  # a WriterConfig alone: the Map's result

        def entry(child: ChildResult) -> dict[str, Any]:
            return child.entry(record, record.mlwf_express)

        env.stack.append(transformed(children, entry, config.get("Transformation", "NONE")))
    else:
        env.stack.append([child.output for child in children])


def _eval_job(self: Any, env: Any, job: Any) -> None:
    """One child: its ItemSelector input, its run, its status, as AWS reports them."""
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import (
        EvalTimeoutError,
    )
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramError, ProgramStopped
    from moto.stepfunctions.parser.asl.eval.states import ItemData, MapData

    record = self._map_run_record
    children: list[ChildResult] = getattr(record, "mlwf_children", [])
    child = children[job.job_index] if job.job_index < len(children) else ChildResult(0, None)
    child.start = datetime.now(UTC)
    batcher = getattr(record, "mlwf_batcher", None)
    items = child.items = len(job.job_input) if batcher else 1
    weights = ((record.item_counter, items), (record.execution_counter, 1))
    for counter, weight in weights:
        counter.pending.offset(-weight)
        counter.running.offset(weight)
    status = "FAILED"
    try:
        selected = []
        for index, item in _items(job, batcher, record):
            env.states.context_object.context_object_data["Map"] = MapData(
                Item=ItemData(Index=index, Value=item)
            )
            env.states.reset(item)
            env.stack.append(env.states.get_input())
            self._eval_input(env_frame=env)  # the ItemSelector, on each item
            selected.append(env.states.get_input())
        if batcher:
            given = batch_input(
                selected, batcher, record.mlwf_state_input, record.mlwf_state_context
            )
            env.states.reset(given)
        child.input = env.states.get_input()  # the child's input
        job.job_program.eval(env)
        end = env.program_state()
        if isinstance(end, ProgramError):
            details = end.error or {}
            child.error, child.cause = details.get("error"), details.get("cause")
        elif isinstance(end, ProgramStopped):
            status, child.error, child.cause = "ABORTED", end.error, end.cause
        else:
            status, child.output = "SUCCEEDED", env.states.get_input()
    except EvalTimeoutError:
        status, child.error = "TIMED_OUT", "States.Timeout"
    except Exception as exc:  # as moto's worker: the child fails, the Map Run goes on
        child.error, child.cause = "States.Runtime", f"{type(exc).__name__}: {exc}"
    finally:
        if child.input is None:
            child.input = job.job_input
        child.status, child.stop = status, datetime.now(UTC)
        counted = {"SUCCEEDED": "succeeded", "FAILED": "failed"}.get(status)
        counted = counted or {"ABORTED": "aborted", "TIMED_OUT": "timed_out"}[status]
        for counter, weight in weights:
            counter.running.offset(-weight)
            getattr(counter, counted).offset(weight)
        job.job_output = child.output


def _items(job: Any, batcher: Any, record: Any) -> list[tuple[int, Any]]:
    """(index in the Map's items, item) of a job: its one item, or its batch's."""
    if not batcher:
        return [(job.job_index, job.job_input)]
    first = record.mlwf_starts[job.job_index]
    return [(first + i, item) for i, item in enumerate(job.job_input)]


def _eval_pool(self: Any, job: Any, worker_frame: Any) -> None:
    """moto's _eval_pool as a loop: it recursed once per job, so a worker with more than
    ~1,000 jobs died of RecursionError."""
    while job is not None:
        job_frame = worker_frame.open_inner_frame()
        self._eval_job(env=job_frame, job=job)
        worker_frame.delete_frame(job_frame)
        if isinstance(job.job_output, Exception) or self.stopped():
            self._env.delete_frame(worker_frame)
            self._job_pool.close_job(job)
            return
        next_job = self._job_pool.next_job()
        if next_job is None:
            # As moto: the frame is closed before the job, so that the Map state (which
            # waits for the jobs, not the workers) resumes with its environment updated.
            self._env.delete_frame(worker_frame)
            self._job_pool.close_job(job)
            return
        self._job_pool.close_job(job)
        job = next_job
    self._env.delete_frame(worker_frame)


# -- ResultWriter: manifest.json and the result files ----------------------------------
@contextmanager
def results_written_in_aws_layout(max_bytes: int = RESULT_FILE_MAX_BYTES) -> Iterator[None]:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (  # noqa: E501
        resource_eval_s3 as writer,
    )

    cls = writer.ResourceEvalS3
    cls.__dict__["_handle_put_object"]  # KeyError: moto changed; see the test

    def handle(env: Any, runtime_part: Any, credentials: Any) -> None:
        parameters = env.stack.pop()
        env.stack.pop()  # the children's outputs: the result files hold them instead
        map_run = env.map_run_record_pool_manager.get_all()[-1]
        children = getattr(map_run, "mlwf_children", [])
        s3_client = cls._get_s3_client(
            resource_runtime_part=runtime_part, state_credentials=credentials
        )
        express = getattr(map_run, "mlwf_express", False)
        key = write_results(
            s3_client,
            parameters["Bucket"],
            parameters.get("Prefix", ""),
            map_run,
            children,
            express,
            max_bytes,
            getattr(map_run, "mlwf_writer_config", None),
        )
        for counter in (map_run.item_counter, map_run.execution_counter):
            counter.results_written.offset(len(children))
        env.stack.append(
            {
                "MapRunArn": map_run.map_run_arn,
                "ResultWriterDetails": {"Bucket": parameters["Bucket"], "Key": key},
            }
        )

    with patch.object(cls, "_handle_put_object", staticmethod(handle)):
        yield
