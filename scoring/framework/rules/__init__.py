"""Rule kinds: each one a module that checks its rule and compiles it into a closure; the table is in kinds.py."""
