import numpy as np
import pytest
import tensorflow as tf

from tinyface import features
from tinyface.data.degradation import degrade, pairs
from tinyface.data import example_codec, heatmaps
from tinyface.data.degradation.degrade import DegradationConfig
from tinyface.data.degradation.pairs import PairConfig, make_pairs


def _landmarks(size=128, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.2 * size, 0.8 * size, size=(68, 2))


def _face(face_id="300w/img.png#0", size=128, with_landmarks=True, seed=0):
    """A face dict as example_codec.from_example reads a FaceExampleGen example."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(30, 230, size=(8, 8, 3), dtype=np.uint8)
    hr = degrade.bicubic_resize(coarse, (size, size))
    record = {
        features.FACE_ID: face_id,
        features.HR_IMAGE: pairs.encode_png(hr),
        features.DATASET: "300w",
        features.YAW: 12.5,
        features.HAS_LANDMARKS_68: int(with_landmarks),
    }
    if with_landmarks:
        record[features.LANDMARKS_68] = _landmarks(size, seed).astype(np.float32).ravel()
    return example_codec.from_example(example_codec.to_example(record).SerializeToString()), hr


def test_one_pair_per_scale_with_the_inputs_passed_through():
    face, hr = _face()
    config = PairConfig(DegradationConfig(scales=(4, 8)))
    out = make_pairs(face, config)
    assert [p[features.SCALE] for p in out] == [4, 8]
    for pair, scale in zip(out, (4, 8)):
        for key, values in face.items():
            assert pair[key] == values
        lr = pairs.decode_png_rgb(pair[features.LR_IMAGE])
        assert lr.shape == (128 // scale, 128 // scale, 3)
        np.testing.assert_array_equal(lr, degrade.bicubic_resize(hr, (128 // scale, 128 // scale)))
        assert pair[features.OCCLUDED] == 0 and pair[features.JPEG_QUALITY] == 0
        assert pair[features.DEGRADATION_SEED] == pairs.pair_seed("300w/img.png#0", scale, 0)
        assert features.HEATMAPS not in pair and features.HR_PIXELS not in pair


NOISY = DegradationConfig(scales=(4, 8), blur_sigma=(0.5, 2.0), noise_sigma=(1.0, 6.0), jpeg_quality=(40, 95),
                          occlusion_probability=0.5)


def test_reproducible_and_the_seed_reproduces_the_lr():
    face, hr = _face()
    first = make_pairs(face, PairConfig(NOISY, seed=3))
    again = make_pairs(face, PairConfig(NOISY, seed=3))
    assert first == again
    landmarks = np.asarray(face[features.LANDMARKS_68], np.float64).reshape(68, 2)
    for pair in first:
        rng = np.random.default_rng(pair[features.DEGRADATION_SEED])
        lr, params = degrade.degrade(hr, pair[features.SCALE], NOISY, rng, landmarks)
        np.testing.assert_array_equal(lr, pairs.decode_png_rgb(pair[features.LR_IMAGE]))
        assert all(pair[key] == value for key, value in params.items())
    other_run = make_pairs(face, PairConfig(NOISY, seed=4))
    assert other_run[0][features.DEGRADATION_SEED] != first[0][features.DEGRADATION_SEED]


def test_different_faces_and_scales_get_different_degradations():
    config = PairConfig(NOISY)
    blurs = set()
    for index in range(6):
        face, _ = _face(face_id=f"300w/img{index}.png#0", seed=index)
        for pair in make_pairs(face, config):
            blurs.add(pair[features.BLUR_SIGMA])
    assert len(blurs) == 12


def test_heatmaps_materialized_with_the_shared_renderer():
    face, _ = _face()
    spec = heatmaps.JASRNET_HEATMAPS
    out = make_pairs(face, PairConfig(DegradationConfig(), materialize_heatmaps=True, heatmap_spec=spec))
    flat = out[0][features.HEATMAPS]
    assert flat.dtype == np.float32 and flat.shape == (spec.flat_length(68),)
    landmarks = np.asarray(face[features.LANDMARKS_68]).reshape(68, 2)
    expected = heatmaps.render_heatmaps(landmarks, 128, spec).numpy()
    np.testing.assert_allclose(flat.reshape(16, 16, 69), expected)


def test_heatmaps_are_not_materialized_without_the_models_spec():
    face, _ = _face()
    with pytest.raises(ValueError, match="materialize_heatmaps needs a heatmap_spec"):
        make_pairs(face, PairConfig(materialize_heatmaps=True))


def test_no_heatmaps_without_landmarks():
    face, _ = _face(with_landmarks=False)
    out = make_pairs(face, PairConfig(materialize_heatmaps=True, hr_pixels_label=True))
    assert features.HEATMAPS not in out[0]
    assert features.HR_PIXELS in out[0]


def test_faces_without_68_landmarks_get_masked_zeros():
    face, _ = _face(with_landmarks=False)
    pair = make_pairs(face, PairConfig())[0]
    assert list(pair[features.LANDMARKS_68]) == [0.0] * 136
    assert pair[features.HAS_LANDMARKS_68] == [0]


def test_hr_pixels_label_holds_the_clean_hr():
    face, hr = _face()
    occluding = DegradationConfig(occlusion_probability=1.0)
    pair = make_pairs(face, PairConfig(occluding, hr_pixels_label=True))[0]
    assert pair[features.OCCLUDED] == 1
    np.testing.assert_array_equal(np.asarray(pair[features.HR_PIXELS]).reshape(128, 128, 3), hr)
    assert pair[features.HR_IMAGE] == face[features.HR_IMAGE]


def test_pair_encodes_and_parses_back():
    face, hr = _face()
    config = PairConfig(NOISY, materialize_heatmaps=True, heatmap_spec=heatmaps.DIC_HEATMAPS, hr_pixels_label=True)
    serialized = example_codec.to_example(make_pairs(face, config)[1]).SerializeToString()
    spec = {
        features.LR_IMAGE: tf.io.FixedLenFeature([], tf.string),
        features.SCALE: tf.io.FixedLenFeature([], tf.int64),
        features.DEGRADATION_SEED: tf.io.FixedLenFeature([], tf.int64),
        features.BLUR_SIGMA: tf.io.FixedLenFeature([], tf.float32),
        features.NOISE_SIGMA: tf.io.FixedLenFeature([], tf.float32),
        features.JPEG_QUALITY: tf.io.FixedLenFeature([], tf.int64),
        features.OCCLUDER: tf.io.FixedLenFeature([], tf.string),
        features.OCCLUDED: tf.io.FixedLenFeature([], tf.int64),
        features.HEATMAPS: tf.io.FixedLenFeature([32 * 32 * 68], tf.float32),
        features.HR_PIXELS: tf.io.FixedLenFeature([128 * 128 * 3], tf.int64),
        features.FACE_ID: tf.io.FixedLenFeature([], tf.string),
        features.YAW: tf.io.FixedLenFeature([], tf.float32),
    }
    parsed = tf.io.parse_single_example(serialized, spec)
    assert int(parsed[features.SCALE]) == 8
    assert tf.io.decode_png(parsed[features.LR_IMAGE]).shape == (16, 16, 3)
    np.testing.assert_array_equal(parsed[features.HR_PIXELS].numpy().reshape(128, 128, 3), hr)
    assert parsed[features.OCCLUDER].numpy().decode() in ("none", "rectangle", "hand", "sunglasses")


def test_indivisible_hr_size_names_the_face():
    face, _ = _face(face_id="helen/odd.png#2", size=60, with_landmarks=False)
    with pytest.raises(ValueError, match=r"helen/odd.png#2.*not divisible by scale 8"):
        make_pairs(face, PairConfig())


def test_inconsistent_landmarks_name_the_face():
    face, _ = _face(face_id="wflw/x.png#1")
    face[features.LANDMARKS_68] = face[features.LANDMARKS_68][:10]
    with pytest.raises(ValueError, match="wflw/x.png#1"):
        make_pairs(face, PairConfig())
