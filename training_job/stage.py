"""`mlwf stage`: build the bicycle (0) vs motorcycle (1) dataset and upload it to S3 in the
layout the SageMaker built-in image-classification algorithm reads (lst format).

Sources (`--source`): `cifar100` (download the official tarball once into a cache and
verify its md5), a local CIFAR-100 python `.tar.gz`, an already staged directory
(`train/`, `test/`, `train.lst`, `test.lst`, optionally `validation/` + `validation.lst`),
or `synthetic` (seeded generated images, offline). The keywords win over paths: write
`./synthetic` for a directory of that name.

S3 layout under `s3://BUCKET/PREFIX/` (default prefix `dataset`):

    train/<name>.png  validation/<name>.png  test/<name>.png     32x32 RGB PNGs
    train.lst  validation.lst  test.lst     index<TAB>label<TAB>path, path relative to
                                            the split folder, uploaded after every image
    manifest.json                           uploaded last: its presence means complete

manifest.json (format "mlwf-dataset/1", deterministic: re-staging the same data rewrites
nothing): `num_training_samples`, `classes` (index = label), `num_classes`, `image_shape`,
`splits.<split>` with `count`, `classes` (count per class), `images`, `lst`, `lst_md5`,
`images_sha256` (and `ambiguous`, the deliberately ambiguous file names, for synthetic
data), `source` (kind, location, md5 or seed), `seed`, `validation_fraction`, and
`content_sha256` over every image and list.

Validation is a stratified, seeded share of train; test is held out and never used as the
validation channel. Unchanged objects are skipped; objects an earlier staging wrote and
this one does not are deleted; anything else under the prefix is refused unless
`--replace` (see `upload`).

Public API (bad input raises `MlwfError` with a one-line message):

- `load_source(source, *, seed=0, count=None, test_count=None, cache_dir=None,
  url=CIFAR100_URL, verify=True, opener=None, progress=None, log=print) -> Dataset`
- `split_validation(dataset, fraction=0.1, seed=0) -> Dataset`
- `write_local(dataset, work_dir) -> LocalStaging`: PNGs, `.lst` files and manifest.json
  (`build_manifest(dataset, images, lists) -> dict` makes the latter)
- `upload(s3_client, bucket, prefix, staging, *, replace=False, workers=8,
  progress=None, log=print) -> UploadReport`
- `stage(source="cifar100", *, s3_client=None, bucket=None, prefix="dataset",
  work_dir=None, seed=0, validation_fraction=0.1, ..., replace=False) -> StageResult`:
  all of the above; without `s3_client` it only writes `work_dir`.
- `read_manifest(s3_client, bucket, prefix="dataset") -> dict`
- `read_lst(path) -> list[LstEntry]`, `parse_lst(text, where) -> list[LstEntry]`,
  `read_s3_lst(s3_client, bucket, prefix, split) -> list[LstEntry]`
- `format_summary(result) -> str`, and the types `Split`, `Dataset`, `LstEntry`,
  `LocalFile`, `LocalStaging`, `UploadReport`, `StageResult`.

Module-level imports stay in the standard library so `mlwf --help` is instant.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import json
import math
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from training_job.errors import MlwfError
from training_job.stack import DEFAULT_DATA_PREFIX

if TYPE_CHECKING:
    import numpy as np

CIFAR100_URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"  # = cifar.CIFAR100_URL
CLASSES = ("bicycle", "motorcycle")
SPLITS = ("train", "validation", "test")
MANIFEST = "manifest.json"
MANIFEST_FORMAT = "mlwf-dataset/1"
DEFAULT_VALIDATION_FRACTION = 0.1
STAGED_BY_KEY, STAGED_BY = "staged-by", "mlwf"  # object metadata marking our uploads
UPLOAD_WORKERS = 8  # below botocore's default pool of 10 connections per client
IMAGE_SIZE = 32
_SAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")

Log = Callable[[str], Any]


class LstEntry(NamedTuple):
    index: int
    label: int
    path: str


@dataclass(frozen=True)
class Split:
    """Images of one split, all arrays aligned: `ids` is the lst index column."""

    images: np.ndarray  # (N, 32, 32, 3) uint8
    labels: np.ndarray  # (N,) int64, 0 bicycle / 1 motorcycle
    names: tuple[str, ...]  # unique, safe PNG file names
    ids: np.ndarray  # (N,) int64, unique within the split
    ambiguous: np.ndarray | None = None  # (N,) bool, synthetic source only

    def __len__(self) -> int:
        return len(self.names)

    def take(self, rows: np.ndarray) -> Split:
        return Split(
            images=self.images[rows],
            labels=self.labels[rows],
            names=tuple(self.names[i] for i in rows),
            ids=self.ids[rows],
            ambiguous=None if self.ambiguous is None else self.ambiguous[rows],
        )

    def class_counts(self) -> dict[str, int]:
        return {name: int((self.labels == label).sum()) for label, name in enumerate(CLASSES)}


@dataclass(frozen=True)
class Dataset:
    splits: dict[str, Split]
    source: dict[str, Any]  # provenance written into the manifest
    seed: int | None = None
    validation_fraction: float | None = None

    def counts(self) -> dict[str, dict[str, int]]:
        return {name: split.class_counts() for name, split in self.splits.items()}

    @property
    def num_training_samples(self) -> int:
        return len(self.splits["train"])


@dataclass(frozen=True)
class LocalFile:
    key: str  # relative to the prefix: "train/x.png", "train.lst", "manifest.json"
    path: Path
    md5: str
    size: int
    content_type: str


@dataclass(frozen=True)
class LocalStaging:
    work_dir: Path
    images: list[LocalFile]
    lists: list[LocalFile]
    manifest_file: LocalFile
    manifest: dict[str, Any]


@dataclass
class UploadReport:
    bucket: str
    prefix: str
    uploaded: int = 0
    skipped: int = 0
    deleted: int = 0
    uploaded_bytes: int = 0

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}/"


@dataclass
class StageResult:
    dataset: Dataset
    manifest: dict[str, Any]
    work_dir: Path | None  # None when a temporary work dir was used and removed
    report: UploadReport | None = None


# --------------------------------------------------------------------------- sources


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
            f"synthetic_{CLASSES[label]}_s{seed}_{i:06d}.png"
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
            if entry.label not in (0, 1):
                raise MlwfError(
                    f"{lst_path}: label {entry.label} for {entry.path}; "
                    "expected 0 (bicycle) or 1 (motorcycle)"
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
    for label, name in enumerate(CLASSES):
        if not (labels == label).any():
            fine = {0: 8, 1: 48}[label]
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


# --------------------------------------------------------------------------- split


def split_validation(
    dataset: Dataset, fraction: float = DEFAULT_VALIDATION_FRACTION, seed: int = 0
) -> Dataset:
    """Move a stratified, seeded `fraction` of train (per class) into `validation`.

    A `validation` split already in `dataset` is merged back into train first, so the result
    depends only on the set of training images, `fraction` and `seed` (not on their order).
    Each class keeps at least one image on each side. Test is passed through untouched.
    """
    import numpy as np

    _check_fraction(fraction)
    train = dataset.splits["train"]
    if "validation" in dataset.splits:
        train = _concat(train, dataset.splits["validation"])
    if len(set(train.ids.tolist())) != len(train):
        raise MlwfError("train and validation share lst indices; they must be unique")
    canonical = np.array(sorted(range(len(train)), key=train.names.__getitem__), dtype=np.int64)
    rng = np.random.default_rng(seed)
    chosen = np.zeros(len(train), dtype=bool)
    for label, name in enumerate(CLASSES):
        members = canonical[train.labels[canonical] == label]
        if len(members) < 2:
            raise MlwfError(
                f"train has {len(members)} {name} image(s): need at least 2 to split "
                "a validation set"
            )
        n_validation = min(len(members) - 1, max(1, math.floor(len(members) * fraction + 0.5)))
        chosen[members[rng.permutation(len(members))[:n_validation]]] = True
    splits = {
        "train": train.take(np.flatnonzero(~chosen)),
        "validation": train.take(np.flatnonzero(chosen)),
        "test": dataset.splits["test"],
    }
    return Dataset(splits=splits, source=dataset.source, seed=seed, validation_fraction=fraction)


def _check_fraction(fraction: float) -> None:
    if not (0.0 < fraction < 1.0) or math.isnan(fraction):
        raise MlwfError(
            f"--validation-fraction must be between 0 and 1 (exclusive), got {fraction}"
        )


def _concat(first: Split, second: Split) -> Split:
    import numpy as np

    ambiguous = None
    if first.ambiguous is not None and second.ambiguous is not None:
        ambiguous = np.concatenate([first.ambiguous, second.ambiguous])
    return Split(
        images=np.concatenate([first.images, second.images]),
        labels=np.concatenate([first.labels, second.labels]),
        names=first.names + second.names,
        ids=np.concatenate([first.ids, second.ids]),
        ambiguous=ambiguous,
    )


# --------------------------------------------------------------------------- local files


def write_local(dataset: Dataset, work_dir: str | Path) -> LocalStaging:
    """Write `<split>/<name>.png`, `<split>.lst` and `manifest.json` under `work_dir`.

    PNGs of an earlier staging that are not part of this dataset are removed from the split
    folders, so the folder is an exact mirror of what gets uploaded.
    """
    from PIL import Image

    work = Path(work_dir).expanduser()
    images: list[LocalFile] = []
    lists: list[LocalFile] = []
    for split_name in SPLITS:
        split = dataset.splits.get(split_name)
        if split is None:
            raise MlwfError(f"dataset has no {split_name} split: call split_validation first")
        folder = work / split_name
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MlwfError(f"cannot create {folder}: {exc.strerror}") from exc
        wanted = set(split.names)
        for old in folder.glob("*.png"):
            if old.name not in wanted:
                old.unlink()
        for array, name in zip(split.images, split.names, strict=True):
            buffer = io.BytesIO()
            Image.fromarray(array, "RGB").save(buffer, format="PNG")
            images.append(
                _write(folder / name, f"{split_name}/{name}", buffer.getvalue(), "image/png")
            )
        lines = [
            f"{index}\t{label}\t{name}\n"
            for index, label, name in zip(
                split.ids.tolist(), split.labels.tolist(), split.names, strict=True
            )
        ]
        key = f"{split_name}.lst"
        lists.append(_write(work / key, key, "".join(lines).encode(), "text/plain"))
    manifest = build_manifest(dataset, images, lists)
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    manifest_file = _write(work / MANIFEST, MANIFEST, text.encode(), "application/json")
    return LocalStaging(
        work_dir=work, images=images, lists=lists, manifest_file=manifest_file, manifest=manifest
    )


def _write(path: Path, key: str, content: bytes, content_type: str) -> LocalFile:
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise MlwfError(f"cannot write {path}: {exc.strerror}") from exc
    md5 = hashlib.md5(content, usedforsecurity=False).hexdigest()
    return LocalFile(key=key, path=path, md5=md5, size=len(content), content_type=content_type)


def build_manifest(
    dataset: Dataset, images: list[LocalFile], lists: list[LocalFile]
) -> dict[str, Any]:
    """What training and the other commands need to know, deterministic in the content."""

    def digest(files: Iterable[LocalFile]) -> str:
        lines = sorted(f"{f.key}\t{f.md5}\n" for f in files)
        return hashlib.sha256("".join(lines).encode()).hexdigest()

    by_key = {f.key: f for f in lists}
    splits = {}
    for name in SPLITS:
        split = dataset.splits[name]
        entry: dict[str, Any] = {
            "count": len(split),
            "classes": split.class_counts(),
            "images": f"{name}/",
            "lst": f"{name}.lst",
            "lst_md5": by_key[f"{name}.lst"].md5,
            "images_sha256": digest(f for f in images if f.key.startswith(f"{name}/")),
        }
        if split.ambiguous is not None:
            flags = split.ambiguous.tolist()
            entry["ambiguous"] = sorted(n for n, a in zip(split.names, flags, strict=True) if a)
        splits[name] = entry
    return {
        "format": MANIFEST_FORMAT,
        "classes": list(CLASSES),
        "cifar100_fine_labels": {"bicycle": 8, "motorcycle": 48},
        "num_classes": len(CLASSES),
        "image_shape": [3, IMAGE_SIZE, IMAGE_SIZE],
        "num_training_samples": dataset.num_training_samples,
        "splits": splits,
        "source": dataset.source,
        "seed": dataset.seed,
        "validation_fraction": dataset.validation_fraction,
        "content_sha256": digest([*images, *lists]),
    }


# --------------------------------------------------------------------------- S3


def upload(
    s3_client: Any,
    bucket: str,
    prefix: str,
    staging: LocalStaging,
    *,
    replace: bool = False,
    workers: int = UPLOAD_WORKERS,
    progress: bool | None = None,
    log: Log = print,
) -> UploadReport:
    """Make `s3://bucket/prefix/` hold exactly `staging`, uploading only what changed.

    An object is unchanged when its ETag is the local MD5 (true of every single-part upload
    without SSE-KMS, and we only make single-part uploads) or, failing that, when its size
    matches and the `md5` metadata we store on every upload does: one listing answers the
    common case, a HEAD per object only the SSE-KMS case.

    Order of writes: the old manifest and the .lst files about to change are deleted first,
    then images upload in parallel, then the .lst files, then stale objects are deleted, and
    the new manifest is written last: a reader that finds a manifest finds a complete
    dataset, and a failed run leaves none.

    Stale objects (under the prefix, not in `staging`) that an earlier `mlwf stage` wrote
    (named by its .lst files, or carrying our `staged-by` metadata) are deleted: they are
    the previous dataset and would otherwise mix into this one. Any other object is someone
    else's: its presence is an error unless `replace` is set, and nothing is written then.
    """
    from concurrent.futures import ThreadPoolExecutor

    prefix = _check_prefix(prefix)
    base = f"{prefix}/"
    report = UploadReport(bucket=bucket, prefix=prefix)
    existing = _list_objects(s3_client, bucket, base)
    files = [*staging.images, *staging.lists, staging.manifest_file]
    desired = {base + f.key: f for f in files}

    def unchanged(key: str) -> bool:
        info, local = existing.get(key), desired[key]
        if info is None:
            return False
        etag, size = info
        if etag == local.md5:
            return True
        if size != local.size:
            return False
        head = s3_client.head_object(Bucket=bucket, Key=key)
        return head.get("Metadata", {}).get("md5") == local.md5

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        # Check everything before writing anything.
        stale = sorted(set(existing) - set(desired))
        if stale:
            named = _keys_named_by_old_lists(s3_client, bucket, base, existing)
            unnamed = [key for key in stale if key not in named]
            ours = pool.map(lambda key: _staged_by_us(s3_client, bucket, key), unnamed)
            foreign = [key for key, mine in zip(unnamed, ours, strict=True) if not mine]
            if foreign and not replace:
                raise MlwfError(
                    f"s3://{bucket}/{base} holds {len(foreign)} object(s) that mlwf stage "
                    f"did not write (e.g. {foreign[0]}); pass --replace to delete them "
                    "or choose another --prefix"
                )
        same = dict(zip(desired, pool.map(unchanged, desired), strict=True))
        report.skipped = sum(same.values())
        if not stale and all(same.values()):
            log(f"{report.uri} already holds this dataset: nothing to upload")
            return report

        manifest_key = base + MANIFEST
        list_keys = [base + f.key for f in staging.lists]
        images = [base + f.key for f in staging.images if not same[base + f.key]]
        lists = [key for key in list_keys if not same[key]]

        # 1. Withdraw the completeness marker and the lists that are about to change.
        _delete(s3_client, bucket, [k for k in [manifest_key, *lists] if k in existing])
        if same[manifest_key]:
            report.skipped -= 1  # withdrawn, so uploaded again below

        # 2. Images, in parallel.
        failures = []
        with _progress_bar(len(images), progress) as bar:
            for key, error in pool.map(
                lambda key: _try_put(s3_client, bucket, key, desired[key]), images
            ):
                bar.update(1)
                if error:
                    failures.append((key, error))
        if failures:
            key, error = failures[0]
            raise MlwfError(
                f"{len(failures)} of {len(images)} image uploads failed (first: {key}: "
                f"{error}); s3://{bucket}/{base} is incomplete and has no manifest: "
                "run mlwf stage again"
            )

    # 3. Lists, 4. stale objects, 5. the manifest.
    for key in lists:
        _put(s3_client, bucket, key, desired[key])
    _delete(s3_client, bucket, stale)
    _put(s3_client, bucket, manifest_key, desired[manifest_key])
    written = [*images, *lists, manifest_key]
    report.uploaded = len(written)
    report.uploaded_bytes = sum(desired[key].size for key in written)
    report.deleted = len(stale)
    return report


def _progress_bar(total: int, progress: bool | None) -> Any:
    from tqdm import tqdm

    disable = None if progress is None else not progress  # None: only on a terminal
    return tqdm(total=total, unit="img", desc="upload", disable=disable, leave=False)


def _check_prefix(prefix: str | None) -> str:
    cleaned = (prefix or "").strip("/")
    if not cleaned:
        raise MlwfError("--prefix must not be empty: the dataset needs a prefix of its own")
    return cleaned


def _list_objects(s3_client: Any, bucket: str, base: str) -> dict[str, tuple[str, int]]:
    """key -> (ETag without quotes, size) of every object under `base`, except the empty
    "folder" markers the S3 console creates (they hold no data and are left alone)."""
    found = {}
    paginator = s3_client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=base):
        for item in page.get("Contents", []):
            if item["Key"].endswith("/") and int(item["Size"]) == 0:
                continue
            found[item["Key"]] = (item["ETag"].strip('"'), int(item["Size"]))
    return found


def _keys_named_by_old_lists(
    s3_client: Any, bucket: str, base: str, existing: dict[str, tuple[str, int]]
) -> set[str]:
    """Keys an earlier staging created: its .lst files, manifest, and the images they name."""
    owned = {base + MANIFEST}
    for split in SPLITS:
        key = f"{base}{split}.lst"
        if key not in existing:
            continue
        owned.add(key)
        try:
            text = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
            entries = parse_lst(text, f"s3://{bucket}/{key}")
        except (MlwfError, UnicodeDecodeError):
            continue  # an unreadable old list vouches for nothing
        owned.update(f"{base}{split}/{entry.path}" for entry in entries)
    return owned


def _put(s3_client: Any, bucket: str, key: str, local: LocalFile) -> None:
    body = local.path.read_bytes()
    if hashlib.md5(body, usedforsecurity=False).hexdigest() != local.md5:
        raise MlwfError(f"{local.path} changed on disk while staging; run mlwf stage again")
    s3_client.put_object(
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentType=local.content_type,
        ContentMD5=base64.b64encode(bytes.fromhex(local.md5)).decode(),
        Metadata={"md5": local.md5, STAGED_BY_KEY: STAGED_BY},
    )


def _try_put(s3_client: Any, bucket: str, key: str, local: LocalFile) -> tuple[str, str]:
    """(key, "") after a successful upload, (key, error message) after a failed one."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        _put(s3_client, bucket, key, local)
    except (BotoCoreError, ClientError, OSError, MlwfError) as exc:
        return key, str(exc)
    return key, ""


