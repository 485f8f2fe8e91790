"""A copy of a mixed-precision network whose convolutions keep their weights in the compute dtype.

Under a mixed policy (mixed_bfloat16, mixed_float16) every layer stores float32 weights and casts
them to the compute dtype on each call. Training needs the float32 master weights; a serving graph
does not, and there the casts are pure overhead: JASRNet's bf16 serving signature ran 272 of them
per face, 8.8 of 134 ms of op time in a profile on a 2-core AMD EPYC Zen 5 (native bf16: yes;
README, "Benchmarks"). The serving export
therefore traces this copy, whose convolution and dense layers hold their weights already rounded
to the compute dtype.

The copy computes exactly what the network computes: such a layer only ever reads its weights
cast to the compute dtype, and rounding float32 to bf16 or fp16 is deterministic, so storing the
rounded values gives the same operands to the same ops (tested bit for bit). Layers that compute
in float32 under a mixed policy (normalisations, float32-pinned layers) are left as they are:
their weights would lose precision.
"""

import keras

# Layers whose call reads every weight as `cast(weight, compute_dtype)` and nothing else, so
# storing it in the compute dtype changes no result. Subclasses (avx2_conv.Conv2D) included.
_WEIGHTS_ONLY_CAST = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D,
                      keras.layers.Conv2DTranspose, keras.layers.Dense)


def _is_mixed(policy):
    return policy.compute_dtype != policy.variable_dtype


def _converts(layer):
    return isinstance(layer, _WEIGHTS_ONLY_CAST) and _is_mixed(layer.dtype_policy)


def convertible_layers(network):
    """The layers of `network` (nested models included) the copy stores in the compute dtype."""
    found = []
    for layer in network.layers:
        if isinstance(layer, keras.Model):
            found.extend(convertible_layers(layer))
        elif _converts(layer):
            found.append(layer)
    return found


def with_weights_in_compute_dtype(network):
    """`network` itself if no layer would change, else a functional copy with the same layer names,
    outputs and (rounded) weights, its convertible layers' policy the plain compute dtype."""
    if not convertible_layers(network):
        return network

    def copy_layer(layer):
        config = layer.get_config()
        if _converts(layer):
            config["dtype"] = layer.dtype_policy.compute_dtype
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(network, clone_function=copy_layer, recursive=True)
    # Assigning float32 values to bf16 / fp16 variables rounds them to nearest, as the cast does.
    copy.set_weights(network.get_weights())
    return copy
