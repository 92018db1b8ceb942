"""Stage, train and deploy into an offline stack with the same training_job code as in AWS.

Only the compute differs: the local trainer runs when the training job is created, and
InvokeEndpoint is answered by the local model. The settings come from the template's
Outputs, resolved to local names, through the same mapping `mlwf` applies to a deployed
stack's outputs.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from mlwf.executions import ExecutionInput, staged_inputs
from mlwf.offline.runtime import OfflineStack
from training_job.errors import MlwfError
from training_job.stack import DEFAULT_DATA_PREFIX, StackSettings, fill_from_outputs

Say = Callable[[str], None]
EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"


@dataclass
class Deployment:
    settings: StackSettings
    staged: Any  # training_job.stage.StageResult
    training: Any  # training_job.training_summary.TrainingSummary
    deployed: Any  # training_job.rollout.DeployResult


def stack_settings(stack: OfflineStack) -> StackSettings:
    settings = StackSettings(
        stack_name=stack.spec.stack_name, region=stack.spec.region, prefix=DEFAULT_DATA_PREFIX
    )
    return fill_from_outputs(settings, stack.spec.outputs)


def choose_source(data: str, say: Say) -> str:
    """`auto`: the real CIFAR-100 when cached or downloadable, else the synthetic generator.

    A folder or file that does not exist is refused here, naming --data, before the stack
    starts (staging would refuse it too, but as --source and seconds later)."""
    if data == "synthetic":
        return data
    if data == "cifar100":
        _require_cifar()
        return data
    if data != "auto":
        if not Path(data).expanduser().exists():
            raise MlwfError(
                f"--data {data}: no such file or directory; expected auto, synthetic, "
                "cifar100, a staged dataset directory or a CIFAR-100 python .tar.gz"
            )
        return data
    from training_job import cifar

    cached = cifar.default_cache_dir() / cifar.cache_filename(cifar.CIFAR100_URL)
    if cached.is_file() and cifar.file_md5(cached) == cifar.CIFAR100_MD5:
        say(f"data: CIFAR-100, cached at {cached}")
        return "cifar100"
    if _reachable(cifar.CIFAR100_URL):
        say("data: CIFAR-100, downloading it once (161 MB) into the cache")
        return "cifar100"
    say(
        "data: synthetic (seeded generator of bicycles and motorcycles): CIFAR-100 is not in "
        "the cache and its server cannot be reached. Use --data DIR for a staged folder."
    )
    return "synthetic"


def _require_cifar() -> None:
    """--data cifar100 with no cached tarball and no way to download it: refused now, in
    the offline commands' own words, not seconds later by the download, as --source."""
    from training_job import cifar

    cached = cifar.default_cache_dir() / cifar.cache_filename(cifar.CIFAR100_URL)
    if cached.is_file() or _reachable(cifar.CIFAR100_URL):
        return  # (a cached copy's md5 is checked when it is read)
    raise MlwfError(
        f"--data cifar100: CIFAR-100 is not in the cache ({cached}) and its server "
        f"({cifar.CIFAR100_URL}) cannot be reached; offline, use --data synthetic or "
        "--data path/to/cifar-100-python.tar.gz"
    )


def _reachable(url: str, timeout: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def deploy_model(
    stack: OfflineStack,
    source: str,
    *,
    seed: int = 0,
    count: int | None = None,
    test_count: int | None = None,
    work_dir: Path | None = None,
    say: Say = print,
) -> Deployment:
    """`mlwf stage`, `mlwf train`, `mlwf deploy` against the offline stack.

    With `work_dir`, the staged dataset (PNGs, .lst files) is also kept there.
    """
    from training_job.deploy import deploy
    from training_job.stage import stage
    from training_job.train import train

    settings = stack_settings(stack)
    settings.require("bucket", "role_arn", "parameter_name", "endpoint_prefix")
    staged = stage(
        source,
        s3_client=stack.s3,
        bucket=settings.bucket,
        prefix=settings.prefix,
        seed=seed,
        count=count,
        test_count=test_count,
        work_dir=work_dir,
        progress=False,
        log=say,
        # One upload at a time: this S3 is moto in this very process, where parallel
        # uploads only contend for the interpreter's lock (and moto's): 704 objects took
        # ~4.9 s with 8 threads, ~4.0 s with one (alternating runs, 3 each).
        workers=1,
    )
    sm, s3, ssm = stack.client("sagemaker"), stack.s3, stack.client("ssm")
    training = train(
        sm,
        s3,
        settings,
        region=stack.spec.region,
        poll_interval=0.0,
        echo=say,
        logs=stack.client("logs"),
    )
    for line in training.lines():  # what `mlwf train` prints at its end
        say(line)
    # Nothing to drain offline: the next execution's cold handler reads the parameter anew.
    deployed = deploy(sm, ssm, settings, poll_interval=0.0, drain_seconds=0, echo=say)
    stack.freeze_heap()  # training loaded scikit-learn and more: see freeze_heap
    return Deployment(settings, staged, training, deployed)


def split_inputs(stack: OfflineStack, settings: StackSettings, split: str) -> list[ExecutionInput]:
    """One workflow input per image of a staged split, with its true label."""
    return staged_inputs(stack.s3, str(settings.bucket), settings.prefix, split)


def seed_event_objects(stack: OfflineStack, events_dir: Path = EVENTS_DIR) -> list[str]:
    """Make the objects events/*.json name exist, holding the sample PNG they carry.

    The events name a placeholder bucket (for `sam local invoke` a user points them at
    theirs); offline, that bucket is created so the same files work unchanged.
    """
    import base64

    sample = json.loads((events_dir / "classify_image.json").read_text())
    image = base64.b64decode(sample["image_data"])
    seeded = []
    s3 = stack.s3
    for path in sorted(events_dir.glob("*.json")):
        event = json.loads(path.read_text())
        bucket, key = event.get("s3_bucket"), event.get("s3_key")
        detail = event.get("detail", {})
        if detail.get("bucket") and detail.get("object"):
            bucket, key = detail["bucket"].get("name"), detail["object"].get("key")
        if not isinstance(bucket, str) or not isinstance(key, str):
            continue
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError:  # 404: the placeholder bucket the events name
            s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key=key, Body=image)
        seeded.append(f"s3://{bucket}/{key}")
    return sorted(set(seeded))
