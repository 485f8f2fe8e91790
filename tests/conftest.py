"""Shared fixtures: real annotated faces (tests/data/real_faces), small synthetic datasets,
and the bad-input corpus (tests/bad_input_corpus.py)."""

import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

from tinyface.trainer.training import cpu_isa

# Before anything imports TensorFlow: the tests train as the Trainer trains on this CPU (oneDNN's
# kernels turned on where TensorFlow would leave them off; cpu_isa.use_onednn_for_training).
cpu_isa.use_onednn_for_training()

from tinyface import features  # noqa: E402

REAL_FACES = os.path.join(os.path.dirname(__file__), "data", "real_faces")


def load_tests_file(relative_path):
    """A module of tests/ loaded by file: under --import-mode=importlib, tests/ is not
    importable as a package."""
    name = "tinyface_tests_" + os.path.splitext(relative_path)[0].replace("/", "_")
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, os.path.join(os.path.dirname(__file__), relative_path))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up here
        spec.loader.exec_module(module)
    return sys.modules[name]


BAD_INPUT = load_tests_file("bad_input_corpus.py")


def pytest_generate_tests(metafunc):
    """`bad_case`: every case of the bad-input corpus (skipped, with the reason, where it
    cannot be built here); `bad_input_format`: every format the corpus has cases of."""
    if "bad_case" in metafunc.fixturenames:
        metafunc.parametrize("bad_case", [
            pytest.param(case, id=case.name,
                         marks=[pytest.mark.skip(reason=case.skip_reason)] if case.skip_reason else [])
            for case in BAD_INPUT.CASES])
    if "bad_input_format" in metafunc.fixturenames:
        metafunc.parametrize("bad_input_format", BAD_INPUT.FORMATS)


@pytest.fixture(scope="session")
def kfp_backend():
    """tests/kubeflow/kfp_local_backend.py: runs compiled KFP PipelineSpecs on this machine."""
    return load_tests_file("kubeflow/kfp_local_backend.py")


@pytest.fixture(scope="session")
def bad_input():
    """The corpus module (tests/bad_input_corpus.py): its cases, file writers and where()."""
    return BAD_INPUT


@pytest.fixture(scope="session")
def bad_input_corpus(tmp_path_factory):
    """Every buildable case of the corpus, built once: root/<format>/<case>/ (a BuiltCorpus)."""
    root = tmp_path_factory.mktemp("bad-input-corpus")
    yield BAD_INPUT.build_corpus(root)
    BAD_INPUT.remove_corpus(root)


@pytest.fixture(scope="session")
def real_faces():
    """The folder of real annotated photos (tests/data/real_faces, see its README)."""
    return REAL_FACES


@pytest.fixture
def real_300w(tmp_path):
    """A writable copy of the two real LFPW (300W) photos with their .pts files."""
    folder = tmp_path / "300w"
    shutil.copytree(os.path.join(REAL_FACES, "superviseddescent_ibug_lfpw_trainset"), folder)
    return folder


@pytest.fixture(scope="session")
def synthetic_faces(tmp_path_factory):
    """A factory of synthetic 300W-style folders, cached per (count, seed, preset)."""
    from tinyface.data.synthesis import synth

    made = {}

    def make(count=40, seed=0, preset="default"):
        key = (count, seed, preset)
        if key not in made:
            folder = tmp_path_factory.mktemp(f"synth-{preset}-{seed}-{count}")
            synth.generate_dataset(folder, count, seed=seed, options=synth.PRESETS[preset])
            made[key] = str(folder)
        return made[key]

    return make


@pytest.fixture(scope="session")
def write_pair_records():
    """write(path, faces_folder, config=None) -> the pairs written: PairGen's core (face examples,
    then pairs by `config`, PairConfig() if None) on a 300W-style folder, as a GZIP TFRecord."""
    # Imported here, not at the top: TensorFlow would load for every test collected.
    import tensorflow as tf

    from tinyface.data import example_codec
    from tinyface.data.ingestion import face_example
    from tinyface.data.degradation import pairs
    from tinyface.data.ingestion.readers import get_reader

    def write(path, faces_folder, config=None):
        written = []
        with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
            for annotation in get_reader("300w").parse_root(faces_folder):
                face = example_codec.from_example(face_example.face_example(annotation).SerializeToString())
                for pair in pairs.make_pairs(face, config or pairs.PairConfig()):
                    writer.write(example_codec.to_example(pair).SerializeToString())
                    written.append(pair)
        return written

    return write


@pytest.fixture(scope="session")
def pair_records(tmp_path_factory, synthetic_faces, write_pair_records):
    """Folder with Split-train/data.gz, as PairGen writes a split: x8 pairs of 24 synthetic faces."""
    root = tmp_path_factory.mktemp("pairs")
    (root / "Split-train").mkdir()
    write_pair_records(root / "Split-train" / "data.gz", synthetic_faces(count=24, seed=5))
    return root


