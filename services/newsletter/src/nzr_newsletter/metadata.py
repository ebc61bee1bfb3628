"""The newsletter's complete table metadata: the declarative base with every sub-domain's
``models`` loaded (for the service definition and Alembic)."""

from nzr_newsletter.bounces import models as bounces
from nzr_newsletter.campaigns import models as campaigns
from nzr_newsletter.delivery import models as delivery
from nzr_newsletter.digests import models as digests
from nzr_newsletter.lists import models as lists
from nzr_newsletter.subscribers import models as subscribers
from nzr_newsletter.subscriptions import models as subscriptions
from nzr_newsletter.tables import Base, messaging
from nzr_newsletter.transactional import models as transactional

#: The sub-domains whose tables ``Base.metadata`` holds (imported for that effect).
MODELS = (bounces, campaigns, delivery, digests, lists, subscribers, subscriptions, transactional)

__all__ = ["MODELS", "Base", "messaging"]
