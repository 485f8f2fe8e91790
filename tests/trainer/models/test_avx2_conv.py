"""avx2_conv.Conv2D: images convolved as their two half-height halves, and kernel gradients
computed as one GEMM, give keras.layers.Conv2D's results; only the convolutions meant for it
are rewritten, and only inside the rewrite's scope."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tinyface.trainer.models import avx2_conv


def _pair(filters, kernel_size, strides, input_shape, activation=None):
    """(ours, stock) built for `input_shape`, with the same weights (biases non-zero)."""
    ours = avx2_conv.Conv2D(filters, kernel_size, strides=strides, padding="same",
                                 activation=activation)
    stock = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding="same",
                                activation=activation)
    ours.build(input_shape)
    stock.build(input_shape)
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=w.shape).astype("float32") for w in stock.get_weights()]
    ours.set_weights(weights)
    stock.set_weights(weights)
    return ours, stock


def _graph_conv_batches(function, tensor):
    """The batch sizes of the Conv2D ops in `function`'s graph for `tensor`, traced inside
    splitting_images()."""
    with avx2_conv.splitting_images():
        graph = tf.function(function).get_concrete_function(tensor).graph
    return [op.inputs[0].shape[0] for op in graph.get_operations() if op.type == "Conv2D"]


@pytest.mark.parametrize("kernel_size, strides, shape", [
    (3, 1, (1, 32, 20, 64)),    # JASRNet's 3x3 convs, serving one face
    (3, 1, (3, 32, 20, 64)),    # ... or a batch
    (3, 2, (1, 64, 64, 64)),    # its stride-2 fusion convs: 'same' pads only below and right
    (3, 2, (1, 32, 31, 64)),    # an odd width: the columns' padding differs from the rows'
    (4, 2, (1, 32, 30, 64)),    # an even kernel: the margins above and below differ
    (5, 1, (1, 16, 9, 64)),     # a margin of two rows, at the smallest split size
])
def test_images_split_in_halves_give_the_stock_convolution(kernel_size, strides, shape):
    ours, stock = _pair(64, kernel_size, strides, shape, activation="relu")
    assert ours.splits(shape)
    images = tf.constant(np.random.default_rng(1).normal(size=shape), tf.float32)
    # The split graph convolves twice the batch (the halves); the stock one the batch.
    assert _graph_conv_batches(ours, images) == [2 * shape[0]]
    assert _graph_conv_batches(stock, images) == [shape[0]]
    expected = stock(images).numpy()
    with avx2_conv.splitting_images():
        got = tf.function(ours)(images).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)


def test_halves_with_the_wrong_margins_are_detectably_wrong():
    # The comparison above can fail: one row too few above the halves changes the output.
    shape = (1, 32, 8, 64)
    ours, stock = _pair(64, 3, 1, shape)
    images = tf.constant(np.random.default_rng(2).normal(size=shape), tf.float32)
    halves = avx2_conv.stack_row_halves(images, 0, 2)
    wrong = avx2_conv.join_row_halves(tf.nn.bias_add(
        tf.nn.conv2d(halves, ours.kernel, 1, [[0, 0], [0, 0], [1, 1], [0, 0]]), ours.bias))
    assert np.abs(wrong.numpy() - stock(images).numpy()).max() > 1.0


def test_stacked_halves_carry_their_neighbours_rows_and_zeros_at_the_border():
    images = tf.reshape(tf.range(1, 9, dtype=tf.float32), (1, 8, 1, 1))   # rows 1..8
    halves = avx2_conv.stack_row_halves(images, 1, 2)
    np.testing.assert_array_equal(halves.numpy()[..., 0, 0], [[0, 1, 2, 3, 4, 5, 6],
                                                              [4, 5, 6, 7, 8, 0, 0]])
    joined = avx2_conv.join_row_halves(tf.reshape(images, (2, 4, 1, 1)))
    np.testing.assert_array_equal(joined.numpy(), images.numpy())


@pytest.mark.parametrize("size, kernel, stride, padding", [
    (16, 3, 1, (1, 1)), (16, 3, 2, (0, 1)), (15, 3, 2, (1, 1)), (16, 4, 2, (1, 1)), (16, 1, 1, (0, 0)),
])
def test_same_padding_is_tensorflows(size, kernel, stride, padding):
    assert avx2_conv.same_padding(size, kernel, stride) == padding
    # What TF computes: 'SAME' equals the explicit padding on that axis.
    images = tf.random.normal((1, size, 1, 1))
    kernels = tf.random.normal((kernel, 1, 1, 1))
    np.testing.assert_allclose(
        tf.nn.conv2d(images, kernels, stride, "SAME").numpy(),
        tf.nn.conv2d(images, kernels, stride, [[0, 0], list(padding), [0, 0], [0, 0]]).numpy(), rtol=1e-6)


def test_the_stock_convolution_runs_outside_splitting_images():
    shape = (1, 32, 20, 64)
    ours, _ = _pair(64, 3, 1, shape)
    assert ours.splits(shape)
    graph = tf.function(ours).get_concrete_function(tf.TensorSpec(shape)).graph
    assert [op.inputs[0].shape[0] for op in graph.get_operations() if op.type == "Conv2D"] == [1]


def test_the_scopes_nest_and_end():
    with avx2_conv.splitting_images():
        with avx2_conv.splitting_images():
            pass
        assert avx2_conv.rewrite.value == "split"
        with avx2_conv.gemm_kernel_gradients():
            assert avx2_conv.rewrite.value == "gemm"
        assert avx2_conv.rewrite.value == "split"
    assert avx2_conv.rewrite.value is None


def test_only_large_maps_through_same_convs_are_split():
    conv = _pair(64, 3, 1, (None, 16, 16, 64))[0]
    assert conv.splits((1, 16, 16, 64))
    assert conv.splits((None, 16, 16, 64))        # a batch of any size
    assert not conv.splits((1, None, 16, 64))     # rows unknown when traced
    assert not conv.splits((1, 8, 8, 64))         # fewer rows than MIN_ROWS
    assert not conv.splits((1, 16, 16, 32))       # fewer input channels than MIN_CHANNELS
    assert not _pair(32, 3, 1, (None, 16, 16, 64))[0].splits((1, 16, 16, 64))   # fewer filters
    assert not conv.splits((1, 17, 16, 64))       # odd rows: no two equal halves
    assert not _pair(64, 3, 2, (None, 18, 18, 64))[0].splits((1, 18, 18, 64))   # halves of 9 rows at stride 2
    assert not _pair(64, 1, 1, (None, 16, 16, 64))[0].splits((1, 16, 16, 64))   # 1x1: a GEMM anyway
    valid = avx2_conv.Conv2D(64, 3, padding="valid")
    valid.build((None, 16, 16, 64))
    assert not valid.splits((1, 16, 16, 64))


def test_weights_files_of_stock_conv2d_models_load_and_back(tmp_path):
    # Keras addresses weights by class name and rank: ours must be addressed as the stock layer.
    def model(conv_class):
        inputs = keras.Input((16, 16, 64))
        x = conv_class(64, 3, padding="same")(inputs)
        return keras.Model(inputs, conv_class(8, 3, padding="same")(keras.layers.ReLU()(x)))

    stock, ours = model(keras.layers.Conv2D), model(avx2_conv.Conv2D)
    stock.save_weights(str(tmp_path / "stock.weights.h5"))
    ours.load_weights(str(tmp_path / "stock.weights.h5"))
    for a, b in zip(stock.get_weights(), ours.get_weights()):
        np.testing.assert_array_equal(a, b)
    ours.save_weights(str(tmp_path / "ours.weights.h5"))
    fresh_stock = model(keras.layers.Conv2D)
    fresh_stock.load_weights(str(tmp_path / "ours.weights.h5"))
    for a, b in zip(ours.get_weights(), fresh_stock.get_weights()):
        np.testing.assert_array_equal(a, b)


def _assert_gemm_kernel_gradient_is_stock(kernel_size, shape, tolerance):
    ours, stock = _pair(64, kernel_size, 1, shape, activation="relu")
    assert ours.gemm_gradient(shape)
    images = tf.constant(np.random.default_rng(4).normal(size=shape), tf.float32)

    def gradients(layer):
        with tf.GradientTape() as tape:
            tape.watch(images)
            loss = tf.reduce_sum(tf.square(tf.cast(layer(images), tf.float32)))
        return tape.gradient(loss, [images, layer.kernel, layer.bias])

    with avx2_conv.gemm_kernel_gradients():
        got = tf.function(lambda: gradients(ours))()
    expected = gradients(stock)
    for name, a, b in zip(("image", "kernel", "bias"), got, expected):
        assert a is not None, name
        scale = float(tf.reduce_max(tf.abs(b)))
        difference = float(tf.reduce_max(tf.abs(tf.cast(a, tf.float32) - tf.cast(b, tf.float32))))
        assert difference <= tolerance * scale, name


@pytest.mark.parametrize("kernel_size, shape", [
    (3, (2, 32, 12, 64)),    # JASRNet's convs, a training batch
    (4, (1, 32, 9, 64)),     # an even kernel: 'same' pads one more after
])
def test_the_gemm_kernel_gradient_is_the_stock_gradient(kernel_size, shape):
    _assert_gemm_kernel_gradient_is_stock(kernel_size, shape, 1e-4)


def test_the_gemm_kernel_gradient_in_bf16_is_the_stock_gradient(mixed_bfloat16):
    # Forced bf16: the GEMM runs in bf16 as the convolution does (to bf16's rounding).
    _assert_gemm_kernel_gradient_is_stock(3, (2, 32, 16, 64), 3e-2)


def test_only_large_maps_take_the_gemm_kernel_gradient():
    conv = _pair(64, 3, 1, (None, 32, 16, 64))[0]
    assert conv.gemm_gradient((2, avx2_conv.MIN_GEMM_GRADIENT_ROWS, 16, 64))
    assert not conv.gemm_gradient((2, avx2_conv.MIN_GEMM_GRADIENT_ROWS // 2, 16, 64))
    assert not conv.gemm_gradient((2, 32, 16, 32))          # fewer channels than MIN_CHANNELS
    assert not _pair(64, 3, 2, (None, 32, 32, 64))[0].gemm_gradient((2, 32, 32, 64))   # stride 2


def test_the_gemm_kernel_gradient_graph_has_no_stock_kernel_gradient():
    shape = (2, 32, 16, 64)
    ours, stock = _pair(64, 3, 1, shape)
    images = tf.random.normal(shape)

    def op_types(layer):
        def step(images):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(layer(images))
            return tape.gradient(loss, layer.kernel)
        return {op.type for op in tf.function(step).get_concrete_function(images).graph.get_operations()}

    with avx2_conv.gemm_kernel_gradients():
        rewritten = op_types(ours)
    assert "Conv2DBackpropFilter" not in rewritten and "MatMul" in rewritten
    assert "Conv2DBackpropFilter" in op_types(stock)
    assert "Conv2DBackpropFilter" in op_types(ours)     # outside the scope: the stock layer


@pytest.mark.parametrize("kernel_shape, images_shape", [
    ((3, 3, 5, 7), (2, 9, 6, 5)),     # JASRNet's kernel; wider padded rows than images
    ((4, 2, 3, 4), (3, 5, 7, 3)),     # even sizes: 'same' pads one more after
    ((1, 3, 2, 2), (1, 4, 4, 2)),
    ((5, 5, 2, 3), (2, 3, 3, 2)),     # a kernel larger than the image
])
def test_the_kernel_gradient_by_row_shifts_is_tensorflows(kernel_shape, images_shape):
    rng = np.random.default_rng(5)
    images = tf.constant(rng.normal(size=images_shape), tf.float32)
    gradient = tf.constant(rng.normal(size=images_shape[:3] + kernel_shape[3:]), tf.float32)
    got = avx2_conv.kernel_gradient_by_row_shifts(images, gradient, kernel_shape)
    expected = tf.raw_ops.Conv2DBackpropFilter(input=images, filter_sizes=kernel_shape,
                                               out_backprop=gradient, strides=[1, 1, 1, 1],
                                               padding="SAME")
    assert got.shape == kernel_shape
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
