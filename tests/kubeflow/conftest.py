"""The pipeline compiled for Kubeflow once per session, as `tinyface compile-kubeflow` writes it."""

import pytest

ROOT = "gs://tinyface-test-bucket/tinyface"
IMAGE = "europe-docker.pkg.dev/tinyface-test/ml/tinyface-pipeline:test"
DATA_ROOT = "/gcs/tinyface-test-bucket/faces"


@pytest.fixture(scope="session")
def kubeflow_settings():
    from tinyface.kubeflow.settings import kubeflow_settings as make

    return make(root=ROOT, image=IMAGE, data_root=DATA_ROOT)


@pytest.fixture(scope="session")
def compiled(kubeflow_settings, tmp_path_factory):
    """(CompiledPipeline, path of the .yaml written)."""
    from tinyface.kubeflow import runner

    path = str(tmp_path_factory.mktemp("kubeflow") / "tinyface.yaml")
    return runner.compile_pipeline(kubeflow_settings, path), path
