"""Alembic environment and revisions of the qorch store (one linear chain; head read from here)."""
