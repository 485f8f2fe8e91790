"""Beam transforms over the plain-Python data core; the TFX executors are thin wrappers of these."""
