"""CreateFunction's checks, and what fails a function's first invocation after a deploy."""

from __future__ import annotations

import ast
import json
from typing import Any

import pytest

from tests.helpers.iam import allowed, role_of, trusted_services
from tests.helpers.intrinsics import DeployContext
from tests.helpers.sam_translate import PROJECT_ROOT, sam_template

pytestmark = pytest.mark.preflight

# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: memory "128 MB to
# 10,240 MB", timeout "900 seconds", environment variables "4 KB", "five layers".
MEMORY_RANGE = (128, 10240)
MAX_TIMEOUT = 900
MAX_ENVIRONMENT_BYTES = 4 * 1024
MAX_LAYERS = 5
# Where AWS publishes the Powertools layers, so that the template needs no
# PowertoolsLayerArn: partition -> (a region, the publishing account).
# https://docs.aws.amazon.com/powertools/python/latest/getting-started/install/
PARTITIONS = {"aws": ("us-east-1", "017000801446"), "aws-cn": ("cn-north-1", "498634801083")}


def functions(deploy: DeployContext) -> dict[str, dict[str, Any]]:
    return {
        k: v
        for k, v in deploy.template["Resources"].items()
        if v["Type"] == "AWS::Lambda::Function"
    }


def test_functions_are_within_lambdas_quotas(deploy):
    for logical_id, function in functions(deploy).items():
        props = deploy.evaluate(function["Properties"])
        assert MEMORY_RANGE[0] <= int(props.get("MemorySize", 128)) <= MEMORY_RANGE[1]
        assert 1 <= int(props.get("Timeout", 3)) <= MAX_TIMEOUT, logical_id
        variables = props.get("Environment", {}).get("Variables", {})
        size = sum(len(k) + len(str(v)) for k, v in variables.items())
        assert size <= MAX_ENVIRONMENT_BYTES, logical_id
        assert len(props.get("Layers", [])) <= MAX_LAYERS, logical_id


def test_every_layer_matches_its_functions_runtime_and_architecture(deploy):
    # https://docs.aws.amazon.com/lambda/latest/dg/adding-layers.html: "Make sure that the
    # layers you add to a function are compatible with the runtime and instruction set
    # architecture of the function."
    for logical_id, function in functions(deploy).items():
        props = deploy.evaluate(function["Properties"])
        runtime = props["Runtime"].replace(".", "")  # python3.13 -> python313
        (architecture,) = props.get("Architectures", ["x86_64"])
        for layer in props.get("Layers", []):
            name = str(layer).split(":")[6]
            assert runtime in name and name.endswith(architecture), f"{logical_id}: {layer}"


@pytest.mark.parametrize("partition", sorted(PARTITIONS))
def test_layers_are_published_in_the_partition_deployed_to(translated, partition):
    # A layer ARN is regional and belongs to its partition: the commercial Powertools
    # account's layers cannot be attached in China. An account in the layer ARN that does
    # not follow the partition makes the first deploy there fail at CreateFunction.
    region, account = PARTITIONS[partition]
    deploy = DeployContext(translated, partition=partition, region=region)
    for logical_id, function in functions(deploy).items():
        for layer in deploy.evaluate(function["Properties"]).get("Layers", []):
            _, arn_partition, _, arn_region, arn_account = str(layer).split(":")[:5]
            assert (arn_partition, arn_region, arn_account) == (partition, region, account), (
                f"{logical_id}: {layer}"
            )


def test_a_layer_can_be_given_where_aws_publishes_none(translated):
    # GovCloud, an emulator: the parameter replaces the published layer. (The evaluator
    # resolves Fn::FindInMap in the untaken branch too, as CloudFormation does: a map keyed
    # by partition without aws-us-gov would fail here, as it would fail the deploy.)
    mine = "arn:aws-us-gov:lambda:us-gov-west-1:111122223333:layer:Powertools-python313-arm64:1"
    deploy = DeployContext(translated, partition="aws-us-gov", region="us-gov-west-1")
    deploy.parameters["PowertoolsLayerArn"] = mine
    for function in functions(deploy).values():
        assert deploy.evaluate(function["Properties"])["Layers"] == [mine]


def test_function_roles_trust_lambda(deploy):
    for logical_id, function in functions(deploy).items():
        role = role_of(deploy, function["Properties"]["Role"])
        assert trusted_services(deploy, role) == {"lambda.amazonaws.com"}, logical_id


# https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html: with active tracing, the
# function's execution role needs these to send traces (AWSXRayDaemonWriteAccess has them);
# the handlers' Powertools Tracer sends its subsegments the same way.
FUNCTION_XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")


def test_traced_functions_may_write_traces(deploy):
    traced = 0
    for logical_id, function in functions(deploy).items():
        props = deploy.evaluate(function["Properties"])
        if props.get("TracingConfig", {}).get("Mode") != "Active":
            continue
        traced += 1
        role = role_of(deploy, function["Properties"]["Role"])
        missing = [a for a in FUNCTION_XRAY_ACTIONS if not allowed(deploy, role, a, "*")]
        assert not missing, f"{logical_id}: {missing}"
    assert traced == len(functions(deploy))  # template.yaml: Globals Tracing: Active


def test_every_handler_exists_in_its_code(deploy):
    # A missing module or function fails every invocation (Runtime.ImportModuleError or
    # Runtime.HandlerNotFound); sam build does not import the code.
    for logical_id, resource in sam_template()["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        module, _, handler = props["Handler"].rpartition(".")
        source = PROJECT_ROOT / props["CodeUri"] / f"{module.replace('.', '/')}.py"
        assert source.is_file(), f"{logical_id}: {source}"
        tree = ast.parse(source.read_text())
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert handler in names, f"{logical_id}: no {handler} in {source}"


def test_classify_may_invoke_the_endpoints_sagemaker_names(deploy):
    # SageMaker keeps an endpoint's name as given but lower-cases it in the endpoint's ARN
    # (DescribeEndpoint's EndpointArn), which is what IAM matches; "MyEndpoint" has the ARN
    # ".../endpoint/myendpoint". So the prefix must be lower-case, as mlwf names them.
    from training_job.sagemaker_io import unique_name

    prefix = deploy.parameter("EndpointNamePrefix")
    endpoint = unique_name(prefix)
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{endpoint.lower()}"
    classify = deploy.template["Resources"]["ClassifyImageFunction"]
    role = role_of(deploy, classify["Properties"]["Role"])
    assert endpoint == endpoint.lower()
    assert allowed(deploy, role, "sagemaker:InvokeEndpoint", arn)


def test_the_endpoint_prefix_parameter_admits_no_upper_case():
    import re

    pattern = sam_template()["Parameters"]["EndpointNamePrefix"]["AllowedPattern"]
    assert re.fullmatch(pattern, "image-classification")
    assert not re.fullmatch(pattern, "Image-Classification")


def test_the_event_files_are_valid_json_objects():
    # `sam local invoke -e` and the commands in docs/ load them.
    for path in (PROJECT_ROOT / "events").glob("*.json"):
        assert isinstance(json.loads(path.read_text()), dict), path
