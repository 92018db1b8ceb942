"""CreateTable refuses an index whose throughput does not fit the table's capacity mode
(mlwf.offline.dynamodb_tables), and the moto method it wraps still takes what it reads."""

from __future__ import annotations

import inspect

from mlwf.offline.dynamodb_tables import index_refusal

INDEX = {"IndexName": "by-key", "KeySchema": [], "Projection": {"ProjectionType": "ALL"}}
THROUGHPUT = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}


def test_a_provisioned_table_s_index_needs_its_throughput():
    assert index_refusal("PROVISIONED", [INDEX]) == (
        "One or more parameter values were invalid: ProvisionedThroughput is not specified "
        "for index: by-key"
    )
    assert index_refusal(None, [INDEX]) is not None  # PROVISIONED is the default
    assert index_refusal("PROVISIONED", [{**INDEX, "ProvisionedThroughput": THROUGHPUT}]) is None


def test_an_on_demand_table_s_index_takes_none():
    assert index_refusal("PAY_PER_REQUEST", [{**INDEX, "ProvisionedThroughput": THROUGHPUT}]) == (
        "One or more parameter values were invalid: ProvisionedThroughput should not be "
        "specified for index: by-key when BillingMode is PAY_PER_REQUEST"
    )
    assert index_refusal("PAY_PER_REQUEST", [INDEX]) is None


def test_the_pinned_moto_create_table_takes_what_the_check_reads():
    from moto.dynamodb.models import DynamoDBBackend

    names = inspect.signature(DynamoDBBackend.create_table).parameters
    assert {"billing_mode", "global_indexes"} <= set(names)
