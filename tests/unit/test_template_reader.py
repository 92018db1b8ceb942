"""The offline stack reads a template as CloudFormation does: through the SAM transform, with
every intrinsic function and condition resolved, parameters and scalars as strings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlwf.offline.template import load_template
from tests.helpers.paths import PROJECT_ROOT
from tests.helpers.project import load_refusal
from training_job.errors import MlwfError

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
  Sizes:
    Type: CommaDelimitedList
    Default: "128,256"
  Verbose:
    Type: String
    Default: true
Mappings:
  ByStage:
    dev: {Threshold: 0.5}
    prod: {Threshold: 0.9}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsDev: !Not [!Condition IsProd]
Globals:
  Function:
    Runtime: python3.13
    Handler: app.handler
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: worker/
      MemorySize: !Select [1, !Ref Sizes]
      Timeout: 7
      Environment:
        Variables:
          JOINED: !Join ["-", [a, !Ref Stage, !Select [0, !Split [",", "x,y"]]]]
          MODE: !If [IsProd, strict, lenient]
          THRESHOLD: !FindInMap [ByStage, !Ref Stage, Threshold]
          FLAG: true
          VERBOSE: !Ref Verbose
          BUCKET_ARN: !GetAtt Bucket.Arn
          SELF: !Sub "${AWS::StackName}-${AWS::Region}-${AWS::Partition}"
  OnlyInProd:
    Type: AWS::Serverless::Function
    Condition: IsProd
    Properties:
      CodeUri: worker/
Outputs:
  WorkerName:
    Value: !Ref Worker
  DevOnly:
    Condition: IsDev
    Value: !GetAtt Worker.Arn
"""


@pytest.fixture
def template(tmp_path: Path) -> Path:
    (tmp_path / "worker").mkdir()
    (tmp_path / "worker" / "app.py").write_text("def handler(event, context):\n    return event\n")
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return path


def test_intrinsics_and_conditions_resolve_as_cloudformation_resolves_them(template):
    spec = load_template(template, stack_name="s")
    worker = spec.functions["Worker"]
    assert worker.environment == {
        "JOINED": "a-dev-x",
        "MODE": "lenient",
        "THRESHOLD": "0.5",
        "FLAG": "true",  # CloudFormation's "true", not Python's "True"
        "VERBOSE": "true",
        "BUCKET_ARN": "arn:aws:s3:::s-bucket",
        "SELF": "s-us-east-1-aws",
    }
    assert (worker.memory_size, worker.timeout, worker.handler) == (256, 7, "app.handler")
    assert worker.code_uri == template.parent / "worker"
    assert "OnlyInProd" not in spec.functions  # its condition is false
    assert spec.outputs == {
        "WorkerName": "s-Worker",
        "DevOnly": "arn:aws:lambda:us-east-1:123456789012:function:s-Worker",
    }
    assert spec.parameters["Verbose"] == "true"


def test_overrides_switch_conditions(template):
    spec = load_template(template, parameter_overrides={"Stage": "prod"}, stack_name="s")
    assert spec.functions["Worker"].environment["MODE"] == "strict"
    assert spec.functions["Worker"].environment["THRESHOLD"] == "0.9"
    assert "OnlyInProd" in spec.functions and "DevOnly" not in spec.outputs


def test_a_ref_to_nothing_is_one_line_naming_it(template):
    template.write_text(TEMPLATE.replace("!Ref Stage, !Select", "!Ref Nothing, !Select"))
    raised = load_refusal(template)
    assert "Nothing" in raised and "\n" not in raised


def test_availability_zones_and_cidr_blocks_resolve_as_cloudformation_resolves_them(template):
    variables = (
        '          AZS: !Join [",", !GetAZs ""]\n'
        '          FIRST_AZ: !Select [0, !GetAZs {Ref: "AWS::Region"}]\n'
        '          BLOCKS: !Join [",", !Cidr ["10.0.0.0/16", 2, 8]]\n'
        "          SELF:"
    )
    template.write_text(TEMPLATE.replace("          SELF:", variables))
    environment = load_template(template).functions["Worker"].environment
    # us-east-1's zones, alphabetical; 8 host bits of a /16 are /24s
    assert environment["AZS"].split(",")[:2] == ["us-east-1a", "us-east-1b"]
    assert environment["FIRST_AZ"] == "us-east-1a"
    assert environment["BLOCKS"] == "10.0.0.0/24,10.0.1.0/24"


@pytest.mark.parametrize(
    "value, named",
    [
        ("!ImportValue other-stack-Output", "Fn::ImportValue: this stack is the only one"),
        ("!Select [0, abc]", "Fn::Select: 'abc' is no list"),
        ('!Join [",", !Cidr ["10.0.0.0/24", 2, 8]]', "holds 1 blocks of 8 bits, not 2"),
        ("{'Fn::Length': [1, 2]}", "cannot resolve Fn::Length"),
    ],
)
def test_a_function_it_cannot_resolve_is_one_line_naming_it(template, value, named):
    # these read as the function's own text ("Fn::GetAZs"), or crashed with a KeyError
    template.write_text(TEMPLATE.replace("          FLAG: true", f"          FLAG: {value}"))
    raised = load_refusal(template)
    assert named in raised and "\n" not in raised


