"""Shared fixtures: real annotated faces (tests/data/real_faces) and small synthetic datasets."""

import os
import shutil

import pytest

REAL_FACES = os.path.join(os.path.dirname(__file__), "data", "real_faces")


@pytest.fixture(scope="session")
def real_faces():
    """The folder of real annotated photos (tests/data/real_faces, see its README)."""
    return REAL_FACES


@pytest.fixture
def real_300w(tmp_path):
    """A writable copy of the two real LFPW (300W) photos with their .pts files."""
    folder = tmp_path / "300w"
    shutil.copytree(os.path.join(REAL_FACES, "superviseddescent_ibug_lfpw_trainset"), folder)
    return folder


@pytest.fixture(scope="session")
def synthetic_faces(tmp_path_factory):
    """A factory of synthetic 300W-style folders, cached per (count, seed, preset)."""
    from tinyface.data import synth

    made = {}

    def make(count=40, seed=0, preset="default"):
        key = (count, seed, preset)
        if key not in made:
            folder = tmp_path_factory.mktemp(f"synth-{preset}-{seed}-{count}")
            synth.generate_dataset(folder, count, seed=seed, options=synth.PRESETS[preset])
            made[key] = str(folder)
        return made[key]

    return make


@pytest.fixture(scope="session")
def exported_model(tmp_path_factory):
    """The Trainer's export of a SMALL JASRNet, once per session. Untrained: training would only
    slow the tests that use it, which check the plumbing around whatever the model answers."""
    folder = tmp_path_factory.getbasetemp() / "predict-model"
    if not (folder / "saved_model.pb").exists():
        from trainer import export, model_registry
        built = model_registry.build_model("jasrnet", "small")
        export.export_serving_model(built.network, str(folder), built.config.hr_size, built.config.scale)
    return str(folder)


@pytest.fixture(autouse=True)
def _home_under_tmp(tmp_path, monkeypatch):
    """Commands called in tests keep their logs (<home>/logs) out of the checkout."""
    from tinyface import home

    monkeypatch.setenv(home.HOME_VARIABLE, str(tmp_path / "tinyface_home"))
