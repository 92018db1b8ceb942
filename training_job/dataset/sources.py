"""Where a dataset comes from (`--source` of `mlwf stage`): `cifar100` (download the official
tarball once into a cache and verify its md5), a local CIFAR-100 python `.tar.gz`, an
already staged directory (`train/`, `test/`, `train.lst`, `test.lst`, optionally
`validation/` + `validation.lst`), or `synthetic` (seeded generated images, offline). The
keywords win over paths: write `./synthetic` for a directory of that name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from training_job.dataset.classes import CIFAR_FINE_LABELS, CLASS_NAMES
from training_job.dataset.layout import IMAGE_SIZE, SPLITS
from training_job.dataset.lst import read_lst
from training_job.dataset.types import Dataset, Log, Split
from training_job.errors import MlwfError

if TYPE_CHECKING:
    import numpy as np

CIFAR100_URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"  # = cifar.CIFAR100_URL
_SAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def load_source(
    source: str | Path = "cifar100",
    *,
    seed: int = 0,
    count: int | None = None,
    test_count: int | None = None,
    cache_dir: str | Path | None = None,
    url: str = CIFAR100_URL,
    verify: bool = True,
    opener: Callable[..., Any] | None = None,
    progress: bool | None = None,
    log: Log = print,
) -> Dataset:
    """The train and test splits of `source` (see the module docstring)."""
    from training_job import cifar

    source_text = str(source)
    if source_text != "synthetic" and (count is not None or test_count is not None):
        raise MlwfError("--count and --test-count apply to --source synthetic only")
    if source_text == "synthetic":
        return _from_synthetic(seed, count, test_count)
    if source_text == "cifar100":
        cache = Path(cache_dir).expanduser() if cache_dir else cifar.default_cache_dir()
        md5 = cifar.CIFAR100_MD5 if verify else None
        path = cifar.ensure_tarball(cache, url, md5, opener=opener, progress=progress, log=log)
        return _from_tarball(path, verify=False, kind="cifar100", location=url, log=log)
    path = Path(source_text).expanduser()
    if path.is_dir():
        return _from_directory(path, log=log)
    if path.is_file():
        return _from_tarball(path, verify=verify, kind="tarball", location=path.name, log=log)
    raise MlwfError(
        f"--source {source_text}: no such file or directory; expected cifar100, synthetic, "
        "a CIFAR-100 python .tar.gz or a staged dataset directory"
    )


def _from_tarball(path: Path, *, verify: bool, kind: str, location: str, log: Log) -> Dataset:
    from training_job import cifar

    md5 = cifar.check_md5(path) if verify else cifar.file_md5(path)
    log(f"reading {path}")
    batches = cifar.read_tarball(path)
    splits: dict[str, Split] = {}
    used: set[str] = set()
    for name in ("train", "test"):
        images, labels, filenames, ids = cifar.select(batches[name])
        _require_both_classes(labels, f"{path}: {name}")
        names = _unique_names(filenames, ids, used)
        splits[name] = Split(images=images, labels=labels, names=names, ids=ids)
    return Dataset(
        splits=splits,
        source={"kind": kind, "location": location, "md5": md5},
    )


def _from_synthetic(seed: int, count: int | None, test_count: int | None) -> Dataset:
    import numpy as np

    from training_job import synthetic

    if seed < 0:
        raise MlwfError(f"--seed must be >= 0, got {seed}")
    counts = {
        "train": synthetic.DEFAULT_COUNTS["train"] if count is None else count,
        "test": synthetic.DEFAULT_COUNTS["test"] if test_count is None else test_count,
    }
    if counts["train"] < 2:
        raise MlwfError(f"--count must be at least 2 (images per class in train), got {count}")
    if counts["test"] < 1:
        raise MlwfError(f"--test-count must be at least 1 (images per class), got {test_count}")
    splits: dict[str, Split] = {}
    next_id = 0
    for name in ("train", "test"):
        generated = synthetic.generate(counts[name], seed=seed, split=name)
        ids = np.arange(next_id, next_id + len(generated.labels), dtype=np.int64)
        next_id += len(ids)
        names = tuple(
            f"synthetic_{CLASS_NAMES[label]}_s{seed}_{i:06d}.png"
            for label, i in zip(generated.labels.tolist(), ids.tolist(), strict=True)
        )
        splits[name] = Split(
            images=generated.images,
            labels=generated.labels,
            names=names,
            ids=ids,
            ambiguous=generated.ambiguous,
        )
    return Dataset(
        splits=splits,
        source={
            "kind": "synthetic",
            "seed": seed,
            "count_per_class": counts,
            "ambiguous_fraction": synthetic.AMBIGUOUS_FRACTION,
        },
    )


def _from_directory(root: Path, *, log: Log) -> Dataset:
    import numpy as np

    present = [s for s in SPLITS if (root / f"{s}.lst").is_file()]
    missing = [f"{s}.lst" for s in ("train", "test") if s not in present]
    if missing:
        raise MlwfError(
            f"{root}: not a staged dataset directory: no {' or '.join(missing)} "
            "(expected train/, test/, train.lst and test.lst)"
        )
    log(f"reading {root}")
    splits: dict[str, Split] = {}
    used: set[str] = set()
    seen_files: dict[Path, str] = {}
    for name in present:
        lst_path = root / f"{name}.lst"
        entries = read_lst(lst_path)
        if not entries:
            raise MlwfError(f"{lst_path}: lists no images")
        images = np.empty((len(entries), IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
        resized = 0
        for row, entry in enumerate(entries):
            if not 0 <= entry.label < len(CLASS_NAMES):
                expected = " or ".join(f"{i} ({n})" for i, n in enumerate(CLASS_NAMES))
                raise MlwfError(
                    f"{lst_path}: label {entry.label} for {entry.path}; expected {expected}"
                )
            path = _resolve_listed(root, name, entry.path, lst_path)
            if path in seen_files:
                raise MlwfError(
                    f"{lst_path}: {entry.path} is also listed in {seen_files[path]}.lst; "
                    "an image must be in one split only"
                )
            seen_files[path] = name
            images[row], was_resized = _read_image(path)
            resized += was_resized
        if resized:
            log(f"{lst_path}: resized {resized} image(s) to {IMAGE_SIZE}x{IMAGE_SIZE}")
        ids = np.array([e.index for e in entries], dtype=np.int64)
        labels = np.array([e.label for e in entries], dtype=np.int64)
        names = _unique_names([e.path.replace("/", "_") for e in entries], ids, used)
        splits[name] = Split(images=images, labels=labels, names=names, ids=ids)
    for name in ("train", "test"):
        _require_both_classes(splits[name].labels, f"{root}/{name}.lst")
    if "validation" in splits:
        log(f"{root}: merging validation.lst into train before splitting again")
    return Dataset(splits=splits, source={"kind": "directory", "location": root.name})


def _resolve_listed(root: Path, split: str, listed: str, lst_path: Path) -> Path:
    relative = Path(listed)
    if relative.is_absolute() or ".." in relative.parts:
        raise MlwfError(f"{lst_path}: {listed!r} must be a relative path inside {root}")
    for candidate in (root / split / relative, root / relative):
        if candidate.is_file():
            return candidate.resolve()
    raise MlwfError(f"{lst_path}: names missing file {listed} (looked in {root / split})")


def _read_image(path: Path) -> tuple[np.ndarray, bool]:
    """A 32x32 RGB array of any image Pillow reads (alpha dropped), and whether it was resized."""
    import numpy as np
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
            rgb = image.convert("RGB")
    except Image.UnidentifiedImageError as exc:
        raise MlwfError(f"{path}: not a readable image (unknown format or corrupt)") from exc
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise MlwfError(f"{path}: not a readable image ({exc})") from exc
    resized = rgb.size != (IMAGE_SIZE, IMAGE_SIZE)
    if resized:
        rgb = rgb.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS)
    return np.asarray(rgb, dtype=np.uint8), resized


def _require_both_classes(labels: np.ndarray, where: str) -> None:
    for label, name in enumerate(CLASS_NAMES):
        if not (labels == label).any():
            fine = CIFAR_FINE_LABELS[label]
            raise MlwfError(f"{where} has no images of label {fine} ({name})")


def _unique_names(names: Iterable[str], ids: Iterable[int], used: set[str]) -> tuple[str, ...]:
    """Safe `.png` file names, unique (case-insensitively) across every split seen so far."""
    result = []
    for name, index in zip(names, ids, strict=True):
        base = name.replace("\\", "/").rsplit("/", 1)[-1]
        stem = base
        for suffix in _IMAGE_SUFFIXES:
            if stem.lower().endswith(suffix):
                stem = stem[: -len(suffix)]
                break
        stem = _SAFE_CHARS.sub("_", stem).strip("._") or "image"
        candidate = f"{stem}.png"
        attempt = 0
        while candidate.lower() in used:
            attempt += 1
            candidate = f"{stem}_{int(index)}{'' if attempt == 1 else f'_{attempt}'}.png"
        used.add(candidate.lower())
        result.append(candidate)
    return tuple(result)
