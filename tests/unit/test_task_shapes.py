"""Service tasks' requests, results and error names are shaped as Step Functions shapes them
(mlwf.offline.task_shapes), and the moto internals the patches fill in are still there."""

from __future__ import annotations

import datetime

from mlwf.offline.task_shapes import json_shaped, pascal_service_name


def test_timestamps_and_blobs_become_text_and_the_rest_stays():
    paris = datetime.timezone(datetime.timedelta(hours=1))
    moment = datetime.datetime(2026, 12, 1, 16, 30, 5, 123456, tzinfo=paris)
    answer = {"Item": {"at": moment, "blob": {"B": b"hello"}, "n": 1}, "Tags": [moment, "x"]}
    assert json_shaped(answer) == {
        "Item": {"at": "2026-12-01T15:30:05.123Z", "blob": {"B": "aGVsbG8="}, "n": 1},
        "Tags": ["2026-12-01T15:30:05.123Z", "x"],
    }


def test_service_names_in_pascal_case_as_step_functions_gives_them():
    # supported-services-awssdk.html: AcmPca.ResourceNotFoundException, S3.Bucket...;
    # moto's own bindings: DynamoDb, Sfn
    assert pascal_service_name("ACM PCA") == "AcmPca"
    assert pascal_service_name("S3") == "S3"
    assert pascal_service_name("DynamoDB") == "DynamoDb"
    assert pascal_service_name("SFN") == "Sfn"
    assert pascal_service_name("SSM") == "Ssm"
    assert pascal_service_name("SageMaker") == "SageMaker"
    assert pascal_service_name("EC2") == "Ec2"


def test_the_pinned_moto_leaves_the_hooks_empty_and_has_the_helpers_they_use():
    import inspect

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service as service,
    )

    base = service.StateTaskService
    for hook in ("_normalise_parameters", "_normalise_response"):
        body = inspect.getsource(base.__dict__[hook]).rstrip()
        assert body.endswith("pass"), f"moto now fills {hook}: reconcile task_shapes with it"
    assert callable(base._to_boto_request) and callable(base._from_boto_response)
