"""What every tinyface model returns, so losses, training and export treat all models alike.

A model maps an LR batch (B, lr, lr, 3) float32 in [0, 1] to a dict:
  SR_STEPS:      (B, S_sr, hr, hr, 3) float32 in [0, 1] (not clipped): every step's SR image;
                 the last step is the model's answer. S_sr = 1 for single-pass models.
  HEATMAP_STEPS: (B, S_hm, h, w, C) float32: every step's (or CPM stage's) landmark heatmaps,
                 C = 68 (+1 background channel where the model's HeatmapSpec says so).
Heatmaps follow tinyface.data.heatmaps (Gaussian peaks of 1 at the landmark positions).
"""

SR_STEPS = "sr_steps"
HEATMAP_STEPS = "heatmap_steps"
OUTPUT_KEYS = (SR_STEPS, HEATMAP_STEPS)
