"""The one tinyface TFX pipeline definition, its settings and its local runner."""
