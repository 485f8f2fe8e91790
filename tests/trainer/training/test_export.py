"""SavedModel export: the XLA-compiled serving signature, the one that runs each image's
large convolutions as half-images, and PReLUs traced with constant slopes answer what the
plain network does."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tinyface import signatures
from tinyface.data.heatmaps import DIC_HEATMAPS
from tinyface.trainer.training import export
from tinyface.trainer.models import avx2_conv, constant_slope_prelu, layers
from tinyface.trainer.models.contract import ModelContract
from tinyface.trainer.models.outputs import HEATMAP_STEPS, SR_STEPS

# What _tiny_network takes and gives.
TINY_CONTRACT = ModelContract(hr_size=128, scale=8, heatmaps=DIC_HEATMAPS)


def _tiny_network():
    """A few layers with the models' output contract: compiling a real model takes minutes."""
    lr = keras.Input((16, 16, 3))
    sr = keras.layers.Conv2D(3, 3, padding="same")(keras.layers.UpSampling2D(8)(lr))
    heatmaps = keras.layers.Conv2D(68, 3, padding="same")(keras.layers.UpSampling2D(2)(lr))
    return keras.Model(lr, {SR_STEPS: keras.layers.Reshape((1, 128, 128, 3))(sr),
                            HEATMAP_STEPS: keras.layers.Reshape((1, 32, 32, 68))(heatmaps)})


