"""`mlwf teardown` against moto: what goes (endpoint, config, model, parameter), what stays
(every S3 object, training jobs, other endpoints), idempotence, the confirmation rules, and
one train -> deploy -> teardown run through `mlwf.cli.main`."""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.helpers.paths import REGION
from tests.helpers.sagemaker_stack import (
    BUCKET,
    PARAMETER,
    PREFIX,
    ROLE_ARN,
    all_objects,
    assert_one_line_error,
    make_job,
    names,
    run_cli,
    settings,
    stage_fake_dataset,
)
from training_job import teardown as teardown_cmd
from training_job.deploy import deploy
from training_job.teardown import plan_teardown, teardown

# each name made from the clock is new, as on AWS (tests/unit/conftest.py)
pytestmark = pytest.mark.usefixtures("ticking_names")

TEARDOWN_FLAGS = ["--bucket", BUCKET, "--parameter-name", PARAMETER, "--region", REGION]
NOTHING = {"endpoints": [], "configs": [], "models": []}


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdin is not a terminal unless a test says so (as in CI)."""
    monkeypatch.setattr("sys.stdin", io.StringIO(""))


@pytest.fixture
def deployed(clients: dict[str, Any]) -> dict[str, Any]:
    """A staged dataset, a training job and a deployed endpoint."""
    stage_fake_dataset(clients["s3"])
    clients["s3"].put_object(Bucket=BUCKET, Key="data_capture/ep/AllTraffic/x.jsonl", Body=b"{}")
    make_job(clients["sm"], f"{PREFIX}-job")
    result = deploy(clients["sm"], clients["ssm"], settings(), echo=lambda _: None)
    return {**clients, "endpoint": result.endpoint_name}


def parameter_value(ssm: Any) -> str | None:
    try:
        return str(ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return None


# ---------------------------------------------------------------- the functions


def test_teardown_deletes_the_endpoint_its_parts_and_the_parameter(
    deployed: dict[str, Any],
) -> None:
    sm, ssm, s3, endpoint = deployed["sm"], deployed["ssm"], deployed["s3"], deployed["endpoint"]
    objects_before = all_objects(s3)
    lines: list[str] = []

    report = teardown(sm, ssm, parameter_name=PARAMETER, echo=lines.append)

    assert report.deleted == [
        f"endpoint {endpoint}",
        f"endpoint config {endpoint}",
        f"model {endpoint}",
        f"SSM parameter {PARAMETER}",
    ]
    assert "EndpointParameterNotFound" in report.parameter
    assert names(deployed) == NOTHING
    assert parameter_value(ssm) is None
    # Nothing in S3 is touched: dataset, manifest, captured data.
    assert all_objects(s3) == objects_before
    assert "dataset/manifest.json" in objects_before
    assert "data_capture/ep/AllTraffic/x.jsonl" in objects_before
    # The training job (and so its artifact's record) stays.
    assert sm.describe_training_job(TrainingJobName=f"{PREFIX}-job")["TrainingJobStatus"]
    assert lines == [f"  deleted {item}" for item in report.deleted]


def test_teardown_twice_deletes_nothing_the_second_time(deployed: dict[str, Any]) -> None:
    teardown(deployed["sm"], deployed["ssm"], parameter_name=PARAMETER, echo=lambda _: None)
    plan = plan_teardown(deployed["sm"], deployed["ssm"], parameter_name=PARAMETER)
    assert plan.empty
    report = teardown(deployed["sm"], deployed["ssm"], plan=plan, echo=lambda _: None)
    assert report.nothing_deleted
    assert report.parameter == f"{PARAMETER} does not exist (nothing to do)"


def test_explicit_endpoint_other_than_the_parameters(deployed: dict[str, Any]) -> None:
    sm, ssm, live = deployed["sm"], deployed["ssm"], deployed["endpoint"]
    sm.create_endpoint_config(
        EndpointConfigName="spare",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": live,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    sm.create_endpoint(EndpointName=f"{PREFIX}-spare", EndpointConfigName="spare")
    report = teardown(
        sm, ssm, parameter_name=PARAMETER, endpoint_name=f"{PREFIX}-spare", echo=lambda _: None
    )
    assert f"endpoint {PREFIX}-spare" in report.deleted
    assert parameter_value(ssm) == live  # names the live endpoint: kept
    assert report.parameter.startswith(f"kept {PARAMETER}")
    assert live in names(deployed)["endpoints"]


def test_parameter_naming_a_missing_endpoint_is_deleted(clients: dict[str, Any]) -> None:
    clients["ssm"].put_parameter(Name=PARAMETER, Value=f"{PREFIX}-gone", Type="String")
    plan = plan_teardown(clients["sm"], clients["ssm"], parameter_name=PARAMETER)
    assert not plan.empty and plan.delete_parameter
    report = teardown(clients["sm"], clients["ssm"], plan=plan, echo=lambda _: None)
    assert report.deleted == [f"SSM parameter {PARAMETER}"]
    assert report.notes == [f"endpoint {PREFIX}-gone did not exist"]
    assert parameter_value(clients["ssm"]) is None


def test_half_finished_teardown_can_be_finished(deployed: dict[str, Any]) -> None:
    """Interrupted after the endpoint went: the parameter still points the way."""
    sm, endpoint = deployed["sm"], deployed["endpoint"]
    sm.delete_endpoint(EndpointName=endpoint)
    report = teardown(sm, deployed["ssm"], parameter_name=PARAMETER, echo=lambda _: None)
    assert report.deleted == [f"SSM parameter {PARAMETER}"]
    assert parameter_value(deployed["ssm"]) is None


# ---------------------------------------------------------------- the command line


def test_cli_teardown_then_again(
    deployed: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = deployed["endpoint"]
    code, out, err = run_cli(["teardown", *TEARDOWN_FLAGS, "--yes"], capsys)
    assert (code, err) == (0, "")
    assert f"  endpoint         {endpoint} (InService)" in out
    assert f"  deleted    endpoint {endpoint}\n" in out
    assert f"  deleted    endpoint config {endpoint}\n" in out
    assert f"  deleted    model {endpoint}\n" in out
    assert f"  parameter  deleted {PARAMETER} (it named {endpoint})" in out
    assert f"  kept       S3 data (s3://{BUCKET}/{{dataset,models,data_capture}}/)" in out

    code, out, err = run_cli(["teardown", *TEARDOWN_FLAGS], capsys)  # no --yes needed now
    assert (code, err) == (0, "")
    assert f"Nothing to delete in {REGION}: parameter {PARAMETER} does not exist" in out


def test_cli_refuses_without_yes_when_stdin_is_not_a_terminal(
    deployed: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["teardown", *TEARDOWN_FLAGS], capsys)
    assert_one_line_error(code, err, "stdin is not a terminal: pass --yes")
    assert "To delete" in out
    assert deployed["endpoint"] in names(deployed)["endpoints"]
    assert parameter_value(deployed["ssm"]) == deployed["endpoint"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("answer", [True, False])
def test_cli_asks_on_a_terminal(
    deployed: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    answer: bool,
) -> None:
    questions: list[str] = []
    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr(
        teardown_cmd, "confirm", lambda question: questions.append(question) or answer
    )
    code, _, err = run_cli(["teardown", *TEARDOWN_FLAGS], capsys)
    assert questions == ["Delete these?"]
    if answer:
        assert (code, err) == (0, "")
        assert names(deployed) == NOTHING
    else:
        assert_one_line_error(code, err, "cancelled; nothing was deleted")
        assert deployed["endpoint"] in names(deployed)["endpoints"]


def test_confirm_reads_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("builtins.input", lambda prompt: " Y ")
    assert teardown_cmd.confirm("Delete?") is True
    monkeypatch.setattr("builtins.input", lambda prompt: "")
    assert teardown_cmd.confirm("Delete?") is False

    def closed(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", closed)
    assert teardown_cmd.confirm("Delete?") is False


def test_cli_explicit_endpoint_needs_no_parameter(
    clients: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_stack(name: str, session: Any) -> dict[str, str]:
        from training_job.errors import MlwfError

        raise MlwfError(f"cannot read stack {name!r}")

    monkeypatch.setattr("training_job.stack.stack_outputs", no_stack)
    code, out, err = run_cli(["teardown", "--endpoint-name", "nope", "--region", REGION], capsys)
    assert (code, err) == (0, "")
    assert "Nothing to delete in us-east-1: endpoint nope does not exist." in out


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_cli(["teardown", "--help"], capsys)
    assert exit_info.value.code == 0
    assert "--yes" in capsys.readouterr().out


# ---------------------------------------------------------------- end to end


def test_train_deploy_teardown_through_the_cli(
    clients: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    s3, sm, ssm = clients["s3"], clients["sm"], clients["ssm"]
    stage_fake_dataset(s3)
    stack = ["--bucket", BUCKET, "--endpoint-prefix", PREFIX, "--region", REGION]
    objects_before = all_objects(s3)

    code, out, err = run_cli(
        ["train", *stack, "--role-arn", ROLE_ARN, "--poll-interval", "0", "--spot"], capsys
    )
    assert (code, err) == (0, ""), err
    job = "image-classification-20260102-030405-000"
    assert f"Next: mlwf deploy --training-job {job}" in out

    deploy_flags = [*stack, "--role-arn", ROLE_ARN, "--parameter-name", PARAMETER]
    code, out, err = run_cli(["deploy", *deploy_flags, "--poll-interval", "0"], capsys)
    assert (code, err) == (0, ""), err
    endpoint = "image-classification-20260102-030406-000"
    assert f"Deployed training job {job}" in out
    assert parameter_value(ssm) == endpoint
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint)
    assert config["DataCaptureConfig"]["DestinationS3Uri"] == f"s3://{BUCKET}/data_capture/"
    model = sm.describe_model(ModelName=endpoint)
    assert model["PrimaryContainer"]["ModelDataUrl"] == (
        f"s3://{BUCKET}/models/{job}/output/model.tar.gz"
    )

    code, out, err = run_cli(["teardown", *TEARDOWN_FLAGS, "--yes"], capsys)
    assert (code, err) == (0, ""), err
    assert names(clients) == NOTHING
    assert parameter_value(ssm) is None
    assert all_objects(s3) == objects_before
    assert sm.describe_training_job(TrainingJobName=job)["TrainingJobStatus"] == "Completed"

    code, out, err = run_cli(["teardown", *TEARDOWN_FLAGS, "--yes"], capsys)
    assert (code, err) == (0, "")
    assert "Nothing to delete" in out
