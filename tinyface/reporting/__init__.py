"""The run report: the evaluation tables, the verdict and a picture of eval faces, as HTML."""
