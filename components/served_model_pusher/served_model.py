"""Is a SavedModel what TF Serving already serves? Compared by content, file by file.

TFX's Pusher copies the Trainer's SavedModel folder as it is into base/<version>/, so the
model served as version N is byte for byte the candidate exactly when they are the same model
(the Model artifact of a cached Trainer, or an identical retraining). Comparing contents needs
no record of past pushes that could be lost or disagree with the folder TF Serving reads.
"""

import hashlib
import os
import re
from typing import Optional, Tuple

from absl import logging
from tfx.dsl.io import fileio

_CHUNK = 1 << 20
_VERSION = re.compile(r"[0-9]+")    # TF Serving's version folders are plain numbers


def newest_served_version(serving_dir: str) -> Optional[Tuple[int, str]]:
    """(version, folder) of the SavedModel TF Serving would serve from `serving_dir`, or None.

    Like TF Serving: the highest numeric folder, compared as numbers; other folders are ignored.
    """
    if not fileio.isdir(serving_dir):
        return None
    versions = sorted((int(name.rstrip("/")), os.path.join(serving_dir, name.rstrip("/")))
                      for name in fileio.listdir(serving_dir) if _VERSION.fullmatch(name.rstrip("/")))
    for version, folder in reversed(versions):
        if fileio.exists(os.path.join(folder, "saved_model.pb")):
            return version, folder
        logging.warning("served version folder %s holds no saved_model.pb; ignored", folder)
    return None


def folder_digest(root):
    """sha256 over every file's path relative to `root` and its bytes, in sorted order."""
    digest = hashlib.sha256()
    for directory, _, files in sorted(fileio.walk(root)):
        for name in sorted(files):
            path = os.path.join(directory, name)
            digest.update(os.path.relpath(path, root).encode() + b"\0")
            with fileio.open(path, "rb") as f:
                for chunk in iter(lambda: f.read(_CHUNK), b""):
                    digest.update(chunk)
            digest.update(b"\0")
    return digest.hexdigest()


def served_version_of(model_dir, serving_dir):
    """(version, folder) when the version TF Serving serves from `serving_dir` (the highest)
    holds exactly the SavedModel in `model_dir`; None otherwise (nothing served, or another model)."""
    served = newest_served_version(serving_dir)
    if served is None:
        return None
    version, folder = served
    return (version, folder) if folder_digest(folder) == folder_digest(model_dir) else None
