import numpy as np
import tensorflow as tf

from tinyface.data import landmarks as lm
from trainer import augmentation


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
