import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tinyface.data import landmarks as lm
from tinyface.data.degradation.degrade import bicubic_resize
from tinyface.trainer.training import augmentation
from tinyface.trainer.training.training_config import TrainingConfig


def test_flip_mirrors_x_and_swaps_left_and_right_points():
    points = lm.template_68(128)[None].astype(np.float32)
    flipped = augmentation.flip_landmarks_68(tf.constant(points), 128).numpy()[0]
    np.testing.assert_allclose(flipped, lm.flip_horizontal_68(points[0], 128), atol=1e-5)
    # The subject's right outer eye corner (36) becomes the mirrored left one (45).
    assert np.isclose(flipped[36, 0], 127 - points[0, 45, 0])
    # Flipping twice is the identity.
    twice = augmentation.flip_landmarks_68(tf.constant(flipped[None]), 128).numpy()[0]
    np.testing.assert_allclose(twice, points[0], atol=1e-5)


def test_random_flip_keeps_images_and_landmarks_together():
    rng = np.random.default_rng(0)
    hr = rng.random((16, 128, 128, 3)).astype(np.float32)
    lr = hr[:, ::8, ::8]
    points = np.repeat(np.round(lm.template_68(128))[None], 16, 0).astype(np.float32)
    # Mark the pixel under landmark 36 so we can find where it went.
    hr[:, int(points[0, 36, 1]), int(points[0, 36, 0])] = 5.0
    out_lr, out_hr, out_points = augmentation.random_horizontal_flip(
        tf.constant(lr), tf.constant(hr), tf.constant(points), seed=3)
    out_hr, out_points, out_lr = out_hr.numpy(), out_points.numpy(), out_lr.numpy()
    flipped = [not np.allclose(out_hr[i], hr[i]) for i in range(16)]
    assert 0 < sum(flipped) < 16
    for i in range(16):
        # The marked pixel sits under the landmark that now describes that eye corner.
        index = 45 if flipped[i] else 36
        x, y = out_points[i, index]
        assert out_hr[i, int(round(y)), int(round(x))].max() == 5.0
        np.testing.assert_array_equal(out_lr[i], lr[i][:, ::-1] if flipped[i] else lr[i])


# ---- Geometric and colour jitter: landmarks follow the pixels, LR stays the degradation of HR.

REAL_FACE = os.path.join(os.path.dirname(__file__), "..", "..", "data", "real_faces",
                         "superviseddescent_ibug_lfpw_trainset", "image_0001.png")
JITTER = augmentation.AugmentationConfig(flip=False, max_rotation_deg=20.0, max_scale=0.15, max_shift=0.06)
COLOUR = augmentation.AugmentationConfig(flip=False, max_brightness=0.15, max_contrast=0.3, max_saturation=0.4)


def _real_hr_batch(count=4):
    """(count, 128, 128, 3) float32 crops of a real face, each a little differently placed."""
    photo = Image.open(REAL_FACE).convert("RGB")
    side = min(photo.size)
    crops = []
    for i in range(count):
        box = (i * 4, i * 3, side - 16 + i * 4, side - 16 + i * 3)
        crops.append(np.asarray(photo.crop(box).resize((128, 128), Image.BICUBIC)))
    return np.stack(crops).astype(np.float32) / 255.0


def _pairs_lr(hr):
    """The pairs' degradation (PIL bicubic x8 of the 8-bit HR) of a float HR batch."""
    return np.stack([bicubic_resize(np.round(face * 255).astype(np.uint8), 16) for face in hr]) / 255.0


def _psnr(a, b):
    return 10 * np.log10(1.0 / np.mean((np.asarray(a, np.float64) - b) ** 2))


def test_similarity_transforms_forward_and_inverse_undo_each_other():
    rng = np.random.default_rng(1)
    angles, zooms = rng.uniform(-0.5, 0.5, 5), rng.uniform(0.8, 1.2, 5)
    shifts = rng.uniform(-9, 9, (5, 2))
    forward, inverse = augmentation.similarity_transforms(
        tf.constant(angles, tf.float32), tf.constant(zooms, tf.float32), tf.constant(shifts, tf.float32), 128)
    points = rng.uniform(0, 127, (5, 2))
    moved = np.einsum("bij,bj->bi", forward.numpy()[:, :, :2], points) + forward.numpy()[:, :, 2]
    inv = inverse.numpy()
    back_x = inv[:, 0] * moved[:, 0] + inv[:, 1] * moved[:, 1] + inv[:, 2]
    back_y = inv[:, 3] * moved[:, 0] + inv[:, 4] * moved[:, 1] + inv[:, 5]
    np.testing.assert_allclose(np.stack([back_x, back_y], -1), points, atol=1e-3)
    # The centre of the crop only moves by the shift.
    centre = np.full((5, 2), 63.5)
    np.testing.assert_allclose(np.einsum("bij,bj->bi", forward.numpy()[:, :, :2], centre)
                               + forward.numpy()[:, :, 2], centre + shifts, atol=1e-3)


