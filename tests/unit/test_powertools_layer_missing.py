"""A function whose Powertools layer is missing fails with PowertoolsLayerMissing, a message
that names the layer and the template parameter, instead of "No module named ..."."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

from tests.helpers.paths import PROJECT_ROOT

APPS = sorted((PROJECT_ROOT / "functions").glob("*/app.py"))


def load_isolated(path: Path):
    """The module loaded afresh under a name of its own (its package stays untouched)."""
    spec = importlib.util.spec_from_file_location(f"isolated_{path.parent.name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# No layer at all, or a layer of Powertools without the Tracer's SDK (built without extras).
@pytest.fixture(params=["aws_lambda_powertools", "aws_xray_sdk"])
def without_powertools(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a function whose layer lacks the package: importing it fails."""
    package = request.param
    for name in [n for n in sys.modules if n.split(".")[0] == package]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, package, None)


@pytest.mark.parametrize("app", APPS, ids=lambda p: p.parent.name)
def test_a_missing_layer_fails_the_module_with_a_named_error(app, without_powertools):
    with pytest.raises(Exception) as raised:
        load_isolated(app)
    # Lambda reports an init error under the exception's class name.
    assert type(raised.value).__name__ == "PowertoolsLayerMissing"
    assert "PowertoolsLayerArn" in str(raised.value)
    assert isinstance(raised.value.__cause__, ModuleNotFoundError)


@pytest.mark.parametrize("app", APPS, ids=lambda p: p.parent.name)
def test_with_the_layer_the_module_loads(app):
    assert load_isolated(app).POWERTOOLS_LAYER_HINT


def hint_of(path: Path) -> str:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "POWERTOOLS_LAYER_HINT":
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path}: no POWERTOOLS_LAYER_HINT")


def test_the_functions_copies_of_the_hint_are_equal():
    # Each function is self-contained, so each carries its own copy of the message.
    assert len({hint_of(app) for app in APPS}) == 1
