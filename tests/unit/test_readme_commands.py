"""Every command the README shows exists: each `mlwf` subcommand and flag, each `make`
target, each events/ file and each script path it names."""

from __future__ import annotations

import re
import shlex

import pytest

from mlwf.cli import build_parser
from tests.helpers.paths import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"


def shell_commands() -> list[str]:
    """The commands of the README's bash blocks (indented ones too), continuations joined
    and comments dropped."""
    commands = []
    for block in re.findall(r"^ *```bash\n(.*?)^ *```", README.read_text(), re.M | re.S):
        text = re.sub(r"\\\n\s*", " ", block)
        for line in text.splitlines():
            line = line.split(" # ")[0].strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def invocations(program: str) -> list[list[str]]:
    """The argument lists `program` is run with, wherever it stands in a command line."""
    found = []
    for command in shell_commands():
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


def test_the_readme_shows_mlwf_commands():
    assert len(invocations("mlwf")) >= 20


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
    named = set(re.findall(r"events/[a-z_]+\.json", README.read_text()))
    assert named
    for path in named:
        assert (PROJECT_ROOT / path).is_file(), path
    for path in re.findall(
        r"`((?:benchmarks|tests|statemachine|requirements)/[\w./]+)`", README.read_text()
    ):
        assert (PROJECT_ROOT / path).exists(), path
