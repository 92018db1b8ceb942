"""What the offline stack changes around moto while it runs (mlwf/offline/runtime.py), each
undone when it stops: moto's S3 URL table loaded once instead of twice per request, each ASL
parse with its own scope stack, the loaded heap frozen out of the garbage collector's full
collections, and each execution's end reported (waking whoever waits for it; a crashed one
ended FAILED instead of left RUNNING; moto's list of finished interpreter threads pruned)."""

from __future__ import annotations

import gc
import json
import threading
import time
from pathlib import Path

import boto3
import moto.s3.models
import pytest

from mlwf.executions import ExecutionInput
from mlwf.offline.moto_patches import Endings, s3_url_table_loaded_once
from mlwf.offline.runtime import OfflineStack
from mlwf.offline.template import load_template
from tests.conftest import REGION
from training_job.stack import PROJECT_ROOT


def test_the_pinned_moto_reloads_its_s3_url_table_per_request():
    # What the tuning replaces; if a moto upgrade drops it, the tuning must go too.
    assert isinstance(moto.s3.models.S3Backend.__dict__["_url_module"], property)


def test_s3_works_without_reloading_the_url_table(aws, monkeypatch: pytest.MonkeyPatch):
    reloads = []
    real_reload = moto.s3.models.reload
    monkeypatch.setattr(moto.s3.models, "reload", lambda m: reloads.append(m) or real_reload(m))
    original = moto.s3.models.S3Backend.__dict__["_url_module"]
    s3 = boto3.client("s3", region_name=REGION)

    with s3_url_table_loaded_once():
        s3.create_bucket(Bucket="tuned-bucket")
        s3.put_object(Bucket="tuned-bucket", Key="a/b.txt", Body=b"hello")
        assert s3.get_object(Bucket="tuned-bucket", Key="a/b.txt")["Body"].read() == b"hello"
        listed = s3.list_objects_v2(Bucket="tuned-bucket", Prefix="a/")["Contents"]
        assert [o["Key"] for o in listed] == ["a/b.txt"]
        assert reloads == []

    # Afterwards moto is as it was, reloading per request again
    assert moto.s3.models.S3Backend.__dict__["_url_module"] is original
    s3.head_object(Bucket="tuned-bucket", Key="a/b.txt")
    assert reloads


def test_the_pinned_moto_shares_one_query_language_scope_stack_between_parses():
    # What asl_parses_apart replaces; if a moto upgrade drops it, the patch must go too.
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    assert isinstance(Preprocessor.__dict__["_query_language_per_scope"], list)
    assert "__init__" not in Preprocessor.__dict__


def test_two_parses_interleaved_as_racing_executions_do_both_succeed(monkeypatch):
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    definition = (
        load_template(PROJECT_ROOT / "template.yaml")
        .state_machines["ImageClassificationStateMachine"]
        .definition
    )
    read_top = Preprocessor._get_current_query_language
    first_paused = threading.Event()  # the first parse is inside its program scope
    second_reading = threading.Event()  # the second parse is about to read the stack's top
    first_done = threading.Event()

    def reading_the_top(preprocessor):
        # Given two executions' parses, paused where the race falls: the first inside its
        # program scope, the second between seeing a non-empty stack and reading its top
        if threading.current_thread().name == "first" and not first_paused.is_set():
            first_paused.set()
            assert second_reading.wait(10)
        elif threading.current_thread().name == "second" and not second_reading.is_set():
            second_reading.set()
            assert first_done.wait(10)
        return read_top(preprocessor)

    monkeypatch.setattr(Preprocessor, "_get_current_query_language", reading_the_top)
    outcomes: dict[str, str] = {}

    def parse(name: str, then: threading.Event | None = None) -> None:
        try:
            AmazonStateLanguageParser.parse(definition)
            outcomes[name] = "parsed"
        except Exception as exc:
            outcomes[name] = repr(exc)
        finally:
            if then:
                then.set()

    with OfflineStack.start(say=lambda _: None):
        first = threading.Thread(target=parse, args=("first", first_done), name="first")
        second = threading.Thread(target=parse, args=("second",), name="second")
        # When the first finishes (popping its scopes) while the second reads
        first.start()
        assert first_paused.wait(10)
        second.start()
        first.join(20)
        second.join(20)

    # Then both parse, as two executions starting together do in AWS (with one stack of
    # scopes shared, the second finds it emptied under it: IndexError)
    assert outcomes == {"first": "parsed", "second": "parsed"}
    # And afterwards moto is as it was
    assert "__init__" not in Preprocessor.__dict__


def test_a_running_stack_freezes_what_is_loaded_and_a_stopped_one_gives_it_back():
    assert gc.get_freeze_count() == 0
    with OfflineStack.start(say=lambda _: None) as stack:
        # moto's backends, the service models and the handlers: out of full collections
        assert gc.get_freeze_count() > len(gc.get_objects())
        # and what the stack still does is unaffected: a frozen client works
        stack.s3.put_object(Bucket=stack.bucket_name(), Key="k", Body=b"v")
        assert stack.s3.get_object(Bucket=stack.bucket_name(), Key="k")["Body"].read() == b"v"
        gc.collect()
    assert gc.get_freeze_count() == 0


