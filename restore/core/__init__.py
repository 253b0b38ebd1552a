"""restore.core."""
