"""The GAN models through the whole pipeline on occluded thumbnails: selected by
TrainingConfig.model alone, trained by the TFX Trainer (DICGAN from a DIC checkpoint), exported
with the common serving contract, and evaluated by TFMA with occluded and clear faces as
separate slices."""

import dataclasses
import os

import pytest
import tensorflow_model_analysis as tfma

from tinyface.pipeline import configs, local_runner, metadata_queries
from tinyface import features
from tinyface.trainer.models import dic, network_weights
from tinyface.trainer.training.training_config import paper_config

pytestmark = pytest.mark.pipeline

ALL_NODES = ["FaceExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator", "DistributionValidator",
             "DataGate", "PairGen", "Trainer", "Evaluator", "Pusher"]
# Half of the thumbnails get an occluder (rectangle, hand or sunglasses): both slices exist.
OCCLUDED_PAIRS = dataclasses.replace(
    configs.PAIR_CONFIG,
    degradation=dataclasses.replace(configs.PAIR_CONFIG.degradation, occlusion_probability=0.5))
# A few steps of the small presets: the test checks wiring and contracts, not model quality.
TRAIN_STEPS = 2


def _dic_checkpoint(folder):
    """What a DIC run leaves beside its export (trainer/models/network_weights.py), for DICGAN to start from."""
    network_weights.save_beside_export(dic.build(dic.SMALL), os.path.join(folder, "Format-Serving"))
    return folder


def _slices(evaluation_uri):
    """The slice keys TFMA computed, e.g. (("occluded", 1),); () is the overall slice."""
    return {key for key, _ in tfma.load_eval_result(evaluation_uri).slicing_metrics}


@pytest.mark.parametrize("model", ["dicgan", "proguigan"])
def test_gan_model_runs_through_the_pipeline_on_occluded_thumbnails(model, tmp_path, synthetic_faces):
    home = str(tmp_path / "home")
    init = dict(init_weights=_dic_checkpoint(str(tmp_path / "dic-model"))) if model == "dicgan" else {}
    training_config = paper_config(model, batch_size=2, checkpoint_every=TRAIN_STEPS, **init)
    local_runner.run(home=home, data_root=synthetic_faces(count=40, seed=13), dataset="synthetic",
                     training_config=training_config, train_steps=TRAIN_STEPS, eval_steps=1,
                     pair_config=OCCLUDED_PAIRS)

    store = metadata_queries.open_store(local_runner.metadata_path(home))
    executions = metadata_queries.executions_by_node(store)
    for node in ALL_NODES:
        assert executions.get(node) == ["COMPLETE"], (node, executions)
    trained = metadata_queries.latest_artifact(store, "Model")
    assert os.path.isfile(os.path.join(trained.uri, "Format-Serving", "saved_model.pb"))
    # The weights a later run (e.g. a DICGAN after this DIC) can start from.
    assert os.path.isfile(network_weights.resolve(trained.uri))

    evaluation = metadata_queries.latest_artifact(store, "ModelEvaluation")
    slices = _slices(evaluation.uri)
    assert ((features.OCCLUDED, 1),) in slices and ((features.OCCLUDED, 0),) in slices, sorted(slices)
    assert () in slices