def test_what_the_sam_transform_refuses_is_refused(template):
    template.write_text(
        TEMPLATE.replace("      Timeout: 7\n", "      Timeout: 7\n      Events: 3\n")
    )
    with pytest.raises(MlwfError, match="SAM transform refuses it"):
        load_template(template)


def test_a_parameter_out_of_its_allowed_values_is_refused(template):
    with pytest.raises(MlwfError, match="Stage=test"):
        load_template(template, parameter_overrides={"Stage": "test"})


def test_a_buckets_domain_names_resolve_as_its_return_values(template):
    # AWS::S3::Bucket's DomainName, RegionalDomainName, DualStackDomainName
    # (aws-resource-s3-bucket.html); offline once refused all three
    template.write_text(
        TEMPLATE.replace(
            "          BUCKET_ARN: !GetAtt Bucket.Arn\n",
            "          BUCKET_ARN: !GetAtt Bucket.Arn\n"
            "          D1: !GetAtt Bucket.DomainName\n"
            "          D2: !GetAtt Bucket.RegionalDomainName\n"
            "          D3: !GetAtt Bucket.DualStackDomainName\n",
        )
    )
    environment = load_template(template, stack_name="s").functions["Worker"].environment
    assert (environment["D1"], environment["D2"], environment["D3"]) == (
        "s-bucket.s3.amazonaws.com",
        "s-bucket.s3.us-east-1.amazonaws.com",
        "s-bucket.s3.dualstack.us-east-1.amazonaws.com",
    )


def test_translating_twice_in_a_process_prints_nothing(tmp_path):
    # The SAM transform's metrics, left unpublished, printed "There are unpublished
    # metrics..." when the next Translator replaced them (seen in CI's output). The
    # transform cache is kept from answering the second time: a cache folder that cannot
    # be made (under a file) keeps nothing.
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    script = (
        "import gc\n"
        "from mlwf.offline.template import load_template\n"
        "load_template('template.yaml')\n"
        "load_template('template.yaml')\n"
        "gc.collect()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "MLWF_CACHE_DIR": str(blocked)},
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_the_projects_bucket_is_read_with_its_configuration():
    spec = load_template(PROJECT_ROOT / "template.yaml")
    assert set(spec.bucket_calls) == set(spec.buckets.values())
    (calls,) = spec.bucket_calls.values()
    assert calls["put_bucket_versioning"] == {"VersioningConfiguration": {"Status": "Enabled"}}
    assert set(calls) == {
        "put_bucket_versioning",
        "put_bucket_encryption",
        "put_public_access_block",
        "put_bucket_ownership_controls",
        "put_bucket_lifecycle_configuration",
    }


@pytest.mark.parametrize("attribute", ["Runtime", "Name"])
def test_an_attribute_the_type_lacks_fails_as_cloudformation_fails_it(template, attribute):
    # "the offline mode cannot resolve GetAtt Worker.Runtime" read as offline's own limit,
    # and Worker.Name resolved, which no function has (cfn-lint's schema of the type)
    template.write_text(TEMPLATE.replace("!GetAtt Worker.Arn", f"!GetAtt Worker.{attribute}"))
    raised = load_refusal(template)
    assert raised.endswith(
        f"Template error: resource Worker does not support attribute type {attribute} in Fn::GetAtt"
    )


def test_a_custom_resources_attributes_are_its_providers(template):
    # no schema lists them: the offline stack's own limit, not a template error
    custom = "  Seeder:\n    Type: Custom::Seeder\n    Properties:\n      ServiceToken: t\n"
    text = TEMPLATE.replace("Outputs:\n", "Outputs:\n  Token:\n    Value: !GetAtt Seeder.Token\n")
    template.write_text(text.replace("Resources:\n", "Resources:\n" + custom, 1))
    raised = load_refusal(template)
    assert "does not support attribute type" not in raised


DEPENDENT = """  Reader:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: worker/
      Environment:
        Variables:
          TARGET: !GetAtt OnlyInProd.Arn
  Waiter:
    Type: AWS::SQS::Queue
    DependsOn: Reader
"""


def test_a_resource_that_depends_on_one_not_created_is_not_created(template):
    # aws-attribute-condition.html: "any resources that depend on that resource aren't
    # created either, regardless of their own conditions" (offline made Reader, with a
    # function's name that was not there, and Waiter)
    template.write_text(TEMPLATE.replace("Outputs:\n", DEPENDENT + "Outputs:\n", 1))
    dev = load_template(template)
    assert {"Reader", "Waiter"}.isdisjoint(dev.functions | dev.queues)
    prod = load_template(template, parameter_overrides={"Stage": "prod"})
    assert "Reader" in prod.functions and "Waiter" in prod.queues


def test_an_output_that_reads_a_resource_not_created_fails_the_template(template):
    output = "  ReaderArn:\n    Value: !GetAtt Reader.Arn\n"
    text = TEMPLATE.replace("Outputs:\n", DEPENDENT + "Outputs:\n" + output, 1)
    template.write_text(text)
    raised = load_refusal(template)
    assert raised == (
        "template.yaml: Template format error: Unresolved resource dependencies [Reader] in "
        "the Outputs block of the template"
    )
