"""`mlwf threshold`: choose the confidence threshold from labelled captured traffic.

Send the validation split through the endpoint, then run this on its data capture
with the split's .lst file. For every threshold 0.50..0.99 (step 0.01) it counts the
records the workflow would accept (top confidence >= threshold, the rule of the
Step Functions workflow) and their accuracy, and picks the lowest threshold whose
accepted records reach the target accuracy: the most traffic accepted at that quality.

Exit status: 0 when a threshold reaches the target, 1 when none does (the table, the
plot and thresholds.json are still written) or on bad input.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mlwf.settings import CAPTURE_HELP, ThresholdRow
from training_job.errors import MlwfError
from training_job.stack import add_stack_options

DEFAULT_TARGET = 0.97
DEFAULT_MIN_ACCEPTED = 1
DEFAULT_OUT = "threshold-output"
FEW_RECORDS = 30  # below this many accepted records the accuracy estimate is rough


def default_thresholds() -> list[float]:
    """0.50, 0.51, ..., 0.99 (rounded, so 0.93 is exactly the float 0.93)."""
    return [round(0.50 + 0.01 * i, 2) for i in range(50)]


def threshold_table(
    confidences: Sequence[float],
    correct: Sequence[bool],
    thresholds: Sequence[float] | None = None,
) -> list[ThresholdRow]:
    """Coverage and accuracy of the accepted records at each threshold.

    A record is accepted when its top confidence >= threshold (the workflow fails the
    execution when it is below)."""
    if len(confidences) != len(correct):
        raise ValueError(f"{len(confidences)} confidences but {len(correct)} correctness flags")
    pairs = list(zip(confidences, correct, strict=True))
    total = len(pairs)
    rows = []
    for t in default_thresholds() if thresholds is None else thresholds:
        accepted = [ok for conf, ok in pairs if conf >= t]
        n = len(accepted)
        right = sum(bool(ok) for ok in accepted)
        rows.append(
            ThresholdRow(
                threshold=float(t),
                accepted=n,
                rejected=total - n,
                correct_accepted=right,
                coverage=n / total if total else 0.0,
                accuracy=right / n if n else None,
            )
        )
    return rows


def choose_threshold(
    rows: Sequence[ThresholdRow], target: float, min_accepted: int = DEFAULT_MIN_ACCEPTED
) -> ThresholdRow | None:
    """The lowest-threshold row whose accepted records reach `target` accuracy, with
    at least `min_accepted` (>= 1) records accepted; None when no row does.

    Accuracy need not grow with the threshold; the lowest qualifying threshold is the
    one that accepts the most traffic while still meeting the target."""
    min_accepted = max(1, min_accepted)
    for row in sorted(rows, key=lambda r: r.threshold):
        if row.accepted >= min_accepted and row.accuracy is not None:
            if row.accuracy >= target - 1e-12:
                return row
    return None


def best_row(rows: Sequence[ThresholdRow], min_accepted: int = 1) -> ThresholdRow | None:
    """The row with the highest accuracy (lowest threshold on ties), for the message
    when no threshold reaches the target."""
    usable = [r for r in rows if r.accuracy is not None and r.accepted >= max(1, min_accepted)]
    return max(usable, key=lambda r: (r.accuracy, -r.threshold), default=None)


def deploy_command(row: ThresholdRow) -> str:
    return f"sam deploy --parameter-overrides ConfidenceThreshold={row.threshold:.2f}"


# --------------------------------------------------------------------------- CLI


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "threshold",
        help="choose the confidence threshold from labelled captured traffic",
        description="Choose ConfidenceThreshold from labelled traffic: read the endpoint's "
        "data capture (typically the validation split sent through the endpoint), join it "
        "to the true labels of a .lst file by image content, and for thresholds "
        "0.50..0.99 report coverage (share accepted, top confidence >= threshold) and the "
        "accuracy of the accepted records. Prints the lowest threshold reaching the target "
        "accuracy as a `sam deploy --parameter-overrides` line and writes "
        "thresholds.json, thresholds.csv and threshold_sweep.png. With --stack-name the "
        "deployed threshold is shown alongside. Exits 1 when no threshold reaches the target.",
    )
    parser.add_argument("--capture", metavar="S3_URL_OR_DIR", help=CAPTURE_HELP)
    parser.add_argument(
        "--labels",
        required=True,
        metavar="LST",
        help="SageMaker .lst file (index<TAB>label<TAB>path) of the images that were sent; "
        "local path or s3:// URL",
    )
    parser.add_argument(
        "--images",
        metavar="DIR_OR_S3_PREFIX",
        help="where the .lst paths are relative to (default: the folder named like the "
        ".lst next to it, e.g. test/ for test.lst, then the .lst's own folder)",
    )
    parser.add_argument(
        "--target-accuracy",
        default=str(DEFAULT_TARGET),
        metavar="A",
        help=f"accuracy the accepted records must reach (default: {DEFAULT_TARGET})",
    )
    parser.add_argument(
        "--min-accepted",
        default=str(DEFAULT_MIN_ACCEPTED),
        metavar="N",
        help="a threshold qualifies only if it accepts at least N records "
        f"(default: {DEFAULT_MIN_ACCEPTED})",
    )
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"folder for thresholds.json, thresholds.csv and the plot (default: ./{DEFAULT_OUT})",
    )
    add_stack_options(parser)
    parser.set_defaults(func=run)


def parse_fraction(value: str, flag: str, low: float = 0.0, high: float = 1.0) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MlwfError(f"{flag} {value!r} is not a number") from None
    if not math.isfinite(number) or not low < number <= high:
        raise MlwfError(
            f"{flag} {value} is out of range: expected more than {low} and at most {high}"
        )
    return number


def run(args: argparse.Namespace) -> int:
    from mlwf.capture import join_labels, read_capture, read_labels
    from mlwf.plots.style import PLOT_FILES
    from mlwf.plots.sweep import plot_threshold_sweep
    from mlwf.settings import capture_location, default_capture, deployed_threshold, s3_client_for

    target = parse_fraction(args.target_accuracy, "--target-accuracy")
    try:
        min_accepted = int(args.min_accepted)
    except ValueError:
        raise MlwfError(f"--min-accepted {args.min_accepted!r} is not a whole number") from None
    if min_accepted < 1:
        raise MlwfError(f"--min-accepted {min_accepted} must be at least 1")
    capture = capture_location(args.capture) if args.capture else default_capture(args)
    deployed = deployed_threshold(args) if args.stack_name else None

    client = s3_client_for(args, capture, args.labels, args.images)
    labels = read_labels(args.labels, args.images, client)
    read = read_capture(capture, client, keep_inputs=True)
    join = join_labels(read.records, labels)
    pairs = [(r, t) for r, t in zip(read.records, join.labels, strict=True) if t is not None]
    if not pairs:
        why = (
            read.notes[0]
            if read.notes
            else (f"none of the {len(read.records)} records matched an image of {labels.source}")
        )
        raise MlwfError(f"no labelled records to choose a threshold from: {why}")

    rows = threshold_table([r.confidence for r, _ in pairs], [r.predicted == t for r, t in pairs])
    chosen = choose_threshold(rows, target, min_accepted)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_table(rows, out / "thresholds.csv")
    report = {
        "capture": read.as_dict(),
        "labels": join.as_dict(),
        "labelled_records": len(pairs),
        "overall_accuracy": sum(r.predicted == t for r, t in pairs) / len(pairs),
        "target_accuracy": target,
        "min_accepted": min_accepted,
        "deployed_threshold": deployed,
        "chosen": asdict(chosen) if chosen else None,
        "deploy_command": deploy_command(chosen) if chosen else None,
        "rows": [asdict(r) for r in rows],
    }
    (out / "thresholds.json").write_text(json.dumps(report, indent=2) + "\n")
    plot = plot_threshold_sweep(rows, target, out / PLOT_FILES["threshold_sweep"], chosen, deployed)

    print(format_report(report, rows, chosen, out, plot))
    if chosen is None:
        best = best_row(rows, min_accepted)
        hint = (
            f"best is {best.accuracy:.3f} at {best.threshold:.2f} with {best.accepted} accepted"
            if best
            else "no threshold accepts any record"
        )
        raise MlwfError(
            f"no threshold in 0.50..0.99 reaches accuracy {target:g} with at least "
            f"{min_accepted} accepted record(s) ({hint}); lower --target-accuracy or "
            "improve the model"
        )
    return 0


def write_table(rows: Sequence[ThresholdRow], path: Path) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["threshold", "accepted", "rejected", "correct_accepted", "coverage", "accuracy"]
        )
        for r in rows:
            writer.writerow(
                [
                    f"{r.threshold:.2f}",
                    r.accepted,
                    r.rejected,
                    r.correct_accepted,
                    f"{r.coverage:.6f}",
                    "" if r.accuracy is None else f"{r.accuracy:.6f}",
                ]
            )
    return path


def format_report(
    report: dict[str, Any],
    rows: Sequence[ThresholdRow],
    chosen: ThresholdRow | None,
    out: Path,
    plot: Path,
) -> str:
    labels = report["labels"]
    capture = report["capture"]
    lines = [
        f"Capture    {capture['source']}: {capture['records']} records in {capture['files']} "
        f"file(s), {capture['malformed_total']} malformed line(s)",
        f"Labels     {labels['source']}: {report['labelled_records']} records labelled "
        f"({labels['by_image_bytes']} by image bytes, {labels['by_decoded_pixels']} by decoded "
        f"pixels, {labels['by_inference_id']} by inference id), {labels['unmatched']} unmatched",
        f"Accuracy   {report['overall_accuracy']:.3f} with no threshold",
        "",
        "threshold  accepted  coverage  accuracy",
    ]
    deployed = report["deployed_threshold"]
    for r in rows:
        is_deployed = deployed is not None and abs(r.threshold - deployed) < 1e-9
        on_grid = round(r.threshold * 100) % 5 == 0 or r is rows[-1]
        if not (on_grid or r is chosen or is_deployed):
            continue  # every 0.05 on screen; all rows are in thresholds.csv
        accuracy = "-" if r.accuracy is None else f"{r.accuracy:.3f}"
        mark = ("  <- chosen" if r is chosen else "") + ("  <- deployed" if is_deployed else "")
        lines.append(
            f"  {r.threshold:.2f}     {r.accepted:>6}    {r.coverage:>6.1%}    {accuracy:>6}{mark}"
        )
    lines.append("")
    target = report["target_accuracy"]
    if chosen is not None:
        lines.append(
            f"Chosen     {chosen.threshold:.2f}: the lowest threshold whose accepted records "
            f"reach accuracy {target:g} ({chosen.accuracy:.3f} on {chosen.accepted} accepted, "
            f"coverage {chosen.coverage:.1%})"
        )
        if chosen.accepted < FEW_RECORDS:
            lines.append(
                f"Warning    only {chosen.accepted} accepted records: the accuracy estimate is "
                "rough; label more traffic or raise --min-accepted"
            )
        if report["deployed_threshold"] is not None:
            lines.append(f"Deployed   {report['deployed_threshold']:g}")
        lines.append("Deploy it  " + deploy_command(chosen))
        lines.append(
            "           (on the command line this replaces samconfig.toml's "
            "parameter_overrides: repeat any others there)"
        )
    else:
        lines.append(f"Chosen     none: no threshold reaches accuracy {target:g}")
    lines.append(f"Wrote      {out / 'thresholds.json'}, {out / 'thresholds.csv'}, {plot}")
    return "\n".join(lines)
