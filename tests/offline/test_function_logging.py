"""A function's LoggingConfig offline (mlwf/offline/function_limits.py, template.py): its
LogGroup is where its log goes, as in Lambda; a JSON log format and its levels, which the
offline stack does not apply, are refused by name. All three were ignored: the log went to
/aws/lambda/<name> and stayed text with every level."""

from __future__ import annotations

import json

import pytest

from mlwf.offline.runtime import OfflineStack
from mlwf.offline.template import load_template
from tests.helpers.events import load_event
from tests.helpers.project import edit_template, project_copy
from training_job.errors import MlwfError

pytestmark = pytest.mark.offline

FILTER_CODE = "      CodeUri: functions/filter_inferences/\n"


def with_logging(tmp_path, config: str):
    template = project_copy(tmp_path)
    edit_template(template, FILTER_CODE, FILTER_CODE + "      LoggingConfig:\n" + config)
    return template


def test_the_log_goes_to_the_log_group_the_function_names(tmp_path):
    # monitoring-cloudwatchlogs-loggroups.html: a function may send its logs to a group of
    # its choosing
    template = with_logging(tmp_path, "        LogGroup: /custom/filter-inferences\n")
    with OfflineStack.start(template, say=lambda _: None) as stack:
        name = stack.spec.functions["FilterInferencesFunction"].name
        payload = json.dumps(load_event("filter_inferences_pass.json"))
        answer = stack.client("lambda").invoke(FunctionName=name, Payload=payload)
        assert answer["StatusCode"] == 200 and "FunctionError" not in answer
        logs = stack.client("logs")
        custom = logs.filter_log_events(logGroupName="/custom/filter-inferences")["events"]
        # the template's own group for the function stays, and stays empty
        default = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    assert any(e["message"].startswith("START RequestId: ") for e in custom)
    assert default == []


@pytest.mark.parametrize(
    "config, named",
    [
        ("        LogFormat: JSON\n", "LogFormat JSON"),
        (
            "        LogFormat: JSON\n        ApplicationLogLevel: WARN\n",
            "ApplicationLogLevel, LogFormat JSON",
        ),
    ],
)
def test_a_json_log_format_is_refused_by_name(tmp_path, config, named):
    template = with_logging(tmp_path, config)
    with pytest.raises(MlwfError) as refused:
        load_template(template)
    assert str(refused.value) == (
        f"template.yaml: FilterInferencesFunction: LoggingConfig {named}: the offline stack "
        "writes a function's log as text, every level of it (only LoggingConfig's LogGroup is "
        "applied)"
    )