@pytest.fixture(scope="session")
def exported_model(tmp_path_factory):
    """The Trainer's export of a SMALL JASRNet, once per session. Untrained: training would only
    slow the tests that use it, which check the plumbing around whatever the model answers."""
    folder = tmp_path_factory.getbasetemp() / "predict-model"
    if not (folder / "saved_model.pb").exists():
        from tinyface.trainer.training import export
        from tinyface.trainer.models import registry
        built = registry.build_model("jasrnet", "small")
        export.export_serving_model(built.network, str(folder), built.contract)
    return str(folder)


@pytest.fixture(scope="session")
def training_policy():
    """The dtype policy `mixed_precision: auto` picks on this machine (mixed_bfloat16 only on
    CPUs that run bf16 natively, float32 on the others): tests that train run in it, so they
    cost on each kind of CPU what a user's run costs there."""
    from tinyface.trainer.training import loop
    return loop.precision_policy("auto")


@pytest.fixture
def mixed_bfloat16():
    """The mixed_bfloat16 policy for one test (float32 again afterwards); skipped on CPUs that
    only emulate bf16, where it is 50-180x slower and `auto` never picks it."""
    import keras
    from tinyface.trainer.training import precision
    if not precision.this_machine_native_bf16():
        pytest.skip("this CPU has no native bf16 (amx_bf16/avx512_bf16): bf16 is never used here")
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.fixture(scope="session")
def floor_model(tmp_path_factory, synthetic_faces):
    """The Evaluator's two floors as an exported model, once per session: SR by bicubic
    upsampling, and the mean shape of 300W-style face crops (synthetic faces cropped by the
    pipeline) as the landmarks of every face, through the Trainer's real export.

    Unlike the untrained network, its landmarks lie where a face is in a correct crop, so a
    test can check that photo crops and the way back to photo pixels put them on the face.
    """
    folder = tmp_path_factory.getbasetemp() / "floor-model"
    if not (folder / "saved_model.pb").exists():
        import keras
        import numpy as np
        import tensorflow as tf

        from tinyface import features
        from tinyface.data.ingestion import face_example
        from tinyface.data import heatmaps
        from tinyface.data.ingestion.readers import get_reader
        from tinyface.trainer.training import export
        from tinyface.trainer.models import outputs
        from tinyface.trainer.models.contract import ModelContract

        contract = ModelContract(hr_size=128, scale=8, heatmaps=heatmaps.DIC_HEATMAPS)
        shapes = [face_example.face_features(annotation)[features.LANDMARKS_68].reshape(68, 2)
                  for annotation in get_reader("300w").parse_root(synthetic_faces(count=40, seed=0))]
        mean_maps = contract.encode(np.mean(shapes, axis=0))

        class MeanShapeHeatmaps(keras.layers.Layer):
            def call(self, lr):  # the same maps for every input: (B, 1 step, h, w, 68)
                return tf.broadcast_to(tf.constant(mean_maps)[None, None], [tf.shape(lr)[0], 1, *mean_maps.shape])

        lr = keras.Input((16, 16, 3))
        sr = keras.layers.UpSampling2D(8, interpolation="bicubic")(lr)
        network = keras.Model(lr, {outputs.SR_STEPS: keras.layers.Reshape((1, 128, 128, 3))(sr),
                                   outputs.HEATMAP_STEPS: MeanShapeHeatmaps()(lr)})
        export.export_serving_model(network, str(folder), contract)
    return str(folder)


@pytest.fixture(autouse=True)
def _home_under_tmp(tmp_path, monkeypatch):
    """Commands called in tests keep their logs (<home>/logs) out of the checkout."""
    from tinyface import home

    monkeypatch.setenv(home.HOME_VARIABLE, str(tmp_path / "tinyface_home"))


@pytest.fixture
def command_stdout(capsys):
    """stdout of a `tinyface` command called in-process, less its first line (where the
    libraries' log went, which every command prints first and which is checked here)."""
    def read():
        log_line, _, printed = capsys.readouterr().out.partition("\n")
        assert log_line.startswith("log: "), log_line
        return printed
    return read


@pytest.fixture(scope="session")
def installed_layout(tmp_path_factory):
    """This checkout's packages laid out as pip installs them (setup.py's package_dir:
    pipeline/ becomes tinyface/pipeline/, ...), by setuptools' build_py: a folder that, put on
    PYTHONPATH, imports this checkout's code under the tinyface namespace. Read-only: copy it to
    edit it."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = tmp_path_factory.mktemp("installed")
    subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(build)],
                   cwd=repo, check=True, capture_output=True)
    return build


# Eval pairs and one TFMA run, shared by the evaluation, reporting and run-report tests. The TFMA
# run is made once per session: it is the slowest fixture of those folders (a Beam pipeline
# around the model).
# The one slicing feature of tfma_eval_output, beside the overall slice.
EVAL_SLICE_FEATURE = features.POSE_BUCKET


@pytest.fixture(scope="session")
def eval_pair_records(pair_records):
    """Path of a GZIP TFRecord of x8 pairs of 24 synthetic faces (pair_records, as one file)."""
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
