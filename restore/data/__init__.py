"""restore.data."""
