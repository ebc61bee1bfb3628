"""Registrations: sign-up with seats and waiting list, personal links, cancellation, check-in."""
