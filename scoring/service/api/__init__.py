"""The routers of ``/api/v1``: one module per resource; each parses, calls the library or the store, presents."""
