"""HR faces -> LR inputs and targets: degradation, occluders and LR/HR pairs with heatmaps."""
