"""The label join (mlwf/capture/join.py): a .lst file and its images, each record given
its true label by the image's bytes, its pixels or its inference id.

The records and datasets are built by tests/helpers/capture_files.py."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from mlwf.capture import (
    LabelSet,
    join_labels,
    parse_lst,
    parse_record,
    pixels_sha256,
    read_labels,
)
from tests.helpers.capture_files import (
    BUCKET,
    T0,
    capture_record,
    png_bytes,
    s3_bucket,
    write_dataset,
)
from training_job.errors import MlwfError

# --------------------------------------------------------------------------- labels


def test_parse_lst() -> None:
    text = "1\t0\ta.png\n2\t1.000000\tsub dir/b c.png\n\n3\t1\td.png\n"
    assert parse_lst(text, "x.lst") == [
        ("1", 0, "a.png"),
        ("2", 1, "sub dir/b c.png"),
        ("3", 1, "d.png"),
    ]
    for bad in ("1\tzero\ta.png", "1\t0.5\ta.png", "1\ta.png", "1 0 a.png", "# note"):
        with pytest.raises(MlwfError, match="x.lst:1"):
            parse_lst(bad, "x.lst")
    with pytest.raises(MlwfError, match="lists no images"):
        parse_lst("\n", "x.lst")


def test_join_by_bytes_pixels_and_inference_id(tmp_path: Path) -> None:
    lst, images = write_dataset(tmp_path / "data", [0, 1, 1, 0, 1])
    from PIL import Image

    # Same pixels, different bytes: re-encoded RGBA with another compression level.
    reencoded = io.BytesIO()
    Image.open(io.BytesIO(images[1])).convert("RGBA").save(reencoded, "PNG", compress_level=1)
    assert reencoded.getvalue() != images[1]
    records = [
        capture_record(T0, [0.9, 0.1], images[0]),  # bytes
        capture_record(T0, [0.2, 0.8], reencoded.getvalue()),  # pixels
        capture_record(T0, [0.6, 0.4], b"other", inference_id="test/img_2.png"),  # id: path
        capture_record(T0, [0.6, 0.4], b"other", inference_id="img_3.png"),  # id: file name
        capture_record(T0, [0.6, 0.4], b"other", inference_id="104"),  # id: .lst index
        capture_record(T0, [0.6, 0.4], png_bytes(999)),  # unknown image, no id
        capture_record(T0, [0.6, 0.4], b"other", inference_id="nope.png"),
    ]
    parsed = [parse_record(json.dumps(r), keep_input=True) for r in records]
    labels = read_labels(lst)
    assert labels.missing_images == 0 and labels.images_root == str(tmp_path / "data" / "test")

    join = join_labels(parsed, labels)

    assert join.labels == [0, 1, 1, 0, 1, None, None]
    assert (join.by_sha256, join.by_pixels, join.by_inference_id) == (1, 1, 3)
    assert (join.joined, join.unmatched) == (5, 2)
    assert join.as_dict()["by_decoded_pixels"] == 1

    # Without the request bodies only the exact bytes (and ids) can join.
    bare = [parse_record(json.dumps(r)) for r in records]
    assert join_labels(bare, labels).labels == [0, None, 1, 0, 1, None, None]


def test_labels_with_images_elsewhere_and_missing_images(tmp_path: Path) -> None:
    lst, images = write_dataset(tmp_path / "data", [0, 1, 0])
    moved = tmp_path / "pictures"
    (tmp_path / "data" / "test").rename(moved)
    (moved / "img_2.png").unlink()

    found = read_labels(lst)  # nothing next to the .lst
    assert found.missing_images == 3 and found.by_sha256 == {}

    labels = read_labels(lst, images=moved)
    assert labels.missing_images == 1
    record = parse_record(json.dumps(capture_record(T0, [0.1, 0.9], images[1])))
    assert join_labels([record], labels).labels == [1]

    with pytest.raises(MlwfError, match="images folder not found"):
        read_labels(lst, images=tmp_path / "nope")
    with pytest.raises(MlwfError, match="labels file not found"):
        read_labels(tmp_path / "nope.lst")


def test_images_listed_with_conflicting_labels_do_not_join(tmp_path: Path) -> None:
    image = png_bytes(1)
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "a.png").write_bytes(image)
    (tmp_path / "test" / "b.png").write_bytes(image)
    (tmp_path / "test.lst").write_text("1\t0\ta.png\n2\t1\tb.png\n")
    labels = read_labels(tmp_path / "test.lst")
    assert labels.ambiguous == 2  # the same bytes and the same pixels, labels 0 and 1
    record = parse_record(json.dumps(capture_record(T0, [0.1, 0.9], image)), keep_input=True)
    assert join_labels([record], labels).labels == [None]


def test_pixels_sha256_ignores_encoding_but_not_content() -> None:
    assert pixels_sha256(png_bytes(1)) == pixels_sha256(png_bytes(1, mode="RGBA"))
    assert pixels_sha256(png_bytes(1)) != pixels_sha256(png_bytes(2))
    assert pixels_sha256(b"not an image") is None


def test_labels_and_images_froms3_bucket(aws: None, tmp_path: Path) -> None:
    client = s3_bucket()
    images = [png_bytes(i) for i in range(3)]
    client.put_object(Bucket=BUCKET, Key="dataset/test.lst", Body="1\t0\ta.png\n2\t1\tb.png\n")
    client.put_object(Bucket=BUCKET, Key="dataset/test/a.png", Body=images[0])
    client.put_object(Bucket=BUCKET, Key="dataset/b.png", Body=images[1])  # next to the .lst

    labels = read_labels(f"s3://{BUCKET}/dataset/test.lst", s3_client=client)

    assert isinstance(labels, LabelSet) and labels.missing_images == 0
    records = [parse_record(json.dumps(capture_record(T0, [0.1, 0.9], image))) for image in images]
    assert join_labels(records, labels).labels == [0, 1, None]

    client.put_object(Bucket=BUCKET, Key="pics/b.png", Body=images[1])
    elsewhere = read_labels(
        f"s3://{BUCKET}/dataset/test.lst", images=f"s3://{BUCKET}/pics", s3_client=client
    )
    assert elsewhere.missing_images == 1
    with pytest.raises(MlwfError, match="cannot read labels"):
        read_labels(f"s3://{BUCKET}/dataset/none.lst", s3_client=client)
