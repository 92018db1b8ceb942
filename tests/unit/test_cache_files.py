"""training_job.cache_files.write_whole: a cache's file is there whole or not at all, and a
cache that cannot be written answers False and leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

from training_job.cache_files import write_whole


def test_a_file_is_written_whole_with_its_folder(tmp_path: Path):
    target = tmp_path / "new" / "folder" / "entry.json"
    assert write_whole(target, b"{}")
    assert target.read_bytes() == b"{}"
    assert write_whole(target, b"[1]")  # replaced whole
    assert [p.name for p in target.parent.iterdir()] == ["entry.json"]
    assert target.read_bytes() == b"[1]"


def test_a_file_that_cannot_be_written_answers_false_and_leaves_nothing(tmp_path: Path):
    # Given a target whose "folder" is a file, and one whose name is a folder
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    taken = tmp_path / "taken"
    (taken / "entry.json").mkdir(parents=True)
    assert not write_whole(blocker / "entry.json", b"x")
    assert not write_whole(taken / "entry.json", b"x")  # written, but not renamed over it
    # Then no temporary file is left beside either
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "taken"]
    assert [p.name for p in taken.iterdir()] == ["entry.json"]
