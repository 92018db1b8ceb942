"""The algorithm's image URI, the SDK's answer kept on disk per SDK release
(training_job/image_uris.py): importing the SDK took 1.7 s of each command that trains."""

from __future__ import annotations

import pytest

from training_job import image_uris
from training_job.sagemaker_io import ALGORITHM


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MLWF_CACHE_DIR", str(tmp_path))
    return tmp_path / image_uris.FILE_NAME


def sdk_refuses(monkeypatch):
    """From here on, an SDK lookup fails the test: the answer must come from the cache."""
    from sagemaker.core import image_uris as sdk

    def refuse(*args, **kwargs):
        raise AssertionError("the SDK was asked again")

    monkeypatch.setattr(sdk, "retrieve", refuse)


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "cn-north-1"])
def test_the_answer_is_the_sdks(cache, region):
    from sagemaker.core import image_uris as sdk

    assert image_uris.retrieve(ALGORITHM, region) == sdk.retrieve(ALGORITHM, region=region)


def test_a_second_lookup_reads_the_cache_not_the_sdk(cache, monkeypatch):
    first = image_uris.retrieve(ALGORITHM, "eu-west-1")
    assert cache.exists()
    sdk_refuses(monkeypatch)
    assert image_uris.retrieve(ALGORITHM, "eu-west-1") == first


def test_another_sdk_release_asks_the_sdk_again(cache, monkeypatch):
    image_uris.retrieve(ALGORITHM, "eu-west-1")
    monkeypatch.setattr(image_uris.metadata, "version", lambda name: "0.0.0")
    sdk_refuses(monkeypatch)
    with pytest.raises(AssertionError, match="asked again"):
        image_uris.retrieve(ALGORITHM, "eu-west-1")


def test_a_damaged_cache_is_asked_past_and_replaced(cache):
    cache.write_text("{not json")
    uri = image_uris.retrieve(ALGORITHM, "us-east-1")
    assert image_uris._read(cache) != {}
    assert uri.endswith("/image-classification:1")


def test_a_cache_that_cannot_be_written_only_costs_the_lookup(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("")  # a file where the cache's folder should be
    monkeypatch.setenv("MLWF_CACHE_DIR", str(blocked / "below"))
    assert image_uris.retrieve(ALGORITHM, "us-east-1").endswith("/image-classification:1")


def test_an_unknown_region_is_the_sdks_value_error(cache):
    with pytest.raises(ValueError):
        image_uris.retrieve(ALGORITHM, "mars-north-1")
