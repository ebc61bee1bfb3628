"""Demo data files of the embedded platform (one JSON list per seeding step)."""
