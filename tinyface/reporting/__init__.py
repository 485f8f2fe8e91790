"""What a run report draws: the evaluation tables, charts and sample grids as HTML (the report
of a pipeline run is assembled in tinyface.pipeline.run_report)."""
