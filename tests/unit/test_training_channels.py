"""A training job's channels as the offline trainer reads them (mlwf.offline.training_channels):
every image the .lst names, listed with its ETag, and read only when asked."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.helpers.stage_data import BUCKET
from training_job.dataset.lst import format_lst
from training_job.errors import MlwfError

DATA, LST = f"s3://{BUCKET}/dataset/train", f"s3://{BUCKET}/dataset/train_lst"


def put(s3: Any, key: str, body: bytes) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)


@pytest.fixture
def channel_objects(s3: Any) -> Any:
    put(s3, "dataset/train/bike/a.png", b"bicycle a")
    put(s3, "dataset/train/moto/b.png", b"motorcycle b")
    put(s3, "dataset/train/unlisted.png", b"not in the lst")
    # in the .lst's order, not the listing's
    lst = format_lst([(1, 1, "moto/b.png"), (0, 0, "bike/a.png")])
    put(s3, "dataset/train_lst/train.lst", lst.encode())
    return s3


def test_a_channel_is_the_lst_s_images_in_its_order_each_with_its_content_s_etag(
    channel_objects: Any,
) -> None:
    from mlwf.offline.training_channels import read_channel

    channel = read_channel(channel_objects, DATA, LST)

    assert channel.keys == ("dataset/train/moto/b.png", "dataset/train/bike/a.png")
    assert channel.labels == (1, 0)
    # S3's ETag of a single-part upload is its content's MD5: what the model cache keys on
    assert channel.etags == tuple(
        hashlib.md5(body).hexdigest() for body in (b"motorcycle b", b"bicycle a")
    )
    assert channel.images(channel_objects) == [b"motorcycle b", b"bicycle a"]


def test_listing_a_channel_reads_no_image(channel_objects: Any) -> None:
    # Given a client that records what is read
    from mlwf.offline.training_channels import read_channel

    read: list[str] = []
    channel_objects.meta.events.register(
        "provide-client-params.s3.GetObject", lambda params, **_: read.append(params["Key"])
    )
    # When the channel is listed, and then its images read
    channel = read_channel(channel_objects, DATA, LST)
    listed = list(read)
    channel.images(channel_objects)
    # Then listing read the .lst alone; the images only when asked
    assert listed == ["dataset/train_lst/train.lst"]
    assert read[1:] == list(channel.keys)


def test_a_changed_image_has_another_etag(channel_objects: Any) -> None:
    from mlwf.offline.training_channels import read_channel

    before = read_channel(channel_objects, DATA, LST)
    put(channel_objects, "dataset/train/bike/a.png", b"another bicycle")
    after = read_channel(channel_objects, DATA, LST)
    assert before.etags[0] == after.etags[0]
    assert before.etags[1] != after.etags[1]


def test_an_image_the_lst_names_that_is_not_there_is_named(channel_objects: Any) -> None:
    from mlwf.offline.training_channels import read_channel

    channel_objects.delete_object(Bucket=BUCKET, Key="dataset/train/bike/a.png")
    with pytest.raises(MlwfError) as raised:
        read_channel(channel_objects, DATA, LST)
    assert str(raised.value) == (
        f"dataset/train_lst/train.lst: s3://{BUCKET}/dataset/train/bike/a.png is missing"
    )


def test_an_image_gone_after_the_listing_is_named_when_read(channel_objects: Any) -> None:
    from mlwf.offline.training_channels import read_channel

    channel = read_channel(channel_objects, DATA, LST)
    channel_objects.delete_object(Bucket=BUCKET, Key="dataset/train/moto/b.png")
    with pytest.raises(MlwfError, match=r"train\.lst: s3://.*/moto/b\.png is missing"):
        channel.images(channel_objects)


def test_a_channel_with_no_lst_is_refused(s3: Any) -> None:
    from mlwf.offline.training_channels import read_channel

    put(s3, "dataset/train/a.png", b"a")
    with pytest.raises(MlwfError, match=r"^no \.lst file under s3://.*/dataset/train_lst$"):
        read_channel(s3, DATA, LST)
