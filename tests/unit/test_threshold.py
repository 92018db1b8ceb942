"""Choosing the confidence threshold (mlwf/threshold.py and `mlwf threshold`)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PIL import Image

from mlwf.cli import main
from mlwf.threshold import (
    ThresholdRow,
    best_row,
    choose_threshold,
    default_thresholds,
    deploy_command,
    threshold_table,
)
from tests.helpers.capture_files import write_labelled_capture

# (top confidence, prediction correct?) of ten labelled records.
SPECS = [
    (0.55, False),
    (0.65, False),
    (0.75, True),
    (0.85, True),
    (0.90, False),
    (0.95, True),
    (0.97, True),
    (0.99, True),
    (0.995, True),
    (0.999, True),
]


def row(threshold: float, accepted: int, correct: int, total: int = 10) -> ThresholdRow:
    return ThresholdRow(
        threshold=threshold,
        accepted=accepted,
        rejected=total - accepted,
        correct_accepted=correct,
        coverage=accepted / total,
        accuracy=correct / accepted if accepted else None,
    )


# --------------------------------------------------------------------------- the table


def test_threshold_table_by_hand() -> None:
    confidences = [0.55, 0.7, 0.9, 0.95, 0.99]
    correct = [False, True, False, True, True]
    rows = threshold_table(confidences, correct, [0.5, 0.6, 0.9, 0.96, 0.995])
    assert rows == [
        ThresholdRow(0.5, 5, 0, 3, 1.0, 0.6),
        ThresholdRow(0.6, 4, 1, 3, 0.8, 0.75),
        ThresholdRow(0.9, 3, 2, 2, 0.6, pytest.approx(2 / 3)),  # 0.9 >= 0.9: accepted
        ThresholdRow(0.96, 1, 4, 1, 0.2, 1.0),
        ThresholdRow(0.995, 0, 5, 0, 0.0, None),  # nothing accepted: no accuracy
    ]


def test_default_thresholds_are_0_50_to_0_99_exactly() -> None:
    thresholds = default_thresholds()
    assert len(thresholds) == 50
    assert thresholds[0] == 0.5 and thresholds[-1] == 0.99
    assert 0.93 in thresholds  # the float 0.93 itself, no 0.9300000000000002
    rows = threshold_table([0.93, 0.9299], [True, False])
    at = {r.threshold: r for r in rows}
    assert (at[0.93].accepted, at[0.93].accuracy) == (1, 1.0)
    assert (at[0.92].accepted, at[0.92].accuracy) == (2, 0.5)


def test_threshold_table_edge_cases() -> None:
    rows = threshold_table([], [])
    assert len(rows) == 50
    assert all(r.accepted == 0 and r.coverage == 0.0 and r.accuracy is None for r in rows)
    with pytest.raises(ValueError, match="2 confidences but 1"):
        threshold_table([0.6, 0.7], [True])


# --------------------------------------------------------------------------- choosing


def test_choose_threshold_is_the_lowest_reaching_the_target() -> None:
    rows = threshold_table([c for c, _ in SPECS], [ok for _, ok in SPECS])
    chosen = choose_threshold(rows, 0.8)
    # 0.66 accepts the 8 records from 0.75 up, of which 0.90 is wrong: 7/8 = 0.875.
    assert chosen is not None
    assert (chosen.threshold, chosen.accepted, chosen.correct_accepted) == (0.66, 8, 7)
    perfect = choose_threshold(rows, 1.0)
    assert perfect is not None and (perfect.threshold, perfect.accepted) == (0.91, 5)
    assert choose_threshold(rows, 1.0, min_accepted=6) is None
    assert deploy_command(perfect) == "sam deploy --parameter-overrides ConfidenceThreshold=0.91"


def test_choose_threshold_edge_cases() -> None:
    assert choose_threshold([], 0.9) is None
    # Not monotonic: 0.60 reaches the target, 0.70 does not; the lowest wins.
    rows = [row(0.7, 5, 4), row(0.5, 10, 8), row(0.6, 8, 8)]
    assert choose_threshold(rows, 0.9) == rows[2]
    # Exactly at the target counts.
    assert choose_threshold([row(0.5, 10, 9)], 0.9) == row(0.5, 10, 9)
    # min_accepted below 1 means 1; rows accepting nothing never qualify.
    assert choose_threshold([row(0.5, 0, 0), row(0.6, 1, 1)], 0.9, min_accepted=0) == row(0.6, 1, 1)
    assert choose_threshold([row(0.5, 2, 2)], 0.9, min_accepted=3) is None
    assert choose_threshold([row(0.5, 10, 8)], 0.81) is None
    assert best_row([row(0.5, 10, 8), row(0.6, 5, 5), row(0.7, 4, 4)]) == row(0.6, 5, 5)
    assert best_row([row(0.5, 0, 0)]) is None


# --------------------------------------------------------------------------- the command


def test_cli_prints_the_deploy_line_and_writes_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture, lst = write_labelled_capture(tmp_path, SPECS)
    out = tmp_path / "out"

    code = main(
        ["threshold", "--capture", str(capture), "--labels", str(lst), "--out", str(out),
         "--target-accuracy", "0.8"]
    )  # fmt: skip

    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "sam deploy --parameter-overrides ConfidenceThreshold=0.66" in printed.out
    assert "10 records labelled (10 by image bytes" in printed.out
    assert "Warning    only 8 accepted records" in printed.out
    report = json.loads((out / "thresholds.json").read_text())
    assert report["chosen"]["threshold"] == 0.66
    assert report["deploy_command"].endswith("ConfidenceThreshold=0.66")
    assert report["labelled_records"] == 10 and report["overall_accuracy"] == 0.7
    assert len(report["rows"]) == 50
    with (out / "thresholds.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 50
    assert table[16] == {
        "threshold": "0.66",
        "accepted": "8",
        "rejected": "2",
        "correct_accepted": "7",
        "coverage": "0.800000",
        "accuracy": "0.875000",
    }
    with Image.open(out / "threshold_sweep.png") as image:
        assert image.format == "PNG" and image.size == (1200, 840)


def test_cli_target_out_of_reach_exits_1_after_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture, lst = write_labelled_capture(tmp_path, SPECS)
    out = tmp_path / "out"
    code = main(
        ["threshold", "--capture", str(capture), "--labels", str(lst), "--out", str(out),
         "--target-accuracy", "1", "--min-accepted", "6"]
    )  # fmt: skip
    printed = capsys.readouterr()
    assert code == 1
    assert printed.err.count("\n") == 1
    assert printed.err.startswith("mlwf threshold: error: no threshold in 0.50..0.99 reaches")
    assert "best is 0.875 at 0.66 with 8 accepted" in printed.err  # of those with >= 6
    assert "Chosen     none" in printed.out
    assert json.loads((out / "thresholds.json").read_text())["chosen"] is None
    assert (out / "threshold_sweep.png").is_file() and (out / "thresholds.csv").is_file()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--target-accuracy", "1.5"], "--target-accuracy 1.5 is out of range"),
        (["--target-accuracy", "high"], "--target-accuracy 'high' is not a number"),
        (["--min-accepted", "0"], "--min-accepted 0 must be at least 1"),
        (["--min-accepted", "two"], "not a whole number"),
        (["--labels", "MISSING"], "labels file not found"),
        (["--capture", "MISSING"], "capture folder not found"),
        (["--capture", "s3:/oops"], "not an S3 URL"),
    ],
)
def test_cli_bad_arguments_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    capture, lst = write_labelled_capture(tmp_path, SPECS[:2])
    args = {"--capture": str(capture), "--labels": str(lst), "--out": str(tmp_path / "o")}
    for flag, value in zip(extra[::2], extra[1::2], strict=True):
        args[flag] = str(tmp_path / value) if value == "MISSING" else value
    code = main(["threshold", *[x for pair in args.items() for x in pair]])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("mlwf threshold: error: ") and err.count("\n") == 1
    assert message in err


def test_cli_no_labelled_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture, _ = write_labelled_capture(tmp_path / "a", SPECS[:3], seed=1)
    _, other_lst = write_labelled_capture(tmp_path / "b", SPECS[:3], seed=2)
    code = main(
        ["threshold", "--capture", str(capture), "--labels", str(other_lst),
         "--out", str(tmp_path / "o")]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "no labelled records to choose a threshold from: none of the 3 records matched" in err


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["threshold", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert (
        "--target-accuracy" in text and "--min-accepted" in text and "ConfidenceThreshold" in text
    )
