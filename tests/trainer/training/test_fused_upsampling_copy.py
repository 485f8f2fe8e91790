"""The serving copy fuses an up conv, pixel shuffle and thin out conv into one
FusedUpsamplingOutput where nothing else reads between them, shares every other layer, and
answers what the network answers."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tinyface.trainer.models import avx2_conv, fused_upsampling, layers, registry
from tinyface.trainer.training import compute_dtype_copy, fused_upsampling_copy


def _randomize(network, seed=0):
    rng = np.random.default_rng(seed)
    network.set_weights([rng.normal(0, 0.1, w.shape).astype(np.float32) for w in network.get_weights()])


def _outputs(network, images):
    return tf.function(lambda x: network(x, training=False))(images)


def _upsampling_network(out_filters=3, out_activation=None, second_reader=False, mid=8):
    lr = keras.Input((8, 8, 4))
    x = avx2_conv.Conv2D(16, 3, padding="same", name="features")(lr)
    up = avx2_conv.Conv2D(4 * mid, 3, padding="same", name="up")(x)
    shuffled = layers.PixelShuffle(2, name="shuffle")(up)
    image = avx2_conv.Conv2D(out_filters, 3, padding="same", activation=out_activation, name="out")(shuffled)
    outputs = {"image": image}
    if second_reader:
        outputs["pooled"] = keras.layers.GlobalAveragePooling2D(name="pool")(up)
    return keras.Model(lr, outputs)


def test_a_chain_is_fused_and_answers_the_same():
    network = _upsampling_network()
    _randomize(network)
    assert [(u.name, s.name, o.name) for u, s, o in fused_upsampling_copy.fusable_chains(network)] == [
        ("up", "shuffle", "out")]
    copy = fused_upsampling_copy.with_fused_upsampling(network)
    names = [layer.name for layer in copy.layers]
    assert "up" not in names and "shuffle" not in names and "out" not in names
    assert any(isinstance(layer, fused_upsampling.FusedUpsamplingOutput) for layer in copy.layers)
    assert copy.get_layer("features") is network.get_layer("features")   # shared, not copied
    images = np.random.default_rng(1).uniform(0, 1, (2, 8, 8, 4)).astype(np.float32)
    np.testing.assert_allclose(_outputs(copy, images)["image"].numpy(),
                               _outputs(network, images)["image"].numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs", [
    dict(out_activation="relu"),     # not linear: the two convs are not one
    dict(second_reader=True),        # the up conv's map is read elsewhere too
    dict(out_filters=64, mid=4),     # a wide out conv: fusing would cost more FLOPs
])
def test_chains_that_are_not_one_linear_map_or_do_not_pay_are_left(kwargs):
    network = _upsampling_network(**kwargs)
    assert fused_upsampling_copy.fusable_chains(network) == []
    assert fused_upsampling_copy.with_fused_upsampling(network) is network


def test_jasrnet_serves_its_last_upsampling_and_rgb_conv_as_one_conv():
    keras.utils.set_random_seed(0)
    network = registry.build_model("jasrnet", "small").network
    _randomize(network)
    chains = fused_upsampling_copy.fusable_chains(network)
    assert [(u.name, s.name, o.name) for u, s, o in chains] == [("sr_up2_conv", "sr_up2_shuffle", "sr_out_conv")]
    copy = fused_upsampling_copy.with_fused_upsampling(network)
    images = np.random.default_rng(2).uniform(0, 1, (2, 16, 16, 3)).astype(np.float32)
    expected, answered = _outputs(network, images), _outputs(copy, images)
    assert set(answered) == set(expected)
    for key in expected:
        np.testing.assert_allclose(answered[key].numpy(), expected[key].numpy(), rtol=1e-5, atol=1e-5)


def test_a_mixed_precision_network_fuses_in_its_compute_dtype():
    # As the export does it: weights in the compute dtype first, then the fusion.
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        network = _upsampling_network()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    _randomize(network)
    copy = fused_upsampling_copy.with_fused_upsampling(compute_dtype_copy.with_weights_in_compute_dtype(network))
    fused = [layer for layer in copy.layers if isinstance(layer, fused_upsampling.FusedUpsamplingOutput)]
    assert len(fused) == 1 and {w.dtype for w in fused[0].weights} == {"bfloat16"}
    images = np.random.default_rng(3).uniform(0, 1, (1, 8, 8, 4)).astype(np.float32)
    expected = tf.cast(_outputs(network, images)["image"], tf.float32).numpy()
    answered = tf.cast(_outputs(copy, images)["image"], tf.float32).numpy()
    # bf16 keeps 8 significant bits: the fused sums round differently from the two convs'.
    np.testing.assert_allclose(answered, expected, rtol=0.05, atol=0.05 * np.abs(expected).max())


def test_a_network_is_fused_again_after_a_copy_shared_its_layers():
    # Each export makes a copy; the copy's calls of the shared layers must not hide the chain.
    network = _upsampling_network()
    first = fused_upsampling_copy.with_fused_upsampling(network)
    second = fused_upsampling_copy.with_fused_upsampling(network)
    assert first is not network and second is not network
    assert len(fused_upsampling_copy.fusable_chains(network)) == 1
