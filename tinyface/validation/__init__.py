"""Data validation: what ingestion read and skipped, schema anomalies, drift, and the verdict."""
