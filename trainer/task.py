"""One training run end to end: precision, model, losses, data, fit (with resume), export."""

import keras
from absl import logging

from trainer import export, losses, model_registry, training
from trainer.training_config import TrainingConfig


def train_and_export(config: TrainingConfig, make_dataset, train_steps, serving_model_dir, log_dir,
                     backup_dir):
    """Trains config.model for `train_steps` and writes the serving SavedModel.

    make_dataset(training, batch_size, hr_size, scale, heatmap_spec) -> tf.data of
    (LR images, targets) batches (trainer.input_pipeline). Returns (network, keras History of
    the steps this process ran).
    """
    keras.utils.set_random_seed(config.seed)
    keras.mixed_precision.set_global_policy(training.precision_policy(config.mixed_precision))
    try:
        # Everything that creates variables (network, optimiser, the wrapper fit() compiles)
        # is made inside the strategy's scope, as tf.distribute requires.
        with training.distribution_strategy().scope():
            built = model_registry.build_model(config.model, config.model_size)
            joint_loss = losses.joint_loss_for(config.model, built.heatmap_spec, built.config.hr_size,
                                               perceptual_weights=config.perceptual_weights)
            optimizer = training.build_optimizer(config, train_steps)
            hr_size, scale = built.config.hr_size, built.config.scale
            train_data = make_dataset(True, config.batch_size, hr_size, scale, built.heatmap_spec)
            eval_data = make_dataset(False, config.batch_size, hr_size, scale, built.heatmap_spec)
            history = training.fit(built.network, joint_loss, optimizer, train_data, train_steps, config,
                                   backup_dir=backup_dir, log_dir=log_dir, eval_dataset=eval_data)
    finally:
        # Export and later runs in this process build float32 graphs unless told otherwise.
        keras.mixed_precision.set_global_policy("float32")
    export.export_serving_model(built.network, serving_model_dir, hr_size, scale)
    logging.info("exported %s to %s", config.model, serving_model_dir)
    return built.network, history
