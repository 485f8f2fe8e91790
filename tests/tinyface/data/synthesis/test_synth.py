"""Synthetic faces: determinism, landmark geometry and conventions, drawn features, files, presets."""

import dataclasses
import os

import numpy as np
import pytest
from PIL import Image

from tinyface.data import landmarks
from tinyface.data.degradation import occlusion
from tinyface.data.synthesis import synth
from tinyface.data.synthesis import synth_geometry as geometry

# Clean faces for geometry checks: no occluder, blur, noise or expression.
CLEAN = synth.SynthOptions(occluder_probability=0.0, blur_probability=0.0, noise_std=0.0)
FRONTAL = dataclasses.replace(CLEAN, yaw_std_deg=0.0, pitch_std_deg=0.0, roll_std_deg=0.0)


def _faces(options, count, seed=0):
    return [synth.render_face(synth.face_rng(seed, i), options) for i in range(count)]


def _luma(image):
    return image.astype(np.float64) @ [0.299, 0.587, 0.114]


def _inside_polygon(shape, polygon):
    """Boolean mask of the pixel centres inside `polygon` (even-odd rule)."""
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]]
    inside = np.zeros(shape, dtype=bool)
    x0, y0 = polygon[:, 0], polygon[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    for a, b, c, d in zip(x0, y0, x1, y1):
        crosses = (b > ys) != (d > ys)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = a + (ys - b) * (c - a) / (d - b)
        inside ^= crosses & (xs < at)
    return inside


def _parse_pts(path):
    with open(path) as f:
        lines = f.read().splitlines()
    assert lines[0] == "version: 1"
    assert lines[1] == "n_points:  68"
    assert lines[2] == "{" and lines[-1] == "}"
    return np.array([[float(v) for v in line.split()] for line in lines[3:-1]])


def test_same_seed_and_index_give_the_same_face():
    a = synth.render_face(synth.face_rng(7, 3), synth.SynthOptions())
    b = synth.render_face(synth.face_rng(7, 3), synth.SynthOptions())
    assert np.array_equal(a.image, b.image)
    assert np.array_equal(a.landmarks, b.landmarks)
    assert a.params == b.params
    c = synth.render_face(synth.face_rng(8, 3), synth.SynthOptions())
    assert not np.array_equal(a.landmarks, c.landmarks)


def test_face_rng_depends_only_on_seed_and_index():
    first = [synth.face_rng(0, i).random(4) for i in range(5)]
    again = [synth.face_rng(0, i).random(4) for i in reversed(range(5))][::-1]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], first[1])


def test_generate_dataset_count_extends_and_rewrites_identically(tmp_path):
    small = synth.generate_dataset(tmp_path / "a", 3, seed=5)
    big = synth.generate_dataset(tmp_path / "b", 5, seed=5)
    for name in ("synth_000000", "synth_000002"):
        for ext in (".png", ".pts"):
            assert (tmp_path / "a" / (name + ext)).read_bytes() == (tmp_path / "b" / (name + ext)).read_bytes()
    before = {p: (tmp_path / "a" / p).read_bytes() for p in os.listdir(tmp_path / "a")}
    synth.generate_dataset(tmp_path / "a", 3, seed=5)
    after = {p: (tmp_path / "a" / p).read_bytes() for p in os.listdir(tmp_path / "a")}
    assert before == after and len(before) == 6
    assert small["count"] == 3 and big["count"] == 5
    assert len(big["paths"]) == 5 and all(os.path.exists(p) for p in big["paths"])


def test_generate_dataset_writes_pngs_and_one_based_pts_in_a_subset(tmp_path):
    summary = synth.generate_dataset(tmp_path, 2, seed=1, subset="train")
    assert summary["out_dir"] == str(tmp_path / "train")
    face = synth.render_face(synth.face_rng(1, 1), synth.SynthOptions())
    image = np.asarray(Image.open(tmp_path / "train" / "synth_000001.png"))
    assert np.array_equal(image, face.image)  # lossless
    points = _parse_pts(tmp_path / "train" / "synth_000001.pts")
    assert points.shape == (68, 2)
    np.testing.assert_allclose(points - 1.0, face.landmarks, atol=1e-4)


