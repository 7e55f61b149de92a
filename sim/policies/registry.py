"""The registry: policies by family and name, found for a scenario and built with its parameters.

Built-in policies register themselves (``@register("pricing", "grid")``) when their family's module
is imported (:mod:`sim.policies` imports all four); a user's class is imported from
``package.module:ClassName``. This module imports no family, so no import cycle.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.policies.base import FAMILIES, PolicyContext, PolicyError
from sim.policies.checks import checked

_REGISTRY: dict[str, dict[str, type]] = {family: {} for family in FAMILIES}
_BASES: dict[str, type] = {}  # each family's base class, registered with its module


def register_base(family: str):
    """Class decorator: the base class of a family (its defaults complete a user's class)."""
    def decorate(cls):
        _BASES[family] = cls
        return cls
    return decorate


def register(family: str, name: str):
    """Class decorator: make a policy available to scenarios as ``policy = "name"``."""
    def decorate(cls):
        _REGISTRY[family][name] = cls
        cls.policy_name = name
        return cls
    return decorate


def builtin_names(family: str) -> list[str]:
    """Names of the built-in policies of a family."""
    return sorted(_REGISTRY[family])


def resolve(family: str, name: str, search_dir: str | Path | None = None) -> type:
    """The class a scenario's ``policy = name`` refers to.

    ``name`` is a built-in name or ``package.module:ClassName``; a module that is not importable as
    it is is also looked for in ``search_dir`` (the scenario's folder).

    Raises
    ------
    PolicyError
        If the name is unknown, the module or class cannot be imported, or the class lacks a method
        of the family's protocol.
    """
    if name in _REGISTRY[family]:
        return _REGISTRY[family][name]
    if ":" not in name:
        raise PolicyError("policy", f"unknown {family} policy {name!r}; built-in: "
                          f"{', '.join(builtin_names(family))}, or 'package.module:ClassName'")
    module_name, _, class_name = name.partition(":")
    try:
        module = _import(module_name, search_dir)
    except Exception as error:  # noqa: BLE001 - any failure in the user's module is reported
        raise PolicyError("policy", f"cannot import module {module_name!r} for {family} policy "
                          f"{name!r}: {type(error).__name__}: {error}") from None
    cls = getattr(module, class_name, None)
    if not inspect.isclass(cls):
        raise PolicyError("policy", f"module {module_name!r} has no class {class_name!r}")
    if family == "guarantee" and not issubclass(cls, _BASES[family]):
        raise PolicyError("policy", f"{name!r} must subclass "
                          "sim.policies.guarantee.GuaranteePolicy (see docs/policies.md)")
    missing = [m for m in _BASES[family].REQUIRED if not callable(getattr(cls, m, None))]
    if missing:
        raise PolicyError("policy", f"{name!r} does not follow the {family} protocol: it lacks "
                          f"{', '.join(m + '()' for m in missing)} (see docs/policies.md)")
    return cls


def _import(module_name: str, search_dir: str | Path | None):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if search_dir is None or error.name != module_name.split(".")[0]:
            raise
    sys.path.insert(0, str(search_dir))
    try:
        return importlib.import_module(module_name)
    finally:
        sys.path.remove(str(search_dir))


def validate_params(cls: type, params: dict[str, Any]) -> Any:
    """Validate a scenario's parameters for a policy class; return what its constructor takes.

    Raises
    ------
    PolicyError
        Naming the first parameter at fault and what is allowed.
    """
    model = getattr(cls, "Params", None)
    if not (inspect.isclass(model) and issubclass(model, BaseModel)):
        return dict(params)
    try:
        return model.model_validate(params)
    except ValidationError as error:
        item = error.errors()[0]
        key = ".".join(str(p) for p in item["loc"]) or "policy"
        if item["type"] == "extra_forbidden":
            allowed = ", ".join(["policy", *model.model_fields])
            raise PolicyError(key, f"unknown parameter; allowed here: {allowed}") from None
        message = item["msg"].removeprefix("Value error, ")
        if "input" in item and not isinstance(item["input"], dict):
            message += f" (got {item['input']!r})"
        raise PolicyError(key, message) from None


def build(family: str, spec: dict[str, Any], context: PolicyContext,
          search_dir: str | Path | None = None):
    """Build the policy a scenario section describes (``{"policy": name, **params}``)."""
    params = {k: v for k, v in spec.items() if k != "policy"}
    name = spec.get("policy", "")
    cls = resolve(family, name, search_dir)
    validated = validate_params(cls, params)
    if name not in _REGISTRY[family]:  # a user's class: the family's defaults, every call checked
        cls = checked(cls, _BASES[family], family, name)
    try:
        return cls(validated, context)
    except PolicyError:
        raise
    except (ValueError, TypeError) as error:
        raise PolicyError("policy", f"{name!r} refused its parameters: {error}") from None
    except Exception as error:  # noqa: BLE001 - a user's constructor may raise anything
        raise PolicyError("policy", f"{name!r} could not be built: {type(error).__name__}: "
                          f"{error}") from None
