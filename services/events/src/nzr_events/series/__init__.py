"""Series: recurring meetings (RFC 5545 RRULE), one registrable event per occurrence."""
