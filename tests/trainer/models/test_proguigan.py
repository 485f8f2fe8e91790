"""Pro-UIGAN: output contract, progressive stages, landmark guidance through the cross-modal
attention, shared prior estimator, serialisation, mixed precision; a few adversarial steps on
occluded pairs move both networks; the export answers like the Keras model."""

import dataclasses
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from tinyface.data.degradation import pairs
from tinyface.data.degradation.degrade import DegradationConfig
from tinyface.data.heatmaps import DIC_HEATMAPS
from tinyface.trainer.training import export
from tinyface.trainer.models import registry, proguigan
from tinyface.trainer.models.outputs import HEATMAP_STEPS, SR_STEPS
from tinyface.trainer.training.training_config import paper_config

STEPS = 2


@pytest.fixture(scope="module")
def small_model():
    """One freshly initialised SMALL generator for the read-only tests."""
    keras.utils.set_random_seed(0)
    return proguigan.build(proguigan.SMALL)


def test_outputs_follow_the_contract(small_model, random_images):
    out = small_model(random_images(3))
    stages = proguigan.SMALL.num_stages
    assert stages == 3 and proguigan.SMALL.stage_sizes == (32, 64, 128)
    assert set(out) == {SR_STEPS, HEATMAP_STEPS}
    assert out[SR_STEPS].shape == (3, stages, 128, 128, 3)
    # One heatmap step per stage (the priors that guided it) plus the answer's landmarks.
    assert out[HEATMAP_STEPS].shape == (3, stages + 1, 32, 32, 68)
    assert out[SR_STEPS].dtype == out[HEATMAP_STEPS].dtype == "float32"
    assert proguigan.heatmap_spec(proguigan.SMALL) == DIC_HEATMAPS


def test_untrained_stages_are_the_bilinear_upsampling_chain(small_model, random_images):
    # RGB convs start at zero: stage s returns the input bilinearly doubled s times, and the
    # coarse stages reach SR_STEPS upsampled (bilinear) to 128.
    lr = random_images()
    sr = np.asarray(small_model(lr)[SR_STEPS])
    image = lr
    for stage in range(3):
        image = tf.image.resize(image, (image.shape[1] * 2,) * 2, method="bilinear")
        expected = tf.image.resize(image, (128, 128), method="bilinear")
        np.testing.assert_allclose(sr[:, stage], expected, atol=1e-5)


def _perturb(model, layer_names, value):
    for name in layer_names:
        layer = model.get_layer(name)
        layer.set_weights([np.full_like(w, value) for w in layer.get_weights()])


def test_landmark_priors_guide_the_sr_through_the_attention_only(random_images):
    keras.utils.set_random_seed(1)
    model = proguigan.build(proguigan.SMALL)
    lr = random_images()
    _perturb(model, [f"stage{s}_rgb" for s in (1, 2, 3)], 1e-2)   # stages now add a residual

    def sr_after_changing_the_priors():
        before = np.asarray(model(lr)[SR_STEPS])
        head = model.get_layer("prior_heatmaps")
        kernel, bias = head.get_weights()
        head.set_weights([kernel * 50, bias + 0.5])
        after = np.asarray(model(lr)[SR_STEPS])
        head.set_weights([kernel, bias])
        return np.abs(after - before).max()

    # Attention outputs start at zero: the priors cannot affect the image yet.
    assert sr_after_changing_the_priors() == 0.0
    _perturb(model, [f"stage{s}_attention_out_conv" for s in (1, 2, 3)], 1e-2)
    assert sr_after_changing_the_priors() > 1e-4


def test_one_prior_estimator_reads_every_stage(small_model):
    # Its layers exist once and run on the thumbnail and on each stage's estimate.
    heads = [layer for layer in small_model.layers if layer.name == "prior_heatmaps"]
    assert len(heads) == 1
    resizes = {layer.name for layer in small_model.layers if layer.name.startswith("prior_call")}
    assert resizes == {"prior_call0_resize", "prior_call1_resize", "prior_call3_resize"}  # 64 px needs none


def test_attention_runs_on_the_pooled_grid(small_model):
    # SMALL attends on at most 8x8 = 64 tokens, whatever the stage's resolution.
    for stage in (1, 2, 3):
        assert small_model.get_layer(f"stage{stage}_attention_query_tokens").output.shape[1:] == (64, 16)
        assert small_model.get_layer(f"stage{stage}_attention_key_tokens").output.shape[1:] == (64, 16)
    assert proguigan.REFERENCE.attention_grid ** 2 == 1024


