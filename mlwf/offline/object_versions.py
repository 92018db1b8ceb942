"""ListObjectVersions goes on after a version deleted since the page before, as S3 does.

A page of ListObjectVersions ends with NextKeyMarker and NextVersionIdMarker, the last
version it listed; the next page starts after it ("the version ID marker ... to use in the
subsequent request",
https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html). Emptying a
versioned bucket deletes each page before asking for the next, so that marker names a
version that no longer exists: boto3's `bucket.object_versions.delete()`, the README's
clean-up, does exactly that, and empties buckets of any size on S3. moto looked for the
marker among the versions left, found none, and answered an empty page, not truncated: one
run removed only its first page.

Here a version deleted while the stack runs keeps its place (its key, and the version
listed just before it then): a marker naming it starts the page after that place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest.mock import patch


@contextmanager
def deleted_versions_keep_their_place() -> Iterator[None]:
    """While the block runs, a ListObjectVersions marker naming a deleted version starts the
    page after where that version was."""
    from moto.s3.models import S3Backend

    # (bucket, key, version) -> the version listed just before it when it was deleted (None:
    # it was its key's first), so that its place can be found again
    before: dict[tuple[str, str, str], str | None] = {}
    delete = S3Backend.__dict__["delete_object"]  # KeyError: moto changed; see the test
    listing = S3Backend.__dict__["list_object_versions"]  # KeyError: likewise
    with ExitStack() as stack:
        stack.enter_context(patch.object(S3Backend, "delete_object", _noting(delete, before)))
        stack.enter_context(
            patch.object(S3Backend, "list_object_versions", _after(listing, before))
        )
        yield


def _listed_ids(backend: Any, bucket_name: str, key: str) -> list[str]:
    """The key's version ids in the order moto lists them: newest first, by the millisecond,
    ties in the order they are kept (its list_object_versions' sort)."""
    from moto.core.utils import unix_time_millis

    versions = list(backend.get_bucket(bucket_name).keys.getlist(key, []))
    versions.sort(key=lambda v: -unix_time_millis(v.last_modified))
    return [v.version_id for v in versions]


def _noting(original: Callable[..., Any], before: dict) -> Callable[..., Any]:
    def delete_object(
        backend: Any, bucket_name: str, key_name: str, version_id: str | None = None, **kw: Any
    ) -> Any:
        if version_id:
            ids = _listed_ids(backend, bucket_name, key_name)
            if version_id in ids:
                index = ids.index(version_id)
                before[(bucket_name, key_name, version_id)] = ids[index - 1] if index else None
        return original(backend, bucket_name, key_name, version_id=version_id, **kw)

    return delete_object


def _after(original: Callable[..., Any], before: dict) -> Callable[..., Any]:
    def list_object_versions(backend: Any, bucket_name: str, *args: Any, **kw: Any) -> Any:
        key_marker, marker = kw.get("key_marker"), kw.get("version_id_marker")
        if key_marker and marker and (bucket_name, key_marker, marker) in before:
            left = set(_listed_ids(backend, bucket_name, key_marker))
            # back to the nearest version still there that was listed before it
            while marker is not None and marker not in left:
                marker = before.get((bucket_name, key_marker, marker))
            if marker is None:  # none of its key: the last version of the keys before it
                kw["key_marker"], marker = _last_before(backend, bucket_name, key_marker)
            kw["version_id_marker"] = marker
        return original(backend, bucket_name, *args, **kw)

    return list_object_versions


def _last_before(backend: Any, bucket_name: str, key: str) -> tuple[str | None, str | None]:
    """The last version listed before `key`'s (its key and id), or (None, None) when no
    version comes before: the page then starts at the beginning. (moto's KeyMarker alone
    skips the first version at or after it: a page cannot start at a key's first version.)"""
    keys = backend.get_bucket(bucket_name).keys
    earlier = sorted(name for name, versions in keys.iterlists() if versions and name < key)
    if not earlier:
        return None, None
    return earlier[-1], _listed_ids(backend, bucket_name, earlier[-1])[-1]
