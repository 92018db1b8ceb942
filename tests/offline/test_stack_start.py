"""What a stack has when OfflineStack.start returns: its bucket configured as template.yaml
says, as CloudFormation configures it, and its zygote under way, so that a user's first
invocation pays only for what Lambda's first invocation pays for (its environment's init)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mlwf.offline import zygote
from mlwf.offline.runtime import OfflineStack
from tests.helpers.paths import PROJECT_ROOT

pytestmark = pytest.mark.offline


@pytest.fixture
def no_zygote_yet(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process without a zygote (an earlier stack's, restored after), and the one the
    test makes stopped after it."""
    if not zygote.available():
        pytest.skip("fork() without exec is used on Linux only")
    monkeypatch.setattr(zygote, "_SHARED", None)
    yield
    made = zygote._SHARED
    if made is not None:
        made._process.kill()
        made._process.wait(timeout=10)


@pytest.mark.usefixtures("no_zygote_yet")
def test_the_zygote_imports_the_sdk_while_the_stack_starts_not_at_the_first_invocation():
    with OfflineStack.start(say=lambda _: None) as stack:
        # Then, before any function is invoked, the zygote is running (importing the SDK)
        started = zygote._SHARED
        assert started is not None and not started.gone

        # And the first environment is forked by that zygote, not by a new one
        logical_id, spec = next(iter(stack.spec.functions.items()))
        stack.client("lambda").invoke(FunctionName=spec.name, Payload=b"{}")
        (environment,) = stack.functions[logical_id]._all
        assert isinstance(environment.process, zygote.ForkedProcess)
        assert zygote._SHARED is started


@pytest.fixture(scope="module")
def started() -> Iterator[OfflineStack]:
    with OfflineStack.start(say=lambda _: None) as stack:
        yield stack


def test_the_functions_are_recorded_as_lambda_reads_them(started):
    # Lambda's read calls answered ResourceNotFoundException for functions Invoke reached
    lam = started.client("lambda")
    listed = {f["FunctionName"]: f for f in lam.list_functions()["Functions"]}
    assert set(listed) == {spec.name for spec in started.spec.functions.values()}
    for spec in started.spec.functions.values():
        configuration = lam.get_function_configuration(FunctionName=spec.name)
        assert configuration["FunctionArn"] == spec.arn
        assert (configuration["Handler"], configuration["Timeout"]) == (spec.handler, spec.timeout)
        assert configuration["Environment"]["Variables"] == spec.environment
        assert configuration["Role"] == spec.role_arn
        assert [layer["Arn"] for layer in configuration["Layers"]] == list(spec.layers)
        assert configuration["Runtime"] == "python3.13"
        assert configuration["Description"] == spec.description != ""
        assert configuration["TracingConfig"] == {"Mode": "Active"}  # Globals: Tracing: Active
        assert configuration["EphemeralStorage"] == {"Size": spec.ephemeral_storage}
    # and Invoke still runs the stack's own function, not moto's
    spec = started.spec.functions["FilterInferencesFunction"]
    event = json.loads((PROJECT_ROOT / "events" / "filter_inferences_pass.json").read_text())
    answer = lam.invoke(FunctionName=spec.name, Payload=json.dumps(event).encode())
    assert json.loads(answer["Payload"].read()) == event


def test_the_bucket_is_configured_as_the_template_says(started):
    s3, bucket = started.s3, started.bucket_name()

    # VersioningConfiguration Enabled: an overwrite keeps the old version, so
    # `aws s3 rb --force` alone fails, as the README's clean-up says
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    for body in (b"first", b"second"):
        put = s3.put_object(Bucket=bucket, Key="versioned/object", Body=body)
    versions = s3.list_object_versions(Bucket=bucket, Prefix="versioned/object")["Versions"]
    assert len(versions) == 2

    # BucketEncryption AES256: each object reports it, as S3 answers
    assert put["ServerSideEncryption"] == "AES256"
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == (
        "AES256"
    )

    # the public access block, the ownership controls and the lifecycle rule read back
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    assert ownership["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    with pytest.raises(s3.exceptions.ClientError) as refused:  # ACLs disabled
        s3.put_object(Bucket=bucket, Key="incoming/shared.png", Body=b"x", ACL="public-read")
    assert refused.value.response["Error"]["Code"] == "AccessControlListNotSupported"
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
