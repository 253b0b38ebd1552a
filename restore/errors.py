"""The errors a user can cause, in one place.

Every error that bad input can trigger derives from :class:`RestoreError`, so callers (the CLI,
batch processing, a user's pipeline) can catch one type. Each also derives from the matching
builtin (``ValueError``, ``FileNotFoundError``) so ordinary ``except ValueError`` code keeps working.
"""

from __future__ import annotations


class RestoreError(Exception):
    """Base class of every error that bad user input can cause in ``restore``."""


class ImageReadError(RestoreError, ValueError):
    """A file could not be read as an image (missing, empty, truncated, not an image, too big)."""


class ImageWriteError(RestoreError, OSError):
    """An image could not be written (unwritable path, would overwrite an input, bad format)."""


class ConfigError(RestoreError, ValueError):
    """A configuration value is unknown, missing or of the wrong type; the message names the key."""


class CheckpointError(RestoreError, ValueError):
    """A checkpoint or weight file is refused: pickle, truncated, tampered, or does not fit the model."""


class ModelNotFoundError(RestoreError, ValueError):
    """An unknown model name or path; the message lists the known names."""


class TrainingError(RestoreError, RuntimeError):
    """Training cannot go on (for instance a non-finite loss); the message says where to resume."""
