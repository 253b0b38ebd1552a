"""restore.tasks."""
