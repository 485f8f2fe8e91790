"""The settings of one local pipeline run: pipeline/configs.py's values, overridable per run.

`tinyface run --config FILE` reads a YAML (or JSON, a subset of YAML) file whose sections
mirror these settings; anything the file leaves out keeps its configs.py value:

    data:       root, format, dataset, spans, strict, crop_margin, synth_count, synth_seed,
                train_buckets, eval_buckets
    validation: schema_file, drift_thresholds ({feature: [comparator, threshold]}), drift_splits
    pairs:      the fields of tinyface.data.degradation.pairs.PairConfig (nested: degradation, heatmap_spec)
                (heatmap_spec, if set, all of size, sigma and background)
    training:   the fields of tinyface.trainer.training.training_config.TrainingConfig
    trainer:    train_steps, eval_steps (eval batches per checkpoint; TFX's EvalArgs, which
                run_fn writes into the TrainingConfig, so training has no eval_steps of its own)
    evaluation: slice_features, and the fields of tinyface.evaluation.blessing.BlessingThresholds
                (min_psnr_gain_db, max_nme_ratio_to_mean_shape, psnr_regression_margin_db,
                nme_regression_margin)
    beam:       pipeline_args

Changing training.model also switches to that model's paper settings (learning rate, weight
decay, milestones, gamma; the GAN loss of the GAN models), unless the file sets them too.
A mistake in the file is a one-line error naming the file, the line and the key.

The trained model's contract (training.model and model_size; trainer/model_contract.py) sets
the HR size the faces are cropped to and the heatmaps pairs are written with; pairs whose
scales leave out the model's scale, or heatmaps other than the model's, are refused here,
when the run's config is built.
"""

import dataclasses
import math
import os
from typing import Dict, Optional, Tuple

import yaml

from tinyface.pipeline import configs
from tinyface.data.errors import BadInput
from tinyface.data.heatmaps import HeatmapSpec
from tinyface.data.degradation.pairs import PairConfig
from tinyface.evaluation.blessing import THRESHOLD_NAMES, BlessingThresholds
from tinyface.trainer.losses import joint
from tinyface.trainer.models import network_weights
from tinyface.trainer.models import registry
from tinyface.trainer.models.contract import ModelContract
from tinyface.trainer.training.training_config import TrainingConfig