def test_write_pts_is_one_based_text(tmp_path):
    points = np.column_stack([np.arange(68, dtype=float), np.full(68, 2.5)])
    synth.write_pts(tmp_path / "x.pts", points)
    text = (tmp_path / "x.pts").read_text().splitlines()
    assert text[:3] == ["version: 1", "n_points:  68", "{"]
    assert text[3] == "1.0000 3.5000" and text[-2] == "68.0000 3.5000" and text[-1] == "}"
    assert len(text) == 68 + 4


def test_landmarks_are_inside_the_image_for_default_options():
    for face in _faces(synth.SynthOptions(), 30, seed=3):
        size = face.image.shape[0]
        assert face.image.shape == (size, size, 3) and face.image.dtype == np.uint8
        assert face.landmarks.shape == (68, 2)
        assert (face.landmarks >= 0).all() and (face.landmarks <= size - 1).all()


def test_positive_yaw_moves_the_nose_tip_to_the_image_right_of_the_eyes():
    for yaw, sign in ((35.0, 1.0), (-35.0, -1.0)):
        options = dataclasses.replace(FRONTAL, yaw_mean_deg=yaw)
        for face in _faces(options, 5):
            assert face.params["yaw"] == yaw
            lm = face.landmarks
            eyes_mid = 0.5 * (lm[36] + lm[45])
            eye_span = np.linalg.norm(lm[45] - lm[36])
            assert sign * (lm[30, 0] - eyes_mid[0]) > 0.1 * eye_span


def test_positive_pitch_moves_the_nose_tip_up():
    identity = geometry.sample_identity(np.random.default_rng(0))
    model = geometry.face_model(identity, geometry.sample_expression(np.random.default_rng(0), 0.0))

    def nose_below_eyes(pitch):
        xy, _ = geometry.project(model["landmarks"], geometry.rotation(0.0, pitch), 10.0)
        return xy[30, 1] - 0.5 * (xy[36, 1] + xy[45, 1])

    assert nose_below_eyes(20.0) < nose_below_eyes(0.0) < nose_below_eyes(-20.0)


def test_frontal_face_is_left_right_symmetric_under_the_flip_permutation():
    for face in _faces(FRONTAL, 6):
        lm = face.landmarks
        flipped = landmarks.flip_horizontal_68(lm, face.image.shape[1])
        # The face sits anywhere in the image: compare about its own axis.
        flipped[:, 0] += lm[:, 0].mean() - flipped[:, 0].mean()
        np.testing.assert_allclose(flipped, lm, atol=1e-6)
        assert lm[36, 0] < lm[45, 0] and lm[48, 0] < lm[54, 0]  # subject's right on the image left
        assert lm[8, 1] > lm[57, 1] > lm[51, 1] > lm[33, 1] > lm[27, 1] > lm[19, 1]


def test_landmarks_sit_on_drawn_features():
    options = dataclasses.replace(FRONTAL, expression_strength=0.0, face_scale=(0.6, 0.7))
    for face in _faces(options, 8, seed=2):
        image, lm = face.image.astype(np.float64), face.landmarks
        luma = _luma(face.image)
        # Skin reference: the cheek, between the outer eye corner and the jaw below it.
        cheek = np.round(0.5 * (lm[41] + lm[3]) + 0.2 * (lm[31] - lm[3])).astype(int)
        skin = image[cheek[1] - 1:cheek[1] + 2, cheek[0] - 1:cheek[0] + 2].reshape(-1, 3).mean(axis=0)
        for eye in (lm[36:42], lm[42:48]):
            inside = _inside_polygon(luma.shape, eye)
            assert inside.sum() >= 4
            # The iris and pupil are dark, the sclera bright: the eye has far more contrast than skin.
            assert luma[inside].min() < 0.6 * _luma(skin[None])[0]
            assert np.abs(image[inside] - skin).sum(axis=1).max() > 60
            corner_rows = [np.round(p).astype(int) for p in (eye[0], eye[3])]
            for x, y in corner_rows:  # the eye corners are on the dark lid line, not on skin
                assert luma[y, x] < _luma(skin[None])[0] - 10
        lips = _inside_polygon(luma.shape, lm[48:60])
        lip_colour = image[lips].mean(axis=0)
        # Lips are redder than skin relative to their green.
        assert lip_colour[0] / lip_colour[1] > 1.1 * skin[0] / skin[1]
        brow = np.round(lm[19]).astype(int)
        assert luma[brow[1], brow[0]] < _luma(skin[None])[0] - 15


