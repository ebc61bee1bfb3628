"""Outcomes of an event: agreements with their progress, and recommendations."""
