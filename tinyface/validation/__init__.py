"""Data validation: data reports (schema anomalies, drift, the verdict) and validating a folder;
what ingestion read and skipped is tinyface.data.ingestion.ingestion_summary."""
