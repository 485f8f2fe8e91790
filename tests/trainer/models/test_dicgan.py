"""DICGAN: the generator is DIC and starts from a DIC run's weights; a few adversarial steps move
both networks with finite losses; the export answers like the Keras model; config and registry."""

import dataclasses
import logging
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tinyface.trainer.models import (dic, dicgan, discriminator, jasrnet, registry as model_registry, network_weights)
from tinyface.trainer.training import export, task
from tinyface.trainer.training.training_config import TrainingConfig, paper_config

STEPS = 2


@pytest.fixture(scope="module")
def dic_artifact(tmp_path_factory):
    """A DIC run's Model artifact as far as DICGAN needs it: the weights beside the export.
    Returns (artifact folder, the DIC network). The zero-initialised output conv is perturbed
    so that outputs depend on every weight loaded."""
    keras.utils.set_random_seed(3)
    network = dic.build(dic.SMALL)
    conv_out = network.get_layer("conv_out")
    conv_out.set_weights([w + 0.01 for w in conv_out.get_weights()])
    artifact = tmp_path_factory.mktemp("dic-model")
    network_weights.save_beside_export(network, str(artifact / "Format-Serving"))
    return str(artifact), network


@pytest.fixture(scope="module")
def trained(pair_records, dic_artifact, tmp_path_factory, training_policy, adversarial_steps):
    """DICGAN small, initialised from the DIC artifact, trained STEPS adversarial steps in the
    precision `auto` picks here (eager: cheaper than tracing for a few steps), then exported."""
    artifact, dic_network = dic_artifact
    config = paper_config("dicgan", batch_size=2, init_weights=artifact)
    keras.mixed_precision.set_global_policy(training_policy)
    try:
        keras.utils.set_random_seed(0)
        built = model_registry.build_model("dicgan", "small")
        task.initialise_network(built, config)
        # Weights, not outputs: this generator may compute in bf16, the saved DIC in float32.
        start_gap = max(np.abs(a.numpy() - b.numpy()).max()
                        for a, b in zip(built.network.weights, dic_network.weights))
        before, logs = adversarial_steps(built, config, os.path.join(pair_records, "Split-train", "*"), STEPS)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    export_dir = str(tmp_path_factory.mktemp("dicgan-export") / "Format-Serving")
    export.export_serving_model(built.network, export_dir, built.contract)
    return dict(built=built, start_gap=start_gap, before=before, logs=logs, export_dir=export_dir)


def test_generator_is_dic_layer_for_layer():
    generator, reference = dicgan.build(dicgan.SMALL), dic.build(dic.SMALL)
    assert [(w.path, w.shape) for w in generator.weights] == [(w.path, w.shape) for w in reference.weights]
    assert dicgan.heatmap_spec(dicgan.SMALL) == dic.heatmap_spec(dic.SMALL)
    assert dicgan.REFERENCE.generator == dic.REFERENCE


def test_starts_from_the_dic_checkpoint(trained):
    assert trained["start_gap"] == 0.0


def test_adversarial_steps_move_both_networks_with_finite_losses(trained):
    for logs in trained["logs"]:
        assert {"loss", "pixel", "heatmap", "adversarial", "feature_matching", "d_loss"} <= set(logs)
        assert all(np.isfinite(v) for v in logs.values()), logs
    g_before, d_before = trained["before"]
    built = trained["built"]
    g_moves = [np.abs(b - v.numpy()).max() for b, v in zip(g_before, built.network.trainable_variables)]
    d_moves = [np.abs(b - v.numpy()).max() for b, v in zip(d_before, built.discriminator.trainable_variables)]
    assert max(g_moves) > 0 and max(d_moves) > 0
    assert sum(m > 0 for m in g_moves) > 0.9 * len(g_moves)
    assert all(m > 0 for m in d_moves)
    # Two Adam steps of lr 1e-4 keep the generator next to the DIC weights it started from.
    assert max(g_moves) < 1e-2


def test_export_answers_like_the_keras_model(trained, assert_export_answers_like, random_images):
    assert_export_answers_like(trained["built"].network, trained["export_dir"], random_images(3, seed=4))


def test_without_init_weights_it_warns_and_starts_from_scratch(caplog, variable_values):
    built = model_registry.build_model("dicgan", "small")
    before = variable_values(built.network.weights)
    with caplog.at_level(logging.WARNING):
        task.initialise_network(built, paper_config("dicgan"))
    assert "dicgan starts from random weights" in caplog.text and "trained dic" in caplog.text
    assert all(np.array_equal(b, v.numpy()) for b, v in zip(before, built.network.weights))


def test_weights_of_another_model_are_rejected(tmp_path):
    path = str(tmp_path / "jasrnet.weights.h5")
    jasrnet.build(jasrnet.SMALL).save_weights(path)
    built = model_registry.build_model("dicgan", "small")
    with pytest.raises(ValueError, match="cannot initialise 'dicgan' from .*jasrnet.weights.h5"):
        task.initialise_network(built, paper_config("dicgan", init_weights=path))
    with pytest.raises(FileNotFoundError, match="no network weights"):
        task.initialise_network(built, paper_config("dicgan", init_weights=str(tmp_path / "missing")))


def test_discriminator_follows_the_training_config():
    config = TrainingConfig(model="dicgan", discriminator_head="patch", discriminator_norm="layer",
                            discriminator_width=4, discriminator_depth=2)
    built = model_registry.build_model("dicgan", "small", discriminator_overrides=config.discriminator_overrides())
    assert built.config.discriminator == dataclasses.replace(discriminator.SMALL, head="patch", norm="layer",
                                                             width=4, depth=2)
    logits = built.discriminator(np.zeros((1, 128, 128, 3), np.float32))[discriminator.LOGITS]
    assert tuple(logits.shape) == (1, 32, 32, 1)
    assert TrainingConfig(model="dicgan").discriminator_overrides() == {}
    with pytest.raises(ValueError, match="no discriminator"):
        model_registry.build_model("dic", "small", discriminator_overrides={"head": "patch"})


def test_registry_knows_which_models_are_adversarial():
    assert [m for m in model_registry.MODELS if model_registry.is_adversarial(m)] == ["dicgan", "proguigan"]
    assert model_registry.pretrained_as("dicgan") == "dic"
    assert model_registry.pretrained_as("proguigan") is None
    assert model_registry.build_model("dic", "small").discriminator is None


@pytest.mark.parametrize("bad", [dict(gan_loss="hinge"), dict(adversarial_weight=-1.0), dict(d_learning_rate=0.0),
                                 dict(discriminator_norm="batch"), dict(discriminator_depth=-1)])
def test_training_config_rejects_bad_gan_settings(bad):
    with pytest.raises(ValueError):
        TrainingConfig(model="dicgan", **bad)
