"""The command line's contract: every command answers --help, and AWS setup mistakes end
in one actionable line and exit 1, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mlwf.cli import COMMAND_MODULES, COMMANDS, build_parser, main
from tests.helpers.paths import EVENTS_DIR
from tests.helpers.sockets import listening_port


def test_every_command_is_registered_and_has_help(capsys):
    commands = set(build_parser()._subparsers._group_actions[0].choices)
    assert len(commands) == len(COMMAND_MODULES)  # one command per module
    for command in sorted(commands):
        with pytest.raises(SystemExit) as raised:
            main([command, "--help"])
        assert raised.value.code == 0, command
        assert "usage: mlwf " + command in capsys.readouterr().out


def test_each_command_is_registered_by_the_module_the_map_names():
    # main() imports only the module its command line names: the map must be right
    import argparse
    import importlib

    for command, module in COMMANDS.items():
        subparsers = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).register(subparsers)
        assert list(subparsers.choices) == [command], module


def test_a_command_line_imports_its_commands_module_alone():
    # Given a fresh interpreter that parses `mlwf invoke --help`
    code = (
        "import sys\n"
        "from mlwf.cli import COMMAND_MODULES, main\n"
        "try:\n    main(['invoke', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in COMMAND_MODULES if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    # Then no other command's module was imported (they cost every command ~0.2 s)
    assert out.strip().splitlines()[-1] == "['mlwf.invoke']"


def test_offline_ups_help_says_its_defaults_and_how_it_stops(capsys):
    # a new user found neither the port (4566) nor how to stop it in --help
    with pytest.raises(SystemExit):
        main(["offline", "up", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "port on 127.0.0.1 (default: 4566)" in out
    assert "until Ctrl-C or SIGTERM" in out


def test_an_unknown_option_is_shown_with_its_commands_usage(capsys):
    # the whole parser's usage ("mlwf [-h] COMMAND ...") did not say which options exist
    commands = sorted(build_parser()._subparsers._group_actions[0].choices)
    for command in commands:
        with pytest.raises(SystemExit) as raised:
            main([command, "--no-such-option"])
        assert raised.value.code == 2, command
        err = capsys.readouterr().err
        assert err.startswith("usage: mlwf " + command), err
        # a command with a required option names that first, as argparse does
        assert f"mlwf {command}: error: " in err, err
    # and a nested command's, with its own usage too
    for command in (["run"], ["offline", "up"]):
        with pytest.raises(SystemExit):
            main([*command, "--no-such-option"])
        err = capsys.readouterr().err
        name = " ".join(command)
        assert err.startswith(f"usage: mlwf {name} "), err
        assert err.rstrip().endswith(
            f"mlwf {name}: error: unrecognized arguments: --no-such-option"
        )


def test_no_region_is_one_actionable_line(monkeypatch, tmp_path, capsys):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    code = main(["train"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().count("\n") == 0
    assert "no AWS region" in err and "--region" in err


def raw_answer(status: int, body: bytes):
    """A service (or what stands in for it) answering with this status and body."""
    from botocore.awsrequest import AWSResponse

    class Raw:
        def stream(self, **_):
            yield body

        def read(self, *_):
            return body

    def send(request, **_):
        return AWSResponse(request.url, status, {"content-type": "text/html"}, Raw())

    return send


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", "CreateTrainingJob: HTTP 400 Bad Request with an empty body"),
        (
            b"<html>\n <body>Request blocked by proxy</body></html>",
            "CreateTrainingJob: HTTP 400 Bad Request with a body that is not an AWS error: "
            "'<html> <body>Request blocked by proxy</body></html>'",
        ),
        (
            b'{"__type": "ValidationException", "message": "bad name"}',
            "CreateTrainingJob: ValidationException: bad name",
        ),
    ],
)
def test_an_error_answer_says_its_status_and_what_its_body_holds(body, expected, monkeypatch):
    # Given a service answering 400 with a body in AWS's error shape or not
    import boto3
    from botocore.exceptions import ClientError

    from training_job.errors import client_error_message

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    client = boto3.Session(region_name="us-east-1").client("sagemaker")
    client.meta.events.register("before-send", raw_answer(400, body))
    with pytest.raises(ClientError) as raised:
        client.create_training_job(
            TrainingJobName="j",
            AlgorithmSpecification={"TrainingInputMode": "File", "TrainingImage": "i"},
            RoleArn="arn:aws:iam::123456789012:role/r",
            OutputDataConfig={"S3OutputPath": "s3://b/o"},
            ResourceConfig={"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1},
            StoppingCondition={"MaxRuntimeInSeconds": 60},
        )
    # Then the message says the status and the body, on one line
    message = client_error_message(raised.value.operation_name, raised.value.response)
    assert message == expected


def test_a_long_body_is_cut_and_the_endpoint_is_named(monkeypatch):
    from training_job.errors import BODY_EXCERPT_CHARS, client_error_message

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    response = {
        "Error": {"Code": "502", "Message": "x" * 1000},
        "ResponseMetadata": {"HTTPStatusCode": 502},
    }
    message = client_error_message("ListBuckets", response)
    assert message.startswith("ListBuckets: HTTP 502 Bad Gateway with a body")
    assert (
        "x" * BODY_EXCERPT_CHARS + "..." in message
        and "x" * (BODY_EXCERPT_CHARS + 1) not in message
    )
    assert message.endswith("is AWS_ENDPOINT_URL=http://127.0.0.1:9 an endpoint for this service?")


@pytest.mark.parametrize("command", ["run", "batch"])
def test_parameter_overrides_without_offline_is_one_line(command, capsys):
    code = main([command, "--parameter-overrides", "WorkflowType=EXPRESS"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.count("\n") == 0 and "--offline" in err


def test_the_mlwf_command_exits_with_its_heap_frozen():
    # The interpreter's exit collected the whole heap an offline command leaves: ~2 s of
    # `mlwf invoke`. Given the installed `mlwf` entry point, run in a process of its own
    probe = (
        "import atexit, gc, sys\n"
        "from importlib.metadata import entry_points\n"
        "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0))\n"
        "(mlwf,) = entry_points(group='console_scripts', name='mlwf')\n"
        "sys.argv = ['mlwf', 'cost', '--help']\n"
        "sys.exit(mlwf.load()())\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)

    # Then it ended as the command ends, and by then its heap was frozen
    assert done.returncode == 0, done.stderr
    assert "usage: mlwf cost" in done.stdout
    assert done.stdout.rstrip().endswith("frozen at exit: True")


def test_nothing_answering_at_aws_endpoint_url_says_what_to_do(monkeypatch, capsys):
    # Given the exports of an `mlwf offline up` that has stopped (a README walk found only
    # botocore's "Could not connect to the endpoint URL", with no hint that the stack was gone)
    from botocore.exceptions import EndpointConnectionError

    import mlwf.invoke

    endpoint = "http://127.0.0.1:47999"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)

    def unreachable(*args, **kwargs):
        raise EndpointConnectionError(endpoint_url=f"{endpoint}/")

    monkeypatch.setattr(mlwf.invoke, "invoke_running", unreachable)
    code = main(["invoke", "ClassifyImageFunction", "-e", str(EVENTS_DIR / "classify_image.json")])
    err = capsys.readouterr().err
    assert code == 1
    assert err == (
        f'mlwf invoke: error: Could not connect to the endpoint URL: "{endpoint}/": nothing '
        f"answers at AWS_ENDPOINT_URL ({endpoint}): is its `mlwf offline up` still running? "
        "Start it again, or unset AWS_ENDPOINT_URL\n"
    )


def test_an_unknown_function_of_a_running_stack_is_named_as_for_a_stack_mlwf_starts(
    monkeypatch, capsys
):
    # Given a running stack (AWS_ENDPOINT_URL) whose outputs name three functions
    import training_job.stack

    outputs = {f"{name}FunctionName": f"s-{name}Function" for name in ("Classify", "Filter")}
    monkeypatch.setattr(training_job.stack, "stack_outputs", lambda name, session: outputs)
    event = str(EVENTS_DIR / "classify_image.json")
    with listening_port() as port:  # something answers there
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        code = main(["invoke", "NoSuchFunction", "-e", event, "--stack-name", "s"])
    # Then the words are those of `mlwf invoke` without a stack: no function 'X' ...
    assert code == 1
    assert capsys.readouterr().err == (
        "mlwf invoke: error: no function 'NoSuchFunction' in stack s (no output "
        "NoSuchFunctionName); functions: ClassifyFunction, FilterFunction\n"
    )
