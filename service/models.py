"""Every model, imported in one place so that Alembic and the tests see the whole schema."""

from service.attachments.models import Attachment  # noqa: F401
from service.broadcasts.models import Broadcast, BroadcastRecipient  # noqa: F401
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
from service.channels.models import Channel, Delivery, DeliveryAttempt  # noqa: F401
from service.customers.models import AuditEntry, Customer, CustomerLink  # noqa: F401
from service.db import Base
from service.groups.models import (  # noqa: F401
    DeliveryGroup,
    GroupMember,
    GroupRead,
    GroupTemplate,
    Message,
)
from service.notify.models import OutboxEvent  # noqa: F401
from service.orders.models import Order, WorkItem  # noqa: F401
from service.progress.models import StageSpan, TimelineEntry  # noqa: F401
from service.reports.models import ReplyWait, SeatDay, StageDay, WriterDay  # noqa: F401

metadata = Base.metadata
