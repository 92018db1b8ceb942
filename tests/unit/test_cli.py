"""The command line's contract: every command answers --help, and AWS setup mistakes end
in one actionable line and exit 1, never a traceback."""

from __future__ import annotations

import pytest

from mlwf.cli import COMMAND_MODULES, build_parser, main


def test_every_command_is_registered_and_has_help(capsys):
    commands = {name.rsplit(".", 1)[1] for name in COMMAND_MODULES}
    for command in sorted(commands):
        with pytest.raises(SystemExit) as raised:
            main([command, "--help"])
        assert raised.value.code == 0, command
        assert "usage: mlwf " + command in capsys.readouterr().out
    assert commands <= set(build_parser()._subparsers._group_actions[0].choices)


def test_no_region_is_one_actionable_line(monkeypatch, tmp_path, capsys):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    code = main(["train"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().count("\n") == 0
    assert "no AWS region" in err and "--region" in err
