"""`mlwf stage` refuses bad tarballs, directories and options with one line and uploads
nothing."""

from __future__ import annotations

import io
import os
import pickle
import re
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.helpers.sagemaker_stack import quiet
from tests.helpers.stage_data import (
    BUCKET,
    ONE_LINE_ERROR,
    TRAIN_LABELS,
    cifar_batch,
    cli,
    keys,
    staged_dir,
    write_tarball,
)
from training_job import cifar
from training_job.dataset.lst import LstEntry, parse_lst
from training_job.dataset.sources import load_source
from training_job.errors import MlwfError

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
