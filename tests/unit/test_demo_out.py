"""`mlwf demo --out DIR` replaces what an earlier demo wrote there, and nothing else."""

from __future__ import annotations

import pytest

from mlwf.demo import OUT_MARKER, OUTPUTS, RUNNING_STACK_OUTPUTS, prepare_out
from training_job.errors import MlwfError


def test_a_users_folder_is_refused_and_left_as_it_was(tmp_path):
    # Given a folder of the user's that happens to hold a dataset/
    mine = tmp_path / "dataset" / "my-photo.png"
    mine.parent.mkdir()
    mine.write_bytes(b"precious")

    # When the demo is pointed at it, it refuses in one line naming what is there
    with pytest.raises(MlwfError) as raised:
        prepare_out(tmp_path)
    assert "dataset" in str(raised.value) and "\n" not in str(raised.value)
    # And nothing was deleted
    assert mine.read_bytes() == b"precious"


def test_a_previous_demos_outputs_are_replaced_and_the_rest_kept(tmp_path):
    # Given a folder a demo wrote, with a file of the user's beside its outputs
    prepare_out(tmp_path)
    for name in OUTPUTS:
        target = tmp_path / name
        if "." in name:
            target.write_text("{}")
        else:
            target.mkdir()
            (target / "old").write_text("old")
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")

    # When a demo runs there again
    prepare_out(tmp_path)

    # Then its earlier outputs are gone, the user's file stays, and the marker is there
    assert not any((tmp_path / name).exists() for name in OUTPUTS)
    assert notes.read_text() == "mine"
    assert (tmp_path / OUT_MARKER).is_file()


def test_a_new_folder_is_created_and_marked(tmp_path):
    out = tmp_path / "new" / "demo"
    prepare_out(out)
    assert out.is_dir() and (out / OUT_MARKER).is_file()


def test_a_file_is_refused(tmp_path):
    path = tmp_path / "f"
    path.write_text("x")
    with pytest.raises(MlwfError, match="is a file"):
        prepare_out(path)


def test_a_demo_on_a_running_stack_keeps_an_earlier_demos_dataset(tmp_path):
    # A README walk: make demo, then mlwf demo against mlwf offline up, then the README's
    # upload of demo-output/dataset/test/*.png, which the second demo had deleted
    prepare_out(tmp_path)
    for name in ("dataset", "plots"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "old").write_text("old")
    prepare_out(tmp_path, RUNNING_STACK_OUTPUTS)
    assert (tmp_path / "dataset" / "old").read_text() == "old"
    assert not (tmp_path / "plots").exists()
