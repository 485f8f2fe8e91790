"""FLOP counting: the profiler's count plus the batched products it leaves out, each counted once."""

import keras
import numpy as np
from keras import ops

from tinyface.trainer.models import stats


class _SelfScores(keras.layers.Layer):
    """(B, T, D) -> (B, T, T) dot products of every token pair: an Einsum op."""

    def call(self, tokens):
        return ops.einsum("btd,bsd->bts", tokens, tokens)


def test_einsum_products_are_counted_at_two_flops_per_multiply_add():
    tokens = keras.Input((5, 3))
    model = keras.Model(tokens, _SelfScores()(tokens))
    assert stats.forward_flops(model) == 2 * (5 * 5) * 3


def test_products_the_profiler_counts_are_not_counted_twice():
    tokens = keras.Input((4, 8))
    model = keras.Model(tokens, keras.layers.Dense(16, use_bias=False)(tokens))   # a BatchMatMulV2
    assert stats.forward_flops(model) == 2 * (4 * 16) * 8


def test_parameter_count_includes_every_weight():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.BatchNormalization()])
    assert stats.parameter_count(model) == (3 * 2 + 2) + 4 * 2
    assert stats.parameter_count(model) == int(np.sum([np.prod(w.shape) for w in model.weights]))
