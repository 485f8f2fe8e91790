"""JASRNet: output contract, reference size, serialisation, mixed precision, trainability."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from tinyface.data.heatmaps import jasrnet_heatmaps, render_heatmaps
from tinyface.trainer.models import jasrnet, stats
from tinyface.trainer.models.outputs import HEATMAP_STEPS, OUTPUT_KEYS, SR_STEPS

# Reference figure (REFERENCE.md): 19.89 M parameters at n_feats 128, 32 residual blocks.
REFERENCE_PARAMS = 19.89e6


def _conv_params(cin, cout):
    return 9 * cin * cout + cout


def _expected_params(c):
    """Parameters of the reference layout, counted conv by conv from src/model/jasr.py."""
    n, maps = c.n_feats, c.num_landmarks + 1
    block = 2 * _conv_params(n, n)
    total = _conv_params(3, n)                                       # head
    total += sum(c.encoder_resblocks) * block + 3 * _conv_params(n, n)   # levels + stride-2 fusion
    total += c.n_resblocks * block                                   # trunk
    total += c.sr_resblocks * block + _conv_params(n, n)             # SR features
    total += 3 * _conv_params(n, n)                                  # long skip (3 x conv + pool)
    total += 3 * _conv_params(n, 4 * n) + _conv_params(n, 3)         # x8 upsampler + RGB conv
    total += c.cpm_feature_resblocks * block + _conv_params(n, n)    # CPM shared features
    total += c.cpm_first_stage_resblocks * block + _conv_params(n, maps)
    total += (c.cpm_stages - 1) * (_conv_params(n + maps, n)
                                   + c.cpm_later_stage_resblocks * block
                                   + _conv_params(n, maps))
    return total


def _lr_batch(config, batch=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (batch, config.lr_size, config.lr_size, 3)).astype("float32")


def test_small_outputs_follow_the_contract():
    config = jasrnet.SMALL
    model = jasrnet.build(config)
    outputs = model(_lr_batch(config, batch=2))
    spec = jasrnet.heatmap_spec(config)
    assert set(outputs) == set(OUTPUT_KEYS)
    assert tuple(outputs[SR_STEPS].shape) == (2, 1, 128, 128, 3)
    assert tuple(outputs[HEATMAP_STEPS].shape) == (2, config.cpm_stages, 16, 16, 69)
    assert (spec.size, spec.num_channels(config.num_landmarks)) == (16, 69)
    for value in outputs.values():
        assert value.dtype == tf.float32
        assert np.all(np.isfinite(value.numpy()))
    # Zero-initialised biases and tiny kernels: the paper's de-normalised output starts near
    # the mean colour, i.e. inside [0, 1], not at the reference's (x + mean) / std ~ 2.
    paper_output = jasrnet.build(dataclasses.replace(config, global_residual=False))(_lr_batch(config, batch=2))
    assert 0.3 < float(tf.reduce_mean(paper_output[SR_STEPS])) < 0.6


def test_other_sizes_keep_the_hr_over_8_grid():
    config = dataclasses.replace(jasrnet.SMALL, hr_size=64, scale=4, cpm_stages=1)
    outputs = jasrnet.build(config)(_lr_batch(config, batch=1))
    assert tuple(outputs[SR_STEPS].shape) == (1, 1, 64, 64, 3)
    assert tuple(outputs[HEATMAP_STEPS].shape) == (1, 1, 8, 8, 69)
    assert jasrnet.heatmap_spec(config) == jasrnet_heatmaps(64, config.heatmap_sigma)
    assert jasrnet.heatmap_spec(jasrnet.REFERENCE) == jasrnet_heatmaps(128)   # the paper's sigma 4


@pytest.mark.parametrize("changes", [dict(hr_size=100), dict(scale=3), dict(n_feats=0),
                                     dict(encoder_resblocks=(1, 1, 1)), dict(cpm_stages=0)])
def test_invalid_configs_are_rejected(changes):
    with pytest.raises(ValueError):
        dataclasses.replace(jasrnet.SMALL, **changes)


def test_reference_parameter_count():
    model = jasrnet.build(jasrnet.REFERENCE)
    params = model.count_params()
    assert params == _expected_params(jasrnet.REFERENCE)
    assert abs(params - REFERENCE_PARAMS) / REFERENCE_PARAMS < 0.05
    # Every weight trains: the input/output mean shift is constant, not a frozen conv.
    assert not model.non_trainable_weights


def test_small_parameter_count_follows_the_layout():
    assert jasrnet.build(jasrnet.SMALL).count_params() == _expected_params(jasrnet.SMALL)


def test_keras_save_load_json_and_clone_round_trip(tmp_path):
    # Larger kernels than the default so that every weight visibly affects the outputs.
    config = dataclasses.replace(jasrnet.SMALL, init_stddev=0.05)
    model = jasrnet.build(config)
    lr = _lr_batch(config, batch=2, seed=1)
    expected = model(lr)

    path = tmp_path / "jasrnet.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    for key, value in loaded(lr).items():
        np.testing.assert_allclose(value.numpy(), expected[key].numpy(), rtol=1e-5, atol=1e-7)

    rebuilt = keras.models.model_from_json(model.to_json())
    rebuilt.set_weights(model.get_weights())
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    for copy in (rebuilt, clone):
        for key, value in copy(lr).items():
            np.testing.assert_allclose(value.numpy(), expected[key].numpy(),
                                       rtol=1e-5, atol=1e-7)


def test_mixed_bfloat16_computes_in_bfloat16_and_returns_float32(mixed_bfloat16):
    config = dataclasses.replace(jasrnet.SMALL, init_stddev=0.05)
    keras.mixed_precision.set_global_policy("float32")
    reference = jasrnet.build(config)
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    model = jasrnet.build(config)
    model.set_weights(reference.get_weights())
    conv = model.get_layer("trunk_rb0_conv1")
    assert conv.compute_dtype == "bfloat16" and conv.variable_dtype == "float32"

    lr = _lr_batch(config, batch=2)
    outputs = model(lr)
    expected = reference(lr)
    for key in OUTPUT_KEYS:
        assert outputs[key].dtype == tf.float32
        assert np.all(np.isfinite(outputs[key].numpy()))
    # bfloat16 keeps ~3 significant digits; the float32 model is the ground truth.
    np.testing.assert_allclose(outputs[SR_STEPS].numpy(), expected[SR_STEPS].numpy(), atol=0.05)


def test_fixed_signature_graph_is_fully_shaped_for_flop_counting():
    config = jasrnet.SMALL
    model = jasrnet.build(config)
    concrete = tf.function(model).get_concrete_function(
        tf.TensorSpec([1, config.lr_size, config.lr_size, 3], tf.float32))
    lr = _lr_batch(config, batch=1)
    expected = model(lr)
    for key, value in concrete(tf.constant(lr)).items():
        np.testing.assert_allclose(value.numpy(), expected[key].numpy(), rtol=1e-5, atol=1e-7)

    flops = stats.forward_flops(model)
    conv_macs = sum(
        np.prod(layer.output.shape[1:]) * 9 * layer.input.shape[-1]
        for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
    # 2 FLOPs per multiply-add for every conv, plus a little for bias, adds and pooling; an
    # unshaped node would be counted as 0 and pull the total below 2 x MACs.
    assert 2 * conv_macs <= flops <= 1.01 * 2 * conv_macs


def test_few_adam_steps_reduce_l1_plus_heatmap_mse():
    keras.utils.set_random_seed(0)
    config = jasrnet.SMALL
    model = jasrnet.build(config)
    rng = np.random.default_rng(0)
    # A smooth HR face stand-in, its LR version, and Gaussian heatmaps of random landmarks:
    # the value ranges of real batches, so the step sizes below are the ones training sees.
    hr = tf.image.resize(rng.uniform(0, 1, (2, 16, 16, 3)).astype("float32"), (128, 128),
                         method="bicubic")
    lr = tf.image.resize(hr, (config.lr_size, config.lr_size), method="area")
    landmarks = rng.uniform(20, 108, (2, config.num_landmarks, 2)).astype("float32")
    heatmaps = render_heatmaps(landmarks, config.hr_size, jasrnet.heatmap_spec(config))
    optimizer = keras.optimizers.Adam(1e-3)

    def losses():
        outputs = model(lr, training=True)
        pixel = tf.reduce_mean(tf.abs(outputs[SR_STEPS] - hr[:, None]))
        # Summed over CPM stages, every stage against the same target, as the reference.
        squared = tf.square(outputs[HEATMAP_STEPS] - heatmaps[:, None])
        return pixel, tf.reduce_sum(tf.reduce_mean(squared, axis=[0, 2, 3, 4]))

    # Eager steps: tracing the gradient graph once costs more than these few steps.
    pixel_before, heatmap_before = losses()
    for _ in range(4):
        with tf.GradientTape() as tape:
            loss = tf.add_n(losses())
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
    pixel_after, heatmap_after = losses()

    before = float(pixel_before + heatmap_before)
    after = float(pixel_after + heatmap_after)
    assert np.isfinite(after)
    assert after < 0.98 * before
    # Both heads learn: the SR branch gets gradient too, not only the dominant heatmap loss.
    assert float(pixel_after) < float(pixel_before)
    assert float(heatmap_after) < float(heatmap_before)


@pytest.mark.parametrize("global_residual", [False, True])
def test_global_residual_starts_from_the_bicubic_image(global_residual):
    config = dataclasses.replace(jasrnet.SMALL, global_residual=global_residual)
    model = jasrnet.build(config)
    # With every weight 0 the SR head outputs 0: the network's answer is what it adds it to.
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    lr = _lr_batch(config, batch=2)
    sr = model(lr)[SR_STEPS][:, -1].numpy()
    if global_residual:
        bicubic = tf.image.resize(lr, (config.hr_size, config.hr_size), method="bicubic").numpy()
        np.testing.assert_allclose(sr, bicubic, atol=1e-6)
    else:
        # The paper's output: de-normalised zeros, i.e. the ImageNet mean colour everywhere.
        np.testing.assert_allclose(sr, np.broadcast_to(jasrnet.IMAGENET_MEAN, sr.shape), atol=1e-6)
    assert model.count_params() == jasrnet.build(dataclasses.replace(config, global_residual=False)).count_params()
