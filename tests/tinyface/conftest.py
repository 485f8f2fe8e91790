"""Fixtures shared by the evaluation and reporting tests: eval pair records and one TFMA run.

The pairs are PairGen's core on synthetic faces, the same recipe as tests/trainer/conftest.py's
pair_records (repeated rather than imported across test folders). The TFMA run is made once per
session because it is the slowest fixture of both folders (a Beam pipeline around the model).
"""

import pytest

from tinyface import features

# The one slicing feature of tfma_eval_output, beside the overall slice.
EVAL_SLICE_FEATURE = features.POSE_BUCKET


@pytest.fixture(scope="session")
def eval_pair_records(tmp_path_factory, synthetic_faces):
    """Path of a GZIP TFRecord of x8 pairs of 24 synthetic faces."""
    # Imported here, not at the top: TensorFlow would load for every test under tests/tinyface.
    import tensorflow as tf

    from tinyface.data import example_codec
    from tinyface.data.ingestion import face_example
    from tinyface.data.degradation import pairs
    from tinyface.data.ingestion.readers import get_reader

    path = tmp_path_factory.mktemp("eval-pairs") / "pairs.gz"
    with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
        for annotation in get_reader("300w").parse_root(synthetic_faces(count=24, seed=5)):
            face = example_codec.from_example(face_example.face_example(annotation).SerializeToString())
            for pair in pairs.make_pairs(face, pairs.PairConfig()):
                writer.write(example_codec.to_example(pair).SerializeToString())
    return str(path)


@pytest.fixture(scope="session")
def tfma_eval_output(tmp_path_factory, exported_model, eval_pair_records):
    """Output folder of one TFMA run of the Evaluator's config (sliced by EVAL_SLICE_FEATURE)
    on eval_pair_records, with the exported model as candidate and as baseline."""
    import tensorflow_model_analysis as tfma

    from tinyface.pipeline import configs
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
