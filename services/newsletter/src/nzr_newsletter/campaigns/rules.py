"""Campaign rules: which status allows which step (pure, no I/O)."""

#: Statuses in which a campaign may still be edited or sent (it has not started sending).
EDITABLE = frozenset({"draft", "scheduled"})
#: Statuses of a campaign on its way to its recipients (rendered for real, not for a preview).
SENDING = frozenset({"scheduled", "sending", "paused", "sent"})
#: Statuses in which a campaign may be paused.
PAUSABLE = frozenset({"scheduled", "sending"})


def can_edit(status: str) -> bool:
    return status in EDITABLE


def can_send(status: str) -> bool:
    return status in EDITABLE


def can_pause(status: str) -> bool:
    return status in PAUSABLE


def resumed_status(*, started: bool) -> str:
    """A resumed campaign goes on sending if it had started, else waits for its time again."""
    return "sending" if started else "scheduled"
