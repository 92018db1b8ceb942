"""What every plot shares: figure size, colours, the time axis, file names and saving.

matplotlib is imported inside the functions to keep `mlwf --help` fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

FIGSIZE = (10.0, 5.0)
DPI = 120
THRESHOLD_COLOR = "#d62728"
BELOW_SHADE = "#d62728"
CLASS_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")

PLOT_FILES = {
    "confidence_over_time": "confidence_over_time.png",
    "confidence_histogram": "confidence_histogram.png",
    "class_over_time": "class_over_time.png",
    "reliability": "reliability.png",
    "threshold_sweep": "threshold_sweep.png",
}


def class_color(index: int) -> str:
    return CLASS_COLORS[index % len(CLASS_COLORS)]


def figure(**kwargs: Any) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=kwargs.pop("figsize", FIGSIZE), dpi=DPI, layout="constrained", **kwargs)


def time_axis(ax: Any, times: Sequence[datetime]) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("inference time (UTC)")
    first, last = min(times), max(times)
    if last - first < timedelta(minutes=2):
        middle = first + (last - first) / 2
        ax.set_xlim(middle - timedelta(minutes=2), middle + timedelta(minutes=2))


def save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    return path


def records_text(n: int) -> str:
    return f"{n} record" if n == 1 else f"{n} records"


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"