def test_geometric_jitter_moves_each_landmark_with_its_pixel():
    points = np.repeat(np.round(lm.template_68(128))[None], 8, 0).astype(np.float32)
    hr = np.zeros((8, 128, 128, 3), np.float32)
    for index in (36, 45, 30, 8):   # eye corners, nose tip, chin: a 3x3 bright mark under each
        x, y = points[0, index].astype(int)
        hr[:, y - 1:y + 2, x - 1:x + 2] = 1.0
    lr = hr[:, ::8, ::8]
    out_lr, out_hr, out_points = (t.numpy() for t in augmentation.augment(
        tf.constant(lr), tf.constant(hr), tf.constant(points), JITTER, seed=7))
    assert out_lr.shape == lr.shape and out_hr.shape == hr.shape
    assert not np.allclose(out_points, points, atol=0.5)   # the jitter did move them
    for i in range(8):
        for index in (36, 45, 30, 8):
            x, y = np.round(out_points[i, index]).astype(int)
            assert out_hr[i, y, x].max() > 0.5, (i, index)


def _augment_real_faces(config, seed):
    """(stored LR, HR, landmarks) of real face crops, and what `config` makes of them."""
    hr = _real_hr_batch()
    points = np.repeat(lm.template_68(128)[None], len(hr), 0).astype(np.float32)
    stored_lr = _pairs_lr(hr)
    # Op seeds alone give draws that depend on how many random ops earlier tests ran in this
    # process (TF's eager counter); the global seed resets that, so the draw is always the same.
    tf.random.set_seed(seed)
    out = augmentation.augment(tf.constant(stored_lr, tf.float32), tf.constant(hr), tf.constant(points),
                               config, seed=seed)
    return (stored_lr, hr, points), tuple(t.numpy() for t in out)


def test_geometric_jitter_makes_the_lr_input_again_with_the_pairs_degradation():
    (stored_lr, hr, points), (out_lr, out_hr, _) = _augment_real_faces(JITTER, seed=3)
    # TF's antialiased bicubic is PIL's within rounding: > 40 dB apart on real faces.
    assert _psnr(out_lr, _pairs_lr(out_hr)) > 40.0
    assert np.all(out_lr * 255 == np.round(out_lr * 255))   # 8-bit, as stored LR images
    # Without jitter the re-made LR is the stored one.
    still = augmentation.AugmentationConfig(flip=False, max_rotation_deg=1e-6)
    same_lr, _, _ = augmentation.augment(tf.constant(stored_lr, tf.float32), tf.constant(hr),
                                         tf.constant(points), still, seed=3)
    assert _psnr(same_lr.numpy(), stored_lr) > 40.0


def test_colour_jitter_treats_lr_and_hr_alike():
    (_, hr, points), (out_lr, out_hr, out_points) = _augment_real_faces(COLOUR, seed=5)
    np.testing.assert_array_equal(out_points, points)
    assert _psnr(out_hr, hr) < 35.0                      # the colours did change
    # And the LR is still the HR's degradation, wherever the jitter did not push pixels past
    # 0 or 1: clipping and downscaling do not commute, so near clipped HR pixels (bicubic's
    # support reaches one LR pixel around each 8x8 block) the two may differ.
    clipped = ((out_hr <= 0.0) | (out_hr >= 1.0)).any(axis=-1)
    blocks = clipped.reshape(len(clipped), 16, 8, 16, 8).any(axis=(2, 4))
    near = np.pad(blocks, ((0, 0), (1, 1), (1, 1)))
    near = np.any([near[:, 1 + dy:17 + dy, 1 + dx:17 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)], axis=0)
    clean = ~near
    assert clean.mean() > 0.15, "too few unclipped pixels to compare: pick another seed"
    assert _psnr(out_lr[clean], _pairs_lr(out_hr)[clean]) > 45.0  # 50-53 dB over seeds 0-11


def test_augmentation_off_is_the_identity():
    rng = np.random.default_rng(0)
    hr = rng.random((2, 128, 128, 3)).astype(np.float32)
    lr, points = hr[:, ::8, ::8], rng.uniform(0, 127, (2, 68, 2)).astype(np.float32)
    off = augmentation.AugmentationConfig(flip=False)
    for out, original in zip(augmentation.augment(tf.constant(lr), tf.constant(hr), tf.constant(points), off),
                             (lr, hr, points)):
        np.testing.assert_array_equal(out.numpy(), original)


def test_training_config_carries_the_augmentation_and_rejects_bad_ranges():
    config = TrainingConfig(augment_rotation_deg=10.0, augment_scale=0.1, augment_brightness=0.1)
    assert config.augmentation() == augmentation.AugmentationConfig(
        flip=True, max_rotation_deg=10.0, max_scale=0.1, max_brightness=0.1)
    assert TrainingConfig().augmentation() == augmentation.FLIP_ONLY
    with pytest.raises(ValueError, match="max_scale"):
        TrainingConfig(augment_scale=-0.1)
    with pytest.raises(ValueError, match="max_rotation_deg"):
        augmentation.AugmentationConfig(max_rotation_deg=120.0)
