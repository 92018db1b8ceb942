"""Each page of `mlwf console`, opened in headless Chromium as a person would look at it,
against an offline stack that has run a succeeded, a low-confidence, a retried and an
error execution (its key full of HTML) and a batch. One stack and one console for the
module; a screenshot of each page goes to the test's output folder."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from mlwf.batch_results import iter_verdicts
from tests.browser.conftest import WAIT_SECONDS
from tests.helpers.console_stack import (
    HTML_KEY,
    ConsoleStack,
    console_process,
    offline_stack,
    run_workflow_executions,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.offline,
]
STACK = "console-browser"
RED_FILL, RED_STROKE = "rgb(253, 232, 230)", "rgb(209, 50, 18)"
GREEN_STROKE = "rgb(29, 129, 2)"


@pytest.fixture(scope="module")
def stack() -> Iterator[ConsoleStack]:
    with offline_stack(STACK) as console_stack:
        run_workflow_executions(console_stack)
        yield console_stack


@pytest.fixture(scope="module")
def console(stack: ConsoleStack) -> Iterator[str]:
    with console_process(stack) as url:
        yield url


def open_page(browser: Any, url: str) -> None:
    """Load the page afresh and wait until it has drawn (the router marks it ready)."""
    browser.get("about:blank")  # else a change of #hash alone would keep the old page
    browser.get(url)
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, ".page[data-ready]")
    )


def execution_url(console: str, arn: str) -> str:
    return f"{console}#/execution/{urllib.parse.quote(arn, safe='')}"


def node(browser: Any, state: str) -> Any:
    return browser.find_element(By.CSS_SELECTOR, f'g.node[data-state="{state}"]')


def box_colours(browser: Any, element: Any) -> tuple[str, str]:
    box = element.find_element(By.CSS_SELECTOR, "rect.state-box")
    return box.value_of_css_property("fill"), box.value_of_css_property("stroke")


def test_the_state_machines_are_drawn_with_every_state_and_edge(
    browser, console, stack, screenshot
):
    open_page(browser, console)
    screenshot("state-machines")
    machines = browser.find_elements(By.CSS_SELECTOR, "section.machine")
    assert len(machines) == 2
    spec = stack.stack.spec.state_machines["BatchClassificationStateMachine"]
    (batch,) = [m for m in machines if m.get_attribute("data-machine") == spec.name]
    types = {n.get_attribute("data-type") for n in batch.find_elements(By.CSS_SELECTOR, "g.node")}
    assert {"Task", "Map", "Pass", "Start", "End"} <= types
    catch_labels = [e.text for e in batch.find_elements(By.CSS_SELECTOR, "text.edge-label-catch")]
    assert "Catch: ThresholdConfidenceNotMet" in catch_labels
    retry = [r.text for r in batch.find_elements(By.CSS_SELECTOR, "g.retry text")]
    # Classify image: the attempts its retriers allow, all told, as the definition gives them
    allowed = sum(
        r.get("MaxAttempts", 3) for r in classify_state(json.loads(spec.definition))["Retry"]
    )
    assert f"↻ Retry ≤{allowed}" in retry


def test_the_failed_state_is_red_and_names_its_error(browser, console, stack, screenshot):
    open_page(browser, execution_url(console, stack.executions["low-confidence"]))
    screenshot("execution-low-confidence")
    failed = node(browser, "Filter low-confidence inferences")
    assert failed.get_attribute("data-status") == "FAILED"
    assert box_colours(browser, failed) == (RED_FILL, RED_STROKE)
    assert box_colours(browser, node(browser, "Classify image"))[1] == GREEN_STROKE
    panel = browser.find_element(By.ID, "state-panel")  # the failed state is selected
    assert browser.find_element(By.ID, "state-error").text == "ThresholdConfidenceNotMet"
    assert "is below the threshold" in panel.find_element(By.ID, "state-cause").text
    assert browser.find_element(By.ID, "execution-error").text == "ThresholdConfidenceNotMet"


def test_the_retry_count_is_shown(browser, console, stack, screenshot):
    open_page(browser, execution_url(console, stack.executions["retried"]))
    classify = node(browser, "Classify image")
    assert classify.get_attribute("data-status") == "SUCCEEDED"
    assert classify.find_element(By.CSS_SELECTOR, "g.retry").text == "↻ retried 1×"
    classify.find_element(By.CSS_SELECTOR, "text.state-label").click()
    assert browser.find_element(By.ID, "retry-count").text == "1"
    attempts = browser.find_elements(By.CSS_SELECTOR, "#attempts tbody tr")
    assert [a.find_elements(By.TAG_NAME, "td")[2].text for a in attempts] == [
        "Lambda.TooManyRequestsException",
        "succeeded",
    ]
    # The input's base64 image is elided in the JSON and shown as a picture.
    assert "shown as a picture" in browser.find_element(By.ID, "state-input").text
    assert browser.find_elements(By.CSS_SELECTOR, "#state-panel img.picture")
    logs = browser.find_elements(By.CSS_SELECTOR, "#logs details.log")
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "#logs details.log")
    )
    logs = browser.find_elements(By.CSS_SELECTOR, "#logs details.log")
    text = "\n".join(log.text for log in logs)
    assert '"inference_id":"retried"' in text  # the classify function's line of this run
    screenshot("execution-retried")


def rows(browser: Any) -> list[Any]:
    return browser.find_elements(By.CSS_SELECTOR, "#executions tbody tr")


def listed(browser: Any) -> dict[str, str]:
    """Name -> status of the rows shown, read in one go (the live list redraws itself)."""
    return dict(
        browser.execute_script(
            "return [...document.querySelectorAll('#executions tbody tr')]"
            ".map(r => [r.querySelector('td a').textContent, r.dataset.status])"
        )
    )


def test_filters_and_search_narrow_the_list(browser, console, stack, screenshot):
    open_page(browser, f"{console}#/executions")
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda b: len(rows(b)) >= 4 and "…" not in b.find_element(By.ID, "executions").text
    )
    screenshot("executions")
    everything = len(rows(browser))
    Select(browser.find_element(By.ID, "filter-status")).select_by_value("FAILED")
    failed = rows(browser)
    assert 0 < len(failed) < everything
    assert {r.get_attribute("data-status") for r in failed} == {"FAILED"}
    Select(browser.find_element(By.ID, "filter-error")).select_by_value("ImageNotFound")
    assert [r.find_element(By.CSS_SELECTOR, "td a").text for r in rows(browser)] == ["error"]
    Select(browser.find_element(By.ID, "filter-status")).select_by_value("")
    Select(browser.find_element(By.ID, "filter-error")).select_by_value("")
    browser.find_element(By.ID, "search-key").send_keys("<b>bold")
    (only,) = rows(browser)
    # The key is shown as the text it is: its HTML made no element and ran nothing.
    assert only.find_element(By.CSS_SELECTOR, "td.key").text == HTML_KEY
    assert not only.find_elements(By.CSS_SELECTOR, "img, b")
    assert browser.title == "mlwf console"
    assert browser.find_element(By.ID, "count").text == f"1 of {everything} executions"


def test_html_in_an_error_cause_is_shown_as_text(browser, console, stack, screenshot):
    open_page(browser, execution_url(console, stack.executions["error"]))
    screenshot("execution-error")
    failed = node(browser, "Serialize image data")
    assert failed.get_attribute("data-status") == "FAILED"
    assert browser.find_element(By.ID, "state-error").text == "ImageNotFound"
    cause = browser.find_element(By.ID, "execution-cause")
    assert HTML_KEY.replace('"', '\\"') in cause.text  # in the cause's JSON, as text
    assert not cause.find_elements(By.XPATH, ".//*")
    assert browser.title == "mlwf console"
    assert node(browser, "Classify image").get_attribute("data-status") == "NOT_REACHED"


def test_a_batchs_items_have_the_verdicts_its_result_files_hold(
    browser, console, stack, screenshot
):
    open_page(browser, execution_url(console, stack.executions["batch"]))
    items = browser.find_elements(By.CSS_SELECTOR, "#items-table tbody tr")
    output = json.loads(
        stack.stack.sfn.describe_execution(executionArn=stack.executions["batch"])["output"]
    )
    # The Distributed Map's items are what its ResultWriter wrote, as mlwf batch reads them
    written = output["ResultWriterDetails"]
    expected = list(iter_verdicts(stack.stack.s3, written["Bucket"], written["Key"]))
    assert len(items) == len(expected) > 0
    verdicts = [i.find_element(By.CSS_SELECTOR, "td.verdict").text for i in items]
    assert verdicts == [v.verdict for v in expected]
    assert "LOW_CONFIDENCE" in verdicts
    keys = [i.find_element(By.CSS_SELECTOR, "td.key").text for i in items]
    assert keys == [v.s3_key for v in expected]
    # Its EXPRESS children keep no history: the page says so, and offers no click-through
    note = browser.find_element(By.ID, "items-note")
    assert "child execution" in note.text
    assert not browser.find_elements(By.CSS_SELECTOR, "#items-table tbody tr.clickable")
    screenshot("execution-batch-items")


def test_the_threshold_line_sits_at_the_deployed_threshold(browser, console, stack, screenshot):
    open_page(browser, f"{console}#/monitoring")
    screenshot("monitoring")
    deployed = float(stack.stack.spec.outputs["Threshold"])
    chart = browser.find_element(By.CSS_SELECTOR, "svg.chart-confidence")
    line = chart.find_element(By.CSS_SELECTOR, "line.threshold-line")
    assert line.get_attribute("y1") == line.get_attribute("y2")
    # Where the y axis puts the deployed threshold, read from its own tick labels.
    ticks = {
        float(t.get_attribute("data-value")): float(t.get_attribute("y")) - 4
        for t in chart.find_elements(By.CSS_SELECTOR, "g.axis-y text.tick")
    }
    (low, y_low), (high, y_high) = sorted(ticks.items())[-2:]
    expected = y_low + (deployed - low) / (high - low) * (y_high - y_low)
    assert float(line.get_attribute("y1")) == pytest.approx(expected, abs=0.5)
    assert browser.find_element(By.ID, "threshold-value").text == str(deployed)
    below = chart.find_elements(By.CSS_SELECTOR, "circle.below")
    assert below and all(float(c.get_attribute("cy")) > expected for c in below)
    gallery = browser.find_elements(By.CSS_SELECTOR, "#gallery figure")
    assert len(gallery) == len(below)


def test_start_execution_runs_one_and_the_list_shows_it(browser, console, stack, screenshot):
    open_page(browser, f"{console}#/executions")
    browser.find_element(By.ID, "start-execution").click()
    key = json.loads(
        stack.stack.sfn.describe_execution(executionArn=stack.executions["succeeded"])["input"]
    )["s3_key"]
    field = browser.find_element(By.ID, "start-input")
    field.clear()
    field.send_keys(json.dumps({"s3_bucket": stack.settings.bucket, "s3_key": key}))
    browser.find_element(By.ID, "start-name").send_keys("from-the-console")
    browser.find_element(By.ID, "start-confirm").click()
    # The execution page follows it live until it ends (its heading is redrawn meanwhile).
    heading = "return document.querySelector('h1') ? document.querySelector('h1').innerText : ''"
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda b: re.search(r"from-the-console\s+SUCCEEDED", b.execute_script(heading))
    )
    screenshot("execution-started")
    # Then the list, left open, shows a new execution and its end without a reload.
    browser.find_element(By.CSS_SELECTOR, 'nav a[data-nav="executions"]').click()
    WebDriverWait(browser, WAIT_SECONDS).until(lambda b: "from-the-console" in listed(b))
    browser.execute_script("window.stillThisPage = true")
    stack.stack.run_execution({"s3_bucket": stack.settings.bucket, "s3_key": key}, "live")
    WebDriverWait(browser, WAIT_SECONDS).until(lambda b: listed(b).get("live") == "SUCCEEDED")
    assert browser.execute_script("return window.stillThisPage") is True


def test_an_execution_that_is_gone_is_a_message(browser, console, stack, screenshot):
    gone = stack.executions["retried"].rsplit(":", 1)[0] + ":no-such-execution"
    open_page(browser, execution_url(console, gone))
    screenshot("execution-gone")
    message = browser.find_element(By.CSS_SELECTOR, ".error").text
    assert message.startswith(f"execution {gone} does not exist")
    assert "Traceback" not in browser.page_source


def test_an_unknown_stack_is_a_message_in_the_page_and_a_line(browser, stack, screenshot):
    terminal: list[str] = []
    with console_process(stack, "--stack-name", "no-such-stack", output=terminal) as url:
        open_page(browser, url)
        screenshot("unknown-stack")
        message = browser.find_element(By.CSS_SELECTOR, ".error").text
    assert message.startswith("stack 'no-such-stack' does not exist in region us-east-1")
    assert [line for line in terminal if "no-such-stack" in line] == [f"mlwf console: {message}"]
    assert not [line for line in terminal if "Traceback" in line]


def classify_state(definition: dict) -> dict:
    """The Classify image state, wherever the definition nests it (a Map's processor)."""
    for name, state in definition.get("States", {}).items():
        if name == "Classify image":
            return state
        for inner in [state.get("ItemProcessor") or state.get("Iterator") or {}] + list(
            state.get("Branches", [])
        ):
            if inner:
                try:
                    return classify_state(inner)
                except LookupError:
                    pass
    raise LookupError("no Classify image state")
