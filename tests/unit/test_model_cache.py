"""The trained-model cache (mlwf.offline.model_cache): keyed by everything that determines
a model, and never trusted when it is incomplete."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlwf.offline import model_cache

IMAGES, LABELS = ['"etag-a"', '"etag-bb"'], [0, 1]  # each image by its S3 ETag
VALIDATION = (['"etag-c"'], [1])


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLWF_MODEL_CACHE_DIR", str(tmp_path))
    return tmp_path


def key(**changes) -> str:
    arguments = {
        "images": IMAGES,
        "labels": LABELS,
        "validation": VALIDATION,
        "hyperparameters": {"epochs": "2"},
        "seed": 0,
    } | changes
    return model_cache.model_key(**arguments)


def test_the_key_changes_with_everything_that_determines_the_model():
    keys = [
        key(),
        key(images=['"etag-a"', '"etag-bc"']),
        key(images=IMAGES[::-1]),
        key(labels=[1, 0]),
        key(validation=(['"etag-c"'], [0])),
        key(validation=(['"etag-d"'], [1])),
        key(hyperparameters={"epochs": "3"}),
        key(seed=1),
    ]
    assert len(set(keys)) == len(keys)
    assert key() == key(hyperparameters={"epochs": "2"})  # and only with that


def test_a_stored_model_is_loaded_whole():
    stored = model_cache.store(key(), b"model bytes", 0.75, 1)
    loaded = model_cache.load(key())
    assert stored is not None and loaded is not None
    assert (loaded.artifact, loaded.validation_accuracy, loaded.validation_count) == (
        b"model bytes",
        0.75,
        1,
    )


def test_a_half_written_entry_is_a_miss(cache: Path):
    (cache / key()).mkdir()
    (cache / key() / "model.tar.gz").write_bytes(b"partial")  # no meta.json: stopped midway
    assert model_cache.load(key()) is None
