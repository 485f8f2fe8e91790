"""FaceSRMetrics through tfma.run_model_analysis (DirectRunner) on the exported untrained model.

The expected numbers are recomputed here from the same examples, outside TFMA: the bicubic
floor from the LR PNGs, the model's figures from the SavedModel's own serve_tf_examples
outputs, the mean-shape floor by hand. The untrained model must not be blessed: it does not
beat bicubic. The baseline is the same SavedModel, so every change threshold passes and the
failures are exactly the floors.
"""

import io

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
from PIL import Image

from tinyface import features, metrics, signatures
from tinyface.data.degradation.degrade import bicubic_resize
from tinyface.evaluation import face_metrics

SLICE_FEATURE = features.POSE_BUCKET  # tfma_eval_output's slicing (tests/tinyface/conftest.py)


def _png(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.fixture(scope="module")
def examples(eval_pair_records):
    """The evaluated examples, parsed, with the SavedModel's own outputs for them."""
    serialized = [record.numpy() for record in tf.data.TFRecordDataset(eval_pair_records, compression_type="GZIP")]
    parsed = [tf.train.Example.FromString(s).features.feature for s in serialized]
    return serialized, parsed


@pytest.fixture(scope="module")
def model_outputs(exported_model, examples):
    serve = tf.saved_model.load(exported_model).signatures[signatures.TF_EXAMPLE_SIGNATURE]
    outputs = serve(**{signatures.EXAMPLES_INPUT: tf.constant(examples[0])})
    return {name: value.numpy() for name, value in outputs.items()}


def _slice_metrics(output, slice_key=()):
    result = tfma.load_eval_result(output, model_name=tfma.CANDIDATE_KEY)
    for key, values in result.slicing_metrics:
        if key == slice_key:
            return {name: value["doubleValue"] for name, value in values[""][""].items()}
    raise AssertionError(f"slice {slice_key} not in {[key for key, _ in result.slicing_metrics]}")


def _feature_bytes(feature_map, key):
    return feature_map[key].bytes_list.value[0]


def _gt(feature_map):
    return np.asarray(feature_map[features.LANDMARKS_68].float_list.value, dtype=np.float64).reshape(68, 2)


def test_metrics_exist_overall_and_per_slice(tfma_eval_output, examples):
    buckets = sorted({_feature_bytes(f, SLICE_FEATURE).decode() for f in examples[1]})
    assert buckets, "the synthetic pairs should carry pose buckets"
    for slice_key in [()] + [((SLICE_FEATURE, bucket),) for bucket in buckets]:
        values = _slice_metrics(tfma_eval_output, slice_key)
        for name in face_metrics.METRIC_NAMES:
            assert name in values and np.isfinite(values[name]), (slice_key, name)


def test_bicubic_floor_matches_direct_psnr(tfma_eval_output, examples):
    expected = []
    for feature_map in examples[1]:
        hr = _png(_feature_bytes(feature_map, features.HR_IMAGE))
        lr = _png(_feature_bytes(feature_map, features.LR_IMAGE))
        scale = feature_map[features.SCALE].int64_list.value[0]
        expected.append(metrics.psnr(bicubic_resize(lr, hr.shape[1::-1]), hr, shave=scale, y_channel=True))
    values = _slice_metrics(tfma_eval_output)
    assert values[face_metrics.BICUBIC_PSNR_Y] == pytest.approx(np.mean(expected), abs=1e-9)
    assert values[face_metrics.PSNR_Y_GAIN_OVER_BICUBIC] == pytest.approx(
        values[face_metrics.PSNR_Y] - np.mean(expected), abs=1e-9)


def test_model_psnr_matches_savedmodel_outputs(tfma_eval_output, examples, model_outputs):
    psnrs, nmes = [], []
    for index, feature_map in enumerate(examples[1]):
        hr = _png(_feature_bytes(feature_map, features.HR_IMAGE))
        scale = feature_map[features.SCALE].int64_list.value[0]
        psnrs.append(metrics.psnr(model_outputs[signatures.SR_IMAGE_OUTPUT][index], hr, shave=scale, y_channel=True))
        nmes.append(metrics.nme(model_outputs[signatures.LANDMARKS_OUTPUT][index], _gt(feature_map)))
    values = _slice_metrics(tfma_eval_output)
    assert values[face_metrics.PSNR_Y] == pytest.approx(np.mean(psnrs), abs=1e-6)
    assert values[face_metrics.NME] == pytest.approx(np.mean(nmes), rel=1e-5)
    assert values[face_metrics.FAILURE_RATE_008] == metrics.failure_rate(nmes, 0.08)


def test_mean_shape_floor_matches_hand_computation(tfma_eval_output, examples):
    with_landmarks = [f for f in examples[1] if f[features.HAS_LANDMARKS_68].int64_list.value[0] == 1]
    gts = np.stack([_gt(f) for f in with_landmarks])
    mean = gts.mean(axis=0)
    # iBUG 68 inter-ocular normaliser: outer eye corners 36 and 45 of each ground truth.
    per_face = [np.mean(np.hypot(*(mean - gt).T)) / np.hypot(*(gt[36] - gt[45])) for gt in gts]
    values = _slice_metrics(tfma_eval_output)
    assert values[face_metrics.MEAN_SHAPE_NME] == pytest.approx(np.mean(per_face), rel=1e-9)
    assert values[face_metrics.NME_RATIO_TO_MEAN_SHAPE] == pytest.approx(
        values[face_metrics.NME] / np.mean(per_face), rel=1e-9)


def test_untrained_model_is_not_blessed_against_the_floors(tfma_eval_output):
    validation = tfma.load_validation_result(tfma_eval_output)
    assert not validation.validation_ok
    assert not validation.missing_slices
    failed = {(tuple((k.column, k.bytes_value.decode()) for k in per_slice.slice_key.single_slice_keys),
               failure.metric_key.name, failure.metric_key.is_diff)
              for per_slice in validation.metric_validations_per_slice for failure in per_slice.failures}
    # Overall and on every pose slice the gain over bicubic is below the floor...
    assert ((), face_metrics.PSNR_Y_GAIN_OVER_BICUBIC, False) in failed
    failing_slices = {slice_key for slice_key, name, _ in failed if name == face_metrics.PSNR_Y_GAIN_OVER_BICUBIC}
    assert any(slice_key and slice_key[0][0] == SLICE_FEATURE for slice_key in failing_slices)
    # ...and no change threshold fails: the baseline is the same model (diff 0).
    assert not [entry for entry in failed if entry[2]]