def test_xla_compiled_export_serves_the_same_outputs(tmp_path):
    network = _tiny_network()
    faces = tf.constant(np.random.default_rng(0).integers(0, 256, (2, 16, 16, 3)), tf.uint8)
    answers = []
    for jit_compile in (False, True):
        folder = str(tmp_path / f"jit{int(jit_compile)}")
        export.export_serving_model(network, folder, TINY_CONTRACT, jit_compile=jit_compile)
        serve = tf.saved_model.load(folder).signatures[signatures.SERVING_DEFAULT]
        answers.append(serve(**{signatures.LR_IMAGES_INPUT: faces}))
    plain, compiled = answers
    assert set(plain) == set(compiled)
    np.testing.assert_allclose(compiled[signatures.HEATMAPS_OUTPUT].numpy(),
                               plain[signatures.HEATMAPS_OUTPUT].numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(compiled[signatures.LANDMARKS_OUTPUT].numpy(),
                               plain[signatures.LANDMARKS_OUTPUT].numpy(), rtol=1e-4, atol=1e-3)
    # uint8 SR: XLA may fuse differently, so a pixel may round the other way.
    sr_difference = np.abs(compiled[signatures.SR_IMAGE_OUTPUT].numpy().astype(int)
                           - plain[signatures.SR_IMAGE_OUTPUT].numpy().astype(int))
    assert sr_difference.max() <= 1


def test_the_serving_signature_declares_its_input_shape(tmp_path):
    from tensorflow.python.saved_model import loader_impl
    from tensorflow_serving.apis import get_model_metadata_pb2

    from tinyface import serving_client

    folder = export.export_serving_model(_tiny_network(), str(tmp_path / "model"), TINY_CONTRACT)
    _, inputs = tf.saved_model.load(folder).signatures[signatures.SERVING_DEFAULT].structured_input_signature
    assert inputs[signatures.LR_IMAGES_INPUT].shape.as_list() == [None, 16, 16, 3]
    # What TF Serving's model metadata reports: a client reads both sizes, it probes nothing.
    meta_graph = loader_impl.parse_saved_model(folder).meta_graphs[0]
    signature_defs = get_model_metadata_pb2.SignatureDefMap(signature_def=meta_graph.signature_def)
    assert serving_client.serving_signature_sizes(signature_defs, folder) == (16, 128)


def _graph_nodes(signature):
    """Every node of a loaded signature's graph, its functions' included."""
    graph = signature.graph.as_graph_def()
    return list(graph.node) + [node for function in graph.library.function for node in function.node_def]


def test_prelus_serve_as_leaky_relu_with_the_trained_slope(tmp_path):
    lr = keras.Input((16, 16, 3))
    prelu = constant_slope_prelu.PReLU(shared_axes=[1, 2, 3])
    sr = keras.layers.Conv2D(3, 3, padding="same")(prelu(keras.layers.UpSampling2D(8)(lr) - 0.5))
    heatmaps = keras.layers.Conv2D(68, 3, padding="same")(keras.layers.UpSampling2D(2)(lr))
    network = keras.Model(lr, {SR_STEPS: keras.layers.Reshape((1, 128, 128, 3))(sr),
                               HEATMAP_STEPS: keras.layers.Reshape((1, 32, 32, 68))(heatmaps)})
    prelu.set_weights([np.full((1, 1, 1), 0.37, np.float32)])   # a trained slope, not the init
    folder = export.export_serving_model(network, str(tmp_path / "model"), TINY_CONTRACT)
    serve = tf.saved_model.load(folder).signatures[signatures.SERVING_DEFAULT]
    ops = [node.op for node in _graph_nodes(serve)]
    assert "LeakyRelu" in ops and "Relu" not in ops
    faces = tf.constant(np.random.default_rng(4).integers(0, 256, (2, 16, 16, 3)), tf.uint8)
    served = serve(**{signatures.LR_IMAGES_INPUT: faces})
    expected = network(tf.cast(faces, tf.float32) / 255.0, training=False)[SR_STEPS][:, -1]
    np.testing.assert_array_equal(
        served[signatures.SR_IMAGE_OUTPUT].numpy(),
        tf.cast(tf.round(tf.clip_by_value(expected, 0.0, 1.0) * 255.0), tf.uint8).numpy())


def _wide_network():
    """_tiny_network's contract, with heatmap convs wide enough for avx2_conv to split."""
    lr = keras.Input((16, 16, 3))
    sr = keras.layers.Conv2D(3, 3, padding="same")(keras.layers.UpSampling2D(8)(lr))
    x = avx2_conv.Conv2D(64, 3, padding="same", activation="relu")(keras.layers.UpSampling2D(2)(lr))
    x = avx2_conv.Conv2D(64, 3, padding="same", activation="relu")(x)
    heatmaps = avx2_conv.Conv2D(68, 3, padding="same")(x)
    return keras.Model(lr, {SR_STEPS: keras.layers.Reshape((1, 128, 128, 3))(sr),
                            HEATMAP_STEPS: keras.layers.Reshape((1, 32, 32, 68))(heatmaps)})


def _explicitly_padded_convs(signature):
    return sum(node.op == "Conv2D" and node.attr["padding"].s == b"EXPLICIT" for node in _graph_nodes(signature))


def test_splitting_images_serves_the_same_outputs(tmp_path):
    network = _wide_network()
    serves = {}
    for split in (False, True):
        folder = str(tmp_path / f"split{int(split)}")
        export.export_serving_model(network, folder, TINY_CONTRACT, split_images=split)
        serves[split] = tf.saved_model.load(folder).signatures[signatures.SERVING_DEFAULT]
    # The split graph holds the two wide convs as half-image convs: rows padded by the halves'
    # margins, hence explicit padding instead of 'SAME'.
    assert _explicitly_padded_convs(serves[False]) == 0
    assert _explicitly_padded_convs(serves[True]) == 2
    rng = np.random.default_rng(3)
    for batch in (1, 3):
        faces = tf.constant(rng.integers(0, 256, (batch, 16, 16, 3)), tf.uint8)
        plain, split = (serves[s](**{signatures.LR_IMAGES_INPUT: faces}) for s in (False, True))
        assert split[signatures.HEATMAPS_OUTPUT].shape[0] == batch
        np.testing.assert_allclose(split[signatures.HEATMAPS_OUTPUT].numpy(),
                                   plain[signatures.HEATMAPS_OUTPUT].numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(split[signatures.LANDMARKS_OUTPUT].numpy(),
                                   plain[signatures.LANDMARKS_OUTPUT].numpy(), rtol=1e-4, atol=1e-3)
        np.testing.assert_array_equal(split[signatures.SR_IMAGE_OUTPUT].numpy(),
                                      plain[signatures.SR_IMAGE_OUTPUT].numpy())


@pytest.mark.parametrize("serving_onednn, onednn_avx512, expected", [
    (True, False, True),      # oneDNN without AVX-512: its batch-1 kernel is an im2col GEMM
    (True, True, False),      # oneDNN with AVX-512: already the direct kernel
    (False, False, False),    # Eigen's kernels (TensorFlow's default on AVX2-only CPUs)
])
def test_exports_split_images_only_where_serving_runs_onednn_without_avx512(monkeypatch, serving_onednn,
                                                                          onednn_avx512, expected):
    monkeypatch.setattr(export.cpu_isa, "serving_runs_onednn", lambda: serving_onednn)
    monkeypatch.setattr(export.cpu_isa, "this_machine_onednn_runs_avx512", lambda: onednn_avx512)
    assert export.split_images_here() is expected


def test_a_mixed_precision_network_is_served_with_weights_in_the_compute_dtype(tmp_path):
    # Tiny: cheap even where this CPU only emulates bf16.
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        network = _tiny_network()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    rng = np.random.default_rng(5)
    network.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in network.get_weights()])
    folder = export.export_serving_model(network, str(tmp_path / "model"), TINY_CONTRACT)
    loaded = tf.saved_model.load(folder)
    assert {v.dtype for v in loaded.variables} == {tf.bfloat16}
    assert {w.dtype for w in network.weights} == {"float32"}   # the trained network keeps its own
    faces = tf.constant(rng.integers(0, 256, (2, 16, 16, 3)), tf.uint8)
    served = loaded.signatures[signatures.SERVING_DEFAULT](**{signatures.LR_IMAGES_INPUT: faces})
    expected = tf.function(lambda x: network(x, training=False))(tf.cast(faces, tf.float32) / 255.0)
    np.testing.assert_array_equal(served[signatures.HEATMAPS_OUTPUT].numpy(),
                                  tf.cast(expected[HEATMAP_STEPS][:, -1], tf.float32).numpy())


