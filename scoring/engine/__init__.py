"""The engine: a checked framework compiled into a plan, a submission scored into a result, rectification, rounds."""
