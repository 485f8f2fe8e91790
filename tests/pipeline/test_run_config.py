"""`tinyface run --config FILE`: a YAML file overrides any setting, mistakes name file and line."""

import dataclasses
import glob
import json
import os

import pytest
from google.protobuf import json_format
from tfx.proto import trainer_pb2

from tinyface.components.pair_gen.spec import pair_config_from_json
from tinyface.pipeline import configs, local_runner
from tinyface.pipeline.run_config import RunConfig, load_run_config
from tinyface import features
from tinyface.data.degradation.degrade import DegradationConfig
from tinyface.data.errors import BadInput
from tinyface.data.heatmaps import DIC_HEATMAPS, HeatmapSpec
from tinyface.data.degradation.pairs import PairConfig
from tinyface.trainer.models import jasrnet
from tinyface.trainer.models.contract import ModelContract
from tinyface.trainer.training.training_config import CONFIG_KEY, PAPER_SETTINGS, TrainingConfig, paper_config


def _write(tmp_path, text, name="run.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_an_empty_file_keeps_every_configs_value(tmp_path):
    assert load_run_config(_write(tmp_path, "")) == RunConfig()
    assert RunConfig().training_config == configs.TRAINING
    assert RunConfig().train_steps == configs.TRAIN_STEPS


def test_overrides_every_section(tmp_path):
    path = _write(tmp_path, """
data:
  root: /data/300w
  format: 300w
  synth_count: 50
validation:
  drift_thresholds:
    brightness: [jensen_shannon_divergence, 0.3]
pairs:
  seed: 7
  degradation:
    scales: [4, 8]
    occlusion_probability: 0.25
    blur_sigma: [0, 1.5]
training:
  model_size: reference
  batch_size: 16
  learning_rate: 1e-3
trainer:
  train_steps: 5000
evaluation:
  min_psnr_gain_db: 0.5
  slice_features: [dataset, occluded]
beam:
  pipeline_args: [--runner=DirectRunner, --direct_num_workers=2]
""")
    config = load_run_config(path)
    assert (config.data_root, config.data_format, config.synth_count) == ("/data/300w", "300w", 50)
    assert config.drift_thresholds == {"brightness": ("jensen_shannon_divergence", 0.3)}
    assert config.pair_config.seed == 7
    assert config.pair_config.degradation.scales == (4, 8)
    assert config.pair_config.degradation.occlusion_probability == 0.25
    assert config.pair_config.degradation.blur_sigma == (0.0, 1.5)
    # Untouched nested settings keep their values.
    assert config.pair_config.heatmap_spec == configs.PAIR_CONFIG.heatmap_spec
    # YAML 1.1 reads "1e-3" as text; the setting's type decides.
    assert config.training_config.learning_rate == pytest.approx(1e-3)
    assert (config.training_config.model_size, config.training_config.batch_size) == ("reference", 16)
    assert config.training_config.model == configs.TRAINING.model
    assert config.train_steps == 5000 and config.eval_steps == configs.EVAL_STEPS
    assert config.blessing.min_psnr_gain_db == 0.5
    assert config.blessing.nme_regression_margin == configs.BLESSING.nme_regression_margin   # untouched
    assert config.eval_slice_features == (features.DATASET, features.OCCLUDED)
    assert config.beam_pipeline_args == ("--runner=DirectRunner", "--direct_num_workers=2")


def test_a_new_model_brings_its_paper_optimiser_unless_the_file_sets_it(tmp_path):
    other = "dic" if configs.TRAINING.model != "dic" else "jasrnet"
    config = load_run_config(_write(tmp_path, f"training:\n  model: {other}\n")).training_config
    assert config.model == other
    assert config.learning_rate == PAPER_SETTINGS[other]["learning_rate"]
    assert config.lr_milestones == PAPER_SETTINGS[other]["lr_milestones"]
    assert config.batch_size == configs.TRAINING.batch_size   # not an optimiser setting: kept
    config = load_run_config(_write(tmp_path, f"training:\n  model: {other}\n  learning_rate: 0.002\n"))
    assert config.training_config.learning_rate == 0.002


def test_json_files_work_too(tmp_path):
    path = _write(tmp_path, json.dumps({"trainer": {"train_steps": 12}}), name="run.json")
    assert load_run_config(path).train_steps == 12


@pytest.mark.parametrize("text, line, problem", [
    ("training:\n  batch_size: 8\n  learning_rat: 0.1\n", 3, "unknown setting training.learning_rat"),
    ("data:\n  root: x\nmodels:\n  a: 1\n", 3, "unknown section 'models'"),
    ("trainer:\n  train_steps: many\n", 2, "trainer.train_steps must be an integer"),
    ("trainer:\n  train_steps: 0\n", 2, "train_steps must be a positive integer"),
    ("training:\n  learning_rate: fast\n", 2, "training.learning_rate must be a number"),
    ("training:\n  mixed_precision: fp64\n", 2, "mixed_precision must be one of"),
    ("training:\n  batch_size: 4\n  eval_steps: 5\n", 3, "training.eval_steps is set by trainer.eval_steps"),
    ("pairs:\n  degradation:\n    occlusion_probability: 2\n", 3, "occlusion_probability must lie in [0, 1]"),
    ("data:\n  strict: yes please\n", 2, "data.strict must be true or false"),
    ("evaluation: [1, 2]\n", 1, "evaluation must be a mapping"),
    ("data:\n  root: [unclosed\n", 3, "not valid YAML"),
    # Pairs that do not fit the model trained (its contract).
    ("pairs:\n  seed: 1\n  degradation:\n    scales: [4, 2]\n", 4,
     "invalid settings: pairs.degradation.scales [4, 2] leave out x8, the scale of the model trained, "
     "jasrnet (small)"),
    ("pairs:\n  heatmap_spec: {size: 32, sigma: 1.0, background: false}\n", 2,
     "invalid settings: pairs.heatmap_spec HeatmapSpec(size=32, sigma=1.0, background=False) differs from the "
     "heatmaps of the model trained, jasrnet (small): HeatmapSpec(size=16, sigma=1.5, background=True)"),
    ("pairs:\n  heatmap_spec: {size: 16, sigma: 1.5, background: true}\ntraining:\n  model: proguigan\n", 2,
     "invalid settings: pairs.heatmap_spec HeatmapSpec(size=16, sigma=1.5, background=True) differs from the "
     "heatmaps of the model trained, proguigan (small): HeatmapSpec(size=32, sigma=1.0, background=False)"),
    ("pairs:\n  heatmap_spec: {size: 16}\n", 2, "pairs.heatmap_spec: HeatmapSpec.__init__() missing"),
    # Weights a run would only miss in its Trainer, minutes in.
    ("training:\n  model: dicgan\n  init_weights: /no/such/dic/run\n", 3,
     "training.init_weights: no network weights at '/no/such/dic/run'"),
    ("training:\n  perceptual_weights: /no/vgg19.h5\n", 2, "training.perceptual_weights: no such file '/no/vgg19.h5'"),
])
def test_mistakes_are_one_line_errors_naming_file_and_line(tmp_path, text, line, problem):
    path = _write(tmp_path, text)
    with pytest.raises(BadInput) as caught:
        load_run_config(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}: " if line else f"{path}: ")
    assert problem in message


def test_weights_that_are_there_or_remote_are_taken(tmp_path):
    artifact = tmp_path / "Trainer" / "model" / "7"
    (artifact / "Format-Weights").mkdir(parents=True)
    (artifact / "Format-Weights" / "network.weights.h5").write_bytes(b"weights")
    for given in (str(artifact), "gs://bucket/runs/dic/model/7"):
        path = _write(tmp_path, f"training:\n  model: dicgan\n  init_weights: {given}\n")
        assert load_run_config(path).training_config.init_weights == given


def test_a_missing_file_is_a_bad_input(tmp_path):
    with pytest.raises(BadInput, match="cannot read config file"):
        load_run_config(str(tmp_path / "nope.yaml"))


def test_the_pipeline_is_wired_with_the_file_settings(tmp_path):
    path = _write(tmp_path, """
training:
  model: dic
trainer:
  train_steps: 77
evaluation:
  min_psnr_gain_db: 0.75
  slice_features: [occluded]
""")
    pipeline = local_runner.local_pipeline(load_run_config(path), home=str(tmp_path / "home"))
    nodes = {node.id: node for node in pipeline.components}
    trainer = nodes["Trainer"]
    custom = json.loads(trainer.exec_properties["custom_config"])
    assert TrainingConfig.from_dict(custom[CONFIG_KEY]).model == "dic"
    train_args = trainer_pb2.TrainArgs()
    json_format.Parse(trainer.exec_properties["train_args"], train_args)
    assert train_args.num_steps == 77
    eval_config = nodes["Evaluator"].exec_properties["eval_config"]
    assert "0.75" in eval_config
    assert "occluded" in eval_config
    assert nodes["FaceExampleGen"].exec_properties["input_base"] == str(tmp_path / "home" / "data" / "synthetic-default")
    # Pairs for the model trained: DIC's heatmaps, not the default model's.
    assert pair_config_from_json(nodes["PairGen"].exec_properties["pair_config"]).heatmap_spec == DIC_HEATMAPS


def test_an_unknown_model_names_the_line(tmp_path):
    path = _write(tmp_path, "training:\n  batch_size: 4\n  model: srgan\n")
    with pytest.raises(BadInput, match=rf"^{path}:3: training.model: unknown model 'srgan'"):
        load_run_config(path)


CHECKED_IN_CONFIGS = sorted(glob.glob(os.path.join(configs.REPO_ROOT, "configs", "*.yaml")))


@pytest.mark.parametrize("path", CHECKED_IN_CONFIGS, ids=os.path.basename)
def test_every_checked_in_run_config_loads_and_names_its_model(path):
    # The README tells users to run these files as they are: each must load, and its model be
    # the one its name says.
    config = load_run_config(path)
    name = os.path.basename(path)[:-len(".yaml")]
    model = name[len("real_faces_"):] if name.startswith("real_faces_") else "jasrnet"
    assert config.training_config.model == model
    assert config.data_format == "300w"


def test_there_are_checked_in_run_configs():
    assert {"real_faces.yaml", "real_faces_dic.yaml", "real_faces_dicgan.yaml", "real_faces_proguigan.yaml"} <= set(
        map(os.path.basename, CHECKED_IN_CONFIGS))


def test_the_default_run_keeps_its_model_sizes_scale_and_heatmaps():
    # The demo's small JASRNet: 128 px faces from 16 px at x8, heatmaps 16x16 with sigma 1.5
    # and a background channel. Crop, pairs and targets all follow from it.
    default = RunConfig()
    assert default.model_contract == configs.MODEL_CONTRACT == ModelContract(
        hr_size=128, scale=8, heatmaps=HeatmapSpec(16, 1.5, True))
    assert default.pair_config.degradation.scales == (8,)
    assert default.pair_config.heatmap_spec is None   # left to the model
    assert default.model_pair_config.heatmap_spec == HeatmapSpec(16, 1.5, True)


def test_a_file_may_state_the_models_own_heatmaps(tmp_path):
    path = _write(tmp_path, "training:\n  model: dic\n"
                            "pairs:\n  heatmap_spec: {size: 32, sigma: 1, background: false}\n")
    config = load_run_config(path)
    assert config.pair_config.heatmap_spec == config.model_pair_config.heatmap_spec == DIC_HEATMAPS


def test_pairs_left_as_they_were_and_refused_for_the_chosen_model_name_its_line(tmp_path, monkeypatch):
    # No preset has another scale than x8 today: a x4 JASRNet preset stands in for one.
    x4_preset = dataclasses.replace(jasrnet.SMALL, scale=4)
    monkeypatch.setattr(jasrnet, "SMALL", x4_preset)
    path = _write(tmp_path, "trainer:\n  train_steps: 5\ntraining:\n  batch_size: 2\n  model: jasrnet\n")
    with pytest.raises(BadInput) as caught:
        load_run_config(path, base=RunConfig(training_config=paper_config("dic")))
    assert str(caught.value) == (f"{path}:5: invalid settings: pairs.degradation.scales [8] leave out x4, the scale "
                                 "of the model trained, jasrnet (small)")


def test_a_run_config_made_in_code_is_checked_too():
    with pytest.raises(ValueError, match=r"pairs.degradation.scales \[4\] leave out x8"):
        RunConfig(pair_config=PairConfig(degradation=DegradationConfig(scales=(4,))))
    with pytest.raises(ValueError, match="pairs.heatmap_spec"):
        RunConfig(pair_config=PairConfig(heatmap_spec=DIC_HEATMAPS))
    assert RunConfig(pair_config=PairConfig(heatmap_spec=DIC_HEATMAPS),
                     training_config=paper_config("dic")).model_contract.heatmaps == DIC_HEATMAPS
