"""restore: repair and enhance photographs with GANs, and the framework to train those models."""

from __future__ import annotations

__version__ = "0.1.0"
