"""The console's execution list with thousands of executions: how soon it is usable.

    .venv/bin/python benchmarks/console_executions.py [--executions 2000] [--loads 7]

One offline stack (served over HTTP, model deployed as `mlwf demo` does), then EXECUTIONS
executions of the image workflow: every 20th a real image (succeeded or low confidence),
the others a key that does not exist (ImageNotFound at the first task: the cheapest real
execution). `mlwf console` runs in its own process against it, as a user runs it, and
headless Chromium (Debian's, as tests/browser drive it) opens the executions page LOADS
times. Measured:

  warm-up   from the console's first ListExecutions until every execution is described
            (key, error, top confidence: one DescribeExecution each, in the background);
  usable    per load, navigation start to the list drawn with its first page of rows, its
            filters and its count of all executions (the page's `page-ready` mark, taken
            when the router has rendered it): median, min, max;
  filter    per load, choosing status FAILED and then a key search, each to its list
            redrawn (timed in the page, synchronous rendering): median.

Target (issue 14): usable < 1 s with 2,000 executions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.console_stack import console_process, offline_stack  # noqa: E402

WAVE = 40  # executions started at a time (moto runs each in a thread)
FILTER_SCRIPT = """
const t0 = performance.now();
const status = document.getElementById("filter-status");
status.value = "FAILED";
status.dispatchEvent(new Event("change"));
const t1 = performance.now();
const search = document.getElementById("search-key");
search.value = "missing/00017";
search.dispatchEvent(new Event("input"));
const t2 = performance.now();
return [t1 - t0, t2 - t1, document.querySelectorAll("#executions tbody tr").length];
"""


def start_executions(console_stack, count: int) -> None:
    from mlwf.offline.workflow import split_inputs

    stack, settings = console_stack.stack, console_stack.settings
    images = split_inputs(stack, settings, "test")
    arn = stack.state_machine_arn()
    sfn = stack.sfn
    for first in range(0, count, WAVE):
        started = []
        for index in range(first, min(count, first + WAVE)):
            real = index % 20 == 0
            key = images[index % len(images)].s3_key if real else f"missing/{index:05d}.png"
            answer = sfn.start_execution(
                stateMachineArn=arn,
                name=f"bench-{index:05d}",
                input=json.dumps({"s3_bucket": settings.bucket, "s3_key": key}),
            )
            started.append(answer["executionArn"])
        for execution in started:
            stack.wait_for_execution(execution, timeout=300)


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
    ):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def warm_up(url: str, arn: str, total: int) -> float:
    """Seconds from the first list until the console has described every execution."""
    began = time.monotonic()
    query = f"{url}api/executions?arn={urllib.parse.quote(arn)}"
    while True:
        with urllib.request.urlopen(query, timeout=60) as response:
            answer = json.load(response)
        if answer["total"] >= total and answer["pending"] == 0:
            return time.monotonic() - began
        time.sleep(0.25)  # polling the console as its page does, at a finer grain


def main() -> None:
    # The stack's record holds a placeholder resource moto says it does not model.
    warnings.filterwarnings("ignore", category=UserWarning, module="moto.cloudformation")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=2000)
    parser.add_argument("--loads", type=int, default=7)
    args = parser.parse_args()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with offline_stack("console-bench") as console_stack:
        began = time.monotonic()
        start_executions(console_stack, args.executions)
        print(f"{args.executions} executions ran in {time.monotonic() - began:.0f} s", flush=True)
        arn = console_stack.stack.state_machine_arn()
        with console_process(console_stack) as url:
            warm = warm_up(url, arn, args.executions)
            print(f"console warm-up (describe {args.executions}): {warm:.1f} s", flush=True)
            driver = browser()
            usable, filters, searches = [], [], []
            try:
                for _ in range(args.loads):
                    driver.get("about:blank")
                    driver.get(f"{url}#/executions/{urllib.parse.quote(arn, safe='')}")
                    WebDriverWait(driver, 60, poll_frequency=0.05).until(
                        lambda d: d.find_elements(By.CSS_SELECTOR, ".page[data-ready]")
                    )
                    ready = driver.execute_script(
                        "return performance.getEntriesByName('page-ready')[0].startTime"
                    )
                    count = driver.find_element(By.ID, "count").text
                    assert count == f"{args.executions} of {args.executions} executions", count
                    rows = driver.find_elements(By.CSS_SELECTOR, "#executions tbody tr")
                    assert len(rows) == 50, len(rows)
                    usable.append(ready)
                    print(f"  load {len(usable)}: usable after {ready:.0f} ms", flush=True)
                    by_status, by_key, left = driver.execute_script(FILTER_SCRIPT)
                    assert left == 1, left
                    filters.append(by_status)
                    searches.append(by_key)
            finally:
                driver.quit()
    print(
        f"list usable after load: median {statistics.median(usable):.0f} ms "
        f"(min {min(usable):.0f}, max {max(usable):.0f}; {args.loads} loads) "
        f"-> target < 1000 ms: {'met' if statistics.median(usable) < 1000 else 'NOT met'}"
    )
    print(
        f"filter by status: median {statistics.median(filters):.1f} ms; "
        f"search by key: median {statistics.median(searches):.1f} ms"
    )


if __name__ == "__main__":
    main()
