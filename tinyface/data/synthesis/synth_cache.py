"""The embedded default dataset: synthetic faces made once per (count, seed) and then reused."""

import json
import os
import shutil

from tinyface.data.synthesis import synth

_MARKER = "tinyface_synth.json"


def default_dataset(folder, count, seed):
    """`folder` holding `count` synthetic faces from `seed`; generated only if not already there.

    Generated into a sibling temporary folder and renamed into place, so an interrupted
    generation never leaves a half-written dataset that a later run would take as complete.
    """
    # The generator version is part of the key: a changed renderer must not reuse old faces.
    wanted = {"count": count, "seed": seed, "generator": synth.GENERATOR_VERSION,
              "options": repr(synth.SynthOptions())}
    marker = os.path.join(folder, _MARKER)
    if os.path.exists(marker):
        with open(marker) as f:
            if json.load(f) == wanted:
                return folder
    partial = folder + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    synth.generate_dataset(partial, count, seed=seed)
    with open(os.path.join(partial, _MARKER), "w") as f:
        json.dump(wanted, f)
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(partial, folder)
    return folder