def _staged_by_us(s3_client: Any, bucket: str, key: str) -> bool:
    """Whether `key` carries the metadata every mlwf stage upload has (gone counts as ours)."""
    from botocore.exceptions import ClientError

    try:
        head = s3_client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return True
        raise
    return head.get("Metadata", {}).get(STAGED_BY_KEY) == STAGED_BY


def _delete(s3_client: Any, bucket: str, keys: list[str]) -> None:
    for start in range(0, len(keys), 1000):
        batch = keys[start : start + 1000]
        response = s3_client.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
        )
        errors = response.get("Errors", [])
        if errors:
            first = errors[0]
            raise MlwfError(
                f"could not delete {len(errors)} object(s) from s3://{bucket}/ "
                f"(first: {first.get('Key')}: {first.get('Code')} {first.get('Message', '')})"
            )


def read_manifest(s3_client: Any, bucket: str, prefix: str = DEFAULT_DATA_PREFIX) -> dict:
    """The manifest of a completely staged dataset, or an `MlwfError` saying to stage one."""
    from botocore.exceptions import ClientError

    key = f"{_check_prefix(prefix)}/{MANIFEST}"
    try:
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404", "NoSuchBucket"):
            raise MlwfError(
                f"no staged dataset at s3://{bucket}/{key} ({code}): run mlwf stage first"
            ) from exc
        raise
    try:
        manifest = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MlwfError(f"s3://{bucket}/{key}: not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise MlwfError(f"s3://{bucket}/{key}: not an {MANIFEST_FORMAT} manifest")
    return manifest


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
    key = f"{_check_prefix(prefix)}/{split}.lst"
    body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return parse_lst(body.decode("utf-8"), f"s3://{bucket}/{key}")


# --------------------------------------------------------------------------- all together


def stage(
    source: str | Path = "cifar100",
    *,
    s3_client: Any = None,
    bucket: str | None = None,
    prefix: str = DEFAULT_DATA_PREFIX,
    work_dir: str | Path | None = None,
    seed: int = 0,
    validation_fraction: float = DEFAULT_VALIDATION_FRACTION,
    count: int | None = None,
    test_count: int | None = None,
    cache_dir: str | Path | None = None,
    url: str = CIFAR100_URL,
    verify: bool = True,
    replace: bool = False,
    opener: Callable[..., Any] | None = None,
    workers: int = UPLOAD_WORKERS,
    progress: bool | None = None,
    log: Log = print,
) -> StageResult:
    """Load, split, write locally and (with `s3_client`) upload; see the module docstring."""
    _check_fraction(validation_fraction)
    if s3_client is not None:
        if not bucket:
            raise MlwfError("an S3 bucket is needed to upload: pass --bucket or deploy the stack")
        prefix = _check_prefix(prefix)
        _check_bucket(s3_client, bucket)
    elif work_dir is None:
        raise MlwfError("nothing to do: give a work dir to stage locally, or an S3 bucket")
    if work_dir is not None:
        source_path = Path(str(source)).expanduser()
        if source_path.is_dir() and source_path.resolve() == Path(work_dir).expanduser().resolve():
            raise MlwfError("--work-dir must not be the --source directory")

    dataset = load_source(
        source,
        seed=seed,
        count=count,
        test_count=test_count,
        cache_dir=cache_dir,
        url=url,
        verify=verify,
        opener=opener,
        progress=progress,
        log=log,
    )
    dataset = split_validation(dataset, validation_fraction, seed)
    scratch = (
        tempfile.TemporaryDirectory(prefix="mlwf-stage-")
        if work_dir is None
        else contextlib.nullcontext(str(Path(work_dir).expanduser()))
    )
    with scratch as target:
        staging = write_local(dataset, target)
        report = None
        if s3_client is not None:
            log(f"uploading to s3://{bucket}/{prefix}/")
            report = upload(
                s3_client,
                bucket,
                prefix,
                staging,
                replace=replace,
                workers=workers,
                progress=progress,
                log=log,
            )
    return StageResult(
        dataset=dataset,
        manifest=staging.manifest,
        work_dir=Path(work_dir).expanduser() if work_dir is not None else None,
        report=report,
    )


def _check_bucket(s3_client: Any, bucket: str) -> None:
    """Fail before any download or image work when the bucket is missing or forbidden."""
    from botocore.exceptions import ClientError

    try:
        s3_client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("404", "NoSuchBucket"):
            raise MlwfError(f"bucket {bucket} does not exist") from exc
        if code in ("403", "AccessDenied"):
            raise MlwfError(f"no access to bucket {bucket}: check your credentials") from exc
        raise


def format_summary(result: StageResult) -> str:
    dataset = result.dataset
    source = dataset.source
    described = source["kind"]
    if source.get("location"):
        described += f" {source['location']}"
    if source["kind"] == "synthetic":
        described += f" (seed {source['seed']})"
    lines = [
        f"staged {sum(len(s) for s in dataset.splits.values())} images from {described}, "
        f"validation fraction {dataset.validation_fraction}, split seed {dataset.seed}",
        f"  {'split':<12}{'bicycle':>9}{'motorcycle':>12}{'total':>8}",
    ]
    for name in SPLITS:
        counts = dataset.splits[name].class_counts()
        lines.append(
            f"  {name:<12}{counts['bicycle']:>9}{counts['motorcycle']:>12}"
            f"{len(dataset.splits[name]):>8}"
        )
    if any(s.ambiguous is not None for s in dataset.splits.values()):
        ambiguous = ", ".join(
            f"{name} {int(dataset.splits[name].ambiguous.sum())}" for name in SPLITS
        )
        lines.append(f"  deliberately ambiguous images: {ambiguous}")
    if result.work_dir is not None:
        lines.append(f"local copy: {result.work_dir}")
    report = result.report
    if report is not None:
        lines.append(
            f"S3: {report.uri}  uploaded {report.uploaded}, skipped {report.skipped} "
            f"(unchanged), deleted {report.deleted} (stale)"
        )
        lines.append(
            f"manifest: {report.uri}{MANIFEST}  num_training_samples "
            f"{result.manifest['num_training_samples']}"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line


def register(subparsers: Any) -> None:
    from training_job.stack import add_stack_options

    parser = subparsers.add_parser(
        "stage",
        help="build the bicycle/motorcycle dataset and upload it to S3",
        description="Build the CIFAR-100 bicycle (label 8) vs motorcycle (label 48) dataset "
        "as 32x32 PNGs with SageMaker .lst files, split a stratified validation set out of "
        "train, and upload train/, validation/, test/, the .lst files and manifest.json to "
        "s3://BUCKET/PREFIX/. Unchanged objects are skipped.",
    )
    parser.add_argument(
        "--source",
        default="cifar100",
        help="cifar100 (download the official tarball, cached), synthetic (generated "
        "offline), a CIFAR-100 python .tar.gz, or a staged directory with train.lst and "
        "test.lst (default: cifar100)",
    )
    parser.add_argument(
        "--cache-dir",
        help="where the cifar100 download is kept (default: $MLWF_CACHE_DIR or ~/.cache/mlwf)",
    )
    parser.add_argument("--url", default=CIFAR100_URL, help="download URL of the cifar100 source")
    parser.add_argument(
        "--no-verify",
        dest="verify",
        action="store_false",
        help="do not check the tarball against the official CIFAR-100 md5",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the validation split and of the synthetic images (default: 0)",
    )
    parser.add_argument(
        "--count",
        type=int,
        help="synthetic: training images per class, validation included (default: 300)",
    )
    parser.add_argument(
        "--test-count", type=int, help="synthetic: test images per class (default: 50)"
    )
    parser.add_argument(
        "--validation-fraction",
        type=float,
        default=DEFAULT_VALIDATION_FRACTION,
        help="share of each class of train moved to validation (default: 0.1)",
    )
    parser.add_argument(
        "--work-dir",
        help="keep the staged files in this directory (default: a temporary one, removed)",
    )
    parser.add_argument(
        "--no-upload", action="store_true", help="only write --work-dir; do not touch S3"
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="also delete objects under the prefix that mlwf stage did not write "
        "(without it their presence is an error; earlier stagings are always replaced)",
    )
    add_stack_options(parser, "bucket", "prefix")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    s3_client = None
    bucket = None
    prefix = DEFAULT_DATA_PREFIX
    if args.no_upload:
        if not args.work_dir:
            raise MlwfError("--no-upload needs --work-dir (otherwise nothing would be kept)")
    else:
        from botocore.config import Config

        from training_job.stack import aws_session, resolve

        settings = resolve(args, "bucket")
        bucket, prefix = settings.bucket, settings.prefix
        s3_client = aws_session(settings).client(
            "s3", config=Config(max_pool_connections=UPLOAD_WORKERS + 2)
        )
    try:
        result = _stage_from_args(args, s3_client, bucket, prefix)
    except MlwfError as exc:
        one_line = " ".join(str(exc).split())  # the CLI promises one line, whatever the cause
        if one_line == str(exc):
            raise
        raise MlwfError(one_line) from exc
    print(format_summary(result))
    return 0


def _stage_from_args(
    args: argparse.Namespace, s3_client: Any, bucket: str | None, prefix: str
) -> StageResult:
    return stage(
        args.source,
        s3_client=s3_client,
        bucket=bucket,
        prefix=prefix,
        work_dir=args.work_dir,
        seed=args.seed,
        validation_fraction=args.validation_fraction,
        count=args.count,
        test_count=args.test_count,
        cache_dir=args.cache_dir,
        url=args.url,
        verify=args.verify,
        replace=args.replace,
    )
