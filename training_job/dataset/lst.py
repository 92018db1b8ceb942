"""The SageMaker ``.lst`` format: one image per line, ``index<TAB>label<TAB>path``, the path
relative to the split's folder. The one place that reads and writes it: `mlwf stage` writes
it, the offline trainer and `mlwf monitor` / `mlwf threshold` / `mlwf run` read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from training_job.dataset.layout import check_prefix
from training_job.errors import MlwfError


class LstEntry(NamedTuple):
    index: int  # type: ignore[assignment]  # the .lst column's name; shadows tuple.index
    label: int
    path: str


def parse_lst(text: str, where: str = "lst") -> list[LstEntry]:
    """Entries of a SageMaker .lst (index<TAB>label<TAB>path); blank lines are ignored."""
    entries = []
    indices: set[int] = set()
    paths: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            raise MlwfError(
                f"{where}:{number}: expected index<TAB>label<TAB>path, found {len(fields)} field(s)"
            )
        index_text, label_text, path = fields
        try:
            index = int(index_text)
            label_value = float(label_text)
        except ValueError:
            raise MlwfError(f"{where}:{number}: index and label must be numbers") from None
        if index < 0 or not label_value.is_integer() or not path.strip():
            raise MlwfError(f"{where}:{number}: bad entry {line!r}")
        if index in indices:
            raise MlwfError(f"{where}:{number}: index {index} appears twice")
        if path in paths:
            raise MlwfError(f"{where}:{number}: {path} appears twice")
        indices.add(index)
        paths.add(path)
        entries.append(LstEntry(index, int(label_value), path))
    return entries


def read_lst(path: str | Path) -> list[LstEntry]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MlwfError(f"{path}: cannot read ({exc})") from exc
    return parse_lst(text, str(path))


def read_s3_lst(s3_client: Any, bucket: str, prefix: str, split: str) -> list[LstEntry]:
    key = f"{check_prefix(prefix)}/{split}.lst"
    body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return parse_lst(body.decode("utf-8"), f"s3://{bucket}/{key}")


def count_entries(text: str) -> int:
    """The number of entries of a .lst text, one per non-blank line as parse_lst reads them,
    without checking each (for a quick count of a list that was checked when written)."""
    return sum(1 for line in text.splitlines() if line.strip())


def format_lst(entries: Iterable[tuple[int, int, str]]) -> str:
    """The text of a .lst file listing (index, label, path) entries."""
    return "".join(f"{index}\t{label}\t{path}\n" for index, label, path in entries)
