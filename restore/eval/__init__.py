"""restore.eval."""
