"""Programme: the sessions of an event; overlapping sessions are parallel (one slot)."""
