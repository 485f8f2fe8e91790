"""face_scores, the Evaluator's computation without TFMA: slices as TFMA keys them, and the
floors and metrics on examples whose answers are known."""

import io

import numpy as np
import pytest
from PIL import Image

from tinyface import features, signatures
from tinyface.data.degradation.degrade import bicubic_resize
from tinyface.evaluation import face_scores


def _png(image):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def _pair(rng, pose, landmarks=True):
    hr = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    lr = bicubic_resize(hr, 8)
    gt = rng.uniform(4, 28, (68, 2))
    example = {features.HR_IMAGE: [_png(hr)], features.LR_IMAGE: [_png(lr)], features.SCALE: [4],
               features.POSE_BUCKET: [pose.encode()], features.HAS_LANDMARKS_68: [int(landmarks)],
               features.LANDMARKS_68: list(gt.ravel()) if landmarks else [0.0] * 136}
    return example, hr, lr, gt


def test_slice_keys_are_tfmas():
    example = {features.POSE_BUCKET: [b"frontal"], features.SCALE: [8], features.YAW: [1.5]}
    assert face_scores.slice_keys(example, [features.POSE_BUCKET, features.SCALE, features.YAW, "absent"]) == [
        (), ((features.POSE_BUCKET, "frontal"),), ((features.SCALE, 8),), ((features.YAW, 1.5),)]


def test_floors_and_perfect_answers_per_slice():
    rng = np.random.default_rng(0)
    scored = []
    for pose, landmarks in (("frontal", True), ("frontal", True), ("profile", False)):
        example, hr, lr, gt = _pair(rng, pose, landmarks)
        # The bicubic image as the SR answer, the ground truth as the landmark answer.
        answer = {signatures.SR_IMAGE_OUTPUT: bicubic_resize(lr, 32), signatures.LANDMARKS_OUTPUT: gt}
        scored.append((example, answer))
    by_slice = face_scores.score_by_slice(scored, [features.POSE_BUCKET])
    assert set(by_slice) == {(), ((features.POSE_BUCKET, "frontal"),), ((features.POSE_BUCKET, "profile"),)}
    overall = by_slice[()]
    assert overall[face_scores.PSNR_Y] == overall[face_scores.BICUBIC_PSNR_Y]
    assert overall[face_scores.PSNR_Y_GAIN_OVER_BICUBIC] == 0.0
    assert overall[face_scores.NME] == 0.0 and overall[face_scores.FAILURE_RATE_008] == 0.0
    assert overall[face_scores.MEAN_SHAPE_NME] > 0.0 and overall[face_scores.NME_RATIO_TO_MEAN_SHAPE] == 0.0
    profile = by_slice[((features.POSE_BUCKET, "profile"),)]
    assert np.isnan(profile[face_scores.NME]) and np.isnan(profile[face_scores.MEAN_SHAPE_NME])
    assert np.isfinite(profile[face_scores.PSNR_Y])


def test_a_slice_of_one_face_has_no_mean_shape_to_beat_and_does_not_block_blessing():
    rng = np.random.default_rng(2)
    scored = []
    for pose in ("frontal", "frontal", "profile"):
        example, hr, lr, gt = _pair(rng, pose)
        # Landmarks a little off the truth: NME > 0 on every face.
        answer = {signatures.SR_IMAGE_OUTPUT: bicubic_resize(lr, 32), signatures.LANDMARKS_OUTPUT: gt + 0.5}
        scored.append((example, answer))
    by_slice = face_scores.score_by_slice(scored, [features.POSE_BUCKET])
    single = by_slice[((features.POSE_BUCKET, "profile"),)]
    assert single[face_scores.NME] > 0.0 and single[face_scores.MEAN_SHAPE_NME] == 0.0
    assert single[face_scores.NME_RATIO_TO_MEAN_SHAPE] == 0.0
    pair = by_slice[((features.POSE_BUCKET, "frontal"),)]
    assert pair[face_scores.NME_RATIO_TO_MEAN_SHAPE] == pytest.approx(
        pair[face_scores.NME] / pair[face_scores.MEAN_SHAPE_NME])


def test_an_sr_answer_of_the_wrong_size_is_an_error():
    example, _, _, gt = _pair(np.random.default_rng(1), "frontal")
    answer = {signatures.SR_IMAGE_OUTPUT: np.zeros((16, 16, 3), np.uint8), signatures.LANDMARKS_OUTPUT: gt}
    with pytest.raises(ValueError, match="does not match the HR label"):
        face_scores.score_by_slice([(example, answer)], [])
