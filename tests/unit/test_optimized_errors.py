"""Optimized DynamoDB and Step Functions tasks name their errors as AWS's Java SDK classes
(mlwf.offline.optimized_errors), and the moto internals the patch rewrites are still there."""

from __future__ import annotations

import inspect

from mlwf.offline.optimized_errors import dynamodb_error, step_functions_error


def test_a_modelled_code_keeps_its_name_and_another_is_the_base_exception():
    assert dynamodb_error("ConditionalCheckFailedException") == (
        "DynamoDB.ConditionalCheckFailedException"
    )
    assert dynamodb_error("ResourceNotFoundException") == "DynamoDB.ResourceNotFoundException"
    # recorded on AWS for a null Item and an invalid table name: a ValidationException
    assert dynamodb_error("ValidationException") == "DynamoDB.AmazonDynamoDBException"
    assert dynamodb_error("AccessDeniedException") == "DynamoDB.AmazonDynamoDBException"


def test_step_functions_names_take_one_exception_suffix():
    assert step_functions_error("StateMachineDoesNotExist") == (
        "StepFunctions.StateMachineDoesNotExistException"
    )
    assert step_functions_error("ServiceQuotaExceededException") == (
        "StepFunctions.ServiceQuotaExceededException"
    )
    # moto's own naming doubled it: StepFunctions.AccessDeniedExceptionException
    assert step_functions_error("AccessDeniedException") == (
        "StepFunctions.AWSStepFunctionsException"
    )


def test_the_pinned_moto_names_each_code_after_itself():
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_dynamodb as dynamodb,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_sfn as sfn,
    )

    dynamodb_source = inspect.getsource(dynamodb.StateTaskServiceDynamoDB)
    assert 'error = f"DynamoDB.{error_code}"' in dynamodb_source
    assert 'f"StepFunctions.{error_code}Exception"' in inspect.getsource(
        sfn.StateTaskServiceSfn._from_error
    )


def test_an_sqs_code_is_named_after_its_shape_and_another_is_the_base_exception():
    from mlwf.offline.optimized_errors import sqs_error

    # the query API's code for a missing queue is the JSON API's QueueDoesNotExist
    assert sqs_error("AWS.SimpleQueueService.NonExistentQueue") == (
        "SQS.QueueDoesNotExistException"
    )
    assert sqs_error("MissingParameter") == "SQS.AmazonSQSException"  # recorded on AWS
