"""A DynamoDB table keyed by one string attribute, on demand: what the tests' tasks write to."""

from __future__ import annotations

from typing import Any


def string_keyed_table(dynamodb: Any, name: str, key: str = "id") -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
