"""DIC: output contract, reference size, serialisation, mixed precision, stability from scratch."""

import dataclasses
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tinyface.data.ingestion.annotation import FaceAnnotation
from tinyface.data.ingestion.crop import crop_face
from tinyface.data.degradation.degrade import bicubic_resize
from tinyface.data.heatmaps import DIC_HEATMAPS, render_heatmaps
from tinyface.data.image_io import load_rgb
from tinyface.data.ingestion.readers import get_reader
from tinyface.trainer.models import concat_conv, dic
from tinyface.trainer.models.outputs import HEATMAP_STEPS, SR_STEPS

PAPER_PARAMS = 21.80e6
# REFERENCE depth (4 steps, 6 groups, 7 fusion blocks, 4-level hourglass) at small width.
DEEP_NARROW = dataclasses.replace(dic.REFERENCE, num_features=8, hg_features=16)


@pytest.fixture(scope="module")
def small_model():
    """One freshly initialised SMALL model for the read-only tests (building costs seconds)."""
    return dic.build(dic.SMALL)


def test_small_outputs_follow_the_contract(small_model, random_images):
    out = small_model(random_images(3))
    steps, size = dic.SMALL.num_steps, dic.heatmap_spec(dic.SMALL).size
    assert set(out) == {SR_STEPS, HEATMAP_STEPS}
    assert out[SR_STEPS].shape == (3, steps, 128, 128, 3)
    assert out[HEATMAP_STEPS].shape == (3, steps, size, size, 68)
    assert out[SR_STEPS].dtype == out[HEATMAP_STEPS].dtype == "float32"


def test_heatmap_spec_is_dics():
    assert dic.heatmap_spec(dic.REFERENCE) == DIC_HEATMAPS
    assert dic.heatmap_spec(dataclasses.replace(dic.SMALL, hr_size=64)).size == 16


def test_every_step_starts_from_the_bilinear_upsampling(small_model, random_images):
    # conv_out starts at zero, so at init every step returns the bilinear x8 residual path.
    lr = random_images()
    sr = np.asarray(small_model(lr)[SR_STEPS])
    bilinear = np.asarray(tf.image.resize(lr, (128, 128), method="bilinear"))
    for step in range(dic.SMALL.num_steps):
        np.testing.assert_allclose(sr[:, step], bilinear, atol=1e-5)


def test_part_merge_normalises_each_map_and_sums_by_part():
    parts = dic.SMALL.face_parts
    merge = dic.blocks.HeatmapPartMerge(parts, 68)
    heatmaps = np.zeros((1, 4, 4, 68), np.float32)
    heatmaps[0, 1, 2, 36] = 3.0      # a left-eye map peaking at 3: normalised to 1
    heatmaps[0, 0, 0, 30] = 0.01     # a weak nose map: divided by the 0.05 floor, not its peak
    merged = np.asarray(merge(heatmaps))
    assert merged.shape == (1, 4, 4, 5)
    assert merged[0, 1, 2, 0] == pytest.approx(1.0)
    assert merged[0, 0, 0, 2] == pytest.approx(0.2)
    assert merged.sum() == pytest.approx(1.2)


def test_heatmaps_guide_sr_from_the_second_step_on(random_images):
    model = dic.build(dic.SMALL)
    lr = random_images()
    conv_out = model.get_layer("conv_out")
    conv_out.set_weights([np.full_like(w, 0.05) for w in conv_out.get_weights()])
    before = np.asarray(model(lr)[SR_STEPS])
    head = model.get_layer("hg_heatmaps")
    kernel, bias = head.get_weights()
    head.set_weights([kernel * 100, bias])   # only the heatmaps change
    after = np.asarray(model(lr)[SR_STEPS])
    np.testing.assert_array_equal(after[:, 0], before[:, 0])
    assert np.abs(after[:, 1] - before[:, 1]).max() > 1e-4


def test_reference_size_matches_the_paper():
    model = dic.build(dic.REFERENCE)
    params = model.count_params()
    assert abs(params - PAPER_PARAMS) / PAPER_PARAMS < 0.05
    # Without our GroupNorm layers the structure is the reference's own: within 0.1%.
    norm_params = sum(w.shape.num_elements() if hasattr(w.shape, "num_elements")
                      else int(np.prod(w.shape))
                      for layer in model.layers
                      if isinstance(layer, keras.layers.GroupNormalization)
                      for w in layer.weights)
    assert norm_params > 0
    assert abs(params - norm_params - PAPER_PARAMS) / PAPER_PARAMS < 0.001


