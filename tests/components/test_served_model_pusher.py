"""The Pusher's check: is the candidate SavedModel the one TF Serving serves (its newest version)?"""

import shutil

from tinyface.components.served_model_pusher.served_model import folder_digest, served_version_of


def _saved_model(folder, weights):
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"graph")
    (folder / "variables" / "variables.data-00000-of-00001").write_bytes(weights)
    return folder


def test_the_served_copy_of_the_candidate_is_found_by_content(tmp_path):
    candidate = _saved_model(tmp_path / "trainer" / "Format-Serving", b"weights-a")
    serving = tmp_path / "serving"
    assert served_version_of(str(candidate), str(serving)) is None          # nothing served yet
    shutil.copytree(candidate, serving / "1700000000")
    assert served_version_of(str(candidate), str(serving)) == (1700000000, str(serving / "1700000000"))


def test_a_different_model_or_an_older_version_is_not_served(tmp_path):
    candidate = _saved_model(tmp_path / "candidate", b"weights-a")
    serving = tmp_path / "serving"
    shutil.copytree(candidate, serving / "1700000000")
    _saved_model(serving / "1700000100", b"weights-b")       # a newer model is what TF Serving serves
    assert served_version_of(str(candidate), str(serving)) is None


def test_the_digest_covers_names_and_bytes(tmp_path):
    a = _saved_model(tmp_path / "a", b"weights")
    b = _saved_model(tmp_path / "b", b"weights")
    assert folder_digest(str(a)) == folder_digest(str(b))
    (b / "variables" / "variables.index").write_bytes(b"")
    assert folder_digest(str(a)) != folder_digest(str(b))
