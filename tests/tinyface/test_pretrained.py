"""The pretrained model shipped in the repository: loadable, small, documented, and carried by
an install (setup.py's package_data names every one of its files)."""

import ast
import fnmatch
import os
import re

import numpy as np

from tinyface.pipeline import configs
from tinyface import prediction, pretrained

MAX_BYTES = 25 * 1024 * 1024


def _package_data_patterns():
    tree = ast.parse(open(os.path.join(configs.REPO_ROOT, "setup.py")).read())
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "package_data":
            return ast.literal_eval(node.value)["tinyface.pretrained"]
    raise AssertionError("setup.py has no package_data")


def _shipped_files():
    package = os.path.dirname(pretrained.__file__)
    for folder, _, names in os.walk(pretrained.MODEL_DIR):
        for name in names:
            yield os.path.relpath(os.path.join(folder, name), package)


def test_the_pretrained_model_loads_and_answers_in_the_serving_layout():
    model = prediction.load_model(pretrained.model_dir())
    assert (model.lr_size, model.sr_size) == (16, 128) and model.version is not None
    lr = np.random.default_rng(0).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    answer = prediction.predict(model, lr)
    assert answer.sr_images.shape == (2, 128, 128, 3) and answer.landmarks.shape == (2, 68, 2)


def test_it_is_small_and_an_install_carries_every_file():
    files = list(_shipped_files())
    assert sum(os.path.getsize(os.path.join(os.path.dirname(pretrained.__file__), f)) for f in files) < MAX_BYTES
    patterns = _package_data_patterns()
    assert [f for f in files if not any(fnmatch.fnmatch(f, p) for p in patterns)] == []


def test_its_provenance_names_data_config_code_figures_and_terms():
    with open(pretrained.PROVENANCE_FILE) as f:
        text = f.read()
    assert "research use only" in text and "300-W" in text
    assert "configs/real_faces.yaml" in text
    assert re.search(r"\b[0-9a-f]{40}\b", text)          # the code's git commit
    assert re.search(r"^\| overall +\|", text, re.M)     # the figures, by slice
