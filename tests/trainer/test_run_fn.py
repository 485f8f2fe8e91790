"""trainer/run_fn.py: what TFX hands the Trainer reaches the training. A run config's
`trainer: {eval_steps: N}` goes through TFX's EvalArgs and fn_args to the TrainingConfig that
training validates with (validation_steps), not the config's own default."""

from tfx.components.trainer import fn_args_utils
from tfx.types import artifact_utils, standard_artifacts

from tinyface.pipeline import local_runner
from tinyface.pipeline.run_config import load_run_config
from tinyface.trainer import run_fn
from tinyface.trainer.training import task


def test_the_run_configs_eval_steps_reach_training(tmp_path, monkeypatch):
    path = tmp_path / "run.yaml"
    path.write_text("trainer: {train_steps: 7, eval_steps: 50}\n")
    pipeline = local_runner.local_pipeline(load_run_config(str(path)), home=str(tmp_path / "home"))
    trainer = next(node for node in pipeline.components if node.id == "Trainer")
    pairs = standard_artifacts.Examples()
    pairs.uri = str(tmp_path / "pairs")
    pairs.split_names = artifact_utils.encode_split_names(["train", "eval"])
    # The fn_args TFX's GenericExecutor builds from the Trainer's exec properties.
    fn_args = fn_args_utils.get_common_fn_args({"examples": [pairs]}, trainer.exec_properties)
    fn_args.serving_model_dir, fn_args.model_run_dir = str(tmp_path / "serving"), str(tmp_path / "run" / "1")
    trained = {}
    monkeypatch.setattr(task, "train_and_export", lambda config, **kwargs: trained.update(config=config, **kwargs))

    run_fn.run_fn(fn_args)
    assert trained["config"].eval_steps == 50 and trained["train_steps"] == 7
    assert trained["config"].model == load_run_config(str(path)).training_config.model


def test_without_eval_args_the_training_configs_eval_steps_stay(tmp_path):
    from tfx.components.trainer.fn_args_utils import FnArgs

    from tinyface.trainer.training.training_config import CONFIG_KEY, paper_config

    config = paper_config("jasrnet", eval_steps=3)
    assert run_fn.training_config_of(FnArgs(custom_config={CONFIG_KEY: config.to_dict()}, eval_steps=None)) == config
