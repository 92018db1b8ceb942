"""Every command the README and the docs/ pages show exists: each `mlwf` subcommand and flag,
each `make` target, each events/ file, each script or test path they name, and each test
they cite as `tests/...py::test_name`."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from mlwf.cli import build_parser
from tests.helpers.paths import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
DOCUMENTS = [README, *sorted((PROJECT_ROOT / "docs").glob("*.md"))]


def shell_commands(document: Path) -> list[str]:
    """The commands of a page's bash blocks (indented ones too), continuations joined and
    comments dropped."""
    commands = []
    for block in re.findall(r"^ *```bash\n(.*?)^ *```", document.read_text(), re.M | re.S):
        text = re.sub(r"\\\n\s*", " ", block)
        for line in text.splitlines():
            line = line.split(" # ")[0].strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def invocations(program: str, documents: list[Path] = DOCUMENTS) -> list[list[str]]:
    """The argument lists `program` is run with, wherever it stands in a command line."""
    found = []
    for document in documents:
        for command in shell_commands(document):
            for part in re.split(r"&&|\|\||;|\|", command):
                try:
                    words = shlex.split(part)
                except ValueError:
                    words = part.split()
                while words and "=" in words[0] and not words[0].startswith("-"):
                    words = words[1:]  # VAR=value before the program
                if words and words[0] in (program, f".venv/bin/{program}"):
                    found.append(words[1:])
    return found


def all_text() -> str:
    return "\n".join(document.read_text() for document in DOCUMENTS)


def test_the_readme_and_the_docs_show_mlwf_commands():
    # Guards the extraction itself: a change of block syntax must not make the checks vacuous.
    assert len(invocations("mlwf", [README])) >= 8
    assert len(invocations("mlwf")) >= 40


@pytest.mark.parametrize("words", invocations("mlwf"), ids=" ".join)
def test_every_mlwf_command_and_flag_exists(words):
    parser = build_parser()
    subparsers = parser._subparsers._group_actions[0].choices  # argparse keeps them here
    command, rest = words[0], words[1:]
    assert command in subparsers, f"mlwf {command}: no such command"
    chosen = subparsers[command]
    if chosen._subparsers is not None and rest and not rest[0].startswith("-"):
        actions = chosen._subparsers._group_actions[0].choices  # e.g. `offline up`
        assert rest[0] in actions, f"mlwf {command} {rest[0]}: no such action"
        chosen, rest = actions[rest[0]], rest[1:]
    flags = {flag for action in chosen._actions for flag in action.option_strings}
    for word in rest:
        if word.startswith("-"):
            flag = word.split("=", 1)[0]
            assert flag in flags, f"mlwf {command}: no flag {flag}"


def test_every_make_target_exists():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    shown = {word for words in invocations("make") for word in words if not word.startswith("-")}
    assert shown and shown <= targets, shown - targets


def test_every_events_file_and_path_named_exists():
    text = all_text()
    named = set(re.findall(r"events/[a-z_]+\.json", text))
    assert named
    for path in named:
        assert (PROJECT_ROOT / path).is_file(), path
    paths = re.findall(r"`((?:benchmarks|tests|statemachine|requirements)/[\w./]+)`", text)
    assert paths
    for path in paths:
        assert (PROJECT_ROOT / path).exists(), path


def test_every_test_cited_exists():
    cited = set(re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", all_text()))
    assert cited
    for path, name in sorted(cited):
        module = PROJECT_ROOT / path
        assert module.is_file(), path
        assert re.search(rf"^def {name}\(", module.read_text(), re.M), f"{path}::{name}"


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_to_a_heading_finds_it():
    # Links to another page's section (`deploy.md#parameters-and-outputs`) break silently
    # when that section is renamed or moved.
    links = []
    for document in DOCUMENTS:
        for target, fragment in re.findall(r"\]\(([\w./-]*\.md)?#([\w-]+)\)", document.read_text()):
            page = (document.parent / target).resolve() if target else document
            links.append((document.name, page, fragment))
    assert links
    for source, page, fragment in links:
        if not page.is_file():
            continue  # a page another branch adds; its anchors are checked once it is here
        prose = re.sub(r"^ *```.*?^ *```", "", page.read_text(), flags=re.M | re.S)
        headings = re.findall(r"^#+ (.+)$", prose, re.M)
        assert fragment in {anchor(heading) for heading in headings}, (
            f"{source}: {page.name}#{fragment}"
        )
