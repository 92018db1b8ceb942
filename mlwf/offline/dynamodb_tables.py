"""DynamoDB's CreateTable refusing a global secondary index whose throughput does not fit the
table's capacity mode, as AWS refuses it and moto did not (found by a user-edit walk on a
template's AWS::DynamoDB::Table, which CloudFormation makes with CreateTable):

- a PROVISIONED table's index without ProvisionedThroughput: "One or more parameter values
  were invalid: ProvisionedThroughput is not specified for index: <index>";
- a PAY_PER_REQUEST table's index with it: "One or more parameter values were invalid:
  ProvisionedThroughput should not be specified for index: <index> when BillingMode is
  PAY_PER_REQUEST".

Both are ValidationExceptions, in the words of a catalogue of measured DynamoDB answers
(the index's throughput "Required if the table's billing mode is PROVISIONED",
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GlobalSecondaryIndex.html).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mlwf.offline.moto_checks import checked_before

INVALID = "One or more parameter values were invalid: "


def index_refusal(billing_mode: str | None, indexes: list[dict[str, Any]] | None) -> str | None:
    """The message for the first index whose throughput does not fit; None when all fit."""
    on_demand = billing_mode == "PAY_PER_REQUEST"
    for index in indexes or []:
        name = index.get("IndexName")
        given = index.get("ProvisionedThroughput") is not None
        if on_demand and given:
            return (
                f"{INVALID}ProvisionedThroughput should not be specified for index: {name} "
                "when BillingMode is PAY_PER_REQUEST"
            )
        if not on_demand and not given:
            return f"{INVALID}ProvisionedThroughput is not specified for index: {name}"
    return None


@contextmanager
def indexes_checked() -> Iterator[None]:
    from moto.dynamodb.exceptions import MockValidationException
    from moto.dynamodb.models import DynamoDBBackend

    def check(given: dict[str, Any]) -> None:
        if refused := index_refusal(given.get("billing_mode"), given.get("global_indexes")):
            raise MockValidationException(refused)

    with checked_before(DynamoDBBackend, "create_table", check):
        yield
