"""The checks CreateStateMachine makes on a Map state's numbers, which moto skips or words its
own way.

moto accepted a ToleratedFailurePercentage of 150 and a MaxConcurrencyPath reading the
context object (`$$.Execution.Input.n`), and refused a negative MaxConcurrency or a literal
with its path beside it in its parser's words ("no viable alternative at input",
"Redefinition of type"). AWS refuses each with SCHEMA_VALIDATION_FAILED:

- a number field and its `...Path` together: "There should only be one of the following
  fields: [MaxItems, MaxItemsPath]";
- a number below 0: "Minimum value is 0" ("Minimum value is 0.0" for the percentage); a
  percentage above 100: "Maximum value is 100.0"; a ReaderConfig's MaxItems above
  100,000,000: "Maximum value is 100000000";
- a `...Path` that reads the context object: "Value is not a Reference Path" (only ItemsPath
  may);
- in a JSONata state, an ItemBatcher's or ReaderConfig's `...Path`: "The QueryLanguage is set
  to 'JSONata', but field 'MaxItemsPerBatchPath' is only supported for the 'JSONPath'
  QueryLanguage" (here at the object holding it).

AWS's answers as measured with `aws stepfunctions validate-state-machine-definition` and
recorded in floci-io/floci#3733; the limits are those of
https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html. Where AWS
locates them was not recorded: here a pair's diagnostic is at the object holding it, a
value's at the field.
"""

from __future__ import annotations

from typing import Any

from mlwf.offline.map_item_readers import CSV_DELIMITERS
from mlwf.offline.map_result_formats import OUTPUT_TYPES, TRANSFORMATIONS

# (object holding the fields, from the Map state; the number fields, with their maximum)
NUMBERS: tuple[tuple[tuple[str, ...], dict[str, float | None]], ...] = (
    ((), {"MaxConcurrency": None, "ToleratedFailureCount": None}),
    ((), {"ToleratedFailurePercentage": 100.0}),
    (("ItemBatcher",), {"MaxItemsPerBatch": None, "MaxInputBytesPerBatch": None}),
    (("ItemReader", "ReaderConfig"), {"MaxItems": 100_000_000}),
)
FRACTIONAL = {"ToleratedFailurePercentage"}  # AWS words its bounds as decimals
ENUMS: tuple[tuple[tuple[str, ...], dict[str, tuple[str, ...]]], ...] = (
    (("ResultWriter", "WriterConfig"), {"Transformation": TRANSFORMATIONS}),
    (("ResultWriter", "WriterConfig"), {"OutputType": OUTPUT_TYPES}),
    (("ItemReader", "ReaderConfig"), {"CSVDelimiter": tuple(CSV_DELIMITERS)}),
)


def map_diagnostics(state: dict[str, Any], at: str, language: str = "JSONPath") -> list[str]:
    """SCHEMA_VALIDATION_FAILED diagnostics for one Map state's number fields."""
    found: list[str] = []
    for where, fields in NUMBERS:
        holder = _holder(state, where)
        if holder is None:
            continue
        place = "/".join((at, *where))
        for field, maximum in fields.items():
            if where and language == "JSONata" and f"{field}Path" in holder:
                # a JSONata state's own ...Path fields are definition_fields' to report
                found.append(
                    _schema(
                        f"The QueryLanguage is set to 'JSONata', but field '{field}Path' is "
                        "only supported for the 'JSONPath' QueryLanguage",
                        place,
                    )
                )
                continue
            found += _number(holder, field, maximum, place)
    return found + _enums(state, at)


def _enums(state: dict[str, Any], at: str) -> list[str]:
    """A WriterConfig's or ReaderConfig's value outside the page's list (the values are
    AWS's, input-output-resultwriter.html and input-output-itemreader.html, as in AWS's own ASL
    schema, aws/amazon-states-language-service map_state.json; the message's words are ours:
    AWS's answer is not recorded). moto's grammar never sees these fields
    (mlwf.offline.map_grammar), so without this any value was taken."""
    found = []
    for where, fields in ENUMS:
        holder = _holder(state, where)
        if holder is None:
            continue
        for field, allowed in fields.items():
            if field in holder and holder[field] not in allowed:
                place = "/".join((at, *where, field))
                found.append(_schema(f"Value is not one of {', '.join(allowed)}", place))
    return found


def _holder(state: dict[str, Any], where: tuple[str, ...]) -> dict[str, Any] | None:
    """The object at that path of keys from the state, None if there is none."""
    holder: Any = state
    for key in where:
        holder = holder.get(key) if isinstance(holder, dict) else None
    return holder if isinstance(holder, dict) else None


def _number(holder: dict[str, Any], field: str, maximum: float | None, place: str) -> list[str]:
    path_field = f"{field}Path"
    found: list[str] = []
    if field in holder and path_field in holder:
        found.append(
            _schema(
                f"There should only be one of the following fields: [{field}, {path_field}]", place
            )
        )
    value = holder.get(field)
    if isinstance(value, int | float) and not isinstance(value, bool):
        fractional = field in FRACTIONAL
        if value < 0:
            found.append(_schema(f"Minimum value is {_shown(0, fractional)}", f"{place}/{field}"))
        elif maximum is not None and value > maximum:
            bound = _shown(maximum, fractional)
            found.append(_schema(f"Maximum value is {bound}", f"{place}/{field}"))
    path = holder.get(path_field)
    if isinstance(path, str) and path.startswith("$$"):
        found.append(_schema("Value is not a Reference Path", f"{place}/{path_field}"))
    return found


def _shown(bound: float, fractional: bool) -> str:
    return f"{float(bound):.1f}" if fractional else str(int(bound))


def _schema(message: str, at: str) -> str:
    return f"SCHEMA_VALIDATION_FAILED: {message} at {at}"
