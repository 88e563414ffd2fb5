"""The store: tables, the session, migrations, and the data functions that read and write,
session first and keyword-only, returning named rows (never tuples, never sentences)."""