def test_save_load_round_trip(tmp_path, random_images):
    keras.utils.set_random_seed(2)
    model = proguigan.build(proguigan.SMALL)
    for layer in model.layers:
        if layer.name.endswith(("_rgb", "_out_conv", "_conv1")):
            layer.set_weights([w + 0.01 for w in layer.get_weights()])
    path = str(tmp_path / "proguigan.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    lr = random_images()
    for key in (SR_STEPS, HEATMAP_STEPS):
        np.testing.assert_allclose(np.asarray(loaded(lr)[key]), np.asarray(model(lr)[key]), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("bad", [dict(scale=6), dict(stage_features=(8, 8)), dict(attention_grid=64),
                                 dict(attention_grid=12), dict(attention_dim=15), dict(prior_depth=6),
                                 dict(prior_features=18)])
def test_config_rejects_unsupported_options(bad):
    with pytest.raises(ValueError):
        dataclasses.replace(proguigan.SMALL, **bad)


@pytest.fixture(scope="module")
def occluded_pairs(tmp_path_factory, synthetic_faces, write_pair_records):
    """Pairs of 8 synthetic faces, every thumbnail occluded (rectangles, hands, sunglasses)."""
    path = str(tmp_path_factory.mktemp("occluded-pairs") / "pairs.gz")
    config = pairs.PairConfig(degradation=DegradationConfig(occlusion_probability=1.0))
    for pair in write_pair_records(path, synthetic_faces(count=8, seed=11), config):
        assert pair["occluded"] == 1
    return path


@pytest.fixture(scope="module")
def trained(occluded_pairs, tmp_path_factory, training_policy, adversarial_steps):
    """Pro-UIGAN small from scratch, STEPS steps of its paper settings (LSGAN) in the precision
    `auto` picks here (eager: cheaper than tracing for a few steps), then exported. WGAN-GP is exercised in
    test_gan_training: its second derivatives run through the discriminator only."""
    config = paper_config("proguigan", batch_size=2)
    keras.mixed_precision.set_global_policy(training_policy)
    try:
        keras.utils.set_random_seed(0)
        built = registry.build_model("proguigan", "small")
        before, logs = adversarial_steps(built, config, occluded_pairs, STEPS)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    export_dir = str(tmp_path_factory.mktemp("proguigan-export") / "Format-Serving")
    export.export_serving_model(built.network, export_dir, built.contract)
    return dict(built=built, before=before, logs=logs, export_dir=export_dir)


def test_adversarial_steps_move_both_networks_with_finite_losses(trained):
    for logs in trained["logs"]:
        assert {"loss", "pixel", "heatmap", "adversarial", "feature_matching", "d_loss"} <= set(logs)
        assert all(np.isfinite(v) for v in logs.values()), logs
    g_before, d_before = trained["before"]
    built = trained["built"]
    g_changed = {v.path: not np.array_equal(b, v.numpy())
                 for b, v in zip(g_before, built.network.trainable_variables)}
    d_changed = [not np.array_equal(b, v.numpy()) for b, v in zip(d_before, built.discriminator.trainable_variables)]
    # Layers feeding a zero-initialised output (the attention internals before their output
    # conv, the first conv of each residual block) get an exactly zero gradient on the first
    # step and, on the second, one so small (~1e-10) that Adam's epsilon keeps its update
    # below float32 resolution; they start moving once those outputs have grown. Every
    # other weight moves from the first steps on.
    deferred = re.compile(r"^stage\d_attention_(?!out_conv)|^(head|stage\d)_res\d+_conv0/")
    moving = {name: changed for name, changed in g_changed.items() if not deferred.search(name)}
    assert len(moving) > 0.5 * len(g_changed)
    assert all(moving.values()), [name for name, changed in moving.items() if not changed]
    for name in ("stage1_rgb/kernel", "stage3_rgb/kernel", "stage2_attention_out_conv/kernel",
                 "prior_heatmaps/kernel", "head_conv/kernel", "stage3_up_conv/kernel"):
        assert moving[name], name
    assert all(d_changed)


def test_export_answers_like_the_keras_model(trained, assert_export_answers_like, random_images):
    assert_export_answers_like(trained["built"].network, trained["export_dir"], random_images(3, seed=4))
