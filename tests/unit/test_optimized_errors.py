"""Optimized DynamoDB, SQS, EventBridge and Step Functions tasks name their errors as AWS's
Java SDK classes
(mlwf.offline.optimized_errors), and the moto internals the patch rewrites are still there."""

from __future__ import annotations

import inspect

from mlwf.offline.optimized_errors import java_error


def test_a_modelled_code_keeps_its_name_and_another_is_the_base_exception():
    assert java_error("dynamodb", "ConditionalCheckFailedException") == (
        "DynamoDB.ConditionalCheckFailedException"
    )
    assert (
        java_error("dynamodb", "ResourceNotFoundException") == "DynamoDB.ResourceNotFoundException"
    )
    # recorded on AWS for a null Item and an invalid table name: a ValidationException
    assert java_error("dynamodb", "ValidationException") == "DynamoDB.AmazonDynamoDBException"
    assert java_error("dynamodb", "AccessDeniedException") == "DynamoDB.AmazonDynamoDBException"


def test_step_functions_names_take_one_exception_suffix():
    assert java_error("stepfunctions", "StateMachineDoesNotExist") == (
        "StepFunctions.StateMachineDoesNotExistException"
    )
    assert java_error("stepfunctions", "ServiceQuotaExceededException") == (
        "StepFunctions.ServiceQuotaExceededException"
    )
    # moto's own naming doubled it: StepFunctions.AccessDeniedExceptionException
    assert java_error("stepfunctions", "AccessDeniedException") == (
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
    # the query API's code for a missing queue is the JSON API's QueueDoesNotExist
    assert java_error("sqs", "AWS.SimpleQueueService.NonExistentQueue") == (
        "SQS.QueueDoesNotExistException"
    )
    assert java_error("sqs", "MissingParameter") == "SQS.AmazonSQSException"  # recorded on AWS


def test_each_modelled_code_takes_one_exception_suffix():
    # the Java SDK's classes: InternalServerErrorException, RequestLimitExceededException
    assert java_error("dynamodb", "InternalServerError") == "DynamoDB.InternalServerErrorException"
    assert java_error("dynamodb", "RequestLimitExceeded") == (
        "DynamoDB.RequestLimitExceededException"
    )
    assert java_error("events", "AccessDeniedException") == "EventBridge.AccessDeniedException"
    assert java_error("events", "Nope") == "EventBridge.AmazonEventBridgeException"
