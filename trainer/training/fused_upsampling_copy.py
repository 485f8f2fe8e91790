"""A serving copy of a network whose sub-pixel upsampling into a thin output conv is one conv.

Where a network computes conv(out) o pixel shuffle o conv(up), with nothing else reading the two
intermediate maps, the copy computes it with a FusedUpsamplingOutput
(trainer/models/fused_upsampling.py): the same result up to float rounding, with far fewer
FLOPs when `out` has few filters. In JASRNet that is its last upsampling and its RGB conv: 4.94
of its 51 GFLOP per face become 0.62. Every other layer of the copy is the network's own object
(shared, not copied), so the copy costs no memory beyond the fused weights.
"""

import keras
from absl import logging
from keras.src.ops.function import make_node_key   # how a Functional keys its own nodes

from tinyface.trainer.models import fused_upsampling, layers


def _plain_same_conv(layer):
    """A 2D conv computing only kernel and bias over 'same' padding: square odd kernel,
    stride 1, no dilation, one group, no activation."""
    if not isinstance(layer, keras.layers.Conv2D):
        return False
    rows, cols = layer.kernel_size
    return (rows == cols and rows % 2 == 1
            and tuple(layer.strides) == (1, 1) and tuple(layer.dilation_rate) == (1, 1)
            and layer.groups == 1 and layer.padding == "same"
            and layer.data_format == "channels_last"
            and layer.activation is keras.activations.linear)


def _own_nodes(network, layer):
    """`layer`'s calls inside `network`'s graph: a layer shared with another model (as this
    copy shares its layers with the network) has calls in that model's graph too."""
    return [node for index, node in enumerate(layer._inbound_nodes)
            if make_node_key(layer, index) in network._nodes]


def _producer(network, layer):
    """The layer whose output is `layer`'s only input in `network`, or None."""
    nodes = _own_nodes(network, layer)
    if len(nodes) != 1 or len(nodes[0].input_tensors) != 1:
        return None
    return nodes[0].input_tensors[0]._keras_history.operation


def _consumers(network):
    """id(layer) -> the layers of `network` that read its output (model outputs count as None)."""
    readers = {}
    for layer in network.layers:
        for node in _own_nodes(network, layer):
            for tensor in node.input_tensors:
                readers.setdefault(id(tensor._keras_history.operation), []).append(layer)
    for tensor in network.outputs:
        readers.setdefault(id(tensor._keras_history.operation), []).append(None)
    return readers


def _saves_flops(up, out, factor):
    """Whether the composite conv does fewer multiply-adds per low-resolution pixel than the two."""
    k_up, k_out = up.kernel_size[0], out.kernel_size[0]
    lowest, highest = fused_upsampling.composite_offsets(factor, k_up // 2, k_out // 2)
    channels_in, mid, channels_out = up.kernel.shape[2], out.kernel.shape[2], out.filters
    fused = (highest - lowest + 1) ** 2 * channels_in * factor ** 2 * channels_out
    original = k_up ** 2 * channels_in * up.filters + factor ** 2 * k_out ** 2 * mid * channels_out
    return fused < original


def fusable_chains(network):
    """[(up conv, pixel shuffle, out conv)] of `network`'s top-level layers that the copy fuses."""
    readers = _consumers(network)
    chains = []
    for out in network.layers:
        if not _plain_same_conv(out):
            continue
        shuffle = _producer(network, out)
        if not isinstance(shuffle, layers.PixelShuffle) or readers.get(id(shuffle)) != [out]:
            continue
        up = _producer(network, shuffle)
        if (up is None or not _plain_same_conv(up) or readers.get(id(up)) != [shuffle]
                or up.filters != shuffle.factor ** 2 * out.kernel.shape[2]
                or not _saves_flops(up, out, shuffle.factor)):
            continue
        chains.append((up, shuffle, out))
    return chains


def with_fused_upsampling(network):
    """`network` itself if it has no fusable chain, else a functional copy computing each
    (up conv, shuffle, out conv) with one FusedUpsamplingOutput; its other layers are shared."""
    chains = fusable_chains(network)
    if not chains:
        return network
    skipped = {id(up) for up, _, _ in chains} | {id(shuffle) for _, shuffle, _ in chains}
    fused = {id(out): fused_upsampling.FusedUpsamplingOutput.from_convs(up, out, shuffle.factor)
             for up, shuffle, out in chains}
    for up, _, out in chains:
        logging.info("serving copy: %s, pixel shuffle and %s as one conv (%s)", up.name, out.name,
                     fused[id(out)].name)

    def call(layer, *args, **kwargs):
        if id(layer) in skipped:
            return args[0]   # the up conv's input passes through to the fused layer
        if id(layer) in fused:
            return fused[id(layer)](*args, **kwargs)
        return layer(*args, **kwargs)

    return keras.models.clone_model(network, clone_function=lambda layer: layer, call_function=call)
