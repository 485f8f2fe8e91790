"""Model evaluation with TFMA: the FaceSRMetrics metric and the Evaluator's EvalConfig."""
