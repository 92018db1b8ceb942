"""What the offline stack changes around moto while it runs (mlwf/offline/runtime.py), each
undone when it stops: moto's S3 URL table loaded once instead of twice per request, moto's
module folder listed once instead of for every request to its server, each ASL
parse with its own scope stack, the loaded heap frozen out of the garbage collector's full
collections, and each execution's end reported (waking whoever waits for it; a crashed one
ended FAILED instead of left RUNNING; moto's list of finished interpreter threads pruned).

Here: the patches alone, and the pins on the moto internals they replace. The same patches
in a whole running stack: tests/offline/test_offline_stack_patches.py."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import boto3
import moto.s3.models
import pytest

from mlwf.offline.moto_patches import Endings, moto_modules_listed_once, s3_url_table_loaded_once
from tests.helpers.paths import REGION


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


def test_the_pinned_moto_server_lists_its_module_folder_for_every_request(monkeypatch):
    # What moto_modules_listed_once replaces; if an upgrade stops it, the patch must go.
    import os

    import moto.backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    listings = []
    real_listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path: listings.append(path) or real_listdir(path))
    dispatcher = DomainDispatcherApplication(lambda *args: None)

    assert dispatcher.get_backend_for_host("s3") == "s3"
    assert dispatcher.get_backend_for_host("s3") == "s3"
    assert listings == [os.path.dirname(moto.__file__)] * 2


def test_hosts_resolve_as_before_with_the_module_folder_listed_once(monkeypatch):
    import os

    import moto.backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = moto.backends.list_of_moto_modules
    expected = list(original())
    dispatcher = DomainDispatcherApplication(lambda *args: None)
    with moto_modules_listed_once():
        listings = []
        real_listdir = os.listdir
        monkeypatch.setattr(os, "listdir", lambda p: listings.append(p) or real_listdir(p))
        assert list(moto.backends.list_of_moto_modules()) == expected
        assert [dispatcher.get_backend_for_host(h) for h in ("s3", "sagemaker", "moto_api")] == [
            "s3",
            "sagemaker",
            "moto_api",
        ]
        assert listings == []  # no request lists the folder again
    assert moto.backends.list_of_moto_modules is original


def test_the_pinned_moto_shares_one_query_language_scope_stack_between_parses():
    # What asl_parses_apart replaces; if a moto upgrade drops it, the patch must go too.
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    assert isinstance(Preprocessor.__dict__["_query_language_per_scope"], list)
    assert "__init__" not in Preprocessor.__dict__


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


def test_the_pinned_moto_interpreter_leaves_an_unnamed_execution_unnamed():
    # What executions_started_as_aws adds (the naming); once moto names it, that part can go.
    import inspect

    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    assert "uuid" not in inspect.getsource(StepFunctionsParserBackend.start_execution)
