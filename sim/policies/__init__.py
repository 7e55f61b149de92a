"""Policies: the platform's decisions, in four families (pricing, risk, guarantee, marketing).

A policy decides and never moves money: the engine applies its decision and books it. Scenarios name
a built-in policy by its name or a user's class as ``package.module:ClassName`` (docs/policies.md).
Importing this package registers the built-in policies of the four families.
"""

from sim.policies import guarantee, layers, marketing, pricing, risk  # noqa: F401 - they register
from sim.policies.base import FAMILIES, PlatformState, Policy, PolicyContext, PolicyError
from sim.policies.registry import build, builtin_names, register

__all__ = ["FAMILIES", "PlatformState", "Policy", "PolicyContext", "PolicyError", "build",
           "builtin_names", "register"]