def test_occluders_and_blur_are_reported_and_keep_true_landmarks():
    options = dataclasses.replace(FRONTAL, occluder_probability=1.0, blur_probability=1.0)
    faces = _faces(options, 12)
    assert all(f.params["occluded"] and f.params["blurred"] for f in faces)
    assert {f.params["occluder"] for f in faces} <= set(synth.OCCLUDERS)
    assert len({f.params["occluder"] for f in faces}) >= 2
    assert any(f.params["occluded_points"] for f in faces)
    clean = _faces(FRONTAL, 12)
    # Same geometry stream: occlusion and blur change pixels, never the landmarks.
    for a, b in zip(faces, clean):
        assert a.params["yaw"] == b.params["yaw"]
        np.testing.assert_allclose(a.landmarks, b.landmarks)


def test_occluders_are_drawn_by_the_shared_occlusion_module(monkeypatch):
    """The renderer's occluder is occlusion.draw_occluder's: the pixels change exactly where
    its alpha covers, and the hidden landmarks are the ones it reports hidden."""
    drawn = []

    def recording_draw_occluder(image, landmarks68, kind, rng):
        alpha, colour = real_draw_occluder(image, landmarks68, kind, rng)
        drawn.append((kind, np.array(landmarks68), alpha))
        return alpha, colour

    real_draw_occluder = occlusion.draw_occluder
    monkeypatch.setattr(occlusion, "draw_occluder", recording_draw_occluder)
    occluded_options = dataclasses.replace(FRONTAL, occluder_probability=1.0)
    kinds = set()
    for index in range(6):
        face = synth.render_face(synth.face_rng(4, index), occluded_options)
        clean = synth.render_face(synth.face_rng(4, index), FRONTAL)
        assert len(drawn) == index + 1, "the renderer drew an occluder of its own"
        kind, points, alpha = drawn[-1]
        assert kind == face.params["occluder"]
        kinds.add(kind)
        np.testing.assert_allclose(points, face.landmarks)
        changed = (face.image != clean.image).any(axis=-1)
        assert not changed[alpha == 0].any()
        assert changed[alpha > 0.99].mean() > 0.9
        hidden = set(np.nonzero(occlusion.hidden_points(alpha, face.landmarks))[0].tolist())
        # Hidden landmarks on the skin are recorded; the inner face (brows to lips) is all skin.
        assert set(face.params["occluded_points"]) <= hidden
        assert hidden - set(range(17)) <= set(face.params["occluded_points"])
    assert len(kinds) >= 2


def _face_luma(face):
    lm = face.landmarks
    inner = np.concatenate([lm[17:27], lm[2:15]])
    hull = inner[np.argsort(np.arctan2(*(inner - inner.mean(axis=0)).T[::-1]))]
    return _luma(face.image)[_inside_polygon(face.image.shape[:2], hull)].mean()


def test_presets_shift_their_statistic():
    default = _faces(synth.PRESETS["default"], 16, seed=11)
    dark = _faces(synth.PRESETS["dark"], 16, seed=11)
    assert np.mean([_face_luma(f) for f in dark]) < 0.7 * np.mean([_face_luma(f) for f in default])

    def abs_yaw(faces):
        return np.mean([abs(f.params["yaw"]) for f in faces])

    wide = _faces(synth.PRESETS["large_yaw"], 16, seed=11)
    assert abs_yaw(wide) > 1.4 * abs_yaw(default)

    def box(faces):
        return np.mean([np.ptp(f.landmarks, axis=0).max() for f in faces])

    small = _faces(synth.PRESETS["small_faces"], 16, seed=11)
    assert box(small) < 0.7 * box(default)
    occluded = _faces(synth.PRESETS["occluded"], 16, seed=11)
    assert sum(f.params["occluded"] for f in occluded) > sum(f.params["occluded"] for f in default) + 4


def test_image_size_option_and_invalid_options():
    face = synth.render_face(synth.face_rng(0, 0), dataclasses.replace(CLEAN, image_size=96))
    assert face.image.shape == (96, 96, 3)
    assert (face.landmarks >= 0).all() and (face.landmarks <= 95).all()
    for bad in ({"face_scale": (0.7, 0.4)}, {"image_size": 8}, {"occluder_probability": 1.5},
                {"brightness": 0.0}, {"yaw_max_deg": 120.0}):
        with pytest.raises(ValueError):
            synth.SynthOptions(**bad)
