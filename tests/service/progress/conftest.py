"""A chain with two dealers and two factories: see tests/service/customers/chain_world.py."""

from __future__ import annotations

from tests.service.customers.chain_world import acme, racing, rival

__all__ = ["acme", "racing", "rival"]
