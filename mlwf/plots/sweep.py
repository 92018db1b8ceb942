"""The plot of `mlwf threshold`: accuracy and coverage of the accepted records against the
confidence threshold. matplotlib is imported inside `style` to keep `mlwf --help` fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mlwf.plots.style import THRESHOLD_COLOR, figure, records_text, save
from mlwf.settings import ThresholdRow


def plot_threshold_sweep(
    rows: Sequence[ThresholdRow],
    target: float,
    path: Path,
    chosen: ThresholdRow | None = None,
    deployed: float | None = None,
) -> Path:
    """Accuracy of accepted records (top) and coverage (bottom) against the threshold,
    with the target accuracy, the chosen and the deployed threshold marked."""
    fig = figure(figsize=(10.0, 7.0))
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
        f"Choosing the confidence threshold from {records_text(total)} with a label\n{verdict}"
    )
    top.set_ylabel("accuracy of accepted")
    bottom.set_ylabel("coverage")
    bottom.set_xlabel("confidence threshold (accepted when top confidence ≥ threshold)")
    bottom.set_xlim(min(xs) - 0.01, max(xs) + 0.01)
    top.legend(loc="lower right", fontsize=9)
    bottom.legend(loc="lower left", fontsize=9)
    return save(fig, path)
