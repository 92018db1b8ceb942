"""The offline endpoint's model server (mlwf/offline/model_server.py): local models answered
from a child process, with the same contract and errors as in-process."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

from mlwf.offline.local_model import LocalModel, LocalModelError, train
from mlwf.offline.model_server import ModelServer
from training_job.synthetic import generate

FAST = {"local_num_centroids": "32", "local_kmeans_patches": "2000", "local_hog_components": "16"}


def png(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def images() -> list[bytes]:
    return [png(a) for a in generate(10, seed=3, ambiguous_fraction=0.0).images]


@pytest.fixture(scope="module")
def artifact(images) -> bytes:
    labels = generate(10, seed=3, ambiguous_fraction=0.0).labels
    return train(images, labels, hyperparameters=FAST).to_artifact()


@pytest.fixture(scope="module")
def model(artifact) -> LocalModel:
    """The artifact loaded in this process: what the server must answer like."""
    return LocalModel.from_artifact(artifact)


@pytest.fixture(scope="module")
def server():
    """One server for the module: each child start imports scikit-learn anew (~2 s). A
    test that kills or closes the child leaves the server as after a crash, and the next
    call starts a new child and reloads its models, which is the contract under test."""
    server = ModelServer()
    server.start()  # the child imports while the artifact is trained
    yield server
    server.close()


def test_answers_as_the_model_in_process_from_another_process(server, artifact, model, images):
    # Given a model loaded into the server
    remote = server.load(artifact)
    # When images are sent to it
    answers = [remote.invoke(image, "image/png") for image in images]
    # Then the answers are byte for byte the in-process model's, from a child process
    assert answers == [model.invoke(image, "image/png") for image in images]
    assert server.pid is not None and server.pid != os.getpid()


def test_model_errors_come_back_as_local_model_errors(server, artifact, model, images):
    remote = server.load(artifact)
    with pytest.raises(LocalModelError, match="not a PNG or JPEG"):
        remote.invoke(b"not an image", "image/png")
    with pytest.raises(LocalModelError, match="content type 'text/csv' is not supported"):
        remote.invoke(images[0], "text/csv")
    # and the server goes on answering
    assert remote.invoke(images[0], "image/png") == model.invoke(images[0], "image/png")


def test_an_artifact_that_is_not_a_model_is_refused(server):
    with pytest.raises(LocalModelError, match="not a gzipped tarball"):
        server.load(b"garbage")


def test_a_dead_server_is_replaced_before_the_next_call(server, artifact, model, images):
    # Given a loaded model whose server process has died
    remote = server.load(artifact)
    first_pid = server.pid
    server._process.kill()
    server._process.wait()
    # When it is invoked, a new server is started and the model reloaded
    assert remote.invoke(images[0], "image/png") == model.invoke(images[0], "image/png")
    assert server.pid not in (None, first_pid)


def test_a_server_dying_during_a_call_fails_that_call(server, artifact, model, images, monkeypatch):
    remote = server.load(artifact)
    server._process.kill()
    server._process.wait()
    # the call finds the pipe closed, as if the child died while answering
    with monkeypatch.context() as patch:
        patch.setattr(server, "_ensure_loaded", lambda model_id: None)
        with pytest.raises(LocalModelError, match="model server stopped"):
            remote.invoke(images[0], "image/png")
    assert remote.invoke(images[0], "image/png") == model.invoke(images[0], "image/png")


def test_an_unloaded_model_is_no_longer_answered(server, artifact, model, images):
    remote = server.load(artifact)
    remote.unload()
    with pytest.raises(LocalModelError, match="unloaded"):
        remote.invoke(images[0], "image/png")


def test_close_stops_the_child(server, artifact):
    server.load(artifact)
    process = server._process
    server.close()
    assert process.poll() is not None
    assert server.pid is None


def test_a_sigterm_to_the_child_leaves_it_to_the_parent(server, artifact, model, images):
    # `kill` of `mlwf offline up`'s process group reaches the child too: the stack, which
    # stops on the same signal, still unloads its models, and close() then ends the child.
    import signal

    remote = server.load(artifact)
    os.kill(server.pid, signal.SIGTERM)
    assert remote.invoke(images[0], "image/png") == model.invoke(images[0], "image/png")
    remote.unload()
    process = server._process
    server.close()
    assert process.poll() is not None


def test_unloading_from_a_server_that_has_stopped_is_quiet(server, artifact):
    remote = server.load(artifact)
    server._process.kill()
    server._process.wait()
    remote.unload()  # the model went with the child: nothing to do, nothing to raise
    assert server.pid is None
