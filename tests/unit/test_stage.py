"""`mlwf stage` (training_job/stage.py, training_job/dataset/, training_job/cifar.py) under
moto, never the network.

The helpers at the top build tarballs in the real CIFAR-100 python format: pickled dicts
with `filenames`, `batch_label`, `fine_labels`, `coarse_labels` and `data` (N x 3072 uint8,
channel-major, rows of 32 pixels)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import re
import struct
import tarfile
import urllib.error
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError
from PIL import Image

from mlwf.cli import main
from training_job import cifar, stage
from training_job.dataset.classes import CLASS_NAMES
from training_job.dataset.layout import SPLITS
from training_job.dataset.lst import LstEntry, parse_lst, read_lst, read_s3_lst
from training_job.dataset.manifest import read_manifest
from training_job.dataset.sources import load_source
from training_job.dataset.split import split_validation
from training_job.dataset.types import Dataset
from training_job.errors import MlwfError

BUCKET = "stage-test-bucket"
PREFIX = "dataset"
BICYCLE, MOTORCYCLE = 8, 48
# Train: 10 bicycles, 10 motorcycles and 4 of other classes; test: 3 + 3 and 2 others.
TRAIN_LABELS = [BICYCLE, MOTORCYCLE, 3, BICYCLE, MOTORCYCLE, 99] * 2 + [BICYCLE, MOTORCYCLE] * 6
TEST_LABELS = [MOTORCYCLE, 3, BICYCLE, BICYCLE, 12, MOTORCYCLE, BICYCLE, MOTORCYCLE]
ONE_LINE_ERROR = re.compile(r"^mlwf stage: error: .+$")


def quiet(_: str) -> None:
    """A `log` that drops progress lines."""


# --------------------------------------------------------------------------- helpers


def cifar_image(index: int) -> np.ndarray:
    """32x32x3 uint8 whose pixels encode where they are: R = row, G = column, B = index."""
    rows, cols = np.mgrid[0:32, 0:32]
    return np.stack([rows * 8, cols * 8, np.full_like(rows, index * 7 % 256)], -1).astype(np.uint8)


def file_name(fine: int, index: int, split: str = "train") -> str:
    """CIFAR-like and unique across splits, like the real names: test counts from 1000."""
    kind = {BICYCLE: "bicycle", MOTORCYCLE: "motorcycle"}.get(fine, f"class{fine}")
    return f"{kind}_s_{index + (1000 if split == 'test' else 0):06d}.png"


def cifar_batch(
    labels: list[int], *, split: str = "train", bytes_keys: bool = False, **overrides: Any
) -> dict:
    data = np.stack([cifar_image(i).transpose(2, 0, 1).reshape(3072) for i in range(len(labels))])
    batch: dict[Any, Any] = {
        "filenames": [file_name(f, i, split) for i, f in enumerate(labels)],
        "batch_label": "training batch 1 of 1",
        "fine_labels": list(labels),
        "coarse_labels": [f // 5 for f in labels],
        "data": data,
    }
    batch.update(overrides)
    if bytes_keys:  # what pickle.load(encoding="bytes") style files carry
        batch = {k.encode(): v for k, v in batch.items()}
        batch[b"filenames"] = [n.encode() for n in batch[b"filenames"]]
    return batch


def write_tarball(
    path: Path,
    train: dict | bytes | None = None,
    test: dict | bytes | None = None,
    *,
    protocol: int = 2,
) -> Path:
    """A gzipped tar with cifar-100-python/{train,test,meta}; dicts are pickled as given."""
    members = {
        "cifar-100-python/train": cifar_batch(TRAIN_LABELS) if train is None else train,
        "cifar-100-python/test": cifar_batch(TEST_LABELS, split="test") if test is None else test,
        "cifar-100-python/meta": {"fine_label_names": [], "coarse_label_names": []},
    }
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            raw = content if isinstance(content, bytes) else pickle.dumps(content, protocol)
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    return path


@pytest.fixture
def tarball(tmp_path: Path) -> Path:
    return write_tarball(tmp_path / "cifar-100-python.tar.gz")


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


def keys(client: Any, prefix: str = PREFIX) -> set[str]:
    paginator = client.get_paginator("list_objects_v2")
    return {
        item["Key"]
        for page in paginator.paginate(Bucket=BUCKET, Prefix=f"{prefix}/")
        for item in page.get("Contents", [])
    }


def read_object(client: Any, key: str) -> bytes:
    return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def decode_png(raw: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(raw)) as image:
        assert image.format == "PNG"
        assert image.mode == "RGB"
        assert image.size == (32, 32)
        return np.asarray(image)


def cli(*argv: str) -> int:
    return main(["stage", *argv])


class RecordingS3:
    """A boto3 S3 client that records writes in order and can fail chosen puts."""

    def __init__(self, client: Any, fail: Callable[[str], bool] = lambda key: False):
        self._client = client
        self._fail = fail
        self.puts: list[str] = []
        self.deletes: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_object(self, **kwargs: Any) -> Any:
        if self._fail(kwargs["Key"]):
            raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "PutObject")
        self.puts.append(kwargs["Key"])
        return self._client.put_object(**kwargs)

    def delete_objects(self, **kwargs: Any) -> Any:
        self.deletes.extend(o["Key"] for o in kwargs["Delete"]["Objects"])
        return self._client.delete_objects(**kwargs)


# --------------------------------------------------------------------------- tarball


def test_cli_stages_a_tarball_end_to_end(
    s3: Any, tarball: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "work"
    rc = cli("--source", str(tarball), "--no-verify", "--bucket", BUCKET, "--work-dir", str(work))
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert err == ""

    train_names = [file_name(f, i) for i, f in enumerate(TRAIN_LABELS) if f in (8, 48)]
    test_names = [file_name(f, i, "test") for i, f in enumerate(TEST_LABELS) if f in (8, 48)]
    manifest = json.loads(read_object(s3, f"{PREFIX}/manifest.json"))
    assert manifest["format"] == "mlwf-dataset/1"
    assert manifest["num_training_samples"] == 18
    assert manifest["classes"] == ["bicycle", "motorcycle"]
    assert {name: s["classes"] for name, s in manifest["splits"].items()} == {
        "train": {"bicycle": 9, "motorcycle": 9},
        "validation": {"bicycle": 1, "motorcycle": 1},
        "test": {"bicycle": 3, "motorcycle": 3},
    }
    assert manifest["source"] == {
        "kind": "tarball",
        "location": tarball.name,
        "md5": cifar.file_md5(tarball),
    }
    assert (manifest["seed"], manifest["validation_fraction"]) == (0, 0.1)

    staged = {split: [e.path for e in read_s3_lst(s3, BUCKET, PREFIX, split)] for split in SPLITS}
    assert sorted(staged["train"] + staged["validation"]) == sorted(train_names)
    assert staged["test"] == test_names  # held out, in source order
    assert keys(s3) == {f"{PREFIX}/{s}/{n}" for s, names in staged.items() for n in names} | {
        f"{PREFIX}/train.lst",
        f"{PREFIX}/validation.lst",
        f"{PREFIX}/test.lst",
        f"{PREFIX}/manifest.json",
    }
    # The local work dir mirrors S3 byte for byte.
    for key in keys(s3):
        assert (work / key.removeprefix(f"{PREFIX}/")).read_bytes() == read_object(s3, key)

    assert "uploaded 30, skipped 0" in out  # 26 images + 3 lists + manifest
    assert re.search(r"train\s+9\s+9\s+18", out)
    assert re.search(r"validation\s+1\s+1\s+2", out)
    assert re.search(r"test\s+3\s+3\s+6", out)
    assert f"s3://{BUCKET}/{PREFIX}/" in out


def test_lst_files_are_exact(s3: Any, tarball: Path) -> None:
    stage.stage(tarball, verify=False, s3_client=s3, bucket=BUCKET, log=quiet)
    for split in SPLITS:
        text = read_object(s3, f"{PREFIX}/{split}.lst").decode()
        assert text.endswith("\n") and "\r" not in text
        for line in text.splitlines():
            index, label, path = line.split("\t")
            assert re.fullmatch(r"(bicycle|motorcycle)_s_\d{6}\.png", path)
            source_labels = TEST_LABELS if split == "test" else TRAIN_LABELS
            # The index is the image's position in its CIFAR pickle; 8 -> 0, 48 -> 1.
            assert path == file_name(source_labels[int(index)], int(index), split)
            assert label == {BICYCLE: "0", MOTORCYCLE: "1"}[source_labels[int(index)]]
            assert label == ("0" if path.startswith("bicycle") else "1")


def test_pngs_keep_the_cifar_pixel_layout(s3: Any, tarball: Path) -> None:
    stage.stage(tarball, verify=False, s3_client=s3, bucket=BUCKET, log=quiet)
    images = [k for k in keys(s3) if k.endswith(".png")]
    assert len(images) == 26
    for key in images:
        index = int(key.rsplit("_", 1)[1].removesuffix(".png")) % 1000
        pixels = decode_png(read_object(s3, key))
        np.testing.assert_array_equal(pixels, cifar_image(index))  # channel-major -> HWC


def test_reading_accepts_bytes_keys_and_newer_pickle_protocols(tmp_path: Path) -> None:
    path = write_tarball(
        tmp_path / "bytes.tar.gz",
        train=cifar_batch(TRAIN_LABELS, bytes_keys=True),
        test=cifar_batch(TEST_LABELS, split="test", bytes_keys=True),
        protocol=5,
    )
    dataset = load_source(path, verify=False, log=quiet)
    assert dataset.counts() == {
        "train": {"bicycle": 10, "motorcycle": 10},
        "test": {"bicycle": 3, "motorcycle": 3},
    }
    assert dataset.splits["test"].names[0] == "motorcycle_s_001000.png"


def python2_pickle(batch: dict) -> bytes:
    """A pickle as Python 2 with numpy 1 wrote the official files: protocol 2, `str` as
    SHORT_BINSTRING/BINSTRING, arrays through numpy.core.multiarray._reconstruct."""

    def text(value: str) -> bytes:
        raw = value.encode("latin1")
        return b"U" + bytes([len(raw)]) + raw

    def integer(value: int) -> bytes:
        return b"J" + struct.pack("<i", value)

    def array(values: np.ndarray) -> bytes:
        raw = np.ascontiguousarray(values, np.uint8).tobytes()
        shape = b"(" + b"".join(integer(d) for d in values.shape) + b"t"
        dtype = (
            b"cnumpy\ndtype\n" + text("u1") + b"K\x00K\x01\x87R"
            b"(K\x03" + text("|") + b"NNN" + integer(-1) + integer(-1) + b"K\x00tb"
        )
        return (
            b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85"
            + text("b")
            + b"\x87R(K\x01"
            + shape
            + dtype
            + b"\x89T"
            + struct.pack("<i", len(raw))
            + raw
            + b"tb"
        )

    out = b"\x80\x02}("
    for key, value in batch.items():
        out += text(key)
        if isinstance(value, np.ndarray):
            out += array(value)
        elif isinstance(value, str):
            out += text(value)
        elif all(isinstance(v, str) for v in value):
            out += b"](" + b"".join(text(v) for v in value) + b"e"
        else:
            out += b"](" + b"".join(integer(v) for v in value) + b"e"
    return out + b"u."


def test_reads_python2_numpy1_pickles_like_the_official_file(tmp_path: Path) -> None:
    train, test = cifar_batch(TRAIN_LABELS), cifar_batch(TEST_LABELS, split="test")
    path = write_tarball(tmp_path / "py2.tar.gz", python2_pickle(train), python2_pickle(test))
    assert pickle.loads(python2_pickle(test), encoding="latin1")["filenames"] == test["filenames"]

    dataset = load_source(path, verify=False, log=quiet)
    assert dataset.counts()["train"] == {"bicycle": 10, "motorcycle": 10}
    split = dataset.splits["train"]
    assert split.names[:2] == ("bicycle_s_000000.png", "motorcycle_s_000001.png")
    assert split.ids.tolist()[:3] == [0, 1, 3]  # position in the pickle; 2 is class 3
    np.testing.assert_array_equal(split.images[2], cifar_image(3))


def test_a_pickle_that_would_run_code_is_refused(tmp_path: Path) -> None:
    class Exploit:
        def __reduce__(self) -> tuple:
            return (os.system, ("echo pwned",))

    path = write_tarball(tmp_path / "evil.tar.gz", train=pickle.dumps({"data": Exploit()}))
    with pytest.raises(MlwfError, match=r"refusing to load (posix|nt)\.system"):
        load_source(path, verify=False, log=quiet)


# --------------------------------------------------------------------------- validation split


def test_validation_split_is_stratified_seeded_and_keeps_test(tarball: Path) -> None:
    dataset = load_source(tarball, verify=False, log=quiet)
    first = split_validation(dataset, fraction=0.2, seed=5)
    again = split_validation(dataset, fraction=0.2, seed=5)
    other = split_validation(dataset, fraction=0.2, seed=6)

    assert first.counts() == {
        "train": {"bicycle": 8, "motorcycle": 8},
        "validation": {"bicycle": 2, "motorcycle": 2},
        "test": {"bicycle": 3, "motorcycle": 3},
    }
    assert first.splits["validation"].names == again.splits["validation"].names
    assert first.splits["validation"].names != other.splits["validation"].names
    train, validation = set(first.splits["train"].names), set(first.splits["validation"].names)
    assert not train & validation
    assert train | validation == set(dataset.splits["train"].names)
    # Every image keeps its label, pixels and lst index wherever it lands.
    original = dataset.splits["train"]
    for split in (first.splits["train"], first.splits["validation"]):
        for row, name in enumerate(split.names):
            source_row = original.names.index(name)
            assert split.labels[row] == original.labels[source_row]
            assert split.ids[row] == original.ids[source_row]
            np.testing.assert_array_equal(split.images[row], original.images[source_row])
    assert first.splits["test"] is dataset.splits["test"]
    assert (first.seed, first.validation_fraction) == (5, 0.2)


def test_validation_split_does_not_depend_on_input_order(tarball: Path) -> None:
    dataset = load_source(tarball, verify=False, log=quiet)
    train = dataset.splits["train"]
    shuffled = Dataset(
        splits={**dataset.splits, "train": train.take(np.random.default_rng(1).permutation(20))},
        source=dataset.source,
    )
    a = split_validation(dataset, 0.3, seed=2).splits["validation"].names
    b = split_validation(shuffled, 0.3, seed=2).splits["validation"].names
    assert sorted(a) == sorted(b)


@pytest.mark.parametrize(
    ("fraction", "per_class"), [(0.1, 1), (0.01, 1), (0.25, 3), (0.5, 5), (0.99, 9)]
)
def test_each_class_keeps_images_on_both_sides(tarball: Path, fraction: float, per_class: int):
    dataset = load_source(tarball, verify=False, log=quiet)
    split = split_validation(dataset, fraction, seed=0)
    assert split.counts()["validation"] == {"bicycle": per_class, "motorcycle": per_class}


@pytest.mark.parametrize("fraction", ["0", "1", "-0.1", "1.5", "nan"])
def test_a_bad_validation_fraction_is_refused(
    s3: Any, tarball: Path, fraction: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = cli(
        "--source",
        str(tarball),
        "--no-verify",
        "--bucket",
        BUCKET,
        "--validation-fraction",
        fraction,
    )
    err = capsys.readouterr().err
    assert rc == 1
    assert ONE_LINE_ERROR.match(err.strip()) and "--validation-fraction" in err
    assert keys(s3) == set()


# --------------------------------------------------------------------------- S3 behaviour


def test_restaging_the_same_data_uploads_nothing(
    s3: Any, tarball: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("--source", str(tarball), "--no-verify", "--bucket", BUCKET)
    assert cli(*argv) == 0
    before = {k: s3.head_object(Bucket=BUCKET, Key=k)["ETag"] for k in keys(s3)}
    capsys.readouterr()

    recorder = RecordingS3(s3)
    result = stage.stage(tarball, verify=False, s3_client=recorder, bucket=BUCKET, log=quiet)
    assert result.report is not None
    assert (result.report.uploaded, result.report.skipped, result.report.deleted) == (0, 30, 0)
    assert recorder.puts == [] and recorder.deletes == []

    assert cli(*argv) == 0
    assert "uploaded 0, skipped 30" in capsys.readouterr().out
    assert {k: s3.head_object(Bucket=BUCKET, Key=k)["ETag"] for k in keys(s3)} == before


def test_an_object_overwritten_by_hand_is_uploaded_again(s3: Any, tarball: Path) -> None:
    stage.stage(tarball, verify=False, s3_client=s3, bucket=BUCKET, log=quiet)
    victim = f"{PREFIX}/test/bicycle_s_001002.png"
    original = read_object(s3, victim)
    s3.put_object(Bucket=BUCKET, Key=victim, Body=b"not a png")

    recorder = RecordingS3(s3)
    report = stage.stage(tarball, verify=False, s3_client=recorder, bucket=BUCKET, log=quiet).report
    assert recorder.puts == [victim, f"{PREFIX}/manifest.json"]
    assert (report.uploaded, report.skipped) == (2, 28)
    assert read_object(s3, victim) == original


def test_skips_by_stored_md5_when_the_etag_is_not_one(s3: Any, tarball: Path) -> None:
    """SSE-KMS buckets return ETags that are not MD5s: the md5 metadata decides then."""
    stage.stage(tarball, verify=False, s3_client=s3, bucket=BUCKET, log=quiet)

    class KmsLikeS3(RecordingS3):
        def get_paginator(self, name: str) -> Any:
            real = self._client.get_paginator(name)

            class Paginator:
                def paginate(self, **kwargs: Any) -> Any:
                    for page in real.paginate(**kwargs):
                        for item in page.get("Contents", []):
                            item["ETag"] = '"' + "f" * 32 + '"'
                        yield page

            return Paginator()

    recorder = KmsLikeS3(s3)
    report = stage.stage(tarball, verify=False, s3_client=recorder, bucket=BUCKET, log=quiet).report
    assert (report.uploaded, report.skipped) == (0, 30)
    assert recorder.puts == [] and recorder.deletes == []

    victim = f"{PREFIX}/train.lst"
    s3.put_object(Bucket=BUCKET, Key=victim, Body=read_object(s3, victim).replace(b"\t", b" "))
    report = stage.stage(tarball, verify=False, s3_client=recorder, bucket=BUCKET, log=quiet).report
    assert recorder.puts == [victim, f"{PREFIX}/manifest.json"]
    assert (report.uploaded, report.skipped) == (2, 28)


def test_lists_go_after_images_and_the_manifest_last(s3: Any, tarball: Path) -> None:
    recorder = RecordingS3(s3)
    stage.stage(tarball, verify=False, s3_client=recorder, bucket=BUCKET, log=quiet)
    kinds = ["png" if k.endswith(".png") else k.rsplit("/", 1)[1] for k in recorder.puts]
    assert kinds[:26] == ["png"] * 26
    assert sorted(kinds[26:29]) == ["test.lst", "train.lst", "validation.lst"]
    assert kinds[29:] == ["manifest.json"]


def test_a_failed_upload_is_never_reported_complete(s3: Any, tarball: Path) -> None:
    # A complete staging of another dataset is there first: its manifest must go.
    stage.stage("synthetic", count=3, test_count=1, s3_client=s3, bucket=BUCKET, log=quiet)
    assert f"{PREFIX}/manifest.json" in keys(s3)

    failing = RecordingS3(s3, fail=lambda key: key.endswith("motorcycle_s_000004.png"))
    with pytest.raises(MlwfError, match=r"1 of 26 image uploads failed .*no manifest"):
        stage.stage(tarball, verify=False, s3_client=failing, bucket=BUCKET, log=quiet)
    left = keys(s3)
    # No manifest and no lists: the old ones were withdrawn, the new ones never written.
    assert not any(k.endswith((".json", ".lst")) for k in left)
    assert len([k for k in left if "synthetic" in k]) == 8  # old images: deleted only at the end
    assert len(left) == 8 + 25
    with pytest.raises(MlwfError, match="run mlwf stage first"):
        read_manifest(s3, BUCKET, PREFIX)

    # Running again finishes the job, uploading only what is missing, and still knows the
    # old images (no list names them any more) as its own through their metadata.
    recorder = RecordingS3(s3)
    report = stage.stage(tarball, verify=False, s3_client=recorder, bucket=BUCKET, log=quiet).report
    assert report.uploaded == 1 + 3 + 1  # the failed image, the lists, the manifest
    assert report.skipped == 25
    assert report.deleted == 8
    assert not any("synthetic" in k for k in keys(s3))
    assert read_manifest(s3, BUCKET, PREFIX)["num_training_samples"] == 18


def test_restaging_different_data_replaces_what_mlwf_staged(s3: Any) -> None:
    first = stage.stage(
        "synthetic", seed=1, count=4, test_count=2, s3_client=s3, bucket=BUCKET, log=quiet
    )
    second = stage.stage(
        "synthetic", seed=2, count=4, test_count=2, s3_client=s3, bucket=BUCKET, log=quiet
    )
    assert first.report.uploaded == 12 + 4
    assert second.report.deleted == 12  # every image of seed 1 (the lists were rewritten)
    assert all("_s2_" in k for k in keys(s3) if k.endswith(".png"))
    assert len(keys(s3)) == 12 + 4
    assert read_manifest(s3, BUCKET, PREFIX)["source"]["seed"] == 2


def test_foreign_objects_under_the_prefix_need_replace(
    s3: Any, tarball: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/train/someone-elses.png", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key="elsewhere/keep.txt", Body=b"x")
    argv = ("--source", str(tarball), "--no-verify", "--bucket", BUCKET)

    assert cli(*argv) == 1
    err = capsys.readouterr().err
    assert ONE_LINE_ERROR.match(err.strip())
    assert "1 object(s) that mlwf stage did not write" in err
    assert "--replace" in err and "someone-elses.png" in err
    assert keys(s3) == {f"{PREFIX}/train/someone-elses.png"}  # nothing was uploaded

    assert cli(*argv, "--replace") == 0
    assert f"{PREFIX}/train/someone-elses.png" not in keys(s3)
    assert "deleted 1 (stale)" in capsys.readouterr().out
    assert keys(s3, "elsewhere") == {"elsewhere/keep.txt"}  # outside the prefix: untouched


def test_console_folder_markers_are_left_alone(s3: Any, tarball: Path) -> None:
    for marker in (f"{PREFIX}/", f"{PREFIX}/train/"):
        s3.put_object(Bucket=BUCKET, Key=marker, Body=b"")
    report = stage.stage(tarball, verify=False, s3_client=s3, bucket=BUCKET, log=quiet).report
    assert (report.uploaded, report.deleted) == (30, 0)
    assert {f"{PREFIX}/", f"{PREFIX}/train/"} <= keys(s3)


def test_a_missing_bucket_fails_before_any_work(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = cli("--source", str(tmp_path / "missing.tar.gz"), "--bucket", "no-such-bucket-here")
    assert rc == 1
    assert capsys.readouterr().err.strip() == (
        "mlwf stage: error: bucket no-such-bucket-here does not exist"
    )


def test_read_manifest_says_to_stage_first(s3: Any) -> None:
    with pytest.raises(MlwfError, match="run mlwf stage first"):
        read_manifest(s3, BUCKET, PREFIX)
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/manifest.json", Body=b"{not json")
    with pytest.raises(MlwfError, match="not valid JSON"):
        read_manifest(s3, BUCKET, PREFIX)


def test_an_empty_prefix_is_refused(s3: Any, tarball: Path) -> None:
    with pytest.raises(MlwfError, match="--prefix must not be empty"):
        stage.stage(tarball, verify=False, s3_client=s3, bucket=BUCKET, prefix="/", log=quiet)


# --------------------------------------------------------------------------- bad input


def truncated(tmp_path: Path, tarball: Path) -> Path:
    raw = tarball.read_bytes()
    path = tmp_path / "truncated.tar.gz"
    path.write_bytes(raw[: len(raw) // 2])
    return path


def corrupt_gzip(tmp_path: Path, tarball: Path) -> Path:
    raw = bytearray(tarball.read_bytes())
    raw[40:240] = bytes(200)  # the deflate stream, not the header
    path = tmp_path / "corrupt.tar.gz"
    path.write_bytes(bytes(raw))
    return path


def not_gzip(tmp_path: Path, tarball: Path) -> Path:
    path = tmp_path / "random.tar.gz"
    path.write_bytes(np.random.default_rng(0).bytes(5000))
    return path


def missing_keys(tmp_path: Path, tarball: Path) -> Path:
    batch = cifar_batch(TRAIN_LABELS)
    del batch["fine_labels"]
    return write_tarball(tmp_path / "nokeys.tar.gz", train=batch)


def no_two_labels(tmp_path: Path, tarball: Path) -> Path:
    return write_tarball(tmp_path / "others.tar.gz", train=cifar_batch([1, 2, 3, 4, 5]))


def only_bicycles_in_test(tmp_path: Path, tarball: Path) -> Path:
    return write_tarball(tmp_path / "bikes.tar.gz", test=cifar_batch([8, 8, 3], split="test"))


def wrong_data_shape(tmp_path: Path, tarball: Path) -> Path:
    batch = cifar_batch(TRAIN_LABELS, data=np.zeros((24, 1024), dtype=np.uint8))
    return write_tarball(tmp_path / "shape.tar.gz", train=batch)


def mismatched_lengths(tmp_path: Path, tarball: Path) -> Path:
    batch = cifar_batch(TRAIN_LABELS)
    batch["filenames"] = batch["filenames"][:-1]
    return write_tarball(tmp_path / "lengths.tar.gz", train=batch)


def missing_member(tmp_path: Path, tarball: Path) -> Path:
    path = tmp_path / "nomember.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("cifar-100-python/train")
        raw = pickle.dumps(cifar_batch(TRAIN_LABELS))
        info.size = len(raw)
        archive.addfile(info, io.BytesIO(raw))
    return path


def garbage_pickle(tmp_path: Path, tarball: Path) -> Path:
    return write_tarball(tmp_path / "garbage.tar.gz", train=b"\x80\x02garbage that is no pickle")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (truncated, r"not a readable CIFAR-100 tarball"),
        (corrupt_gzip, r"not a readable CIFAR-100 tarball"),
        (not_gzip, r"not a readable CIFAR-100 tarball"),
        (missing_keys, r"cifar-100-python/train: missing key\(s\) fine_labels$"),
        (no_two_labels, r"train has no images of label 8 \(bicycle\)$"),
        (only_bicycles_in_test, r"test has no images of label 48 \(motorcycle\)$"),
        (wrong_data_shape, r"data has shape \(24, 1024\), expected \(N, 3072\)$"),
        (mismatched_lengths, r"24 images but 24 fine_labels and 23 filenames$"),
        (missing_member, r"no member cifar-100-python/test;"),
        (garbage_pickle, r"cifar-100-python/train: not a readable pickle"),
    ],
)
def test_bad_tarballs_fail_with_one_line_and_upload_nothing(
    s3: Any,
    tmp_path: Path,
    tarball: Path,
    make: Callable[[Path, Path], Path],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = make(tmp_path, tarball)
    rc = cli("--source", str(path), "--no-verify", "--bucket", BUCKET)
    out, err = capsys.readouterr()
    assert rc == 1
    assert ONE_LINE_ERROR.match(err.strip()), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert re.search(message, err.strip()), err
    assert "uploaded" not in out
    assert keys(s3) == set()


def test_checksum_mismatch_without_no_verify(
    s3: Any, tarball: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("--source", str(tarball), "--bucket", BUCKET) == 1
    err = capsys.readouterr().err.strip()
    assert ONE_LINE_ERROR.match(err)
    assert f"md5 {cifar.file_md5(tarball)} does not match" in err
    assert cifar.CIFAR100_MD5 in err and "--no-verify" in err
    assert keys(s3) == set()


def staged_dir(tmp_path: Path, tarball: Path) -> Path:
    """A staged directory written by `mlwf stage` itself, from the test tarball."""
    work = tmp_path / "staged"
    stage.stage(tarball, verify=False, work_dir=work, log=quiet)
    return work


def lst_names_missing_file(tmp_path: Path, tarball: Path) -> Path:
    work = staged_dir(tmp_path, tarball)
    (work / "test" / "bicycle_s_001002.png").unlink()
    return work


def unreadable_image(tmp_path: Path, tarball: Path) -> Path:
    work = staged_dir(tmp_path, tarball)
    (work / "train" / sorted(os.listdir(work / "train"))[0]).write_bytes(b"\x89PNG broken")
    return work


def empty_dir(tmp_path: Path, tarball: Path) -> Path:
    path = tmp_path / "empty"
    path.mkdir()
    return path


def bad_lst_line(tmp_path: Path, tarball: Path) -> Path:
    work = staged_dir(tmp_path, tarball)
    with open(work / "test.lst", "a") as handle:
        handle.write("7 1 bicycle_s_001002.png\n")  # spaces, not tabs
    return work


def bad_label(tmp_path: Path, tarball: Path) -> Path:
    work = staged_dir(tmp_path, tarball)
    text = (work / "test.lst").read_text().replace("\t1\t", "\t5\t", 1)
    (work / "test.lst").write_text(text)
    return work


def escaping_path(tmp_path: Path, tarball: Path) -> Path:
    work = staged_dir(tmp_path, tarball)
    with open(work / "test.lst", "a") as handle:
        handle.write("999\t1\t../../etc/passwd\n")
    return work


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lst_names_missing_file, r"test\.lst: names missing file bicycle_s_001002\.png"),
        (unreadable_image, r"\.png: not a readable image"),
        (empty_dir, r"not a staged dataset directory: no train\.lst or test\.lst"),
        (bad_lst_line, r"test\.lst:7: expected index<TAB>label<TAB>path, found 1 field"),
        (bad_label, r"label 5 for .*expected 0 \(bicycle\) or 1 \(motorcycle\)"),
        (escaping_path, r"must be a relative path inside"),
    ],
)
def test_bad_directories_fail_with_one_line_and_upload_nothing(
    s3: Any,
    tmp_path: Path,
    tarball: Path,
    make: Callable[[Path, Path], Path],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = make(tmp_path, tarball)
    capsys.readouterr()
    rc = cli("--source", str(path), "--bucket", BUCKET)
    out, err = capsys.readouterr()
    assert rc == 1
    assert ONE_LINE_ERROR.match(err.strip()), err
    assert len(err.strip().splitlines()) == 1
    assert re.search(message, err.strip()), err
    assert "uploaded" not in out
    assert keys(s3) == set()


def test_an_image_listed_in_two_splits_is_refused(tmp_path: Path, tarball: Path) -> None:
    work = staged_dir(tmp_path, tarball)
    shared = work / "shared.png"
    shared.write_bytes((work / "train" / "bicycle_s_000000.png").read_bytes())
    with open(work / "test.lst", "a") as handle:
        handle.write("998\t0\tshared.png\n")
    with open(work / "train.lst", "a") as handle:
        handle.write("998\t0\tshared.png\n")
    with pytest.raises(MlwfError, match=r"shared\.png is also listed in train\.lst"):
        load_source(work, log=quiet)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--source", "nowhere/at/all"], r"--source nowhere/at/all: no such file or directory"),
        (["--source", "synthetic", "--count", "1"], r"--count must be at least 2"),
        (["--source", "synthetic", "--seed", "-1"], r"--seed must be >= 0"),
        (["--source", "cifar100", "--count", "5"], r"apply to --source synthetic only"),
        (["--source", "synthetic", "--no-upload"], r"--no-upload needs --work-dir"),
    ],
)
def test_bad_options_fail_with_one_line(
    s3: Any, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(*argv, "--bucket", BUCKET) == 1
    err = capsys.readouterr().err.strip()
    assert ONE_LINE_ERROR.match(err) and re.search(message, err), err
    assert keys(s3) == set()


def test_parse_lst_rejects_duplicates_and_accepts_float_labels() -> None:
    assert parse_lst("3\t1.000000\ta.png\n\n4\t0\tb.png\r\n") == [
        LstEntry(3, 1, "a.png"),
        LstEntry(4, 0, "b.png"),
    ]
    with pytest.raises(MlwfError, match=r"x\.lst:2: index 3 appears twice"):
        parse_lst("3\t1\ta.png\n3\t0\tb.png\n", "x.lst")
    with pytest.raises(MlwfError, match=r"x\.lst:2: a\.png appears twice"):
        parse_lst("3\t1\ta.png\n4\t0\ta.png\n", "x.lst")
    with pytest.raises(MlwfError, match=r"x\.lst:1: index and label must be numbers"):
        parse_lst("three\t1\ta.png\n", "x.lst")


# --------------------------------------------------------------------------- directory source


def test_restaging_a_staged_directory_reproduces_the_split(tmp_path: Path, tarball: Path) -> None:
    first = stage.stage(
        tarball, verify=False, work_dir=tmp_path / "a", seed=4, validation_fraction=0.3, log=quiet
    )
    again = stage.stage(
        tmp_path / "a", work_dir=tmp_path / "b", seed=4, validation_fraction=0.3, log=quiet
    )
    for split in SPLITS:
        assert (tmp_path / "a" / f"{split}.lst").read_text() != ""
        assert sorted(read_lst(tmp_path / "a" / f"{split}.lst")) == sorted(
            read_lst(tmp_path / "b" / f"{split}.lst")
        )
    assert first.manifest["splits"] == again.manifest["splits"]


def test_work_dir_must_not_be_the_source(tmp_path: Path, tarball: Path) -> None:
    work = staged_dir(tmp_path, tarball)
    with pytest.raises(MlwfError, match="--work-dir must not be the --source directory"):
        stage.stage(work, work_dir=work, log=quiet)


def test_write_local_removes_stale_pngs_only(tmp_path: Path, tarball: Path) -> None:
    work = staged_dir(tmp_path, tarball)
    (work / "train" / "old.png").write_bytes(b"stale")
    (work / "train" / "notes.txt").write_text("mine")
    stage.stage(tarball, verify=False, work_dir=work, log=quiet)
    assert not (work / "train" / "old.png").exists()
    assert (work / "train" / "notes.txt").read_text() == "mine"


def test_rgba_and_odd_sized_images_become_32x32_rgb(tmp_path: Path) -> None:
    root = tmp_path / "src"
    for split, count in (("train", 4), ("test", 2)):
        (root / split).mkdir(parents=True)
        lines = []
        for i in range(count):
            mode, size = ("RGBA", (32, 32)) if i % 2 else ("P", (48, 40))
            Image.new(mode, size, color=(200, 10 * i, 30, 255) if mode == "RGBA" else 3).save(
                root / split / f"img {i}.png"
            )
            lines.append(f"{i}\t{i % 2}\timg {i}.png\n")
        (root / f"{split}.lst").write_text("".join(lines))
    work = tmp_path / "work"
    stage.stage(root, work_dir=work, validation_fraction=0.5, log=quiet)
    pngs = sorted(work.glob("*/*.png"))
    assert len(pngs) == 6
    for png in pngs:
        assert re.fullmatch(r"img_\d(_\d)?\.png", png.name)  # made safe: no space
        decode_png(png.read_bytes())
    entries = {e.path: e.label for s in SPLITS for e in read_lst(work / f"{s}.lst")}
    assert entries == {"img_0.png": 0, "img_1.png": 1, "img_2.png": 0, "img_3.png": 1} | {
        "img_0_0.png": 0,  # test's img 0.png clashes with train's: made unique
        "img_1_1.png": 1,
    }


@pytest.mark.shared_data
def test_stages_the_shared_real_data(s3: Any, cifar_dir: Path, tmp_path: Path) -> None:
    result = stage.stage(cifar_dir, s3_client=s3, bucket=BUCKET, work_dir=tmp_path, log=quiet)
    assert result.dataset.counts() == {
        "train": {"bicycle": 450, "motorcycle": 450},
        "validation": {"bicycle": 50, "motorcycle": 50},
        "test": {"bicycle": 100, "motorcycle": 100},
    }
    assert read_manifest(s3, BUCKET, PREFIX)["num_training_samples"] == 900
    assert result.report.uploaded == 1200 + 4
    # Names, labels and lst indices come from the source lists; pixels lose only alpha.
    source = {e.path: e for s in ("train", "test") for e in read_lst(cifar_dir / f"{s}.lst")}
    staged_test = read_s3_lst(s3, BUCKET, PREFIX, "test")
    assert staged_test == read_lst(cifar_dir / "test.lst")
    for split in ("train", "validation"):
        for entry in read_s3_lst(s3, BUCKET, PREFIX, split):
            assert source[entry.path] == entry
    entry = staged_test[0]
    with Image.open(cifar_dir / "test" / entry.path) as original:
        expected = np.asarray(original.convert("RGB"))
    staged = decode_png(read_object(s3, f"{PREFIX}/test/{entry.path}"))
    np.testing.assert_array_equal(staged, expected)


# --------------------------------------------------------------------------- synthetic source


def test_cli_stages_synthetic_data(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        cli(
            "--source",
            "synthetic",
            "--bucket",
            BUCKET,
            "--count",
            "20",
            "--test-count",
            "5",
            "--seed",
            "3",
        )
        == 0
    )
    out = capsys.readouterr().out
    manifest = read_manifest(s3, BUCKET, PREFIX)
    assert manifest["source"] == {
        "kind": "synthetic",
        "seed": 3,
        "count_per_class": {"train": 20, "test": 5},
        "ambiguous_fraction": 0.18,
    }
    assert {s: v["classes"] for s, v in manifest["splits"].items()} == {
        "train": {"bicycle": 18, "motorcycle": 18},
        "validation": {"bicycle": 2, "motorcycle": 2},
        "test": {"bicycle": 5, "motorcycle": 5},
    }
    ambiguous = {s: v["ambiguous"] for s, v in manifest["splits"].items()}
    assert len(ambiguous["train"]) + len(ambiguous["validation"]) == 2 * round(0.18 * 20)
    assert len(ambiguous["test"]) == 2 * round(0.18 * 5)
    assert f"{PREFIX}/test/{ambiguous['test'][0]}" in keys(s3)
    assert "deliberately ambiguous images" in out
    for key in [k for k in keys(s3) if k.endswith(".png")][:5]:
        decode_png(read_object(s3, key))


def test_stage_without_s3_writes_the_work_dir_only(tmp_path: Path) -> None:
    result = stage.stage("synthetic", count=5, test_count=2, work_dir=tmp_path, log=quiet)
    assert result.report is None
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest == result.manifest
    assert manifest["num_training_samples"] == 8
    lst_md5 = hashlib.md5((tmp_path / "train.lst").read_bytes()).hexdigest()
    assert manifest["splits"]["train"]["lst_md5"] == lst_md5


# --------------------------------------------------------------------------- cifar100 download


class CountingOpener:
    """Opens URLs like urllib does (file:// included) and counts the calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, url: str, timeout: float) -> Any:
        import urllib.request

        self.calls += 1
        return urllib.request.urlopen(url, timeout=timeout)


def test_download_is_cached_verified_and_repaired(tmp_path: Path, tarball: Path) -> None:
    url = tarball.as_uri()
    md5 = cifar.file_md5(tarball)
    cache = tmp_path / "cache"
    opener = CountingOpener()

    path = cifar.ensure_tarball(cache, url, md5, opener=opener, log=quiet)
    assert opener.calls == 1
    assert path.read_bytes() == tarball.read_bytes()
    assert cifar.ensure_tarball(cache, url, md5, opener=opener, log=quiet) == path
    assert opener.calls == 1  # good cached copy: no second download

    path.write_bytes(b"corrupted")
    assert cifar.ensure_tarball(cache, url, md5, opener=opener, log=quiet) == path
    assert opener.calls == 2  # bad cached copy: downloaded again
    assert cifar.file_md5(path) == md5
    assert sorted(os.listdir(cache)) == [path.name]  # no temporary files left behind


def test_a_download_with_the_wrong_md5_is_not_kept(tmp_path: Path, tarball: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(MlwfError, match=r"has md5 .*, expected 0{32}: the file is corrupt"):
        cifar.ensure_tarball(cache, tarball.as_uri(), "0" * 32, opener=CountingOpener(), log=quiet)
    assert os.listdir(cache) == []


def test_a_short_download_is_not_kept(tmp_path: Path) -> None:
    class Short(io.BytesIO):
        headers = {"Content-Length": "100"}

    cache = tmp_path / "cache"
    with pytest.raises(MlwfError, match=r"stopped after 10 of 100 bytes"):
        cifar.ensure_tarball(
            cache,
            "https://example.invalid/x.tar.gz",
            None,
            opener=lambda url, timeout: Short(b"0123456789"),
            log=quiet,
        )
    assert os.listdir(cache) == []


def test_no_network_says_what_works_offline(
    s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def offline(url: str, *args: Any, **kwargs: Any) -> Any:
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    monkeypatch.setenv("MLWF_CACHE_DIR", str(tmp_path / "cache"))
    assert cli("--bucket", BUCKET) == 1
    err = capsys.readouterr().err.strip()
    assert ONE_LINE_ERROR.match(err)
    assert f"cannot download {cifar.CIFAR100_URL}: [Errno -3]" in err
    assert "--source synthetic" in err and "--source path/to/cifar-100-python.tar.gz" in err
    assert os.listdir(tmp_path / "cache") == []


def test_cli_downloads_into_the_cache_dir_once(
    s3: Any, tmp_path: Path, tarball: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    argv = ("--url", tarball.as_uri(), "--no-verify", "--cache-dir", str(cache), "--bucket", BUCKET)
    assert cli(*argv) == 0
    out = capsys.readouterr().out
    assert f"downloading {tarball.as_uri()}" in out
    cached = list(cache.iterdir())
    assert len(cached) == 1 and cached[0].read_bytes() == tarball.read_bytes()
    manifest = read_manifest(s3, BUCKET, PREFIX)
    assert manifest["source"]["kind"] == "cifar100"
    assert manifest["source"]["location"] == tarball.as_uri()

    assert cli(*argv) == 0
    out = capsys.readouterr().out
    assert "downloading" not in out and "using cached" in out
    assert "uploaded 0, skipped 30" in out


def test_the_official_download_is_verified(tmp_path: Path, tarball: Path) -> None:
    """With verification on, anything but the official tarball is rejected, cached or not."""
    opener = CountingOpener()
    with pytest.raises(MlwfError, match=cifar.CIFAR100_MD5):
        load_source("cifar100", url=tarball.as_uri(), cache_dir=tmp_path, opener=opener, log=quiet)
    assert opener.calls == 1


def test_cache_dir_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLWF_CACHE_DIR", str(tmp_path / "here"))
    assert cifar.default_cache_dir() == tmp_path / "here"
    monkeypatch.delenv("MLWF_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cifar.default_cache_dir() == tmp_path / ".cache" / "mlwf"
    assert cifar.cache_filename(cifar.CIFAR100_URL) == "cifar-100-python.tar.gz"
    mirror = cifar.cache_filename("https://mirror.example/cifar-100-python.tar.gz")
    assert mirror.endswith("-cifar-100-python.tar.gz") and mirror != "cifar-100-python.tar.gz"


def test_constants_agree() -> None:
    assert stage.CIFAR100_URL == cifar.CIFAR100_URL  # sources.py keeps its own copy: no numpy
    # The class names are in one place; CIFAR's labels map onto them: 8 bicycle, 48 motorcycle.
    assert {fine: CLASS_NAMES[label] for fine, label in cifar.FINE_LABELS.items()} == {
        8: "bicycle",
        48: "motorcycle",
    }
