"""Make ``s3://BUCKET/PREFIX/`` hold exactly a local staging, uploading only what changed."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from training_job.dataset.layout import MANIFEST, SPLITS, check_prefix
from training_job.dataset.lst import parse_lst
from training_job.dataset.types import LocalFile, LocalStaging, Log
from training_job.errors import MlwfError

STAGED_BY_KEY, STAGED_BY = "staged-by", "mlwf"  # object metadata marking our uploads
UPLOAD_WORKERS = 8  # below botocore's default pool of 10 connections per client


@dataclass
class UploadReport:
    bucket: str
    prefix: str
    uploaded: int = 0
    skipped: int = 0
    deleted: int = 0
    uploaded_bytes: int = 0

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}/"


def upload(
    s3_client: Any,
    bucket: str,
    prefix: str,
    staging: LocalStaging,
    *,
    replace: bool = False,
    workers: int = UPLOAD_WORKERS,
    progress: bool | None = None,
    log: Log = print,
) -> UploadReport:
    """Make `s3://bucket/prefix/` hold exactly `staging`, uploading only what changed.

    An object is unchanged when its ETag is the local MD5 (true of every single-part upload
    without SSE-KMS, and we only make single-part uploads) or, failing that, when its size
    matches and the `md5` metadata we store on every upload does: one listing answers the
    common case, a HEAD per object only the SSE-KMS case.

    Order of writes: the old manifest and the .lst files about to change are deleted first,
    then images upload in parallel, then the .lst files, then stale objects are deleted, and
    the new manifest is written last: a reader that finds a manifest finds a complete
    dataset, and a failed run leaves none.

    Stale objects (under the prefix, not in `staging`) that an earlier `mlwf stage` wrote
    (named by its .lst files, or carrying our `staged-by` metadata) are deleted: they are
    the previous dataset and would otherwise mix into this one. Any other object is someone
    else's: its presence is an error unless `replace` is set, and nothing is written then.
    """
    from concurrent.futures import ThreadPoolExecutor

    prefix = check_prefix(prefix)
    base = f"{prefix}/"
    report = UploadReport(bucket=bucket, prefix=prefix)
    existing = list_objects(s3_client, bucket, base)
    files = [*staging.images, *staging.lists, staging.manifest_file]
    desired = {base + f.key: f for f in files}

    def unchanged(key: str) -> bool:
        info, local = existing.get(key), desired[key]
        if info is None:
            return False
        etag, size = info
        if etag == local.md5:
            return True
        if size != local.size:
            return False
        head = s3_client.head_object(Bucket=bucket, Key=key)
        return head.get("Metadata", {}).get("md5") == local.md5

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        # Check everything before writing anything.
        stale = sorted(set(existing) - set(desired))
        if stale:
            named = _keys_named_by_old_lists(s3_client, bucket, base, existing)
            unnamed = [key for key in stale if key not in named]
            ours = pool.map(lambda key: _staged_by_us(s3_client, bucket, key), unnamed)
            foreign = [key for key, mine in zip(unnamed, ours, strict=True) if not mine]
            if foreign and not replace:
                raise MlwfError(
                    f"s3://{bucket}/{base} holds {len(foreign)} object(s) that mlwf stage "
                    f"did not write (e.g. {foreign[0]}); pass --replace to delete them "
                    "or choose another --prefix"
                )
        same = dict(zip(desired, pool.map(unchanged, desired), strict=True))
        report.skipped = sum(same.values())
        if not stale and all(same.values()):
            log(f"{report.uri} already holds this dataset: nothing to upload")
            return report

        manifest_key = base + MANIFEST
        list_keys = [base + f.key for f in staging.lists]
        images = [base + f.key for f in staging.images if not same[base + f.key]]
        lists = [key for key in list_keys if not same[key]]

        # 1. Withdraw the completeness marker and the lists that are about to change.
        _delete(s3_client, bucket, [k for k in [manifest_key, *lists] if k in existing])
        if same[manifest_key]:
            report.skipped -= 1  # withdrawn, so uploaded again below

        # 2. Images, in parallel.
        failures = []
        with _progress_bar(len(images), progress) as bar:
            for key, error in pool.map(
                lambda key: _try_put(s3_client, bucket, key, desired[key]), images
            ):
                bar.update(1)
                if error:
                    failures.append((key, error))
        if failures:
            key, error = failures[0]
            raise MlwfError(
                f"{len(failures)} of {len(images)} image uploads failed (first: {key}: "
                f"{error}); s3://{bucket}/{base} is incomplete and has no manifest: "
                "run mlwf stage again"
            )

    # 3. Lists, 4. stale objects, 5. the manifest.
    for key in lists:
        _put(s3_client, bucket, key, desired[key])
    _delete(s3_client, bucket, stale)
    _put(s3_client, bucket, manifest_key, desired[manifest_key])
    written = [*images, *lists, manifest_key]
    report.uploaded = len(written)
    report.uploaded_bytes = sum(desired[key].size for key in written)
    report.deleted = len(stale)
    return report


def _progress_bar(total: int, progress: bool | None) -> Any:
    from tqdm import tqdm

    disable = None if progress is None else not progress  # None: only on a terminal
    return tqdm(total=total, unit="img", desc="upload", disable=disable, leave=False)


def list_objects(s3_client: Any, bucket: str, base: str) -> dict[str, tuple[str, int]]:
    """key -> (ETag without quotes, size) of every object under `base`, except the empty
    "folder" markers the S3 console creates (they hold no data and are left alone)."""
    found = {}
    paginator = s3_client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=base):
        for item in page.get("Contents", []):
            if item["Key"].endswith("/") and int(item["Size"]) == 0:
                continue
            found[item["Key"]] = (item["ETag"].strip('"'), int(item["Size"]))
    return found


def _keys_named_by_old_lists(
    s3_client: Any, bucket: str, base: str, existing: dict[str, tuple[str, int]]
) -> set[str]:
    """Keys an earlier staging created: its .lst files, manifest, and the images they name."""
    owned = {base + MANIFEST}
    for split in SPLITS:
        key = f"{base}{split}.lst"
        if key not in existing:
            continue
        owned.add(key)
        try:
            text = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
            entries = parse_lst(text, f"s3://{bucket}/{key}")
        except (MlwfError, UnicodeDecodeError):
            continue  # an unreadable old list vouches for nothing
        owned.update(f"{base}{split}/{entry.path}" for entry in entries)
    return owned


def _put(s3_client: Any, bucket: str, key: str, local: LocalFile) -> None:
    body = local.path.read_bytes()
    if hashlib.md5(body, usedforsecurity=False).hexdigest() != local.md5:
        raise MlwfError(f"{local.path} changed on disk while staging; run mlwf stage again")
    s3_client.put_object(
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentType=local.content_type,
        ContentMD5=base64.b64encode(bytes.fromhex(local.md5)).decode(),
        Metadata={"md5": local.md5, STAGED_BY_KEY: STAGED_BY},
    )


def _try_put(s3_client: Any, bucket: str, key: str, local: LocalFile) -> tuple[str, str]:
    """(key, "") after a successful upload, (key, error message) after a failed one."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        _put(s3_client, bucket, key, local)
    except (BotoCoreError, ClientError, OSError, MlwfError) as exc:
        return key, str(exc)
    return key, ""


def _staged_by_us(s3_client: Any, bucket: str, key: str) -> bool:
    """Whether `key` carries the metadata every mlwf stage upload has (gone counts as ours)."""
    from botocore.exceptions import ClientError

    try:
        head = s3_client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return True
        raise
    return head.get("Metadata", {}).get(STAGED_BY_KEY) == STAGED_BY


def _delete(s3_client: Any, bucket: str, keys: list[str]) -> None:
    for start in range(0, len(keys), 1000):
        batch = keys[start : start + 1000]
        response = s3_client.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
        )
        errors = response.get("Errors", [])
        if errors:
            first = errors[0]
            raise MlwfError(
                f"could not delete {len(errors)} object(s) from s3://{bucket}/ "
                f"(first: {first.get('Key')}: {first.get('Code')} {first.get('Message', '')})"
            )
