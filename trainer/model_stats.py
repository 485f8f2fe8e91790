"""Size and cost of a network: parameters, and forward FLOPs per face from the TF graph.

FLOPs are counted by TensorFlow's profiler on the traced forward pass of one face; it counts
a multiply-add as 2 FLOPs (as the papers' figures do: JASRNet 50.9 G, DIC 90.7 G).
"""

import tensorflow as tf


def parameter_count(network):
    return int(sum(int(tf.size(w)) for w in network.weights))


def forward_flops(network, batch=1):
    """FLOPs of one forward pass of `batch` inputs (profiler float_operation on the graph)."""
    spec = tf.TensorSpec([batch, *network.input_shape[1:]], tf.float32)
    concrete = tf.function(lambda x: network(x, training=False)).get_concrete_function(spec)
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return int(tf.compat.v1.profiler.profile(concrete.graph, options=options).total_float_ops)
