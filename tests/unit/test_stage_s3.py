"""What `mlwf stage` leaves in S3 under moto (training_job/dataset/sync.py): restaging
uploads nothing new, lists go after images and the manifest last, a failed upload is never
reported complete, and what mlwf did not stage is left alone unless replaced on request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.sagemaker_stack import quiet
from tests.helpers.stage_data import (
    BUCKET,
    ONE_LINE_ERROR,
    PREFIX,
    RecordingS3,
    cli,
    keys,
    read_object,
)
from training_job import stage
from training_job.dataset.manifest import read_manifest
from training_job.errors import MlwfError

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
