"""Policies: the platform's decisions, in four families (pricing, risk, guarantee, marketing).

A policy decides and never moves money: the engine applies its decision and books it. Scenarios name
a built-in policy by its name or a user's class as ``package.module:ClassName`` (docs/policies.md).
"""

from sim.policies.base import (
                               FAMILIES,
                               PlatformState,
                               PolicyContext,
                               PolicyError,
                               build,
                               builtin_names,
                               register,
)

__all__ = ["FAMILIES", "PlatformState", "PolicyContext", "PolicyError", "build", "builtin_names",
           "register"]
