"""Service tasks' requests, results and error names are shaped as Step Functions shapes them
(mlwf.offline.task_shapes), and the moto internals the patches fill in are still there."""

from __future__ import annotations

import datetime

import pytest

from mlwf.offline.task_shapes import json_shaped


def test_timestamps_and_blobs_become_text_and_the_rest_stays():
    paris = datetime.timezone(datetime.timedelta(hours=1))
    moment = datetime.datetime(2026, 12, 1, 16, 30, 5, 123456, tzinfo=paris)
    answer = {"Item": {"at": moment, "blob": {"B": b"hello"}, "n": 1}, "Tags": [moment, "x"]}
    assert json_shaped(answer) == {
        "Item": {"at": "2026-12-01T15:30:05.123Z", "blob": {"B": "aGVsbG8="}, "n": 1},
        "Tags": ["2026-12-01T15:30:05.123Z", "x"],
    }


def test_the_pinned_moto_leaves_the_hooks_empty_and_has_the_helpers_they_use():
    import importlib
    import inspect

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service as service,
    )

    base = service.StateTaskService
    for hook in ("_normalise_parameters", "_normalise_response"):
        body = inspect.getsource(base.__dict__[hook]).rstrip()
        assert body.endswith("pass"), f"moto now fills {hook}: reconcile task_shapes with it"
    assert callable(base._to_boto_request) and callable(base._from_boto_response)
    # the AWS SDK task's client is made with the name _get_boto_service_name gives
    sdk = importlib.import_module(f"{service.__package__}.state_task_service_aws_sdk")
    source = inspect.getsource(sdk.StateTaskServiceAwsSdk._eval_service_task)
    assert "self._get_boto_service_name()" in source, "reconcile task_shapes.sdk_boto_name"


def test_a_result_key_is_the_members_name_as_the_java_sdk_spells_it():
    from mlwf.offline.task_shapes import sfn_cased

    assert sfn_cased("executionArn") == "ExecutionArn"
    assert sfn_cased("ChecksumCRC32") == "ChecksumCRC32"  # moto: ChecksumCrc32
    # the Java SDK's spelling: as public workflows for AWS read an RDS result
    assert sfn_cased("DBInstances") == "DbInstances"
    assert sfn_cased("MD5OfMessageBody") == "Md5OfMessageBody"


def test_the_pinned_moto_cases_result_keys_through_snake_case():
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service as service,
    )

    assert service.StateTaskService._to_sfn_cased("ChecksumCRC32") == "ChecksumCrc32"


def _put_item_shape():
    import botocore.session

    model = botocore.session.get_session().get_service_model("dynamodb")
    return model.operation_model("PutItem").input_shape


def test_a_null_member_is_left_out_and_a_required_one_fails_as_the_service_fails_it():
    from botocore.exceptions import ClientError

    from mlwf.offline.task_shapes import drop_nulls

    given = {"TableName": "t", "Item": {"id": {"S": "1"}, "gone": None}, "ReturnValues": None}
    drop_nulls(given, _put_item_shape(), "dynamodb", "PutItem")
    assert given == {"TableName": "t", "Item": {"id": {"S": "1"}}}
    with pytest.raises(ClientError) as raised:
        drop_nulls({"TableName": "t", "Item": None}, _put_item_shape(), "dynamodb", "PutItem")
    # Real DynamoDB's words, as recorded (the Java SDK leaves the null Item out)
    assert raised.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "1 validation error detected: Value null at 'item' failed to satisfy "
        "constraint: Member must not be null",
    }


def test_a_null_inside_a_body_the_caller_wrote_is_kept():
    import botocore.session

    from mlwf.offline.task_shapes import drop_nulls

    model = botocore.session.get_session().get_service_model("sqs")
    shape = model.operation_model("SendMessage").input_shape
    given = {"QueueUrl": "q", "MessageBody": {"status": None, "id": 1}, "DelaySeconds": None}
    drop_nulls(given, shape, "sqs", "SendMessage")
    # the string member's JSON keeps its null (it was delivered as {"id": 1})
    assert given == {"QueueUrl": "q", "MessageBody": {"status": None, "id": 1}}