def _upsampling_network():
    """The tiny network's SR branch ending as JASRNet's does: up conv, pixel shuffle, RGB conv."""
    lr = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(8, 3, padding="same")(keras.layers.UpSampling2D(4)(lr))
    x = keras.layers.Conv2D(32, 3, padding="same")(x)
    sr = keras.layers.Conv2D(3, 3, padding="same", name="rgb")(layers.PixelShuffle(2)(x))
    heatmaps = keras.layers.Conv2D(68, 3, padding="same")(keras.layers.UpSampling2D(2)(lr))
    return keras.Model(lr, {SR_STEPS: keras.layers.Reshape((1, 128, 128, 3))(sr),
                            HEATMAP_STEPS: keras.layers.Reshape((1, 32, 32, 68))(heatmaps)})


def test_upsampling_into_the_rgb_conv_is_served_as_one_conv(tmp_path):
    network = _upsampling_network()
    rng = np.random.default_rng(6)
    # Weights that keep most SR pixels inside [0, 1] (a random network's would mostly clip).
    network.set_weights([rng.normal(0, 0.05, w.shape).astype(np.float32) for w in network.get_weights()])
    rgb_conv = network.get_layer("rgb")
    rgb_conv.bias.assign(np.full(3, 0.5, np.float32))
    folder = export.export_serving_model(network, str(tmp_path / "model"), TINY_CONTRACT)
    loaded = tf.saved_model.load(folder)
    assert any("fused_kernel" in v.name for v in loaded.variables)
    faces = tf.constant(rng.integers(0, 256, (2, 16, 16, 3)), tf.uint8)
    served = loaded.signatures[signatures.SERVING_DEFAULT](**{signatures.LR_IMAGES_INPUT: faces})
    expected = tf.function(lambda x: network(x, training=False))(tf.cast(faces, tf.float32) / 255.0)
    sr = tf.cast(tf.round(tf.clip_by_value(expected[SR_STEPS][:, -1], 0, 1) * 255), tf.uint8).numpy()
    assert np.mean((sr > 0) & (sr < 255)) > 0.5   # mostly unclipped: the comparison means something
    # uint8 out: the fused sums may round a pixel to the neighbouring level, never further.
    assert np.abs(served[signatures.SR_IMAGE_OUTPUT].numpy().astype(int) - sr.astype(int)).max() <= 1
