"""Loss terms against hand-computed values, step weighting, masks, bfloat16, serialization."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from tinyface.data.heatmaps import DIC_HEATMAPS, JASRNET_HEATMAPS, render_heatmaps
from tinyface.data.landmarks import template_68
from tinyface.trainer.training import input_pipeline
from tinyface.trainer.models.landmark_decoding import decode_landmarks
from tinyface.trainer.losses.joint import (DIC_LOSS_WEIGHTS, DICGAN_LOSS_WEIGHTS, JASRNET_LOSS_WEIGHTS, HeatmapLoss, JointLoss, LandmarkConsistencyLoss, LossWeights, PerceptualLoss, PixelLoss, joint_loss_for, perceptual_loss_or_none)
from tinyface.trainer.models.outputs import HEATMAP_STEPS, SR_STEPS

HR = 128


def _roundtrip(loss):
    return keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))


# ---------------------------------------------------------------- pixel

def _pixel_case():
    """B=2, S=2, 2x2x3 images (12 values each) with hand-computable per-step L1."""
    hr = np.full((2, 2, 2, 3), 0.5, np.float32)
    sr = np.repeat(hr[:, None], 2, axis=1).copy()
    sr[0, 0] += 0.1                 # example 0, step 0: |d| = 0.1 everywhere      -> 0.1
    sr[0, 1, 0, 0, 0] += 1.2        # example 0, step 1: one value off by 1.2       -> 1.2 / 12 = 0.1
    sr[1, 0, 1, 1, 2] -= 0.6        # example 1, step 0: one value off by 0.6       -> 0.05
    sr[1, 1] -= 0.2                 # example 1, step 1: 0.2 everywhere             -> 0.2
    return hr, sr


def test_pixel_l1_hand_computed_with_step_weights():
    hr, sr = _pixel_case()
    # per example: (0.1 + 0.1) and (0.05 + 0.2); batch mean
    assert PixelLoss()(hr, sr).numpy() == pytest.approx((0.2 + 0.25) / 2, abs=1e-6)
    np.testing.assert_allclose(PixelLoss(reduction=None)(hr, sr).numpy(), [0.2, 0.25], atol=1e-6)
    weighted = PixelLoss(step_weights=(0.5, 2.0))(hr, sr).numpy()
    assert weighted == pytest.approx(((0.05 + 0.2) + (0.025 + 0.4)) / 2, abs=1e-6)
    with pytest.raises(ValueError, match="step weights"):
        PixelLoss(step_weights=(1.0, 1.0, 1.0))(hr, sr)


def test_charbonnier_hand_computed_and_smooth_at_zero():
    hr, sr = _pixel_case()
    eps = 1e-3
    # example 0: step 0 all 0.1; step 1 one 1.2 and eleven 0
    c = lambda d: np.sqrt(d * d + eps * eps)
    expected0 = c(0.1) + (c(1.2) + 11 * c(0.0)) / 12
    expected1 = (c(0.6) + 11 * c(0.0)) / 12 + c(0.2)
    loss = PixelLoss(kind="charbonnier", eps=eps, reduction=None)(hr, sr).numpy()
    np.testing.assert_allclose(loss, [expected0, expected1], rtol=1e-5)

    # At d = 0 the value is eps per step, and the gradient ~ d / eps instead of L1's sign(d).
    same = tf.constant(hr)
    assert PixelLoss(kind="charbonnier", eps=eps)(hr, tf.stack([same, same], 1)).numpy() == pytest.approx(2 * eps)
    d = 1e-4
    pred = tf.Variable(hr[:, None] + d)
    grads = {}
    for kind in ("l1", "charbonnier"):
        with tf.GradientTape() as tape:
            value = PixelLoss(kind=kind, eps=eps)(hr, pred)
        grads[kind] = tape.gradient(value, pred).numpy()
    n = 2 * 12                                         # batch mean x pixel mean
    np.testing.assert_allclose(grads["l1"], 1.0 / n, rtol=1e-5)
    np.testing.assert_allclose(grads["charbonnier"], d / np.sqrt(d * d + eps * eps) / n, rtol=1e-3)


def test_pixel_loss_bfloat16_predictions_give_float32():
    hr, sr = _pixel_case()
    loss = PixelLoss()(hr, tf.cast(sr, tf.bfloat16))
    assert loss.dtype == tf.float32
    # bf16 rounding of 0.6 / 0.4 / 0.3 ... moves the mean by < 2^-9 relative
    assert loss.numpy() == pytest.approx(0.225, abs=3e-3)


# ---------------------------------------------------------------- heatmap

def _heatmap_case():
    """B=3, S=2, 2x2 maps with 1 channel: per-step MSE by hand."""
    target = np.zeros((3, 2, 2, 1), np.float32)
    pred = np.zeros((3, 2, 2, 2, 1), np.float32)
    pred[0, 0] = 0.5            # 0.25
    pred[0, 1, 0, 0, 0] = 2.0   # 4 / 4 = 1
    pred[1, :] = 3.0            # 9 per step (an unlabelled face's garbage)
    pred[2, 1, 1, 1, 0] = 1.0   # step 1: 1 / 4 = 0.25
    return target, pred


def test_heatmap_mse_hand_computed_with_step_weights():
    target, pred = _heatmap_case()
    np.testing.assert_allclose(HeatmapLoss(reduction=None)(target, pred).numpy(), [1.25, 18.0, 0.25])
    assert HeatmapLoss()(target, pred).numpy() == pytest.approx((1.25 + 18 + 0.25) / 3)
    weighted = HeatmapLoss(step_weights=(1.0, 0.1), reduction=None)(target, pred).numpy()
    np.testing.assert_allclose(weighted, [0.25 + 0.1, 9.9, 0.025], rtol=1e-6)


def test_heatmap_mask_averages_over_labelled_faces_only():
    target, pred = _heatmap_case()
    mask = np.array([1.0, 0.0, 1.0], np.float32)
    assert HeatmapLoss()(target, pred, sample_weight=mask).numpy() == pytest.approx((1.25 + 0.25) / 2)
    # No labelled face: 0, and zero (not NaN) gradients.
    pred_var = tf.Variable(pred)
    with tf.GradientTape() as tape:
        value = HeatmapLoss()(target, pred_var, sample_weight=np.zeros(3, np.float32))
    gradient = tape.gradient(value, pred_var).numpy()
    assert value.numpy() == 0.0 and np.all(gradient == 0.0)


def test_heatmap_loss_bfloat16_and_graph_mode():
    target, pred = _heatmap_case()
    loss = HeatmapLoss()

    @tf.function
    def run(t, p, m):
        return loss(t, p, sample_weight=m)

    value = run(target, tf.cast(pred, tf.bfloat16), tf.constant([1.0, 1.0, 0.0]))
    assert value.dtype == tf.float32
    assert value.numpy() == pytest.approx((1.25 + 18) / 2)   # 0.5, 2 and 3 are exact in bf16


# ---------------------------------------------------------------- landmark consistency

def _inner_landmarks(batch=2):
    """Template faces shrunk to the crop centre (every point >= 20 px from the border)."""
    face = template_68(HR) * 0.6 + 0.2 * HR
    shifts = np.array([[0.0, 0.0], [3.3, -2.7]])[:batch]
    return np.stack([face + s for s in shifts]).astype(np.float32)


def _steps(*maps):
    return tf.stack([tf.convert_to_tensor(m) for m in maps], axis=1)


def _inter_ocular(landmarks):
    return np.linalg.norm(landmarks[:, 36] - landmarks[:, 45], axis=-1)


@pytest.mark.parametrize("spec", [DIC_HEATMAPS, JASRNET_HEATMAPS], ids=["dic", "jasrnet"])
def test_consistency_is_the_nme_of_a_known_shift(spec):
    landmarks = _inner_landmarks()
    loss = LandmarkConsistencyLoss(HR, spec, reduction=None)
    iod = _inter_ocular(landmarks)
    exact = render_heatmaps(landmarks, HR, spec)
    # A shift of (3, 4) px of every point: distance 5, NME 5 / iod. The first step is garbage
    # and must not matter (only the last step counts).
    shifted = render_heatmaps(landmarks + np.float32([3.0, 4.0]), HR, spec)
    value = loss(landmarks, _steps(tf.zeros_like(exact), shifted)).numpy()
    np.testing.assert_allclose(value, np.sqrt(25 + 1e-4) / iod, rtol=2e-3)
    # The exact heatmaps: distance 0, smoothed to eps = 0.01 px.
    np.testing.assert_allclose(loss(landmarks, _steps(shifted, exact)).numpy(), 1e-2 / iod, rtol=1e-3)


def test_consistency_target_cancels_the_soft_argmax_border_bias():
    # Jaw points on the crop edge: soft-argmax of the exact heatmaps misses them by pixels, so a
    # raw-landmark target would push correct heatmaps away; the decoded target does not.
    landmarks = template_68(HR).astype(np.float32)[None]
    landmarks[0, :17, 0] = np.clip(landmarks[0, :17, 0] - 12, 0, None)
    exact = render_heatmaps(landmarks, HR, DIC_HEATMAPS)
    bias = decode_landmarks(exact, HR, method="soft_argmax") - landmarks
    assert np.abs(bias.numpy()).max() > 1.0
    value = LandmarkConsistencyLoss(HR, DIC_HEATMAPS)(landmarks, exact[:, None]).numpy()
    assert value == pytest.approx(1e-2 / _inter_ocular(landmarks)[0], rel=1e-3)


def test_consistency_mask_gradient_and_bfloat16():
    landmarks = _inner_landmarks()
    spec = DIC_HEATMAPS
    shifted = render_heatmaps(landmarks + np.float32([3.0, 4.0]), HR, spec)
    loss = LandmarkConsistencyLoss(HR, spec)
    expected_first = np.sqrt(25 + 1e-4) / _inter_ocular(landmarks)[0]
    masked = loss(landmarks, shifted[:, None], sample_weight=np.float32([1, 0])).numpy()
    assert masked == pytest.approx(expected_first, rel=2e-3)

    steps = tf.Variable(_steps(shifted, shifted))
    with tf.GradientTape() as tape:
        value = loss(landmarks, tf.cast(steps, tf.bfloat16))
    assert value.dtype == tf.float32
    gradient = tape.gradient(value, steps).numpy()
    assert np.isfinite(gradient).all()
    assert np.abs(gradient[:, 1]).max() > 0 and np.abs(gradient[:, 0]).max() == 0


def test_consistency_with_an_alignment_fn_runs_on_the_last_sr_step():
    landmarks = _inner_landmarks(batch=1)
    spec = DIC_HEATMAPS
    shifted = render_heatmaps(landmarks + np.float32([3.0, 4.0]), HR, spec)

    def estimator(images):
        # A stand-in landmark network: the shifted heatmaps, scaled by the image brightness,
        # so the result is known (the scale does not move a peak) and depends on the pixels.
        return shifted * tf.reduce_mean(images, axis=[1, 2, 3])[:, None, None, None]

    loss = LandmarkConsistencyLoss(HR, spec, alignment_fn=estimator)
    assert loss.output_key == SR_STEPS
    assert LandmarkConsistencyLoss(HR, spec).output_key == HEATMAP_STEPS
    sr_steps = tf.Variable(tf.fill([1, 2, HR, HR, 3], 0.5))
    with tf.GradientTape() as tape:
        value = loss(landmarks, sr_steps)
    assert value.numpy() == pytest.approx(np.sqrt(25 + 1e-4) / _inter_ocular(landmarks)[0], rel=2e-3)
    gradient = tape.gradient(value, sr_steps)
    assert gradient is not None and np.abs(gradient.numpy()[:, 0]).max() == 0


def test_consistency_rejects_a_heatmap_size_other_than_the_spec():
    landmarks = _inner_landmarks(batch=1)
    wrong = render_heatmaps(landmarks, HR, JASRNET_HEATMAPS)[:, None]
    with pytest.raises(ValueError, match="cells"):
        LandmarkConsistencyLoss(HR, DIC_HEATMAPS)(landmarks, wrong)


# ---------------------------------------------------------------- perceptual

@pytest.fixture(scope="module")
def vgg_weights(tmp_path_factory):
    """A randomly initialised VGG19 (no download) saved to a local weights file."""
    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("vgg") / "vgg19_random.weights.h5"
    keras.applications.VGG19(include_top=False, weights=None).save_weights(str(path))
    return str(path)


@pytest.fixture
def no_downloads(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a download was attempted")
    monkeypatch.setattr(keras.utils, "get_file", refuse)
    monkeypatch.setattr("keras.src.applications.vgg19.file_utils.get_file", refuse)


def _images(seed, shape):
    return np.random.default_rng(seed).uniform(0, 1, shape).astype(np.float32)


def test_perceptual_loss_matches_an_independent_vgg_computation(vgg_weights, no_downloads):
    layers = ("block1_conv2", "block3_conv4")
    hr = _images(0, (2, 32, 32, 3))
    sr = _images(1, (2, 2, 32, 32, 3))
    loss = PerceptualLoss(vgg_weights, layers=layers, layer_weights=(1.0, 0.5), reduction=None)
    value = loss(hr, sr).numpy()

    # The same weights through Keras' own preprocessing (RGB [0, 255] -> caffe BGR).
    vgg = keras.applications.VGG19(include_top=False, weights=None)
    vgg.load_weights(vgg_weights)
    extract = keras.Model(vgg.input, [vgg.get_layer(n).output for n in layers])
    prep = keras.applications.vgg19.preprocess_input
    f_true = [np.asarray(f) for f in extract(prep(hr * 255.0))]
    f_pred = [np.asarray(f) for f in extract(prep(sr[:, 1] * 255.0))]     # default: last step
    expected = sum(w * np.abs(p - t).mean(axis=(1, 2, 3)) for w, p, t in zip((1.0, 0.5), f_pred, f_true))
    np.testing.assert_allclose(value, expected, rtol=1e-4)
    assert np.all(value > 0)

    # Every step, weighted.
    f_step0 = [np.asarray(f) for f in extract(prep(sr[:, 0] * 255.0))]
    expected0 = sum(w * np.abs(p - t).mean(axis=(1, 2, 3)) for w, p, t in zip((1.0, 0.5), f_step0, f_true))
    all_steps = PerceptualLoss(vgg_weights, layers=layers, layer_weights=(1.0, 0.5),
                               step_weights=(2.0, 1.0), reduction=None)(hr, sr).numpy()
    np.testing.assert_allclose(all_steps, 2.0 * expected0 + expected, rtol=1e-4)


def test_perceptual_loss_last_step_only_bfloat16_and_zero_for_equal_images(vgg_weights, no_downloads):
    hr = _images(2, (1, 32, 32, 3))
    sr = np.stack([_images(3, (1, 32, 32, 3)), hr], axis=1)        # garbage step 0, exact last step
    loss = PerceptualLoss(vgg_weights, layers=("block2_conv2",))
    assert loss(hr, sr).numpy() == pytest.approx(0.0, abs=1e-6)
    value = loss(hr, tf.cast(sr[:, ::-1], tf.bfloat16))
    assert value.dtype == tf.float32 and value.numpy() > 0


def test_perceptual_loss_needs_a_local_file(vgg_weights, tmp_path, no_downloads):
    for off in (None, ""):
        assert perceptual_loss_or_none(off) is None
        with pytest.raises(ValueError, match="weights"):
            PerceptualLoss(off)
    with pytest.raises(FileNotFoundError):
        PerceptualLoss(str(tmp_path / "missing.h5"))
    on = perceptual_loss_or_none(vgg_weights, layers=("block1_conv2",))
    assert isinstance(on, PerceptualLoss)
    restored = _roundtrip(on)
    hr, sr = _images(4, (1, 16, 16, 3)), _images(5, (1, 1, 16, 16, 3))
    assert restored(hr, sr).numpy() == pytest.approx(on(hr, sr).numpy(), rel=1e-6)


# ---------------------------------------------------------------- weights and the joint loss

def test_reference_loss_weights():
    assert JASRNET_LOSS_WEIGHTS == LossWeights(pixel=1, heatmap=1, landmark_consistency=0, perceptual=0)
    assert DIC_LOSS_WEIGHTS == LossWeights(pixel=1, heatmap=0.1, landmark_consistency=0, perceptual=0)
    assert DICGAN_LOSS_WEIGHTS == dataclasses.replace(DIC_LOSS_WEIGHTS, perceptual=0.1)
    with pytest.raises(ValueError):
        LossWeights(heatmap=-1.0)


def _joint_batch():
    landmarks = _inner_landmarks()
    heatmaps = render_heatmaps(landmarks, HR, DIC_HEATMAPS)
    hr = tf.fill([2, HR, HR, 3], 0.5)
    targets = {input_pipeline.HR: hr, input_pipeline.HEATMAPS: heatmaps,
               input_pipeline.LANDMARKS: landmarks, input_pipeline.HAS_LANDMARKS: tf.constant([1.0, 0.0])}
    sr = tf.stack([hr + 0.1, hr - 0.05], axis=1)                              # L1: 0.1 + 0.05
    shifted = render_heatmaps(landmarks + np.float32([3.0, 4.0]), HR, DIC_HEATMAPS)
    outputs = {SR_STEPS: sr, HEATMAP_STEPS: _steps(heatmaps + 0.2, shifted)}
    return targets, outputs, landmarks, heatmaps, shifted


def test_joint_loss_combines_weighted_terms_with_the_mask():
    targets, outputs, landmarks, heatmaps, shifted = _joint_batch()
    weights = LossWeights(pixel=1.0, heatmap=0.1, landmark_consistency=0.5)
    joint = JointLoss(weights, landmark_consistency=LandmarkConsistencyLoss(HR, DIC_HEATMAPS))
    total, terms = joint(targets, outputs)
    assert tuple(terms) == joint.term_names == ("pixel", "heatmap", "landmark_consistency")
    assert terms["pixel"].numpy() == pytest.approx(0.15, abs=1e-6)
    # Only example 0 is labelled: step 0 MSE 0.04 + step 1 MSE of the shifted maps.
    step1 = np.mean((shifted[0].numpy() - heatmaps[0].numpy()) ** 2)
    assert terms["heatmap"].numpy() == pytest.approx(0.04 + step1, rel=1e-5)
    nme0 = np.sqrt(25 + 1e-4) / _inter_ocular(landmarks)[0]
    assert terms["landmark_consistency"].numpy() == pytest.approx(nme0, rel=2e-3)
    expected = 0.15 + 0.1 * (0.04 + step1) + 0.5 * nme0
    assert total.dtype == tf.float32 and total.numpy() == pytest.approx(expected, rel=1e-3)


def test_joint_loss_bfloat16_outputs_graph_mode_and_roundtrip():
    targets, outputs, *_ = _joint_batch()
    joint = JointLoss(DIC_LOSS_WEIGHTS)
    eager_total, _ = joint(targets, outputs)
    half = {k: tf.cast(v, tf.bfloat16) for k, v in outputs.items()}
    total, terms = tf.function(joint.__call__)(targets, half)
    assert set(terms) == {"pixel", "heatmap"}
    assert total.dtype == tf.float32 and all(t.dtype == tf.float32 for t in terms.values())
    assert total.numpy() == pytest.approx(eager_total.numpy(), rel=2e-2)

    restored = _roundtrip(JointLoss(dataclasses.replace(DIC_LOSS_WEIGHTS, landmark_consistency=1.0),
                                    pixel=PixelLoss("charbonnier", step_weights=(1.0, 2.0)),
                                    landmark_consistency=LandmarkConsistencyLoss(HR, DIC_HEATMAPS, beta=2.0)))
    assert restored.weights.landmark_consistency == 1.0
    assert restored.losses["pixel"].kind == "charbonnier" and restored.losses["pixel"].step_weights == (1.0, 2.0)
    assert restored.losses["landmark_consistency"].beta == 2.0
    assert restored.losses["landmark_consistency"].heatmap_spec == DIC_HEATMAPS
    assert restored.losses["perceptual"] is None


def test_joint_loss_refuses_a_weighted_term_without_its_loss():
    with pytest.raises(ValueError, match="perceptual"):
        JointLoss(DICGAN_LOSS_WEIGHTS)
    with pytest.raises(ValueError, match="landmark_consistency"):
        JointLoss(LossWeights(landmark_consistency=1.0))


def test_joint_loss_without_a_mask_uses_every_example():
    targets, outputs, _, heatmaps, shifted = _joint_batch()
    del targets[input_pipeline.HAS_LANDMARKS]
    _, terms = JointLoss(JASRNET_LOSS_WEIGHTS)(targets, outputs)
    step1 = np.mean((shifted.numpy() - heatmaps.numpy()) ** 2, axis=(1, 2, 3))
    assert terms["heatmap"].numpy() == pytest.approx(np.mean(0.04 + step1), rel=1e-5)


def test_joint_loss_for_each_model(vgg_weights, no_downloads):
    jasrnet = joint_loss_for("jasrnet", JASRNET_HEATMAPS, HR)
    assert jasrnet.weights == JASRNET_LOSS_WEIGHTS and jasrnet.term_names == ("pixel", "heatmap")
    dic = joint_loss_for("dic", DIC_HEATMAPS, HR, perceptual_weights="")
    assert dic.weights == DIC_LOSS_WEIGHTS
    dicgan = joint_loss_for("dic", DIC_HEATMAPS, HR, perceptual_weights=vgg_weights,
                            landmark_consistency_weight=0.2)
    assert dicgan.weights == dataclasses.replace(DICGAN_LOSS_WEIGHTS, landmark_consistency=0.2)
    assert dicgan.term_names == ("pixel", "heatmap", "landmark_consistency", "perceptual")
    assert dicgan.losses["landmark_consistency"].heatmap_spec == DIC_HEATMAPS
    with pytest.raises(ValueError, match="model"):
        joint_loss_for("srgan", DIC_HEATMAPS, HR)
