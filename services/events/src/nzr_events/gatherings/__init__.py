"""Gatherings: the events themselves, their life cycle and the public listing."""
