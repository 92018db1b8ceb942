"""A Map Run's results as Step Functions' ResultWriter lays them out in S3: under
`<Prefix>/<map run id>/`, SUCCEEDED_n.json, FAILED_n.json and PENDING_n.json (each a JSON
array of child executions with their input and output as JSON strings, and their metadata),
and a manifest.json naming them with their sizes; a status with no child has no file
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html).
Written by the offline stack's ResultWriter (mlwf.offline.distributed_map).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mlwf.offline.map_result_formats import encoded, transformed

# AWS starts a new result file past 5 GB (tests pass a smaller size to see several).
RESULT_FILE_MAX_BYTES = 5 * 1024**3
STATUSES = ("SUCCEEDED", "FAILED", "PENDING")


@dataclass
class ChildResult:
    """One child execution of a Map Run, as its result file entry describes it."""

    index: int
    input: Any
    name: str = field(default_factory=lambda: uuid.uuid4().hex)
    status: str = "PENDING"
    output: Any = None
    error: str | None = None
    cause: str | None = None
    start: datetime | None = None
    stop: datetime | None = None
    items: int = 1  # the items it processed: its batch's, else 1
    _arn: str | None = field(default=None, repr=False)

    def arn(self, map_run: Any, express: bool) -> str:
        """Its execution ARN, the same each time it is asked (result files, ListExecutions):
        under the Map Run's state machine ARN, with an EXPRESS child's `express:` and id."""
        if self._arn is None:
            machine = map_run.map_state_machine_arn
            arn = f"{machine.replace(':stateMachine:', ':execution:', 1)}:{self.name}"
            if express:
                arn = arn.replace(":execution:", ":express:", 1) + ":" + str(uuid.uuid4())
            self._arn = arn
        return self._arn

    def entry(self, map_run: Any, express: bool) -> dict[str, Any]:
        """The child as the result files list it (ResultWriter's default NONE
        transformation: the child's input and output as JSON strings, with its metadata)."""
        body: dict[str, Any] = {
            "Input": json.dumps(self.input),
            "InputDetails": {"Included": True},
            "Status": self.status,
        }
        if self.status == "PENDING":  # never started: no execution to name
            return body
        body.update(
            ExecutionArn=self.arn(map_run, express),
            Name=self.name,
            StateMachineArn=map_run.map_state_machine_arn,
            StartDate=_timestamp(self.start),
            StopDate=_timestamp(self.stop),
        )
        if self.status == "SUCCEEDED":
            body["Output"] = json.dumps(self.output)
            body["OutputDetails"] = {"Included": True}
        else:
            body["Error"] = self.error or ""
            body["Cause"] = self.cause or ""
        return body


def _timestamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_results(
    s3_client: Any,
    bucket: str,
    prefix: str,
    map_run: Any,
    children: list[ChildResult],
    express: bool,
    max_bytes: int = RESULT_FILE_MAX_BYTES,
    config: dict[str, str] | None = None,
) -> str:
    """Write the Map Run's result files and manifest as AWS lays them out, each child's
    result as the WriterConfig `config` transforms and formats it
    (mlwf.offline.map_result_formats); the manifest's key."""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    folder = prefix + map_run.map_run_arn.rsplit(":", 1)[-1] + "/"
    files: dict[str, list[dict[str, Any]]] = {status: [] for status in STATUSES}
    transformation = (config or {}).get("Transformation", "NONE")
    output_type = (config or {}).get("OutputType", "JSON")
    for status in STATUSES:
        listed = [c for c in children if _listed_as(c) == status]
        results = transformed(listed, lambda c: c.entry(map_run, express), transformation)
        for number, body in enumerate(encoded(iter(results), output_type, max_bytes)):
            key = f"{folder}{status}_{number}.json"
            s3_client.put_object(Bucket=bucket, Key=key, Body=body)
            files[status].append({"Key": key, "Size": len(body)})
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run.map_run_arn, "ResultFiles": files}
    key = folder + "manifest.json"
    s3_client.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest, indent=2).encode())
    return key


def _listed_as(child: ChildResult) -> str:
    # Timed-out and aborted children are failures in the result files, as in the counts'
    # `failed` of the Map Run's tolerance.
    return child.status if child.status in STATUSES else "FAILED"
