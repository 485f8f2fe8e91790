"""One training run end to end: precision, model, losses, data, fit (with resume), export."""

import keras
from absl import logging

from tinyface import console
from tinyface.trainer.training import export, gan_loop, loop, precision
from tinyface.trainer.losses import joint
from tinyface.trainer.models import registry, network_weights
from tinyface.trainer.training.training_config import TrainingConfig


def initialise_network(built, config: TrainingConfig):
    """Loads config.init_weights into the network; warns when a model that the paper starts
    from another model's checkpoint (DICGAN from DIC) starts from scratch instead."""
    if config.init_weights:
        network_weights.load_initial_weights(built.network, config.init_weights)
        return
    pretrained_as = registry.pretrained_as(config.model)
    if pretrained_as:
        logging.warning("%s starts from random weights: no init_weights given (the paper trains "
                        "it from a trained %s; set init_weights to a %s run's %s or its Model "
                        "artifact)", config.model, pretrained_as, pretrained_as,
                        network_weights.WEIGHTS_FILE)


def train_and_export(config: TrainingConfig, make_dataset, train_steps, serving_model_dir, log_dir,
                     backup_dir):
    """Trains config.model for `train_steps` and writes the serving SavedModel, plus the
    network's weights beside it (trainer/models/network_weights.py) for runs that start from them.

    make_dataset(training, batch_size, contract) -> tf.data of (LR images, targets) batches
    (tinyface.trainer.training.input_pipeline) for the model's ModelContract. Adversarial models (dicgan,
    proguigan) train against their discriminator (trainer/gan_loop.py). Returns (network,
    keras History of the steps this process ran).
    """
    keras.utils.set_random_seed(config.seed)
    decision = precision.decide_for_this_machine(config.mixed_precision)
    # On the user's console too: a CPU that emulates bf16 trains 50-180x slower, and the user
    # must see which precision their hardware got before wondering why a run is slow or fast.
    console.say(f"Trainer: computing in {decision}")
    keras.mixed_precision.set_global_policy(decision.policy)
    adversarial = registry.is_adversarial(config.model)
    try:
        # Everything that creates variables (networks, optimisers, the wrapper fit() compiles)
        # is made inside the strategy's scope, as tf.distribute requires.
        with loop.distribution_strategy().scope():
            built = registry.build_model(
                config.model, config.model_size,
                discriminator_overrides=config.discriminator_overrides() if adversarial else None)
            # A resumed run's checkpoint, restored by fit(), takes precedence over these.
            initialise_network(built, config)
            contract = built.contract
            joint_loss = joint.joint_loss_for(config.model, contract.heatmaps, contract.hr_size,
                                               perceptual_weights=config.perceptual_weights,
                                               perceptual_weight=config.feature_weight if adversarial
                                               else joint.PERCEPTUAL_WEIGHT)
            optimizer = loop.build_optimizer(config, train_steps)
            train_data = make_dataset(True, config.batch_size, contract)
            eval_data = make_dataset(False, config.batch_size, contract)
            fit_args = dict(train_dataset=train_data, train_steps=train_steps, config=config,
                            backup_dir=backup_dir, log_dir=log_dir, eval_dataset=eval_data)
            if adversarial:
                history = gan_loop.fit(
                    built.network, built.discriminator, joint_loss,
                    gan_loop.AdversarialSettings.from_training_config(config), optimizer,
                    loop.build_optimizer(config, train_steps, config.d_learning_rate), **fit_args)
            else:
                history = loop.fit(built.network, joint_loss, optimizer, **fit_args)
    finally:
        # Export and later runs in this process build float32 graphs unless told otherwise.
        keras.mixed_precision.set_global_policy("float32")
    export.export_serving_model(built.network, serving_model_dir, contract)
    weights = network_weights.save_beside_export(built.network, serving_model_dir)
    logging.info("exported %s to %s, weights to %s", config.model, serving_model_dir, weights)
    return built.network, history
