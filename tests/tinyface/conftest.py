"""Fixtures shared by the tinyface tests: eval pair records, the exported model loaded for
prediction, and one TFMA run.

The pairs are the trainer tests' pair_records (PairGen's core on synthetic faces, tests/conftest.py),
read as one file. The TFMA run is made once per session because it is the slowest fixture of
both folders (a Beam pipeline around the model).
"""

import pytest

from tinyface import features

# The one slicing feature of tfma_eval_output, beside the overall slice.
EVAL_SLICE_FEATURE = features.POSE_BUCKET


@pytest.fixture(scope="session")
def eval_pair_records(pair_records):
    """Path of a GZIP TFRecord of x8 pairs of 24 synthetic faces (tests/conftest.py's pair_records)."""
    return str(pair_records / "Split-train" / "data.gz")


@pytest.fixture(scope="session")
def loaded_model(exported_model):
    """exported_model loaded for prediction (tinyface.prediction.load_model), once per session."""
    from tinyface import prediction

    return prediction.load_model(exported_model)


@pytest.fixture(scope="session")
def tfma_eval_output(tmp_path_factory, exported_model, eval_pair_records):
    """Output folder of one TFMA run of the Evaluator's config (sliced by EVAL_SLICE_FEATURE)
    on eval_pair_records, with the exported model as candidate and as baseline."""
    import tensorflow_model_analysis as tfma

    from pipeline import configs
    from tinyface.evaluation import eval_config

    # As the TFX Evaluator does when a baseline model is wired in: the baseline ModelSpec is
    # added as a copy of the candidate's.
    config = tfma.utils.update_eval_config_with_defaults(
        eval_config.build_eval_config([EVAL_SLICE_FEATURE], configs.BLESSING), has_baseline=True)
    models = [tfma.default_eval_shared_model(exported_model, eval_config=config, model_name=spec.name)
              for spec in config.model_specs]
    output = str(tmp_path_factory.mktemp("tfma"))
    tfma.run_model_analysis(eval_shared_model=models, eval_config=config,
                            data_location=eval_pair_records, output_path=output)
    return output
