"""Reading annotated face datasets: format readers, crops, attributes, duplicates, face examples and what an ingestion skipped."""
