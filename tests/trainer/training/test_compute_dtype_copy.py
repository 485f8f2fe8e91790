"""The serving copy whose convolutions store their weights in the compute dtype answers bit for
bit like the mixed-precision network, and keeps float32 where a layer computes in float32."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tinyface.trainer.models import avx2_conv, registry
from tinyface.trainer.models.group_norm import GroupNormalization
from tinyface.trainer.training import compute_dtype_copy


def _randomize(network, seed=0):
    """Weights of magnitude ~0.3, biases included: zero biases would hide a bias left in float32."""
    rng = np.random.default_rng(seed)
    network.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in network.get_weights()])


def _mixed_network(policy):
    """Every convertible kind of layer, with a normalisation and a float32-pinned layer between."""
    lr = keras.Input((16, 16, 3))
    x = avx2_conv.Conv2D(8, 3, padding="same", dtype=policy)(lr)
    x = GroupNormalization(groups=2, dtype=policy)(x)
    x = keras.layers.Conv2DTranspose(8, 4, strides=2, padding="same", dtype=policy)(x)
    x = keras.layers.Conv2D(4, 3, padding="same", dtype=policy)(x)
    pinned = keras.layers.Rescaling(0.5, dtype="float32")(x)
    dense = keras.layers.Dense(5, dtype=policy)(keras.layers.Flatten(dtype=policy)(x))
    return keras.Model(lr, {"image": pinned, "vector": dense})


def _assert_same_outputs(network, copy, images):
    # Both traced: eager and graph execution may fuse, and so round, differently.
    expected = tf.function(lambda x: network(x, training=False))(images)
    answered = tf.function(lambda x: copy(x, training=False))(images)
    assert set(expected) == set(answered)
    for key in expected:
        assert answered[key].dtype == expected[key].dtype
        np.testing.assert_array_equal(answered[key].numpy(), expected[key].numpy())


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_the_copy_answers_bit_for_bit_with_weights_in_the_compute_dtype(policy, random_images):
    # Tiny shapes: cheap even where this CPU only emulates the compute dtype.
    network = _mixed_network(policy)
    _randomize(network)
    copy = compute_dtype_copy.with_weights_in_compute_dtype(network)
    compute_dtype = keras.mixed_precision.DTypePolicy(policy).compute_dtype

    _assert_same_outputs(network, copy, random_images(batch=2))
    converted = {layer.name for layer in compute_dtype_copy.convertible_layers(network)}
    assert len(converted) == 4   # the three convolutions and the dense layer
    for layer in network.layers[1:]:   # after the input
        copied = copy.get_layer(layer.name)
        expected = compute_dtype if layer.name in converted else "float32"
        assert {w.dtype for w in copied.weights} <= {expected}, layer.name
        assert type(copied) is type(layer)
    # The network itself keeps its float32 master weights.
    assert {w.dtype for w in network.weights} == {"float32"}


def test_a_float32_network_is_its_own_copy():
    network = _mixed_network("float32")
    assert compute_dtype_copy.convertible_layers(network) == []
    assert compute_dtype_copy.with_weights_in_compute_dtype(network) is network


@pytest.mark.parametrize("name", ["jasrnet", "dic", "proguigan"])
def test_the_copy_of_a_small_model_answers_bit_for_bit(name, mixed_bfloat16, random_images):
    keras.utils.set_random_seed(0)
    network = registry.build_model(name, "small").network
    _randomize(network)
    copy = compute_dtype_copy.with_weights_in_compute_dtype(network)
    assert compute_dtype_copy.convertible_layers(network)
    assert compute_dtype_copy.convertible_layers(copy) == []
    _assert_same_outputs(network, copy, random_images(batch=1))
