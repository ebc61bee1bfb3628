"""The complete routing table of the reporting service: every sub-domain's projections
registered on ``projections.handlers`` (import this module, not a part of it)."""

from nzr_reporting.goals import handlers as _goals
from nzr_reporting.indicators import handlers as _indicators
from nzr_reporting.projections import SKIP_ROUTE, appliers, handlers, replayers, skip_unknown, touch_region
from nzr_reporting.state import handlers as _state

#: The modules whose projections the table holds (imported for their registrations).
REGISTERED = (_goals, _indicators, _state)

__all__ = ["REGISTERED", "SKIP_ROUTE", "appliers", "handlers", "replayers", "skip_unknown", "touch_region"]
