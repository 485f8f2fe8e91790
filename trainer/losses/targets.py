"""What the losses compare a model's outputs to: the target keys of a training batch.

The input pipeline (trainer/training/input_pipeline.py) builds batches of (LR images, targets)
with these keys; the losses read them. Defined here, below both, so that losses need not import
training code.
"""

HR = "hr"                        # (B, hr, hr, 3) float32 in [0, 1]
HEATMAPS = "heatmaps"            # (B, h, w, C) float32
LANDMARKS = "landmarks"          # (B, 68, 2) HR pixels
HAS_LANDMARKS = "has_landmarks"  # (B,) float32 1/0: mask for heatmap and landmark losses
