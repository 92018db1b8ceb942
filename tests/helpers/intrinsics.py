"""The preflight's view of a translated template: mlwf's intrinsic evaluator with resource
names and attributes left symbolic (`<LogicalId>`, `<LogicalId.Attribute>`), because only
CloudFormation knows them before the deploy."""

from __future__ import annotations

from mlwf.offline.intrinsics import NO_VALUE, Evaluator

DeployContext = Evaluator

__all__ = ["NO_VALUE", "DeployContext"]
