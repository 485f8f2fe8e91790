"""tf.data over PairGen's examples: decode, augment, render target heatmaps, batch, prefetch.

Sizes, scale and heatmaps are the trained model's (tinyface.trainer.models.contract.ModelContract).
Heatmaps are rendered here from coordinates by the contract's codec, the one PairGen uses to
store them: storing them makes records 5-8x larger and reading slower (README, "Heatmaps and
labels").
"""

import numpy as np
import tensorflow as tf
from tensorflow_metadata.proto.v0 import schema_pb2

from tinyface import features
# The batch's target keys (inputs are the LR images), defined with the losses that read them.
from tinyface.trainer.losses.targets import HAS_LANDMARKS, HEATMAPS, HR, LANDMARKS  # noqa: F401
from tinyface.trainer.training import augmentation

NUM_LANDMARKS = 68


# The pair features training reads, each dense with a fixed length.
_FEATURES = (
    (features.LR_IMAGE, schema_pb2.BYTES, 1),
    (features.HR_IMAGE, schema_pb2.BYTES, 1),
    (features.LANDMARKS_68, schema_pb2.FLOAT, 2 * NUM_LANDMARKS),
    (features.HAS_LANDMARKS_68, schema_pb2.INT, 1),
    (features.SCALE, schema_pb2.INT, 1),
)
_DTYPES = {schema_pb2.BYTES: tf.string, schema_pb2.FLOAT: tf.float32, schema_pb2.INT: tf.int64}


def training_schema(columns=_FEATURES):
    """The schema TFX's data accessor reads pairs with (dense features of fixed length)."""
    schema = schema_pb2.Schema()
    for name, kind, length in columns:
        feature = schema.feature.add(name=name, type=kind)
        feature.shape.dim.add(size=length)
        feature.presence.min_fraction = 1.0
    return schema


def feature_spec(columns=_FEATURES):
    """The same features as a tf.io parsing spec (for paths without TFX, and for serving)."""
    return {name: tf.io.FixedLenFeature([length], _DTYPES[kind]) for name, kind, length in columns}


# What the check for the model's scale reads of each pair.
_SCALE_ONLY = tuple(column for column in _FEATURES if column[0] == features.SCALE)
_SCALE_CHECK_BATCH = 256


def _decode_images(encoded):
    # (B, 1) PNG strings -> (B, H, W, 3) float32 in [0, 1].
    images = tf.map_fn(lambda png: tf.io.decode_png(png, channels=3), encoded[:, 0],
                       fn_output_signature=tf.TensorSpec([None, None, 3], tf.uint8))
    return tf.cast(images, tf.float32) / 255.0


def prepare_batch(batch, contract, augment=None, seed=None):
    """A batch of parsed pair features -> (LR images, targets dict) for the model of
    ModelContract `contract`; `augment` is an augmentation.AugmentationConfig (None: the batch
    as stored)."""
    lr = tf.ensure_shape(_decode_images(batch[features.LR_IMAGE]), [None, contract.lr_size, contract.lr_size, 3])
    hr = _decode_images(batch[features.HR_IMAGE])
    hr = tf.ensure_shape(hr, [None, contract.hr_size, contract.hr_size, 3])
    landmarks = tf.reshape(batch[features.LANDMARKS_68], [-1, NUM_LANDMARKS, 2])
    has_landmarks = tf.cast(tf.reshape(batch[features.HAS_LANDMARKS_68], [-1]), tf.float32)
    if augment is not None:
        lr, hr, landmarks = augmentation.augment(lr, hr, landmarks, augment, seed=seed)
    targets = {
        HR: hr,
        HEATMAPS: contract.encode(landmarks),
        LANDMARKS: landmarks,
        HAS_LANDMARKS: has_landmarks,
    }
    return lr, targets


def _of_scale(batches, scale, batch_size, training):
    # PairGen may write several scales per face; a model trains on its own (the dataset holds
    # some: require_pairs_of_scale checked, or a repeated dataset would be filtered forever).
    return (batches.unbatch()
            .filter(lambda pair: tf.equal(pair[features.SCALE][0], scale))
            .batch(batch_size, drop_remainder=training))


