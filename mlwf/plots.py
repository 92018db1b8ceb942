"""The PNG plots of `mlwf monitor` and `mlwf threshold`.

Figures are built with matplotlib's object API (`matplotlib.figure.Figure`, rendered
by Agg), never pyplot, so no GUI backend or global state is involved. matplotlib and
numpy are imported inside the functions to keep `mlwf --help` fast.

One module of ~500 lines on purpose: every plot draws with the same figure size, colours,
threshold line and time axis (the helpers at the top), and they are read and changed
together; split up, each would import the same helpers and little else.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mlwf.capture import CaptureRecord, LabelJoin, class_name, labels_of
from mlwf.settings import ThresholdRow

FIGSIZE = (10.0, 5.0)
DPI = 120
THRESHOLD_COLOR = "#d62728"
BELOW_SHADE = "#d62728"
CLASS_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")

# Candidate bucket sizes for counts over time: the smallest giving <= MAX_BUCKETS wins.
BUCKETS = (
    (timedelta(minutes=1), "minute"),
    (timedelta(minutes=5), "5 minutes"),
    (timedelta(minutes=15), "15 minutes"),
    (timedelta(hours=1), "hour"),
    (timedelta(hours=6), "6 hours"),
    (timedelta(days=1), "day"),
    (timedelta(days=7), "week"),
    (timedelta(days=30), "30 days"),
)
MAX_BUCKETS = 60

PLOT_FILES = {
    "confidence_over_time": "confidence_over_time.png",
    "confidence_histogram": "confidence_histogram.png",
    "class_over_time": "class_over_time.png",
    "reliability": "reliability.png",
    "threshold_sweep": "threshold_sweep.png",
}


def class_color(index: int) -> str:
    return CLASS_COLORS[index % len(CLASS_COLORS)]


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _figure(**kwargs: Any) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=kwargs.pop("figsize", FIGSIZE), dpi=DPI, layout="constrained", **kwargs)


def _time_axis(ax: Any, times: Sequence[datetime]) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("inference time (UTC)")
    first, last = min(times), max(times)
    if last - first < timedelta(minutes=2):
        middle = first + (last - first) / 2
        ax.set_xlim(middle - timedelta(minutes=2), middle + timedelta(minutes=2))


def _classes(records: Sequence[CaptureRecord]) -> list[int]:
    present = {r.predicted for r in records}
    return sorted(present | set(range(2)))


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    return path


def _records(n: int) -> str:
    return f"{n} record" if n == 1 else f"{n} records"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def plot_confidence_over_time(
    records: Sequence[CaptureRecord],
    threshold: float,
    path: Path,
    labels: Sequence[int | None] | LabelJoin | None = None,
) -> Path:
    """(a) Top confidence of every record over time, coloured by predicted class;
    records below the threshold drawn as crosses, wrong predictions ringed in black."""
    truth = labels_of(labels, len(records))
    times = [_naive_utc(r.time) for r in records]
    below = [r.confidence < threshold for r in records]
    n_below = sum(below)
    size = 36 if len(records) <= 200 else 14 if len(records) <= 2000 else 5
    fig = _figure()
    ax = fig.add_subplot()
    low = min(0.48, min(r.confidence for r in records) - 0.02)
    ax.axhspan(low, threshold, color=BELOW_SHADE, alpha=0.07, lw=0)
    for cls in _classes(records):
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
        f"Top confidence over time: {_records(len(records))}, "
        f"{n_below} ({_pct(n_below, len(records))}) below threshold {threshold:g}"
    )
    ax.grid(True, alpha=0.3)
    _time_axis(ax, times)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    return _save(fig, path)


def plot_confidence_histogram(
    records: Sequence[CaptureRecord], threshold: float, path: Path
) -> Path:
    """(b) Histogram of top confidence, stacked by predicted class, threshold marked."""
    import numpy as np

    confidences = np.array([r.confidence for r in records])
    low = min(0.5, float(np.floor(confidences.min() * 20) / 20))
    bins = np.linspace(low, 1.0, round((1.0 - low) / 0.01) + 1)
    classes = _classes(records)
    data = [[r.confidence for r in records if r.predicted == cls] for cls in classes]
    n_below = int((confidences < threshold).sum())
    fig = _figure()
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
        f"threshold {threshold:g}\n{n_below} below ({_pct(n_below, len(records))})\n"
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
    ax.set_title(f"Distribution of top confidence: {_records(len(records))}")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    return _save(fig, path)


def choose_bucket(first: datetime, last: datetime) -> tuple[timedelta, str]:
    """The smallest bucket size that splits [first, last] into at most MAX_BUCKETS."""
    span = last - first
    for size, name in BUCKETS:
        if span / size < MAX_BUCKETS:
            return size, name
    return BUCKETS[-1]


def bucket_counts(
    records: Sequence[CaptureRecord], size: timedelta
) -> tuple[list[datetime], dict[int, list[int]]]:
    """Bucket start times (UTC, naive) and per predicted class the count in each bucket."""
    epoch = datetime(1970, 1, 1)
    times = [_naive_utc(r.time) for r in records]
    first = epoch + ((min(times) - epoch) // size) * size
    count = int((max(times) - first) // size) + 1
    starts = [first + i * size for i in range(count)]
    counts = {cls: [0] * count for cls in _classes(records)}
    for record, moment in zip(records, times, strict=True):
        counts[record.predicted][int((moment - first) // size)] += 1
    return starts, counts


def plot_class_over_time(records: Sequence[CaptureRecord], path: Path) -> Path:
    """(c) Records per time bucket, stacked by predicted class."""
    import matplotlib.dates as mdates

    times = [_naive_utc(r.time) for r in records]
    size, name = choose_bucket(min(times), max(times))
    starts, counts = bucket_counts(records, size)
    width = size / timedelta(days=1) * 0.85
    x = mdates.date2num(starts)
    fig = _figure()
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
            label=f"predicted {class_name(cls)} ({total}, {_pct(total, len(records))})",
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.xaxis_date()
    _time_axis(ax, times + [starts[-1] + size])
    if len(starts) == 1:  # one bar: show a few empty buckets around it
        days = size / timedelta(days=1)
        ax.set_xlim(x[0] - 2 * days, x[0] + 3 * days)
    ax.set_ylabel(f"records per {name}")
    ax.set_title(f"Predicted class over time: {_records(len(records))}, per {name} (UTC)")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    return _save(fig, path)


def reliability_bins(
    confidences: Sequence[float], correct: Sequence[bool], width: float = 0.05
) -> list[dict[str, float]]:
    """Per confidence bin [lo, hi): count, mean confidence and accuracy (bins with data)."""
    import numpy as np

    conf = np.asarray(confidences, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    low = min(0.5, float(np.floor(conf.min() / width) * width)) if len(conf) else 0.5
    edges = np.round(np.arange(low, 1.0 + width / 2, width), 6)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        last = hi >= 1.0
        mask = (conf >= lo) & ((conf <= hi) if last else (conf < hi))
        n = int(mask.sum())
        if n:
            rows.append(
                {
                    "low": float(lo),
                    "high": float(hi),
                    "count": n,
                    "mean_confidence": float(conf[mask].mean()),
                    "accuracy": float(ok[mask].mean()),
                }
            )
    return rows


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
    fig = _figure()
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
        f"Accuracy vs confidence ({_records(len(pairs))} with a label)\n"
        f"accuracy {overall:.3f} overall, {accepted_text}, {rejected_text}",
        fontsize=11,
    )
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    return _save(fig, path)


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


def plot_threshold_sweep(
    rows: Sequence[ThresholdRow],
    target: float,
    path: Path,
    chosen: ThresholdRow | None = None,
    deployed: float | None = None,
) -> Path:
    """Accuracy of accepted records (top) and coverage (bottom) against the threshold,
    with the target accuracy, the chosen and the deployed threshold marked."""
    fig = _figure(figsize=(10.0, 7.0))
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    xs = [r.threshold for r in rows]
    acc = [(r.threshold, r.accuracy) for r in rows if r.accuracy is not None]
    top.plot(
        [a[0] for a in acc],
        [a[1] for a in acc],
        "o-",
        ms=3,
        color="#4c72b0",
        label="accuracy of accepted records",
    )
    top.axhline(target, color="#2ca02c", ls="--", lw=1.3, label=f"target accuracy {target:g}")
    bottom.plot(
        xs,
        [r.coverage for r in rows],
        "o-",
        ms=3,
        color="#8172b2",
        label="coverage (share accepted)",
    )
    values = [a[1] for a in acc] + [target]
    top.set_ylim(max(0.0, min(values) - 0.02), 1.005)
    bottom.set_ylim(0, 1.05)
    for ax in (top, bottom):
        if chosen is not None:
            ax.axvline(
                chosen.threshold,
                color=THRESHOLD_COLOR,
                lw=1.8,
                label=f"chosen threshold {chosen.threshold:.2f}",
            )
        if deployed is not None:
            ax.axvline(
                deployed, color="black", ls=":", lw=1.5, label=f"deployed threshold {deployed:g}"
            )
        ax.grid(True, alpha=0.3)
    if chosen is not None:
        box = {"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85}
        # Accuracy usually rises to the right and coverage falls: label below-right
        # and below-left of the point, where the curves are not; near the left edge
        # both go to the right so that they stay inside the axes.
        left_edge = chosen.threshold - min(xs) < 0.25 * (max(xs) - min(xs))
        top.annotate(
            f"{chosen.threshold:.2f}: accuracy {chosen.accuracy:.3f}",
            xy=(chosen.threshold, chosen.accuracy),
            xytext=(8, -18),
            textcoords="offset points",
            ha="left",
            color=THRESHOLD_COLOR,
            fontsize=9,
            bbox=box,
        )
        bottom.annotate(
            f"{chosen.threshold:.2f}: coverage {chosen.coverage:.1%} "
            f"({chosen.accepted} of {chosen.accepted + chosen.rejected})",
            xy=(chosen.threshold, chosen.coverage),
            xytext=(8, -22) if left_edge else (-8, -22),
            textcoords="offset points",
            ha="left" if left_edge else "right",
            color=THRESHOLD_COLOR,
            fontsize=9,
            bbox=box,
        )
    total = rows[0].accepted + rows[0].rejected if rows else 0
    verdict = (
        f"lowest threshold with accuracy ≥ {target:g} is {chosen.threshold:.2f}"
        if chosen is not None
        else f"no threshold reaches accuracy {target:g}"
    )
    top.set_title(
        f"Choosing the confidence threshold from {_records(total)} with a label\n{verdict}"
    )
    top.set_ylabel("accuracy of accepted")
    bottom.set_ylabel("coverage")
    bottom.set_xlabel("confidence threshold (accepted when top confidence ≥ threshold)")
    bottom.set_xlim(min(xs) - 0.01, max(xs) + 0.01)
    top.legend(loc="lower right", fontsize=9)
    bottom.legend(loc="lower left", fontsize=9)
    return _save(fig, path)
