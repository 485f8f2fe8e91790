"""Network weights files: where a training run writes them, and how a later run starts from them.

Every run writes its trained network's Keras weights (`network.weights.h5`) beside its serving
export: in a Trainer's Model artifact that is `<artifact>/Format-Weights/network.weights.h5`, next
to TFX's `<artifact>/Format-Serving`. A later run whose TrainingConfig.init_weights names that
file, or the artifact folder, starts from those weights: that is how DICGAN is trained from a
DIC checkpoint (its generator is the DIC network, layer for layer). Nothing here downloads.
"""

import os

from absl import logging

WEIGHTS_DIR = "Format-Weights"
WEIGHTS_FILE = "network.weights.h5"


def weights_path_for_export(serving_model_dir):
    """The weights file written beside the serving export `serving_model_dir`."""
    parent = os.path.dirname(os.path.normpath(serving_model_dir))
    return os.path.join(parent, WEIGHTS_DIR, WEIGHTS_FILE)


def save_beside_export(network, serving_model_dir):
    path = weights_path_for_export(serving_model_dir)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    network.save_weights(path)
    return path


def resolve(init_weights):
    """The weights file `init_weights` names: the file itself, or the one in a Model artifact
    folder (or its Format-Weights subfolder). FileNotFoundError if there is none."""
    path = os.path.normpath(os.fspath(init_weights))
    candidates = [path, os.path.join(path, WEIGHTS_FILE), os.path.join(path, WEIGHTS_DIR, WEIGHTS_FILE)]
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate
    raise FileNotFoundError(f"no network weights at {init_weights!r} (looked for {', '.join(candidates)})")


def load_initial_weights(network, init_weights):
    """Loads the weights `init_weights` names into `network` (same architecture and config).

    A file of another architecture or size fails with ValueError naming both, rather than
    training on from a partial load.
    """
    path = resolve(init_weights)
    try:
        # skip_mismatch=False: a layer that does not fit raises instead of staying random.
        network.load_weights(path, skip_mismatch=False)
    except ValueError as error:
        raise ValueError(f"cannot initialise {network.name!r} from {path}: {error}") from None
    logging.info("initialised %s from %s", network.name, path)
    return path
