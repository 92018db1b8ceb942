"""The plots of `mlwf monitor`: top confidence over time, its histogram, the predicted class
over time and, with labels, the reliability diagram (`plot_all` writes them all).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from mlwf.capture import CaptureRecord, LabelJoin, class_name, labels_of
from mlwf.plots.bins import (
    bucket_counts,
    choose_bucket,
    naive_utc,
    predicted_classes,
    reliability_bins,
)
from mlwf.plots.style import (
    BELOW_SHADE,
    PLOT_FILES,
    THRESHOLD_COLOR,
    class_color,
    figure,
    pct,
    records_text,
    save,
    time_axis,
)


def plot_confidence_over_time(
    records: Sequence[CaptureRecord],
    threshold: float,
    path: Path,
    labels: Sequence[int | None] | LabelJoin | None = None,
) -> Path:
    """(a) Top confidence of every record over time, coloured by predicted class;
    records below the threshold drawn as crosses, wrong predictions ringed in black."""
    truth = labels_of(labels, len(records))
    times = [naive_utc(r.time) for r in records]
    below = [r.confidence < threshold for r in records]
    n_below = sum(below)
    size = 36 if len(records) <= 200 else 14 if len(records) <= 2000 else 5
    fig = figure()
    ax = fig.add_subplot()
    low = min(0.48, min(r.confidence for r in records) - 0.02)
    ax.axhspan(low, threshold, color=BELOW_SHADE, alpha=0.07, lw=0)
    for cls in predicted_classes(records):
        for is_below in (False, True):
            idx = [i for i, r in enumerate(records) if r.predicted == cls and below[i] == is_below]
            if not idx and is_below:
                continue
            ax.scatter(
                [times[i] for i in idx],
                [records[i].confidence for i in idx],
                s=size * (1.6 if is_below else 1),
                marker="X" if is_below else "o",
                color=class_color(cls),
                alpha=0.85,
                edgecolors="none",
                label=f"predicted {class_name(cls)}" if not is_below else None,
                zorder=3,
            )
    wrong = [i for i, t in enumerate(truth) if t is not None and t != records[i].predicted]
    if any(t is not None for t in truth):
        ax.scatter(
            [times[i] for i in wrong],
            [records[i].confidence for i in wrong],
            s=size * 3.5,
            facecolors="none",
            edgecolors="black",
            linewidths=1.2,
            label=f"wrong prediction ({len(wrong)})",
            zorder=4,
        )
    # Legend proxies for the marker and the shaded band.
    ax.scatter([], [], marker="X", color="grey", s=size * 1.6, label=f"below threshold ({n_below})")
    ax.axhline(threshold, color=THRESHOLD_COLOR, ls="--", lw=1.5, label=f"threshold {threshold:g}")
    ax.annotate(
        f"threshold {threshold:g}",
        xy=(1.0, threshold),
        xycoords=("axes fraction", "data"),
        xytext=(-4, 4),
        textcoords="offset points",
        ha="right",
        va="bottom",
        color=THRESHOLD_COLOR,
        fontsize=9,
        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
        zorder=5,
    )
    ax.set_ylim(low, 1.02)
    ax.set_ylabel("top confidence (max class probability)")
    ax.set_title(
        f"Top confidence over time: {records_text(len(records))}, "
        f"{n_below} ({pct(n_below, len(records))}) below threshold {threshold:g}"
    )
    ax.grid(True, alpha=0.3)
    time_axis(ax, times)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    return save(fig, path)


def plot_confidence_histogram(
    records: Sequence[CaptureRecord], threshold: float, path: Path
) -> Path:
    """(b) Histogram of top confidence, stacked by predicted class, threshold marked."""
    import numpy as np

    confidences = np.array([r.confidence for r in records])
    low = min(0.5, float(np.floor(confidences.min() * 20) / 20))
    bins = np.linspace(low, 1.0, round((1.0 - low) / 0.01) + 1)
    classes = predicted_classes(records)
    data = [[r.confidence for r in records if r.predicted == cls] for cls in classes]
    n_below = int((confidences < threshold).sum())
    fig = figure()
    ax = fig.add_subplot()
    ax.axvspan(low, threshold, color=BELOW_SHADE, alpha=0.07, lw=0)
    ax.hist(
        data,
        bins=bins,
        stacked=True,
        color=[class_color(c) for c in classes],
        label=[f"predicted {class_name(c)}" for c in classes],
        edgecolor="white",
        linewidth=0.4,
    )
    ax.axvline(threshold, color=THRESHOLD_COLOR, ls="--", lw=1.5, label=f"threshold {threshold:g}")
    ax.annotate(
        f"threshold {threshold:g}\n{n_below} below ({pct(n_below, len(records))})\n"
        "→ execution fails",
        xy=(threshold, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(-6, -6),
        textcoords="offset points",
        ha="right",
        va="top",
        color=THRESHOLD_COLOR,
        fontsize=9,
    )
    ax.set_xlim(low, 1.0)
    ax.set_xlabel("top confidence (bins of 0.01)")
    ax.set_ylabel("records")
    ax.set_title(f"Distribution of top confidence: {records_text(len(records))}")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    return save(fig, path)


def plot_class_over_time(records: Sequence[CaptureRecord], path: Path) -> Path:
    """(c) Records per time bucket, stacked by predicted class."""
    import matplotlib.dates as mdates

    times = [naive_utc(r.time) for r in records]
    size, name = choose_bucket(min(times), max(times))
    starts, counts = bucket_counts(records, size)
    width = size / timedelta(days=1) * 0.85
    x = mdates.date2num(starts)
    fig = figure()
    ax = fig.add_subplot()
    bottom = [0] * len(starts)
    for cls, values in counts.items():
        total = sum(values)
        ax.bar(
            x,
            values,
            width=width,
            bottom=bottom,
            align="edge",
            color=class_color(cls),
            label=f"predicted {class_name(cls)} ({total}, {pct(total, len(records))})",
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.xaxis_date()
    time_axis(ax, times + [starts[-1] + size])
    if len(starts) == 1:  # one bar: show a few empty buckets around it
        days = size / timedelta(days=1)
        ax.set_xlim(x[0] - 2 * days, x[0] + 3 * days)
    ax.set_ylabel(f"records per {name}")
    ax.set_title(f"Predicted class over time: {records_text(len(records))}, per {name} (UTC)")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    return save(fig, path)


def plot_reliability(
    records: Sequence[CaptureRecord],
    threshold: float,
    path: Path,
    labels: Sequence[int | None] | LabelJoin,
) -> Path | None:
    """(d) Accuracy per confidence bin against the diagonal of perfect calibration.

    Only records with a known label count; None when there is none."""
    truth = labels_of(labels, len(records))
    pairs = [(r, t) for r, t in zip(records, truth, strict=True) if t is not None]
    if not pairs:
        return None
    confidences = [r.confidence for r, _ in pairs]
    correct = [r.predicted == t for r, t in pairs]
    bins = reliability_bins(confidences, correct)
    accepted = [c for (r, _), c in zip(pairs, correct, strict=True) if r.confidence >= threshold]
    rejected = [c for (r, _), c in zip(pairs, correct, strict=True) if r.confidence < threshold]
    low = min(0.5, bins[0]["low"]) if bins else 0.5
    fig = figure()
    ax = fig.add_subplot()
    ax.plot([low, 1.0], [low, 1.0], color="grey", ls=":", lw=1.2, label="perfect calibration")
    ax.bar(
        [(b["low"] + b["high"]) / 2 for b in bins],
        [b["accuracy"] for b in bins],
        width=[(b["high"] - b["low"]) * 0.9 for b in bins],
        color="#4c72b0",
        alpha=0.8,
        label="accuracy in bin",
    )
    ax.plot(
        [b["mean_confidence"] for b in bins],
        [b["accuracy"] for b in bins],
        "o",
        color="black",
        ms=4,
        label="accuracy at the bin's mean confidence",
    )
    for b in bins:  # the count at the foot of each bar, clear of the markers
        tall = b["accuracy"] > 0.12
        ax.annotate(
            f"n={b['count']}",
            xy=((b["low"] + b["high"]) / 2, 0),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
            color="white" if tall else "black",
            fontweight="bold" if tall else "normal",
        )
    ax.axvline(threshold, color=THRESHOLD_COLOR, ls="--", lw=1.5, label=f"threshold {threshold:g}")
    ax.set_xlim(low, 1.0)
    ax.set_ylim(0, 1.12)
    ax.set_xlabel("top confidence (bins of 0.05)")
    ax.set_ylabel("accuracy (share of correct predictions)")
    overall = sum(correct) / len(correct)
    accepted_text = (
        f"{sum(accepted) / len(accepted):.3f} on {len(accepted)} accepted"
        if accepted
        else "none accepted"
    )
    rejected_text = (
        f"{sum(rejected) / len(rejected):.3f} on {len(rejected)} below threshold"
        if rejected
        else "none below threshold"
    )
    ax.set_title(
        f"Accuracy vs confidence ({records_text(len(pairs))} with a label)\n"
        f"accuracy {overall:.3f} overall, {accepted_text}, {rejected_text}",
        fontsize=11,
    )
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    return save(fig, path)


def plot_all(
    records: Sequence[CaptureRecord],
    threshold: float,
    out_dir: str | Path,
    labels: Sequence[int | None] | LabelJoin | None = None,
) -> list[Path]:
    """Write the monitor plots into `out_dir`; the reliability plot only when at least
    one record has a label. No records: no plots (an empty list)."""
    if not records:
        return []
    out = Path(out_dir)
    paths = [
        plot_confidence_over_time(
            records, threshold, out / PLOT_FILES["confidence_over_time"], labels
        ),
        plot_confidence_histogram(records, threshold, out / PLOT_FILES["confidence_histogram"]),
        plot_class_over_time(records, out / PLOT_FILES["class_over_time"]),
    ]
    if labels is not None:
        path = plot_reliability(records, threshold, out / PLOT_FILES["reliability"], labels)
        if path is not None:
            paths.append(path)
    return paths
