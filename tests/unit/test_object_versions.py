"""ListObjectVersions goes on after a version deleted since the page before, so the README's
clean-up empties a versioned bucket in one run (mlwf/offline/object_versions.py)."""

from __future__ import annotations

import boto3
import pytest

from mlwf.offline.object_versions import deleted_versions_keep_their_place
from tests.helpers.paths import REGION

BUCKET = "versions"


def versioned_bucket(marker: bool = True) -> object:
    """Three keys, three versions each, and (with `marker`) a delete marker on one."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for key in ("a.png", "b.png", "c.png"):
        for body in (b"1", b"2", b"3"):
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    if marker:
        s3.delete_object(Bucket=BUCKET, Key="b.png")
    return s3


def entries(s3) -> list[tuple[str, str]]:
    listed = s3.list_object_versions(Bucket=BUCKET)
    return [(e["Key"], e["VersionId"]) for e in listed.get("Versions", [])] + [
        (e["Key"], e["VersionId"]) for e in listed.get("DeleteMarkers", [])
    ]


def empty_as_the_readme_does() -> None:
    """The README's clean-up, with pages of 4 instead of 1,000."""
    boto3.resource("s3", region_name=REGION).Bucket(BUCKET).object_versions.page_size(4).delete()


def test_the_pinned_moto_stops_at_a_deleted_marker(aws):
    s3 = versioned_bucket()
    empty_as_the_readme_does()
    assert len(entries(s3)) == 6  # only the first page went


@pytest.fixture
def in_place(aws):
    with deleted_versions_keep_their_place():
        yield


def test_the_readmes_clean_up_empties_the_bucket_in_one_run(in_place):
    s3 = versioned_bucket()
    assert len(entries(s3)) == 10
    empty_as_the_readme_does()
    assert entries(s3) == []
    s3.delete_bucket(Bucket=BUCKET)  # what `aws s3 rb` does next


def test_a_page_after_a_deleted_marker_starts_where_it_was(in_place):
    # Given a page that ends inside a key's versions, and that page's last entry deleted
    s3 = versioned_bucket(marker=False)
    whole = s3.list_object_versions(Bucket=BUCKET)["Versions"]
    first = s3.list_object_versions(Bucket=BUCKET, MaxKeys=2)
    marker = (first["NextKeyMarker"], first["NextVersionIdMarker"])
    s3.delete_object(Bucket=BUCKET, Key=marker[0], VersionId=marker[1])
    # When the next page is asked for with that marker
    page = s3.list_object_versions(
        Bucket=BUCKET, KeyMarker=marker[0], VersionIdMarker=marker[1], MaxKeys=3
    )
    # Then it holds what came after the deleted version, the first page's other entry not again
    after = [v["VersionId"] for v in whole][2:5]
    assert [v["VersionId"] for v in page["Versions"]] == after


def test_a_marker_left_in_place_is_read_as_before(in_place):
    s3 = versioned_bucket(marker=False)
    whole = s3.list_object_versions(Bucket=BUCKET)["Versions"]
    first = s3.list_object_versions(Bucket=BUCKET, MaxKeys=2)
    page = s3.list_object_versions(
        Bucket=BUCKET,
        KeyMarker=first["NextKeyMarker"],
        VersionIdMarker=first["NextVersionIdMarker"],
        MaxKeys=3,
    )
    assert [v["VersionId"] for v in page["Versions"]] == [v["VersionId"] for v in whole][2:5]
