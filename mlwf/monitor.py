"""`mlwf monitor`: plot and summarise the endpoint's captured traffic.

Reads SageMaker Model Monitor data capture (S3 prefix or local folder), applies the
same confidence threshold as the deployed workflow, and writes PNG plots and a
summary.json. The threshold comes from --threshold, else from the deployed stack's
threshold output (training_job.stack.OUTPUT_FIELDS); when neither is available the
command stops and asks for --threshold rather than guessing, since a plot drawn at a
threshold other than the Lambda's is exactly the mistake this command exists to
prevent. The capture location defaults to s3://<stack bucket>/data_capture/, where
`mlwf deploy` points the endpoint's data capture.

Exit status: 0 when at least one record was read (malformed lines are reported, not
fatal); 1 on bad input or when the location holds no usable record at all (the
summary.json saying so is still written).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlwf.capture import (
    CLASS_NAMES,
    CaptureRead,
    CaptureRecord,
    LabelJoin,
    class_name,
    join_labels,
    labels_of,
    read_capture,
    read_labels,
)
from mlwf.plots.monitor import plot_all  # matplotlib itself is imported only when plotting
from mlwf.settings import (
    CAPTURE_HELP,
    capture_location,
    default_capture,
    resolve_threshold,
    s3_client_for,
)
from training_job.errors import MlwfError
from training_job.stack import add_stack_options

DEFAULT_OUT = "monitor-output"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "monitor",
        help="plot and summarise the endpoint's captured traffic",
        description="Read the endpoint's SageMaker data capture (every .jsonl under an S3 "
        "prefix or a local folder), and write plots of top confidence over time, its "
        "histogram and the predicted class over time, each with the workflow's confidence "
        "threshold, plus summary.json. With --labels, records are joined to true labels by "
        "image content and accuracy is added (with a reliability plot). The threshold is "
        "--threshold, else the deployed stack's threshold output; without either the "
        "command stops rather than guess.",
    )
    parser.add_argument(
        "--capture",
        metavar="S3_URL_OR_DIR",
        help=CAPTURE_HELP,
    )
    parser.add_argument(
        "--threshold",
        metavar="T",
        help="confidence threshold, 0.5..1.0 (default: the deployed stack's threshold output, "
        "so the plots agree with the Lambda)",
    )
    parser.add_argument(
        "--labels",
        metavar="LST",
        help="SageMaker .lst file (index<TAB>label<TAB>path) giving true labels; records join "
        "by image content, else by an InferenceId equal to a listed path, name or index",
    )
    parser.add_argument(
        "--images",
        metavar="DIR_OR_S3_PREFIX",
        help="where the .lst paths are relative to (default: the folder named like the .lst "
        "next to it, e.g. test/ for test.lst, then the .lst's own folder)",
    )
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"folder for the PNG plots and summary.json (default: ./{DEFAULT_OUT})",
    )
    add_stack_options(parser)
    parser.set_defaults(func=run)


# --------------------------------------------------------------------------- summary


def summarize(
    records: Sequence[CaptureRecord],
    threshold: float,
    labels: Sequence[int | None] | LabelJoin | None = None,
    *,
    read: CaptureRead | None = None,
    threshold_source: str | None = None,
) -> dict[str, Any]:
    """Plain-JSON summary of the records at `threshold`: counts, time span, share below
    threshold, per-class counts, malformed lines (from `read`), and with labels the
    join counts and accuracy overall, on accepted and on below-threshold records."""
    n = len(records)
    below = [r for r in records if r.confidence < threshold]
    confidences = [r.confidence for r in records]
    classes = sorted({r.predicted for r in records} | set(range(len(CLASS_NAMES))))
    summary: dict[str, Any] = {
        "source": read.source if read else None,
        "files": read.files if read else None,
        "lines": read.lines if read else None,
        "records": n,
        "time_span": None,
        "threshold": threshold,
        "threshold_source": threshold_source,
        "below_threshold": {"count": len(below), "share": len(below) / n if n else None},
        "confidence": None,
        "classes": {
            class_name(c): {
                "index": c,
                "count": sum(r.predicted == c for r in records),
                "share": sum(r.predicted == c for r in records) / n if n else None,
                "below_threshold": sum(r.predicted == c for r in below),
            }
            for c in classes
        },
        "malformed": dict(sorted(read.malformed.items())) if read else {},
        "malformed_total": read.malformed_total if read else 0,
        "malformed_examples": dict(sorted(read.malformed_examples.items())) if read else {},
        "labels": None,
        "notes": list(read.notes) if read else [],
    }
    if n:
        first, last = min(r.time for r in records), max(r.time for r in records)
        summary["time_span"] = {
            "first": first.isoformat().replace("+00:00", "Z"),
            "last": last.isoformat().replace("+00:00", "Z"),
            "seconds": (last - first).total_seconds(),
        }
        summary["confidence"] = {
            "min": min(confidences),
            "median": statistics.median(confidences),
            "mean": statistics.fmean(confidences),
            "max": max(confidences),
        }
    if labels is not None:
        summary["labels"] = _label_summary(records, labels, threshold)
    return summary


def _label_summary(
    records: Sequence[CaptureRecord], labels: Sequence[int | None] | LabelJoin, threshold: float
) -> dict[str, Any]:
    truth = labels_of(labels, len(records))
    pairs = [(r, t) for r, t in zip(records, truth, strict=True) if t is not None]
    result: dict[str, Any] = (
        labels.as_dict()
        if isinstance(labels, LabelJoin)
        else {"joined": len(pairs), "unmatched": len(records) - len(pairs)}
    )

    def accuracy(subset: list[tuple[CaptureRecord, int]]) -> float | None:
        return sum(r.predicted == t for r, t in subset) / len(subset) if subset else None

    accepted = [(r, t) for r, t in pairs if r.confidence >= threshold]
    rejected = [(r, t) for r, t in pairs if r.confidence < threshold]
    names = sorted({t for _, t in pairs} | {r.predicted for r, _ in pairs})
    result.update(
        {
            "accuracy": accuracy(pairs),
            "accepted_labelled": len(accepted),
            "accuracy_accepted": accuracy(accepted),
            "below_labelled": len(rejected),
            "accuracy_below": accuracy(rejected),
            # confusion[true][predicted] = records
            "confusion": {
                class_name(t): {
                    class_name(p): sum(r.predicted == p and lt == t for r, lt in pairs)
                    for p in names
                }
                for t in names
            },
        }
    )
    return result


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def format_summary(summary: dict[str, Any], plots: Sequence[Path] = ()) -> str:
    """The summary as the few lines a person reads in a terminal."""
    n = summary["records"]
    lines = [
        f"Capture    {summary['source']}: {n} records in {summary['files']} file(s), "
        f"{summary['malformed_total']} malformed line(s)"
    ]
    span = summary["time_span"]
    if span:
        from datetime import timedelta

        lines.append(
            f"Period     {span['first']} to {span['last']} "
            f"({timedelta(seconds=round(span['seconds']))})"
        )
    lines.append(f"Threshold  {summary['threshold']:g} (from {summary['threshold_source']})")
    below = summary["below_threshold"]["count"]
    if n:
        lines.append(
            f"Below      {below} of {n} records ({_share(below, n)}) have top confidence "
            f"< {summary['threshold']:g}: their executions fail"
        )
        parts = [
            f"{name} {c['count']} ({_share(c['count'], n)}, {c['below_threshold']} below)"
            for name, c in summary["classes"].items()
            if c["count"] or c["index"] < len(CLASS_NAMES)
        ]
        lines.append("Predicted  " + ", ".join(parts))
        conf = summary["confidence"]
        lines.append(
            f"Confidence min {conf['min']:.3f}, median {conf['median']:.3f}, "
            f"mean {conf['mean']:.3f}, max {conf['max']:.3f}"
        )
    if summary["malformed_total"]:
        parts = [f"{reason} {count}" for reason, count in summary["malformed"].items()]
        lines.append("Malformed  " + ", ".join(parts))
        for reason, example in summary["malformed_examples"].items():
            lines.append(f"           first {reason}: {example}")
    labels = summary["labels"]
    if labels is not None:
        how = (
            f" ({labels['by_image_bytes']} by image bytes, {labels['by_decoded_pixels']} by "
            f"decoded pixels, {labels['by_inference_id']} by inference id)"
            if "by_image_bytes" in labels
            else ""
        )
        source = f"{labels['source']}: " if labels.get("source") else ""
        lines.append(
            f"Labels     {source}{labels['joined']} of {n} records joined{how}, "
            f"{labels['unmatched']} unmatched"
        )
        if labels.get("label_images_not_found"):
            lines.append(
                f"           {labels['label_images_not_found']} image(s) of the .lst not found; "
                "pass --images"
            )
        if labels["accuracy"] is not None:
            accepted = (
                f"{labels['accuracy_accepted']:.3f} on {labels['accepted_labelled']} accepted"
                if labels["accuracy_accepted"] is not None
                else "none accepted"
            )
            rejected = (
                f"{labels['accuracy_below']:.3f} on {labels['below_labelled']} below threshold"
                if labels["accuracy_below"] is not None
                else "none below threshold"
            )
            lines.append(f"Accuracy   {labels['accuracy']:.3f} overall, {accepted}, {rejected}")
    for note in summary["notes"]:
        lines.append(f"Note       {note}")
    if plots:
        lines.append("Plots      " + ", ".join(str(p) for p in plots))
    return "\n".join(lines)


# --------------------------------------------------------------------------- command


def run(args: argparse.Namespace) -> int:
    capture = capture_location(args.capture) if args.capture else default_capture(args)
    threshold, threshold_source = resolve_threshold(args)
    client = s3_client_for(args, capture, args.labels, args.images)
    label_set = read_labels(args.labels, args.images, client) if args.labels else None
    read = read_capture(capture, client, keep_inputs=label_set is not None)
    join = join_labels(read.records, label_set) if label_set is not None else None
    summary = summarize(read.records, threshold, join, read=read, threshold_source=threshold_source)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plots = plot_all(read.records, threshold, out, join)
    summary["plots"] = [p.name for p in plots]
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(format_summary(summary, plots))
    print(f"Summary    {out / 'summary.json'}")
    if not read.records:
        reason = read.notes[0] if read.notes else f"nothing usable in {read.source}"
        raise MlwfError(f"no capture records to report: {reason}")
    return 0
