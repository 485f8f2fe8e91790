"""Fixtures shared by the command tests."""

import zipfile

import pytest


def _empty_folder(folder):
    return folder


def _folder_of_text_files(folder):
    for name in ("notes.txt", "README.md"):
        (folder / name).write_text("not a model")
    return folder


def _keras_file(folder):
    path = folder / "model.keras"
    with zipfile.ZipFile(path, "w") as archive:  # a .keras file is a zip of config and weights
        archive.writestr("config.json", "{}")
    return path


@pytest.fixture(params=[
    (_empty_folder, "no SavedModel: expected saved_model.pb here"),
    (_folder_of_text_files, "no SavedModel: expected saved_model.pb here"),
    (_keras_file, "is a file (a Keras .keras archive), not a SavedModel folder"),
], ids=["empty folder", "folder of text files", "keras file"])
def not_a_saved_model(request, tmp_path):
    """(path, problem): something given as --model that is not a SavedModel folder (made under
    tmp_path/model), and the problem the one-line error must name."""
    make, problem = request.param
    folder = tmp_path / "model"
    folder.mkdir()
    return make(folder), problem
