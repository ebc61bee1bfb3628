"""Who sees what in the events service's routes: drafts only for the region's editors."""

from nzr_common.auth import Principal, Role
from nzr_events.bootstrap import Deps


def is_editor(deps: Deps, principal: Principal) -> bool:
    """The caller edits this region (sees drafts)."""
    return principal.region == deps.settings.region and principal.has(Role.EDITOR, Role.ADMIN)


def districts(deps: Deps) -> set[str]:
    """The AGS codes of the region's districts (an event's district must be one of them)."""
    return set(deps.region.districts)
