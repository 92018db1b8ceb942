"""Fakes for reading a batch's ResultWriter files: S3 whose bodies stream in small chunks
and log their opening and closing, and result files laid out as AWS documents them
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html)."""

from __future__ import annotations

import io
import json
from typing import Any


class ChunkedBody(io.BytesIO):
    """A streaming body that gives at most `chunk` bytes per read, as a socket may."""

    def __init__(self, data: bytes, chunk: int, log: list[str], name: str):
        super().__init__(data)
        self.chunk, self.log, self.name = chunk, log, name
        log.append(f"open {name}")

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:  # read(): everything, as botocore's StreamingBody
            return super().read()
        return super().read(min(size, self.chunk))

    def close(self) -> None:
        self.log.append(f"close {self.name}")
        super().close()


class FakeS3:
    def __init__(self, objects: dict[str, bytes], chunk: int = 64):
        self.objects, self.chunk, self.log = objects, chunk, []

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803 (boto3's)
        return {"Body": ChunkedBody(self.objects[f"{Bucket}/{Key}"], self.chunk, self.log, Key)}


def entry(status: str, key: str, output: dict[str, Any] | None = None, **extra: Any) -> dict:
    body = {
        "Status": status,
        "Input": json.dumps({"s3_bucket": "b", "s3_key": key, "inference_id": f"run-{key}"}),
        "InputDetails": {"Included": True},
        **extra,
    }
    if output is not None:
        body["Output"] = json.dumps(output)
    return body


def accepted(key: str, confidence: float = 0.97) -> dict[str, Any]:
    output = {
        "s3_key": key,
        "verdict": "ACCEPTED",
        "inferences": [confidence, 1 - confidence],
        "inference_id": f"run-{key}",
    }
    return entry("SUCCEEDED", key, output)


def results(files: dict[str, list[dict[str, Any]]], prefix: str = "r/x/") -> dict[str, bytes]:
    """A manifest and its result files, as the ResultWriter lays them out."""
    objects, listed = {}, {"SUCCEEDED": [], "FAILED": [], "PENDING": []}
    for name, entries in files.items():
        body = json.dumps(entries).encode()
        objects[f"b/{prefix}{name}"] = body
        listed[name.split("_")[0]].append({"Key": prefix + name, "Size": len(body)})
    manifest = {
        "DestinationBucket": "b",
        "MapRunArn": "arn:...:mapRun:m/L:1",
        "ResultFiles": listed,
    }
    objects[f"b/{prefix}manifest.json"] = json.dumps(manifest).encode()
    return objects
