"""`mlwf stage` (training_job/stage.py, training_job/dataset/, training_job/cifar.py) under
moto, never the network: from a CIFAR-100 tarball, a staged directory and synthetic data,
end to end. The S3 side is in test_stage_s3.py, bad input in test_stage_bad_input.py, the
validation split in test_validation_split.py, the download in test_cifar_download.py; the
tarballs are built by tests/helpers/stage_data.py."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.helpers.sagemaker_stack import quiet
from tests.helpers.stage_data import (
    BICYCLE,
    BUCKET,
    MOTORCYCLE,
    PREFIX,
    TEST_LABELS,
    TRAIN_LABELS,
    cifar_batch,
    cifar_image,
    cli,
    decode_png,
    file_name,
    keys,
    read_object,
    staged_dir,
    write_tarball,
)
from training_job import cifar, stage
from training_job.dataset.layout import SPLITS
from training_job.dataset.lst import read_lst, read_s3_lst
from training_job.dataset.manifest import read_manifest
from training_job.dataset.sources import load_source
from training_job.errors import MlwfError

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
