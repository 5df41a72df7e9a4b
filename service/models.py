"""Every model, imported in one place so that Alembic and the tests see the whole schema."""

from service.chain.models import (  # noqa: F401
    ApiKey,
    Chain,
    DirectoryGroup,
    Import,
    Invitation,
    Member,
    Organisation,
    OrganisationGroup,
    VisibilityRule,
    WebhookSecret,
)
from service.db import Base

metadata = Base.metadata
