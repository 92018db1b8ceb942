"""`mlwf stage`: build the bicycle (0) vs motorcycle (1) dataset and upload it to S3 in the
layout the SageMaker built-in image-classification algorithm reads (lst format).

This module is the orchestration and the command line; the steps are in the
`training_job.dataset` package (bad input raises `MlwfError` with a one-line message):

- `sources.load_source(source, *, seed=0, count=None, test_count=None, cache_dir=None,
  url=CIFAR100_URL, verify=True, opener=None, progress=None, log=print) -> Dataset`:
  cifar100, a CIFAR-100 python .tar.gz, a staged directory or synthetic images.
- `split.split_validation(dataset, fraction=0.1, seed=0) -> Dataset`: validation is a
  stratified, seeded share of train; test is held out.
- `files.write_local(dataset, work_dir) -> LocalStaging`: PNGs, `.lst` files and
  manifest.json (`manifest.build_manifest(dataset, images, lists) -> dict` makes the latter;
  `manifest.read_manifest(s3_client, bucket, prefix="dataset") -> dict` reads it back).
- `sync.upload(s3_client, bucket, prefix, staging, *, replace=False, workers=8,
  progress=None, log=print) -> UploadReport`: unchanged objects are skipped; objects an
  earlier staging wrote and this one does not are deleted; anything else under the prefix
  is refused unless `--replace`.
- `lst.read_lst(path)`, `lst.parse_lst(text, where)`, `lst.read_s3_lst(s3_client, bucket,
  prefix, split)` -> `list[LstEntry]`: the `.lst` format.
- `layout`: the files under `s3://BUCKET/PREFIX/`; `classes`: the class names.

Here: `stage(source="cifar100", *, s3_client=None, bucket=None, prefix="dataset",
work_dir=None, seed=0, validation_fraction=0.1, ..., replace=False) -> StageResult` does
all of the above (without `s3_client` it only writes `work_dir`); `format_summary(result)
-> str`; `register` and `run`, the `mlwf stage` command.

Module-level imports stay in the standard library so `mlwf --help` is instant.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training_job.dataset.classes import CLASS_NAMES
from training_job.dataset.files import write_local
from training_job.dataset.layout import MANIFEST, SPLITS, check_prefix
from training_job.dataset.sources import CIFAR100_URL, load_source
from training_job.dataset.split import (
    DEFAULT_VALIDATION_FRACTION,
    check_fraction,
    split_validation,
)
from training_job.dataset.sync import UPLOAD_WORKERS, UploadReport, upload
from training_job.dataset.types import Dataset, Log
from training_job.errors import MlwfError
from training_job.stack import DEFAULT_DATA_PREFIX


@dataclass
class StageResult:
    dataset: Dataset
    manifest: dict[str, Any]
    work_dir: Path | None  # None when a temporary work dir was used and removed
    report: UploadReport | None = None


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
    check_fraction(validation_fraction)
    if s3_client is not None:
        if not bucket:
            raise MlwfError("an S3 bucket is needed to upload: pass --bucket or deploy the stack")
        prefix = check_prefix(prefix)
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
        if s3_client is not None and bucket:  # (checked above: an upload needs a bucket)
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
        # a column per class, two wider than its name
        f"  {'split':<12}" + "".join(f"{c:>{len(c) + 2}}" for c in CLASS_NAMES) + f"{'total':>8}",
    ]
    for name in SPLITS:
        counts = dataset.splits[name].class_counts()
        lines.append(
            f"  {name:<12}"
            + "".join(f"{counts[c]:>{len(c) + 2}}" for c in CLASS_NAMES)
            + f"{len(dataset.splits[name]):>8}"
        )
    marks = {name: dataset.splits[name].ambiguous for name in SPLITS}
    if any(mark is not None for mark in marks.values()):
        ambiguous = ", ".join(
            f"{name} {int(mark.sum()) if mark is not None else 0}" for name, mark in marks.items()
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
