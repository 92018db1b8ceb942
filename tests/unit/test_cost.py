"""`mlwf cost`: figures recomputed by hand from the data file's prices, AWS's own Express
pricing example, the template as the source of memory sizes, and the README's cost table
checked against the data file."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from mlwf import cost
from mlwf.cli import main
from mlwf.cost_estimate import (
    STATE_MACHINE,
    Line,
    Workload,
    default_hours,
    estimate,
    load_prices,
    tiered,
)
from mlwf.offline.template import load_template
from tests.helpers.paths import PROJECT_ROOT
from training_job.errors import MlwfError

MILLION = 1_000_000
# The prices the hand computations below use; a change in prices.json must come with new
# hand computations, so it fails here first.
HAND_PRICES = {
    "stepfunctions_standard_transition": 0.000025,
    "stepfunctions_express_request": 0.000001,
    "lambda_request": 0.0000002,
    "lambda_arm64_gb_second": 0.0000133334,
    "s3_put_copy_post_list": 0.000005,
    "s3_get": 0.0000004,
    "s3_standard_gb_month": 0.023,
}


@pytest.fixture(scope="module")
def prices() -> dict[str, Any]:
    return load_prices()


def fake_template() -> Any:
    """Three Task states on functions of 256, 256 and 128 MB, arm64, like template.yaml
    today, but fixed here so the hand computations do not move with the template."""
    functions = {
        name: SimpleNamespace(
            logical_id=name, arn=f"arn:{name}", memory_size=memory, architectures=("arm64",)
        )
        for name, memory in (
            ("SerializeImageDataFunction", 256),
            ("ClassifyImageFunction", 256),
            ("FilterInferencesFunction", 128),
        )
    }
    names = list(functions)
    states = {
        f"s{i}": {
            "Type": "Task",
            "Parameters": {"FunctionName": f"arn:{name}"},
            **({"Next": f"s{i + 1}"} if i < 2 else {"End": True}),
        }
        for i, name in enumerate(names)
    }
    import json

    machine = SimpleNamespace(definition=json.dumps({"StartAt": "s0", "States": states}))
    return SimpleNamespace(
        functions=functions, state_machines={STATE_MACHINE: machine}, parameters={}
    )


def workload(**overrides: Any) -> Workload:
    values: dict[str, Any] = {
        "images": MILLION,
        "workflow_type": "STANDARD",
        "batch": False,
        "instance_type": "ml.m5.large",
        "instances": 1,
        "hours": 10.0,
    }
    values.update(overrides)
    return Workload(**values)


def by_item(lines: list[Line]) -> dict[str, float]:
    return {line.item: line.cost for line in lines}


def test_the_hand_computations_use_the_data_files_prices(prices: dict[str, Any]) -> None:
    for name, usd in HAND_PRICES.items():
        assert prices["prices"][name]["usd"] == usd, f"{name} changed: recompute the cases"
    assert prices["prices"]["sagemaker_realtime_instance_hour"]["instances"]["ml.m5.large"] == (
        0.115
    )
    values = prices["assumptions"]["function_duration_ms"]["values"]
    assert values == {
        "SerializeImageDataFunction": 50,
        "ClassifyImageFunction": 120,
        "FilterInferencesFunction": 5,
    }
    assert prices["assumptions"]["capture_record_bytes"]["value"] == 4100


def test_a_million_standard_executions_by_hand(prices: dict[str, Any]) -> None:
    lines = by_item(estimate(workload(), fake_template(), prices))
    # 3 states x 1M executions x $0.000025
    assert lines["Step Functions transitions"] == pytest.approx(75.00)
    # 3 functions x 1M requests x $0.20 per million
    assert lines["Lambda requests"] == pytest.approx(0.60)
    # 1M x 0.25 GB x 0.050 s = 12,500 GB-s; 1M x 0.25 x 0.120 = 30,000; 1M x 0.125 x 0.005 = 625
    assert lines["Lambda duration, SerializeImageDataFunction"] == pytest.approx(
        12_500 * 0.0000133334
    )
    assert lines["Lambda duration, ClassifyImageFunction"] == pytest.approx(0.400002)
    assert lines["Lambda duration, FilterInferencesFunction"] == pytest.approx(0.00833338)
    assert lines["SageMaker endpoint, ml.m5.large"] == pytest.approx(1.15)  # 10 h x $0.115
    assert lines["S3 PUT, image uploads"] == pytest.approx(5.00)
    assert lines["S3 GET, serialize"] == pytest.approx(0.40)
    assert lines["S3 PUT, data capture"] == pytest.approx(5.00)
    assert lines["S3 storage, data capture"] == pytest.approx(4.1 * 0.023)  # 4.1 GB-month
    # 75 + 0.6 + 0.575 + 1.15 + 5 + 0.4 + 5 + 0.0943
    assert sum(lines.values()) == pytest.approx(87.8193, abs=1e-4)
    assert not any("Express" in item for item in lines)


def test_a_million_express_executions_by_hand(prices: dict[str, Any]) -> None:
    lines = by_item(estimate(workload(workflow_type="EXPRESS"), fake_template(), prices))
    assert "Step Functions transitions" not in lines
    assert lines["Step Functions Express executions"] == pytest.approx(1.00)
    # (50 + 120 + 5 ms) + 3 x 25 ms overhead = 250 ms, billed 300 ms; 64 MB = 0.0625 GB:
    # 1M x 0.3 x 0.0625 = 18,750 GB-s = 5.2083 GB-hours, all in the first tier at $0.06
    assert lines["Step Functions Express duration"] == pytest.approx(18_750 / 3600 * 0.06)


def test_a_batch_of_a_million_by_hand(prices: dict[str, Any]) -> None:
    lines = by_item(estimate(workload(batch=True), fake_template(), prices))
    # 3 parent transitions + 1 per child execution started, at the STANDARD rate
    assert lines["Step Functions transitions, batch"] == pytest.approx(1_000_003 * 0.000025)
    assert lines["Step Functions Express child executions"] == pytest.approx(1.00)
    assert lines["Step Functions Express duration"] == pytest.approx(0.3125)
    assert lines["S3 LIST, ItemReader"] == pytest.approx(1000 * 0.000005)  # 1,000 pages
    assert lines["S3 PUT, ResultWriter"] == pytest.approx(2 * 0.000005)
    assert sum(lines.values()) < sum(
        by_item(estimate(workload(), fake_template(), prices)).values()
    )


def test_express_duration_tiers_reproduce_awss_pricing_example(prices: dict[str, Any]) -> None:
    # aws.amazon.com/step-functions/pricing, Express example: 17,361.11 GB-hours cost
    # $60.00 + $120.00 + $202.97 = $382.97.
    tiers = prices["prices"]["stepfunctions_express_duration"]["tiers"]
    charge = tiered(17_361.11, tiers, "gb_hours", "usd_per_gb_hour")
    assert charge == pytest.approx(382.97, abs=0.005)


def test_memory_and_architecture_come_from_the_template(
    prices: dict[str, Any], tmp_path: Path
) -> None:
    text = (PROJECT_ROOT / "template.yaml").read_text()
    classify = text.index("  ClassifyImageFunction:\n")
    memory = text.index("MemorySize: 256", classify)
    changed = text[:memory] + "MemorySize: 512" + text[memory + len("MemorySize: 256") :]
    for name in ("functions", "statemachine"):
        (tmp_path / name).symlink_to(PROJECT_ROOT / name)
    (tmp_path / "template.yaml").write_text(changed)
    real = by_item(estimate(workload(), load_template(PROJECT_ROOT / "template.yaml"), prices))
    bigger = by_item(estimate(workload(), load_template(tmp_path / "template.yaml"), prices))
    item = "Lambda duration, ClassifyImageFunction"
    assert bigger[item] == pytest.approx(2 * real[item])
    arm = text.replace("Architectures: [arm64]", "Architectures: [x86_64]")
    (tmp_path / "template.yaml").write_text(arm)
    with pytest.raises(MlwfError, match="x86_64; prices.json holds arm64 Lambda prices only"):
        estimate(workload(), load_template(tmp_path / "template.yaml"), prices)


def test_an_instance_type_without_a_price_needs_one(prices: dict[str, Any]) -> None:
    with pytest.raises(MlwfError, match="no price for ml.c5.large.*--instance-price"):
        estimate(workload(instance_type="ml.c5.large"), fake_template(), prices)
    lines = by_item(
        estimate(workload(instance_type="ml.c5.large", instance_price=0.1), fake_template(), prices)
    )
    assert lines["SageMaker endpoint, ml.c5.large"] == pytest.approx(1.0)


def test_default_hours_cover_the_images_at_the_scaling_target() -> None:
    assert default_hours(MILLION, 1) == pytest.approx(MILLION / (600 * 60))
    assert default_hours(10, 1) == 1.0


# ---------------------------------------------------------------- the data file


def test_every_price_names_its_region_date_source_and_status(prices: dict[str, Any]) -> None:
    assert prices["region"] == "us-east-1"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", prices["read_on"])
    for name, figure in prices["prices"].items():
        assert figure["source"].startswith("https://aws.amazon.com/"), name
        assert figure["quoted"] and figure["status"], name
    for name, assumption in prices["assumptions"].items():
        assert assumption["basis"], name


def test_the_readme_cost_table_is_the_data_files(prices: dict[str, Any]) -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("\n## Costs\n", 1)[1].split("\n## ", 1)[0]
    assert cost.price_table(prices) in section
    assert "estimate" in section.lower()
    docs = (PROJECT_ROOT / "docs" / "cost.md").read_text()
    assert cost.price_table(prices, with_status=True) in docs


# ---------------------------------------------------------------- command line


def test_cli_prints_an_estimate_line_by_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--images", "1000", "--batch", "--hours", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ESTIMATE, not a quote: 1,000 images, batch workflow")
    for item in ("Lambda requests", "SageMaker endpoint, ml.m5.large", "S3 LIST, ItemReader"):
        assert item in out
    assert "total (estimate)" in out


def test_cli_refuses_batch_with_a_workflow_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--images", "10", "--batch", "--workflow-type", "EXPRESS"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "--batch and --workflow-type do not combine" in err


def test_every_ml_m5_large_price_in_the_readme_is_the_data_files(prices: dict[str, Any]) -> None:
    # The README quotes the endpoint's hourly price in several places (Deploy and train, what
    # it costs while it runs, the price table), docs/deploy.md in its first deploy and
    # docs/cost.md in its tables: each must be the data file's.
    pattern = r"ml\.m5\.large`?[^$]{0,80}?\$(\d+\.\d+)"
    price = prices["prices"]["sagemaker_realtime_instance_hour"]["instances"]["ml.m5.large"]
    for page, least in (("README.md", 3), ("docs/deploy.md", 1), ("docs/cost.md", 2)):
        quoted = re.findall(pattern, (PROJECT_ROOT / page).read_text())
        assert len(quoted) >= least, page
        assert {float(q) for q in quoted} == {price}, page
