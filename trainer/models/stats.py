"""Size and cost of a network: parameters, and forward FLOPs per face from the TF graph.

FLOPs are counted by TensorFlow's profiler on the traced forward pass of one face; it counts
a multiply-add as 2 FLOPs (as the papers' figures do: JASRNet 50.9 G, DIC 90.7 G). The profiler
has no count for Einsum ops, which Keras' MultiHeadAttention uses for its scores and weighted
sums (Pro-UIGAN's attention), so every batched matrix product the profiler left uncounted is
added here, at the same 2 FLOPs per multiply-add, from its static shapes.
"""

import math

import tensorflow as tf

_CONTRACTIONS = ("BatchMatMulV2", "BatchMatMulV3", "Einsum")


def parameter_count(network):
    return int(sum(int(tf.size(w)) for w in network.weights))


def _contraction_flops(op):
    """2 x output elements x contracted length of one batched matmul or einsum op."""
    outputs = op.outputs[0].shape.num_elements()
    if op.type == "Einsum":
        equation = op.get_attr("equation").decode()
        if "..." in equation:
            raise ValueError(f"cannot count FLOPs of einsum {equation!r} with an ellipsis ({op.name})")
        inputs, output = equation.split("->")
        sizes = {}
        for labels, tensor in zip(inputs.split(","), op.inputs):
            sizes.update(zip(labels, tensor.shape.as_list()))
        contracted = math.prod(sizes[label] for label in set(inputs.replace(",", "")) - set(output))
    else:
        shape = op.inputs[0].shape.as_list()
        contracted = shape[-2] if op.get_attr("adj_x") else shape[-1]
    return 2 * outputs * contracted


def forward_flops(network, batch=1):
    """FLOPs of one forward pass of `batch` inputs (profiler float_operation on the graph, plus
    the batched matrix products it does not count)."""
    spec = tf.TensorSpec([batch, *network.input_shape[1:]], tf.float32)
    graph = tf.function(lambda x: network(x, training=False)).get_concrete_function(spec).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    profile = tf.compat.v1.profiler.profile(graph, cmd="scope", options=options)
    counted = {}
    pending = [profile]
    while pending:   # the scope tree: each node's own count under its op name
        node = pending.pop()
        counted[node.name] = node.float_ops
        pending.extend(node.children)
    uncounted = sum(_contraction_flops(op) for op in graph.get_operations()
                    if op.type in _CONTRACTIONS and not counted.get(op.name))
    return int(profile.total_float_ops + uncounted)
