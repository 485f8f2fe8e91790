"""FusedAdam updates variables as Keras' Adam does, keeps its slots, and falls back for AMSGrad."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from tinyface.trainer.training.fused_adam import FusedAdam

SHAPES = [(3, 3, 4, 8), (8,), (5, 7)]


def _train(optimizer_class, steps=4, **options):
    """Variables after `steps` updates by random gradients, and the optimizer."""
    rng = np.random.default_rng(0)
    variables = [keras.Variable(rng.normal(0, 0.5, s).astype(np.float32)) for s in SHAPES]
    gradients = [[tf.constant(rng.normal(0, 1, s).astype(np.float32)) for s in SHAPES] for _ in range(steps)]
    optimizer = optimizer_class(**options)
    apply = tf.function(lambda grads: optimizer.apply(grads, variables))
    for step_gradients in gradients:
        apply(step_gradients)
    return [v.numpy() for v in variables], optimizer


@pytest.mark.parametrize("options", [
    dict(learning_rate=1e-2),
    dict(learning_rate=keras.optimizers.schedules.PiecewiseConstantDecay([2], [1e-2, 1e-3]),
         weight_decay=5e-4, beta_1=0.8, beta_2=0.99, epsilon=1e-6),
])
def test_the_fused_update_is_keras_adams(options):
    initial, _ = _train(keras.optimizers.Adam, steps=0, **options)
    expected, stock = _train(keras.optimizers.Adam, **options)
    answered, fused = _train(FusedAdam, **options)
    for before, e, a in zip(initial, expected, answered):
        assert np.abs(e - before).mean() > 1e-3   # it trained
        # Float32 rounding of 1 - beta differs, nothing else.
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)
    # Same slot variables, so checkpoints of one load into the other (variable names aside: each
    # run's variables are numbered anew).
    def slots(optimizer):
        return [(re.sub(r"variable_\d+", "variable", v.path), tuple(v.shape)) for v in optimizer.variables]
    assert slots(fused) == slots(stock)
    for e, a in zip(stock.variables, fused.variables):
        np.testing.assert_allclose(a.numpy(), e.numpy(), rtol=1e-5, atol=1e-6)


def test_amsgrad_keeps_keras_update():
    expected, _ = _train(keras.optimizers.Adam, learning_rate=1e-2, amsgrad=True)
    answered, _ = _train(FusedAdam, learning_rate=1e-2, amsgrad=True)
    for e, a in zip(expected, answered):
        np.testing.assert_array_equal(a, e)


def test_the_update_runs_one_fused_kernel_per_variable():
    variables = [keras.Variable(np.ones(s, np.float32)) for s in SHAPES]
    optimizer = FusedAdam(learning_rate=1e-2)
    optimizer.build(variables)
    graph = tf.function(lambda grads: optimizer.apply(grads, variables)).get_concrete_function(
        [tf.TensorSpec(s, tf.float32) for s in SHAPES]).graph.as_graph_def()
    ops = [node.op for node in graph.node] + [n.op for f in graph.library.function for n in f.node_def]
    assert ops.count("ResourceApplyAdam") == len(SHAPES)
    assert "Sqrt" not in ops


def test_training_builds_the_fused_optimizer():
    from tinyface.trainer.training import loop
    from tinyface.trainer.training.training_config import paper_config
    assert isinstance(loop.build_optimizer(paper_config("jasrnet"), 100), FusedAdam)
