"""Fixtures for the brand API: two chains, each built through the API."""

from __future__ import annotations

import pytest

from tests.blueprints.brand_api.chain_world import ChainWorld, build_chain_world
from tests.blueprints.brand_api.delivery_world import Shop, open_shop


@pytest.fixture
def acme(tenant) -> ChainWorld:
    """Chain A: the tenant fixture's chain with one of every resource."""
    return build_chain_world(tenant, "Acme")


@pytest.fixture
def rival(other_tenant) -> ChainWorld:
    """Chain B: other_tenant's chain, built the same way (same custom_ids and paths)."""
    return build_chain_world(other_tenant, "Rival")


@pytest.fixture
def shop(tenant) -> Shop:
    """A dealer (with an owner, a designer, an installer, a salesperson) and a factory (with
    a coordinator) in the tenant's chain, in no directory group: the default template applies."""
    return open_shop(tenant)
