"""Fixtures for the brand API: two chains, each built through the API."""

from __future__ import annotations

import pytest

from tests.blueprints.brand_api.chain_world import ChainWorld, build_chain_world


@pytest.fixture
def acme(tenant) -> ChainWorld:
    """Chain A: the tenant fixture's chain with one of every resource."""
    return build_chain_world(tenant, "Acme")


@pytest.fixture
def rival(other_tenant) -> ChainWorld:
    """Chain B: other_tenant's chain, built the same way (same custom_ids and paths)."""
    return build_chain_world(other_tenant, "Rival")
