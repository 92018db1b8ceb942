"""`--data` of the offline commands (mlwf.offline.workflow.choose_source): CIFAR-100 asked for
with no cached copy and no way to download it is refused before any stack starts, naming
--data (a README walk met `--data cifar100` refused 7 s in, told to use `--source`, an option
those commands do not have)."""

from __future__ import annotations

import pytest

from mlwf.offline import workflow
from training_job import cifar
from training_job.errors import MlwfError


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MLWF_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_cifar100_unreachable_and_not_cached_is_refused_naming_data(empty_cache, monkeypatch):
    monkeypatch.setattr(workflow, "_reachable", lambda url: False)
    with pytest.raises(MlwfError) as raised:
        workflow.choose_source("cifar100", say=lambda _: None)
    message = str(raised.value)
    assert message.startswith("--data cifar100: CIFAR-100 is not in the cache")
    assert "--data synthetic" in message and "--source" not in message


def test_cifar100_cached_is_taken_without_asking_the_server(empty_cache, monkeypatch):
    cached = cifar.default_cache_dir() / cifar.cache_filename(cifar.CIFAR100_URL)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"a tarball")  # its md5 is checked when it is read

    def unreachable(url):
        raise AssertionError("asked the server")

    monkeypatch.setattr(workflow, "_reachable", unreachable)
    assert workflow.choose_source("cifar100", say=lambda _: None) == "cifar100"


def test_cifar100_reachable_is_taken(empty_cache, monkeypatch):
    monkeypatch.setattr(workflow, "_reachable", lambda url: True)
    assert workflow.choose_source("cifar100", say=lambda _: None) == "cifar100"
