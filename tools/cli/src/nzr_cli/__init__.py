"""``nzr``: the developer and operator command line (tokens, the embedded platform, dead letters)."""
