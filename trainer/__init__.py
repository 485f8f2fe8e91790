"""tinyface's trainer: Keras 3 models (JASRNet, DIC), losses, input pipeline, training, export.

Kept flat on purpose: TFX packs (and fingerprints for caching) every top-level .py file of the
module file's folder (trainer/run_fn.py), and nothing in sub-folders. A flat folder means any
change to trainer code invalidates the Trainer's cache, as it must.
"""
