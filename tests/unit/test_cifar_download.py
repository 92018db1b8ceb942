"""`mlwf stage --source cifar100` (training_job/cifar.py): the download is cached, verified
and repaired, a wrong or short one is not kept, and without a network the error says what
works offline. Served from file:// URLs, never the network."""

from __future__ import annotations

import io
import os
import urllib.error
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.sagemaker_stack import quiet
from tests.helpers.stage_data import (
    BUCKET,
    ONE_LINE_ERROR,
    PREFIX,
    cli,
)
from training_job import cifar, stage
from training_job.dataset.classes import CLASS_NAMES
from training_job.dataset.manifest import read_manifest
from training_job.dataset.sources import load_source
from training_job.errors import MlwfError

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