def test_save_load_round_trip(tmp_path, random_images):
    model = dic.build(dic.SMALL)
    # Perturb the zero-initialised convs so the round trip compares non-trivial outputs.
    for layer in model.layers:
        if layer.name == "conv_out" or layer.name.endswith("_conv1"):
            layer.set_weights([w + 0.01 for w in layer.get_weights()])
    lr = random_images()
    path = str(tmp_path / "dic.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    before, after = model(lr), loaded(lr)
    for key in (SR_STEPS, HEATMAP_STEPS):
        np.testing.assert_allclose(np.asarray(after[key]), np.asarray(before[key]),
                                   rtol=1e-5, atol=1e-5)


def test_mixed_bfloat16_outputs_float32(mixed_bfloat16, random_images):
    model = dic.build(dic.SMALL)
    out = model(random_images())
    assert out[SR_STEPS].dtype == out[HEATMAP_STEPS].dtype == "float32"
    assert np.isfinite(np.asarray(out[SR_STEPS])).all()
    assert np.isfinite(np.asarray(out[HEATMAP_STEPS])).all()
    assert any(layer.compute_dtype == "bfloat16" for layer in model.layers)


def test_traces_with_a_fixed_signature(small_model):
    concrete = tf.function(small_model).get_concrete_function(tf.TensorSpec([1, 16, 16, 3]))
    ops = {op.type for op in concrete.graph.get_operations()}
    # The projections' stride-1 convs and pixel shuffles are in the graph itself, where the
    # FLOP profiler counts them.
    assert {"DepthToSpace", "Conv2D"} <= ops
    assert not ops & {"PartitionedCall", "StatefulPartitionedCall"}   # nothing hidden


def _deep_narrow_run(hourglass_norm, lr):
    """Per-step heatmap peaks and hidden-state RMS of DEEP_NARROW at init, one forward pass on lr."""
    config = dataclasses.replace(DEEP_NARROW, hourglass_norm=hourglass_norm)
    model = dic.build(config)
    hidden = [model.get_layer(f"hg_step{s}_hidden").output for s in range(config.num_steps - 1)]
    out, hidden = keras.Model(model.input, [model.output, hidden])(lr)
    peaks = np.abs(np.asarray(out[HEATMAP_STEPS])).max(axis=(0, 2, 3, 4))
    return peaks, np.array([np.sqrt(np.mean(np.square(h))) for h in hidden])


def test_heatmaps_and_hidden_state_stay_bounded_across_steps_at_reference_depth(random_images):
    peaks, hidden_rms = _deep_narrow_run("group", random_images())
    assert (peaks < 100).all(), peaks
    assert hidden_rms.max() < 2 * hidden_rms.min(), hidden_rms


def test_reference_hourglass_without_norm_diverges_across_steps(random_images):
    # The check above can fail: the reference's un-normalised hourglass blows up (the
    # documented ~5e4 -> ~3e12 heatmap peaks), compounding every step.
    peaks, hidden_rms = _deep_narrow_run(None, random_images())
    assert peaks[-1] > 100 * peaks[0] and peaks[-1] > 100, peaks
    assert hidden_rms[-1] > 100 * hidden_rms[0], hidden_rms


def _real_face_batch(real_faces):
    """The two real 300W faces: HR crops in [0, 1], 16x16 bicubic LR, HR-pixel landmarks."""
    folder = os.path.join(real_faces, "superviseddescent_ibug_lfpw_trainset")
    faces = [face for face in get_reader("300w").parse_root(folder)
             if isinstance(face, FaceAnnotation)]
    crops = [crop_face(load_rgb(face.image_path), face) for face in faces]
    hr = np.stack([c.image for c in crops]).astype(np.float32) / 255
    lr = np.stack([bicubic_resize(c.image, 16) for c in crops]).astype(np.float32) / 255
    return lr, hr, np.stack([c.landmarks for c in crops]).astype(np.float32)


def test_few_adam_steps_reduce_the_paper_loss(real_faces):
    keras.utils.set_random_seed(1)
    lr, hr, landmarks = _real_face_batch(real_faces)
    assert len(lr) == 2
    model = dic.build(dic.SMALL)
    target_heatmaps = render_heatmaps(landmarks, 128, dic.heatmap_spec(dic.SMALL))
    # 30x the paper's lr (1e-4): few steps must show progress, and must not blow up.
    optimizer = keras.optimizers.Adam(3e-3)

    def train_step():
        with tf.GradientTape() as tape:
            out = model(lr, training=True)
            # The paper's loss, summed over steps: L1 on SR + 0.1 x MSE on heatmaps.
            sr_loss = tf.reduce_sum(tf.reduce_mean(
                tf.abs(out[SR_STEPS] - hr[:, None]), axis=[0, 2, 3, 4]))
            hm_loss = tf.reduce_sum(tf.reduce_mean(
                tf.square(out[HEATMAP_STEPS] - target_heatmaps[:, None]), axis=[0, 2, 3, 4]))
            loss = sr_loss + 0.1 * hm_loss
        grads = tape.gradient(loss, model.trainable_variables)
        assert all(g is not None for g in grads)
        optimizer.apply(grads, model.trainable_variables)
        return float(loss)

    # Eager on purpose: tracing the train step costs more than these few steps on CPU.
    losses = [train_step() for _ in range(6)]
    assert np.isfinite(losses).all(), losses
    assert losses[-1] < 0.997 * losses[0], losses


@pytest.mark.parametrize("bad", [dict(scale=4), dict(hourglass_norm="batch"),
                                 dict(face_parts=((0, 1),))])
def test_config_rejects_unsupported_options(bad):
    with pytest.raises(ValueError):
        dataclasses.replace(dic.SMALL, **bad)


def _stock_deconv_prelu(filters, kernel_size, stride, crop, name, packed=False):
    """The projections as first written (Conv2DTranspose + Cropping2D): the rewrite's yardstick.
    They keep the maps in image order whatever `packed` our feedback block asks for."""
    return dic.blocks.Sequence(
        keras.layers.Conv2DTranspose(filters, kernel_size, strides=stride, padding="valid",
                                     kernel_initializer="he_normal", name=f"{name}_deconv"),
        keras.layers.Cropping2D(crop, name=f"{name}_crop"),
        dic.blocks.prelu(f"{name}_prelu"))


def _stock_strided_conv_prelu(filters, kernel_size, stride, pad, name, packed=False):
    return dic.blocks.Sequence(
        keras.layers.ZeroPadding2D(pad, name=f"{name}_pad"),
        keras.layers.Conv2D(filters, kernel_size, strides=stride, padding="valid",
                            kernel_initializer="he_normal", name=f"{name}_conv"),
        dic.blocks.prelu(f"{name}_prelu"))


class _StockDenseLink:
    """A feedback block's dense link as first written: Concatenate, then a 1x1 conv + PReLU."""

    def __init__(self, filters, name):
        self.conv = dic.blocks.conv_prelu(filters, 1, name)

    def __call__(self, pieces):
        return self.conv(pieces[0] if len(pieces) == 1 else keras.layers.Concatenate()(pieces))


def test_rewritten_projections_give_the_stock_layers_model_exactly(monkeypatch, tmp_path, random_images):
    """Weights saved by a DIC built with the stock Keras layers (transposed and strided
    projections, concatenated dense links) load into ours (same parameters) and give the same
    outputs, values and gradients."""
    config = dataclasses.replace(dic.SMALL, num_groups=3)
    with monkeypatch.context() as patch:
        patch.setattr(dic.blocks, "deconv_prelu", _stock_deconv_prelu)
        patch.setattr(dic.blocks, "strided_conv_prelu", _stock_strided_conv_prelu)
        patch.setattr(dic.blocks, "concat_conv_prelu", _StockDenseLink)
        stock = dic.build(config)
    ours = dic.build(config)
    # Two feedback blocks, each: compress_in, compress_out, G - 1 up and G - 1 down transitions.
    for model, links in ((stock, 0), (ours, 2 * (2 + 2 * (config.num_groups - 1)))):
        assert sum(isinstance(layer, concat_conv.Conv2D) for layer in model.layers) == links
    assert ours.count_params() == stock.count_params()
    # Non-zero conv_out, so every projection shows in the SR output.
    stock.get_layer("conv_out").set_weights([np.full_like(w, 0.05) for w in stock.get_layer("conv_out").get_weights()])
    path = str(tmp_path / "stock.weights.h5")
    stock.save_weights(path)
    ours.load_weights(path)
    lr = tf.constant(random_images(2, seed=3))
    grads = []
    for model in (stock, ours):
        with tf.GradientTape() as tape:
            out = model(lr, training=True)
            loss = tf.reduce_sum(out[SR_STEPS] ** 2) + tf.reduce_sum(out[HEATMAP_STEPS] ** 2)
        grads.append((out, dict(zip([v.path for v in model.trainable_weights],
                                    tape.gradient(loss, model.trainable_weights)))))
    (stock_out, stock_grads), (our_out, our_grads) = grads
    for key in (SR_STEPS, HEATMAP_STEPS):
        np.testing.assert_allclose(np.asarray(our_out[key]), np.asarray(stock_out[key]), rtol=1e-4, atol=1e-5)
    assert set(our_grads) == set(stock_grads)
    # float32 sums in another order: compare at the scale of the largest gradient (biases
    # right before a GroupNorm have a true gradient of zero and only rounding noise).
    scale = max(float(np.abs(np.asarray(g)).max()) for g in stock_grads.values())
    for name, grad in stock_grads.items():
        np.testing.assert_allclose(np.asarray(our_grads[name]), np.asarray(grad), rtol=1e-3,
                                   atol=1e-6 * scale, err_msg=name)
