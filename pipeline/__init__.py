"""The one tinyface TFX pipeline definition (create_pipeline and the flavour interface), its
settings, its local runner, caching fingerprints, and a run's lineage and report."""
