"""Frameworks: the YAML source, the models, expressions, rule kinds, tailoring, checks, loading and the registry."""
