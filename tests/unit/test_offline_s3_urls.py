"""The offline stack loads moto's S3 URL table once instead of twice per request
(mlwf/offline/runtime.py), and routes every request as moto would."""

from __future__ import annotations

import boto3
import moto.s3.models
import pytest

from mlwf.offline.runtime import _s3_url_table_loaded_once
from tests.conftest import REGION


def test_the_pinned_moto_reloads_its_s3_url_table_per_request():
    # What the tuning replaces; if a moto upgrade drops it, the tuning must go too.
    assert isinstance(moto.s3.models.S3Backend.__dict__["_url_module"], property)


def test_s3_works_without_reloading_the_url_table(aws, monkeypatch: pytest.MonkeyPatch):
    reloads = []
    real_reload = moto.s3.models.reload
    monkeypatch.setattr(moto.s3.models, "reload", lambda m: reloads.append(m) or real_reload(m))
    original = moto.s3.models.S3Backend.__dict__["_url_module"]
    s3 = boto3.client("s3", region_name=REGION)

    with _s3_url_table_loaded_once():
        s3.create_bucket(Bucket="tuned-bucket")
        s3.put_object(Bucket="tuned-bucket", Key="a/b.txt", Body=b"hello")
        assert s3.get_object(Bucket="tuned-bucket", Key="a/b.txt")["Body"].read() == b"hello"
        listed = s3.list_objects_v2(Bucket="tuned-bucket", Prefix="a/")["Contents"]
        assert [o["Key"] for o in listed] == ["a/b.txt"]
        assert reloads == []

    # Afterwards moto is as it was, reloading per request again
    assert moto.s3.models.S3Backend.__dict__["_url_module"] is original
    s3.head_object(Bucket="tuned-bucket", Key="a/b.txt")
    assert reloads
