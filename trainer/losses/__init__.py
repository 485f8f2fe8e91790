"""Training losses, one contract: pixel, heatmap, landmark consistency, perceptual (joint.py) and adversarial (adversarial.py)."""
