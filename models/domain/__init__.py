"""The pure domain: calendars and date rules, planning, the organization as a plain value,
reminder rules and digests, sampling, the behaviour model, catch-up and the Chinese wording.
Nothing here imports SQLAlchemy, SQLModel, Prefect, openpyxl or psycopg (a test checks it):
each function takes what it needs, `today` and `now` included, and returns plain values."""
