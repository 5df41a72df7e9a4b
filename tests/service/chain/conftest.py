"""Fixtures for the chain's service functions: a brand's chain, made through the service."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.chain.chains import create_chain
from service.chain.models import Chain, Organisation


@dataclass
class BrandChain:
    chain: Chain
    brand: Organisation

    @property
    def id(self):
        return self.chain.id


@pytest.fixture
def acme(session: Session) -> BrandChain:
    return BrandChain(*create_chain(session, name="Acme Home"))


@pytest.fixture
def rival(session: Session) -> BrandChain:
    return BrandChain(*create_chain(session, name="Rival Living"))


@pytest.fixture
def rows(session: Session):
    """`rows(Model)`: how many rows its table holds right now (in this test's transaction)."""

    def count(model) -> int:
        return session.scalar(select(func.count()).select_from(model))

    return count
