"""PairGen: LR/HR training pairs (and optionally heatmaps) from FaceExampleGen's examples."""
