import numpy as np
import pytest

from tinyface.data import landmarks
from tinyface.data.degradation import occlusion


def _face(size=128, seed=0):
    rng = np.random.default_rng(seed)
    image = np.empty((size, size, 3), np.uint8)
    image[:] = rng.integers(90, 200, size=3)
    return image


LANDMARKS = landmarks.template_68()


@pytest.mark.parametrize("kind", occlusion.OCCLUDER_KINDS)
def test_occlude_is_deterministic_and_keeps_the_input(kind):
    image = _face()
    before = image.copy()
    first = occlusion.occlude(image, LANDMARKS, kind, np.random.default_rng(5))
    second = occlusion.occlude(image, LANDMARKS, kind, np.random.default_rng(5))
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(image, before)
    assert first.dtype == np.uint8 and first.shape == image.shape
    assert (first != image).any()


def test_sunglasses_cover_the_eyes_and_stay_on_the_eye_line():
    image = _face()
    for seed in range(5):
        alpha, _ = occlusion.draw_occluder(image, LANDMARKS, "sunglasses", np.random.default_rng(seed))
        for x, y in LANDMARKS[36:48].round().astype(int):
            assert alpha[y, x] > 0.95
        rows = np.nonzero(alpha.max(axis=1) > 0.01)[0]
        eye_y = LANDMARKS[36:48, 1].mean()
        eye_distance = np.linalg.norm(LANDMARKS[42:48].mean(0) - LANDMARKS[36:42].mean(0))
        assert np.abs(rows - eye_y).max() < 0.4 * eye_distance
        # Mouth and nose tip untouched.
        for x, y in np.concatenate([LANDMARKS[48:68], LANDMARKS[30:31]]).round().astype(int):
            assert alpha[y, x] == 0.0


def test_sunglasses_follow_the_landmarks():
    shifted = LANDMARKS + (0.0, 20.0)
    image = _face()
    alpha, _ = occlusion.draw_occluder(image, shifted, "sunglasses", np.random.default_rng(0))
    for x, y in shifted[36:48].round().astype(int):
        assert alpha[y, x] > 0.95
    for x, y in LANDMARKS[36:48].round().astype(int):
        assert alpha[y, x] < 0.05


def test_sunglasses_without_landmarks_sit_where_a_centred_crop_has_its_eyes():
    image = _face()
    alpha, _ = occlusion.draw_occluder(image, None, "sunglasses", np.random.default_rng(0))
    rows = np.nonzero(alpha.max(axis=1) > 0.5)[0]
    assert 0.3 * 128 < rows.mean() < 0.5 * 128
    assert alpha[int(0.4 * 128), int(0.33 * 128)] > 0.95


def test_hand_is_on_the_lower_face_and_skin_toned():
    image = _face(seed=3)
    skin = image[0, 0].astype(float)
    for seed in range(6):
        alpha, colour = occlusion.draw_occluder(image, LANDMARKS, "hand", np.random.default_rng(seed))
        ys, xs = np.nonzero(alpha > 0.5)
        assert len(ys) > 300
        # Centred between the eye line and the chin, inside the face width.
        assert LANDMARKS[36:48, 1].mean() < ys.mean() < LANDMARKS[8, 1]
        assert LANDMARKS[:, 0].min() < xs.mean() < LANDMARKS[:, 0].max()
        inside = colour[alpha > 0.5]
        assert np.abs(np.median(inside, axis=0) - skin).max() < 45
        # Shaded, not a flat sticker, and not noise: neighbouring pixels vary smoothly.
        assert inside.std(axis=0).max() > 2
        assert np.abs(np.diff(colour[..., 0], axis=1))[alpha[:, 1:] > 0.99].mean() < 6


def test_rectangle_is_centred_on_the_face_with_a_smooth_fill():
    image = _face()
    x0, y0 = LANDMARKS.min(axis=0)
    x1, y1 = LANDMARKS.max(axis=0)
    for seed in range(10):
        alpha, colour = occlusion.draw_occluder(image, LANDMARKS, "rectangle", np.random.default_rng(seed))
        ys, xs = np.nonzero(alpha > 0.5)
        assert x0 - 1 <= xs.mean() <= x1 + 1 and y0 - 1 <= ys.mean() <= y1 + 1
        # At most half the face side in each direction (plus rotation slack).
        assert np.ptp(xs) < 0.75 * (x1 - x0) and np.ptp(ys) < 0.75 * (y1 - y0)
        inside = alpha > 0.99
        assert np.abs(np.diff(colour[..., 0], axis=1))[inside[:, 1:] & inside[:, :-1]].mean() < 3


def test_pixels_change_only_where_the_occluder_is():
    image = _face()
    for kind in occlusion.OCCLUDER_KINDS:
        alpha, _ = occlusion.draw_occluder(image, LANDMARKS, kind, np.random.default_rng(2))
        occluded = occlusion.occlude(image, LANDMARKS, kind, np.random.default_rng(2))
        changed = (occluded != image).any(axis=-1)
        assert not changed[alpha == 0].any()
        assert changed[alpha > 0.99].mean() > 0.9


def test_hidden_points_are_the_points_the_alpha_covers():
    image = _face()
    alpha, _ = occlusion.draw_occluder(image, LANDMARKS, "sunglasses", np.random.default_rng(0))
    hidden = occlusion.hidden_points(alpha, LANDMARKS)
    assert hidden[36:48].all() and not hidden[48:68].any()
    outside = np.array([[-5.0, 60.0], [60.0, 128.0], [200.0, 10.0]])
    assert not occlusion.hidden_points(np.ones((128, 128)), outside).any()


def test_unknown_kind_fails():
    with pytest.raises(ValueError, match="unknown occluder"):
        occlusion.occlude(_face(), LANDMARKS, "scarf", np.random.default_rng(0))
