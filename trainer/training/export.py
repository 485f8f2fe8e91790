"""SavedModel export for TF Serving and TFMA: two signatures over the same network.

serving_default takes a batch of uint8 LR images (REST-friendly: JSON lists of ints) and
returns the SR image (uint8), the landmarks (N, 68, 2, HR pixels) and the heatmaps;
serve_tf_examples takes serialized pair tf.Examples (TFMA, batch inference).

serving_default declares its input shape, (N, lr, lr, 3) uint8, so a client reads the LR size
from the signature (TF Serving's model metadata, saved_model_cli, the loaded signature) instead
of probing the model with images. The declared shape is not enforced by whoever feeds the graph
(TF Serving, a loaded signature), so the input is also checked in the graph: an input of the
wrong size or channel count fails with INVALID_ARGUMENT naming the expected shape, before any
convolution sees it.
"""

import contextlib

import keras
import tensorflow as tf
from absl import logging

from tinyface import features, signatures
from tinyface.trainer.training import compute_dtype_copy, cpu_isa, fused_upsampling_copy
from tinyface.trainer.models import avx2_conv, constant_slope_prelu, outputs as model_outputs


def _checked_lr_images(images, lr_size):
    """`images` with static shape (N, lr, lr, 3), after checking it: INVALID_ARGUMENT otherwise."""
    expected = f"{signatures.LR_IMAGES_INPUT} must be uint8 images of shape (N, {lr_size}, {lr_size}, 3)"
    # One condition and no branches (a lowered tf.cond still runs ops on captured tensors):
    # the shape is padded to rank 4 so comparing it never fails on a wrong rank itself.
    shape = tf.shape(images)
    padded = tf.concat([shape, tf.zeros([4], tf.int32)], axis=0)[:4]
    valid = tf.logical_and(tf.equal(tf.size(shape), 4),
                           tf.reduce_all(tf.equal(padded[1:], [lr_size, lr_size, 3])))
    check = tf.debugging.Assert(valid, [expected + "; got shape", shape])
    with tf.control_dependencies([check]):
        return tf.ensure_shape(tf.identity(images), [None, lr_size, lr_size, 3])


def _predict(forward, lr_uint8, contract, decode_method):
    outputs = forward(tf.cast(lr_uint8, tf.float32) / 255.0)
    sr = outputs[model_outputs.SR_STEPS][:, -1]
    heatmaps = tf.cast(outputs[model_outputs.HEATMAP_STEPS][:, -1], tf.float32)
    return {
        signatures.SR_IMAGE_OUTPUT: tf.cast(tf.round(tf.clip_by_value(sr, 0.0, 1.0) * 255.0), tf.uint8),
        signatures.LANDMARKS_OUTPUT: contract.decode(heatmaps, method=decode_method),
        signatures.HEATMAPS_OUTPUT: heatmaps,
    }


def split_images_here():
    """Whether exports on this machine split the images' large convolutions into half-images: where
    a serving process here runs oneDNN's kernels and oneDNN has no AVX-512 ones (see
    trainer/models/avx2_conv.py). With AVX-512 its batch-1 kernel is already the direct one and
    the split cost 4-18 %; on Eigen's kernels, TensorFlow's default on AVX2-only CPUs, it cost
    19 % (JASRNet 445 against 375 ms a face; README, "Benchmarks")."""
    return cpu_isa.serving_runs_onednn() and not cpu_isa.this_machine_onednn_runs_avx512()


def export_serving_model(network, export_dir, contract, decode_method="refined_argmax", jit_compile=False,
                         split_images=None):
    """Writes `network`, a model of tinyface.trainer.models.contract.ModelContract `contract` (its LR input
    size, and its heatmap codec that decodes the landmarks), as a SavedModel with both
    signatures into `export_dir`.

    jit_compile: the network's forward pass inside both signatures is XLA-compiled (input
    checks and landmark decoding stay plain TF ops).
    split_images: the network's avx2_conv.Conv2D layers run each image as two half-images;
    None decides by this machine's CPU (split_images_here), as the precision is decided by
    the machine that trains: the export is made for CPUs of the kind that made it.

    A network trained under a mixed policy is exported with its convolutions' weights stored in
    the compute dtype (compute_dtype_copy): the same results without a cast of every weight on
    every call. A sub-pixel upsampling conv feeding a thin output conv (JASRNet's last
    upsampling and RGB conv) is exported as one low-resolution conv (fused_upsampling_copy): the
    same results up to float rounding, 8.5 % of JASRNet's FLOPs fewer.
    """
    if split_images is None:
        split_images = split_images_here()
    logging.info("serving export: the large convolutions %s",
                 "run each image as two half-images (no AVX-512 in oneDNN here)" if split_images
                 else "run whole")
    lr_size = contract.lr_size
    network = compute_dtype_copy.with_weights_in_compute_dtype(network)
    network = fused_upsampling_copy.with_fused_upsampling(network)
    archive = keras.export.ExportArchive()
    archive.track(network)

    def forward(lr):
        return network(lr, training=False)

    if jit_compile:
        forward = tf.function(forward, jit_compile=True)

    def serve_lr_images(lr_images):
        images = _checked_lr_images(lr_images, lr_size)
        return _predict(forward, images, contract, decode_method)

    def serve_tf_examples(examples):
        parsed = tf.io.parse_example(examples, {features.LR_IMAGE: tf.io.FixedLenFeature([], tf.string)})
        images = tf.map_fn(lambda png: tf.io.decode_png(png, channels=3), parsed[features.LR_IMAGE],
                           fn_output_signature=tf.TensorSpec([None, None, 3], tf.uint8))
        return _predict(forward, _checked_lr_images(images, lr_size), contract, decode_method)

    # The endpoints are traced while they are added and written: inside splitting_images(),
    # the network's avx2_conv layers trace as half-images; inside constant_slopes(), its
    # PReLUs as one LeakyRelu op with the trained slope.
    with avx2_conv.splitting_images() if split_images else contextlib.nullcontext(), \
            constant_slope_prelu.constant_slopes():
        _add_endpoints(archive, serve_lr_images, serve_tf_examples, lr_size)
        archive.write_out(export_dir, verbose=False)
    return export_dir


def _add_endpoints(archive, serve_lr_images, serve_tf_examples, lr_size):
    archive.add_endpoint(signatures.SERVING_DEFAULT, serve_lr_images,
                         input_signature=[tf.TensorSpec([None, lr_size, lr_size, 3], tf.uint8,
                                                        name=signatures.LR_IMAGES_INPUT)])
    archive.add_endpoint(signatures.TF_EXAMPLE_SIGNATURE, serve_tf_examples,
                         input_signature=[tf.TensorSpec([None], tf.string, name=signatures.EXAMPLES_INPUT)])
