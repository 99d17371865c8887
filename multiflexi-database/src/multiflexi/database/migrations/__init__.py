"""The Alembic migration history of the MultiFlexi schema (env.py and versions/)."""