def test_an_execution_whose_interpreter_crashes_fails_with_states_runtime(monkeypatch):
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original_logic = ExecutionWorker.__dict__["_execution_logic"]
    real_entrypoint = ExecutionWorker._get_evaluation_entrypoint
    crashes = iter([RuntimeError("the parser tripped")])

    def entrypoint_that_crashes_once(worker):
        crash = next(crashes, None)
        if crash:
            raise crash
        return real_entrypoint(worker)

    monkeypatch.setattr(ExecutionWorker, "_get_evaluation_entrypoint", entrypoint_that_crashes_once)
    with OfflineStack.start(say=lambda _: None) as stack:
        for function in stack.bridge.functions:  # the handlers are beside the point here
            stack.bridge.functions[function] = lambda event, _: {
                **event,
                "image_data": "",
                "inferences": [1.0, 0.0],
            }
        payload = {"s3_bucket": stack.bucket_name(), "s3_key": "k.png"}

        # When the interpreter's thread dies before the execution could end
        crashed = stack.run_execution(payload)

        # Then the execution ends FAILED with AWS's error for internal failures, and why
        assert (crashed["status"], crashed["error"]) == ("FAILED", "States.Runtime")
        assert "RuntimeError: the parser tripped" in crashed["cause"]
        assert json.loads(crashed["input"]) == payload
        # And the next execution runs normally
        assert stack.run_execution(payload)["status"] == "SUCCEEDED"
    assert ExecutionWorker.__dict__["_execution_logic"] is original_logic


def test_an_end_between_two_waits_is_not_missed():
    endings = Endings()
    endings.ended()  # before anyone waits
    started = time.monotonic()
    endings.wait(timeout=30)
    assert time.monotonic() - started < 5  # returned for the end, not the timeout


def test_a_waiter_sleeps_until_an_end_wakes_it():
    endings = Endings()
    endings.wait(timeout=0)  # now up to date
    waiter = threading.Thread(target=endings.wait, kwargs={"timeout": 30})
    waiter.start()

    waiter.join(timeout=0.3)
    assert waiter.is_alive()  # nothing has ended: it waits

    endings.ended()
    waiter.join(timeout=5)
    assert not waiter.is_alive()  # woken by the end, long before its timeout


def test_offline_runs_list_executions_only_when_one_ends(monkeypatch):
    import mlwf.executions

    listings = []
    real_listing = mlwf.executions._running_arns
    monkeypatch.setattr(
        mlwf.executions,
        "_running_arns",
        lambda *args: listings.append(1) or real_listing(*args),
    )
    with OfflineStack.start(say=lambda _: None) as stack:
        for function in stack.bridge.functions:
            stack.bridge.functions[function] = lambda event, _: {
                **event,
                "image_data": "",
                "inferences": [1.0, 0.0],
            }
        items = [ExecutionInput(stack.bucket_name(), f"k{i}.png") for i in range(9)]

        # With a polling interval far longer than the executions take
        started = time.monotonic()
        results = stack.run_executions(items, poll_interval=60, concurrency=1)

        # Then each end was seen when it happened, not a minute later, and executions
        # were listed about once per end rather than in a busy loop
        assert [r.status for r in results] == ["SUCCEEDED"] * 9
        assert time.monotonic() - started < 30
        assert len(listings) <= 2 * len(items) + 1
        # And moto's list of its interpreter's threads (4 per execution here) kept only
        # threads of the last execution or so, not those of all nine
        from moto.stepfunctions.parser.utils import TMP_THREADS

        assert len([thread for thread in TMP_THREADS if not thread.is_alive()]) <= 5


def test_the_pinned_moto_never_reads_its_interpreter_thread_list():
    # The offline stack prunes TMP_THREADS without a lock, which is safe only while moto
    # just appends to it; if an upgrade reads it, the pruning must be looked at again.
    import moto.stepfunctions

    root = Path(moto.stepfunctions.__file__).parent
    uses = {
        line.strip()
        for path in root.rglob("*.py")
        for line in path.read_text().splitlines()
        if "TMP_THREADS" in line
    }
    assert uses
    assert all(
        use.startswith(("TMP_THREADS.append(", "TMP_THREADS = []", "from ", "import "))
        or use.endswith("TMP_THREADS,")
        or use == "TMP_THREADS"
        for use in uses
    ), uses


def test_a_stack_leaves_a_heap_frozen_by_someone_else_as_it_was():
    gc.freeze()  # e.g. a host process that froze its own heap before starting a stack
    frozen = gc.get_freeze_count()
    try:
        with OfflineStack.start(say=lambda _: None):
            # not the stack's to freeze (frozen objects can still be freed, never added)
            assert gc.get_freeze_count() <= frozen
        assert 0 < gc.get_freeze_count() <= frozen  # nor to unfreeze
    finally:
        gc.unfreeze()


def test_moto_servers_sagemaker_runtime_still_cannot_read_an_image():
    # Why mlwf/offline/server.py answers InvokeEndpoint before moto parses it: moto decodes
    # every request body as UTF-8, and a PNG is not. If moto learns to, this fails, and the
    # patch can go (the pinned method must exist either way).
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    from mlwf.offline.server import serving

    assert callable(SageMakerRuntimeResponse._dispatch)
    with serving() as url:
        runtime = boto3.client(
            "sagemaker-runtime", endpoint_url=url, config=Config(retries={"max_attempts": 1})
        )
        with pytest.raises(ClientError) as raised:  # no offline stack: moto itself answers
            runtime.invoke_endpoint(
                EndpointName="e", ContentType="image/png", Body=b"\x89PNG\r\n\x1a\n"
            )
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_moto_still_has_no_start_sync_execution():
    # The offline stack answers StartSyncExecution itself (mlwf.offline.bridge in-process,
    # mlwf.offline.server over HTTP); if moto gains its own, this fails so that the two are
    # reconciled rather than one shadowing the other. (No stack runs here: while one does,
    # the server's answer is patched in.)
    from moto.stepfunctions.responses import StepFunctionResponse

    assert "start_sync_execution" not in vars(StepFunctionResponse)