@dataclasses.dataclass(frozen=True)
class RunConfig:
    data_root: Optional[str] = None   # None: the embedded synthetic dataset under the run's home
    data_format: str = configs.DATA_FORMAT
    dataset: Optional[str] = configs.DATASET_NAME
    use_spans: bool = configs.USE_SPANS
    strict: bool = configs.STRICT
    crop_margin: float = configs.CROP_MARGIN
    synth_count: int = configs.SYNTH_COUNT
    synth_seed: int = configs.SYNTH_SEED
    train_buckets: int = configs.TRAIN_BUCKETS
    eval_buckets: int = configs.EVAL_BUCKETS
    schema_file: str = configs.SCHEMA_FILE
    drift_thresholds: Dict[str, Tuple[str, float]] = dataclasses.field(
        default_factory=lambda: dict(configs.DRIFT_THRESHOLDS))
    drift_splits: Tuple[str, ...] = configs.DRIFT_SPLITS
    pair_config: PairConfig = configs.PAIR_CONFIG
    training_config: TrainingConfig = configs.TRAINING
    train_steps: int = configs.TRAIN_STEPS
    eval_steps: int = configs.EVAL_STEPS
    eval_slice_features: Tuple[str, ...] = configs.EVAL_SLICE_FEATURES
    blessing: BlessingThresholds = configs.BLESSING
    beam_pipeline_args: Tuple[str, ...] = tuple(configs.BEAM_PIPELINE_ARGS)

    def __post_init__(self):
        for name in ("synth_count", "train_buckets", "eval_buckets", "train_steps", "eval_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not 0.0 <= self.crop_margin < 1.0:
            raise ValueError(f"crop_margin must lie in [0, 1), got {self.crop_margin!r}")
        if not self.eval_slice_features:
            raise ValueError("eval_slice_features must not be empty")
        self._check_pairs_fit_the_model()

    @property
    def model_contract(self) -> ModelContract:
        """The HR size, scale and heatmap codec of the model this run trains."""
        return registry.model_contract(self.training_config.model, self.training_config.model_size)

    @property
    def model_pair_config(self) -> PairConfig:
        """pair_config for the model this run trains: its heatmaps are the model's."""
        return dataclasses.replace(self.pair_config, heatmap_spec=self.model_contract.heatmaps)

    def _check_pairs_fit_the_model(self):
        # Messages start with the setting's name in the file (load_run_config finds its line).
        contract = self.model_contract
        model = f"{self.training_config.model} ({self.training_config.model_size})"
        scales = self.pair_config.degradation.scales
        if contract.scale not in scales:
            raise ValueError(f"pairs.degradation.scales {list(scales)} leave out x{contract.scale}, "
                             f"the scale of the model trained, {model}")
        spec = self.pair_config.heatmap_spec
        if spec is not None and spec != contract.heatmaps:
            raise ValueError(f"pairs.heatmap_spec {spec} differs from the heatmaps of the model trained, "
                             f"{model}: {contract.heatmaps}")


# File section -> {key in the file: RunConfig field}. Sections whose value is one dataclass
# (pairs, training) are handled separately, key by key of that dataclass.
_SECTIONS = {
    "data": {"root": "data_root", "format": "data_format", "dataset": "dataset", "spans": "use_spans",
             "strict": "strict", "crop_margin": "crop_margin", "synth_count": "synth_count",
             "synth_seed": "synth_seed", "train_buckets": "train_buckets", "eval_buckets": "eval_buckets"},
    "validation": {"schema_file": "schema_file", "drift_thresholds": "drift_thresholds",
                   "drift_splits": "drift_splits"},
    "trainer": {"train_steps": "train_steps", "eval_steps": "eval_steps"},
    # The thresholds by their own names: fields of RunConfig.blessing ("blessing.<name>").
    "evaluation": {"slice_features": "eval_slice_features",
                   **{name: f"blessing.{name}" for name in THRESHOLD_NAMES}},
    "beam": {"pipeline_args": "beam_pipeline_args"},
}
_DATACLASS_SECTIONS = {"pairs": "pair_config", "training": "training_config"}
# Dataclass-valued settings that may be unset (None): the file then gives all their fields.
_OPTIONAL_DATACLASSES = {"heatmap_spec": HeatmapSpec}
# Settings that may be null in the file (None means "the default of the reader / synthetic").
_NULLABLE = {"data_root", "dataset"}


def load_run_config(path, base: RunConfig = None) -> RunConfig:
    """`base` (default: configs.py's values) with the settings of the YAML/JSON file `path`."""
    base = base or RunConfig()
    document, lines = _read(path)
    overrides, nested = {}, {}
    for section, values in document.items():
        where = (section,)
        if section not in _SECTIONS and section not in _DATACLASS_SECTIONS:
            known = ", ".join(sorted([*_SECTIONS, *_DATACLASS_SECTIONS]))
            raise BadInput(path, f"unknown section {section!r} (known: {known})", lines.get(where))
        _require_mapping(path, values, where, lines)
        if section in _DATACLASS_SECTIONS:
            field = _DATACLASS_SECTIONS[section]
            current = getattr(base, field)
            if field == "training_config":
                _refuse_training_eval_steps(path, values, lines)
                _refuse_missing_weights(path, values, lines)
                current = _switch_model(path, current, values, where, lines)
            overrides[field] = _override_dataclass(path, current, values, where, lines)
            continue
        for key, value in values.items():
            field = _SECTIONS[section].get(key)
            if field is None:
                raise BadInput(path, f"unknown setting {section}.{key} (known: "
                                     f"{', '.join(sorted(_SECTIONS[section]))})", lines.get(where + (key,)))
            parent, _, child = field.partition(".")
            if child:   # a field of a dataclass-valued setting
                nested.setdefault(parent, {})[child] = _coerce(
                    path, getattr(getattr(base, parent), child), value, where + (key,), lines)
                continue
            overrides[field] = _coerce(path, getattr(base, field), value, where + (key,), lines,
                                       nullable=field in _NULLABLE)
    overrides.update({parent: dataclasses.replace(getattr(base, parent), **changes)
                      for parent, changes in nested.items()})
    try:
        return dataclasses.replace(base, **overrides)
    except (TypeError, ValueError) as error:
        raise BadInput(path, f"invalid settings: {error}", _line_of_field(str(error), lines)) from None


def _line_of_field(message, lines):
    """The line of the file key whose setting RunConfig's check names first in `message`
    (its messages start with the field's name, or with the key's dotted path in the file), or
    the line of training.model for a check on the model's contract, or None."""
    for section, keys in _SECTIONS.items():
        for key, field in keys.items():
            if message.startswith(field + " ") and (section, key) in lines:
                return lines[(section, key)]
    setting = tuple(message.split(" ", 1)[0].split("."))
    if setting in lines:
        return lines[setting]
    # Pairs the file leaves as they were, refused for the model the file chose.
    return lines.get(("training", "model")) if setting[0] == "pairs" else None


def _read(path):
    """(document mapping, {key path tuple: 1-based line}) of a YAML file."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as error:
        raise BadInput(path, f"cannot read config file: {error.strerror}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise BadInput(path, f"not valid YAML: {problem}", mark.line + 1 if mark else None) from None
    if document is None:
        return {}, {}
    if not isinstance(document, dict):
        raise BadInput(path, "a config file is a mapping of sections (data, training, ...)", 1)
    lines = {}
    _collect_key_lines(node, (), lines)
    return document, lines


def _collect_key_lines(node, prefix, lines):
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*prefix, key_node.value)
            lines[key] = key_node.start_mark.line + 1
            _collect_key_lines(value_node, key, lines)


def _require_mapping(path, values, where, lines):
    if not isinstance(values, dict):
        raise BadInput(path, f"{'.'.join(where)} must be a mapping of settings", lines.get(where))


def _refuse_training_eval_steps(path, values, lines):
    """The pipeline's Trainer evaluates the number of batches in TFX's EvalArgs (trainer.eval_steps;
    run_fn writes it into the TrainingConfig): a second setting for it would be ignored."""
    if "eval_steps" in values:
        raise BadInput(path, "training.eval_steps is set by trainer.eval_steps (the Trainer's EvalArgs): "
                             "set that instead", lines.get(("training", "eval_steps")))


def _refuse_missing_weights(path, values, lines):
    """A weights file the run starts from (init_weights) or measures with (perceptual_weights)
    that is not there would fail only in the Trainer, minutes into the run: refuse it now.
    Remote URIs (gs://, s3://) are left to the Trainer, which reads them where it runs."""
    for key, find in (("init_weights", network_weights.resolve),
                      ("perceptual_weights", joint.vgg19_weights_file)):
        value = values.get(key)
        if not value or not isinstance(value, str) or "://" in value:
            continue
        try:
            find(value)
        except FileNotFoundError as error:
            raise BadInput(path, f"training.{key}: {error}", lines.get(("training", key))) from None


def _switch_model(path, training, values, where, lines):
    """A new model starts from its paper's settings (TrainingConfig.with_model); the file's
    other training settings then apply on top."""
    try:
        return training.with_model(values.get("model", training.model))
    except ValueError as error:
        raise BadInput(path, f"{'.'.join(where)}.model: {error}", lines.get(where + ("model",))) from None


def _override_dataclass(path, current, values, where, lines):
    fields = {f.name for f in dataclasses.fields(current)}
    changes = {}
    for key, value in values.items():
        here = where + (key,)
        if key not in fields:
            raise BadInput(path, f"unknown setting {'.'.join(here)} (known: {', '.join(sorted(fields))})",
                           lines.get(here))
        old = getattr(current, key)
        if old is None and key in _OPTIONAL_DATACLASSES:
            _require_mapping(path, value, here, lines)
            try:
                changes[key] = _OPTIONAL_DATACLASSES[key](**value)
            except (TypeError, ValueError) as error:
                raise BadInput(path, f"{'.'.join(here)}: {error}", lines.get(here)) from None
        elif dataclasses.is_dataclass(old):
            _require_mapping(path, value, here, lines)
            changes[key] = _override_dataclass(path, old, value, here, lines)
        else:
            changes[key] = _coerce(path, old, value, here, lines)
    try:
        return dataclasses.replace(current, **changes)
    except (TypeError, ValueError) as error:
        first = next(iter(values))
        raise BadInput(path, f"{'.'.join(where)}: {error}", lines.get(where + (first,))) from None


def _coerce(path, old, value, where, lines, nullable=False):
    """`value` from the file in the type of the setting it replaces (YAML reads 1e-3 as text,
    lists where settings are tuples)."""
    name, line = ".".join(where), lines.get(where)
    if value is None:
        if nullable or old is None:
            return None
        raise BadInput(path, f"{name} must not be empty", line)
    if isinstance(old, bool):
        if not isinstance(value, bool):
            raise BadInput(path, f"{name} must be true or false, got {value!r}", line)
        return value
    if isinstance(old, int) and not isinstance(old, bool):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            raise BadInput(path, f"{name} must be an integer, got {value!r}", line)
        return int(value)
    if isinstance(old, float):
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError):
            raise BadInput(path, f"{name} must be a number, got {value!r}", line) from None
        # YAML reads .nan and .inf as floats; no setting means anything by them, and a NaN
        # slips through every range check (all comparisons with it are false).
        if not math.isfinite(number):
            raise BadInput(path, f"{name} must be a finite number, got {value!r}", line)
        return number
    if isinstance(old, tuple):
        items = value if isinstance(value, list) else [value]
        if old and all(not isinstance(o, tuple) for o in old):
            return tuple(_coerce(path, old[0], item, where, lines) for item in items)
        return tuple(tuple(i) if isinstance(i, list) else i for i in items)
    if isinstance(old, dict):
        if not isinstance(value, dict):
            raise BadInput(path, f"{name} must be a mapping", line)
        return {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
    if isinstance(old, str) and not isinstance(value, str):
        raise BadInput(path, f"{name} must be text, got {value!r}", line)
    return value


def resolved_data_root(config: RunConfig, home):
    """The data folder the run reads: the configured one, or the synthetic default under home."""
    return config.data_root or os.path.join(home, "data", "synthetic-default")
