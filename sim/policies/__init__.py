"""Policies: the platform's decisions (pricing, risk; guarantee and marketing to come).

A policy decides and never moves money: the engine applies its decision and books it.
"""