def require_pairs_of_scale(scales, scale, source):
    """Raises ValueError unless a pair of `scale` is among `scales`, one pass (not repeated)
    over batches of the pairs' SCALE values; stops at the first batch holding one.

    The training dataset repeats before it keeps the pairs of the model's scale, so without
    one it would wait forever for a batch (and evaluation would get none): fail instead.
    """
    found = set()
    for batch in scales.as_numpy_iterator():
        values = set(np.asarray(batch).ravel().tolist())
        if scale in values:
            return
        found |= values
    have = ", ".join(f"x{s}" for s in sorted(found)) or "none"
    raise ValueError(f"{source}: no pair of scale x{scale}, the model's (the pairs have: {have}); "
                     f"pairs.degradation.scales must include {scale}")


def _finish(batches, batch_size, contract, training, seed, augment):
    # Only training batches are augmented; evaluation sees the pairs as stored.
    augment = augment if training else None
    dataset = (_of_scale(batches, contract.scale, batch_size, training)
               .map(lambda batch: prepare_batch(batch, contract, augment, seed),
                    num_parallel_calls=tf.data.AUTOTUNE)
               .prefetch(tf.data.AUTOTUNE))
    if training:
        return dataset
    # fit() validates on `eval_steps` batches per checkpoint and drops the half-read iterator
    # at the next validation. With tf.data's autotuning on, dropping it blocked, CPU idle,
    # until the autotuner's thread woke: 8-50 s per checkpoint after the first, 1 min 26 s
    # of the main job's 6 min 23 s Trainer (2-core AMD EPYC Zen 3, 2026-12-06). A handful of
    # evaluation batches needs no tuning; without it the drop is immediate.
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def dataset_from_accessor(data_accessor, file_pattern, batch_size, contract, training, seed=None,
                          augment=augmentation.FLIP_ONLY):
    """Batches through TFX's data accessor (what run_fn uses) for the model of ModelContract
    `contract`: repeated, shuffled and augmented (`augment`, an augmentation.AugmentationConfig)
    when training."""
    from tfx_bsl.public import tfxio  # only needed inside TFX

    one_pass = data_accessor.tf_dataset_factory(
        file_pattern, tfxio.TensorFlowDatasetOptions(batch_size=_SCALE_CHECK_BATCH, shuffle=False, num_epochs=1),
        training_schema(_SCALE_ONLY))
    source = ", ".join(file_pattern) if isinstance(file_pattern, (list, tuple)) else file_pattern
    require_pairs_of_scale(one_pass.map(lambda batch: batch[features.SCALE]), contract.scale, source)
    options = tfxio.TensorFlowDatasetOptions(
        batch_size=batch_size, shuffle=training, shuffle_seed=seed, num_epochs=None if training else 1)
    dataset = data_accessor.tf_dataset_factory(file_pattern, options, training_schema())
    return _finish(dataset, batch_size, contract, training, seed, augment)


def dataset_from_files(file_pattern, batch_size, contract, training, seed=None, shuffle_buffer=512,
                       augment=augmentation.FLIP_ONLY):
    """The same batches read straight from GZIP TFRecords (tests, benchmarks, no TFX)."""
    files = tf.io.gfile.glob(file_pattern)
    if not files:
        raise FileNotFoundError(f"no pair files match {file_pattern}")
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP")
    require_pairs_of_scale(
        dataset.batch(_SCALE_CHECK_BATCH).map(
            lambda records: tf.io.parse_example(records, feature_spec(_SCALE_ONLY))[features.SCALE]),
        contract.scale, file_pattern)
    if training:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed).repeat()
    dataset = dataset.batch(batch_size, drop_remainder=training).map(
        lambda records: tf.io.parse_example(records, feature_spec()), num_parallel_calls=tf.data.AUTOTUNE)
    return _finish(dataset, batch_size, contract, training, seed, augment)
