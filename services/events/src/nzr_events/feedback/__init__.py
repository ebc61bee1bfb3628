"""Feedback of participants on an event: one editable rating and text per registration."""
