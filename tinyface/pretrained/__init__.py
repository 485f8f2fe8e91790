"""The pretrained model shipped with tinyface: `tinyface predict` and `tinyface evaluate` use it
when no --model is given.

MODEL_DIR is a TF Serving base folder (numeric version folders holding a SavedModel), trained on
real 300-W faces (research use only); PROVENANCE_FILE beside it says on what data, with which
config and code version it was trained, and the figures it reached.
"""

import os

MODEL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "real_faces")
PROVENANCE_FILE = os.path.join(MODEL_DIR, "PROVENANCE.md")


def model_dir():
    """The pretrained model's base folder; a clear error where this install has none."""
    if not any(name.isdigit() for name in (os.listdir(MODEL_DIR) if os.path.isdir(MODEL_DIR) else ())):
        raise FileNotFoundError(f"{MODEL_DIR}: no pretrained model in this install; pass --model DIR")
    return MODEL_DIR
