"""tinyface: a TFX pipeline for joint super-resolution and landmark alignment of tiny faces."""

from setuptools import find_packages, setup

# Every direct dependency pinned. tfx 1.16 is the newest installable from the registry
# (1.17+ lacks tensorflow-data-validation and ml-metadata wheels); kfp 2.5.0 is the newest
# that accepts protobuf 3.20, which TensorFlow 2.16 needs.
INSTALL_REQUIRES = [
    "tfx==1.16.0",
    "tensorflow==2.16.2",
    "keras==3.12.4",
    "tensorflow-model-analysis==0.47.1",
    "tensorflow-data-validation==1.16.1",
    "tensorflow-transform==1.16.0",
    "tensorflow-metadata==1.16.1",
    "ml-metadata==1.16.0",
    "apache-beam==2.74.0",
    "dill==0.4.1",  # tensorflow_transform imports it; apache-beam no longer pulls it in
    "numpy==1.26.4",
    "protobuf==3.20.3",
    "kfp==2.5.0",
    # TF Serving's PredictRequest and gRPC stub: `tinyface predict --server` and InfraValidator.
    "tensorflow-serving-api==2.16.1",
    "pillow==12.3.0",
    "scipy==1.12.0",
    # `tinyface predict` finds faces in photos with the Haar cascade this wheel ships
    # (cv2.data.haarcascades): nothing downloaded at run time. 4.11 is the newest that still
    # accepts numpy 1.x (4.12+ require numpy 2).
    "opencv-python-headless==4.11.0.86",
    # The run report's charts (training curves, metrics by slice); TFMA does not pull it in.
    "matplotlib==3.9.4",
]

# TFX's folders sit at the top of the repository as in its templates, and the command line in
# cli/; all of them install under the `tinyface` namespace, never as generic top-level packages
# (a top-level `kubeflow` would shadow the Kubeflow SDK's).
PACKAGE_DIRS = {
    "tinyface": "tinyface",
    "tinyface.components": "components",
    "tinyface.trainer": "trainer",
    "tinyface.pipeline": "pipeline",
    "tinyface.kubeflow": "kubeflow",
    "tinyface.cli": "cli",
}


def namespaced_packages():
    packages = []
    for package, folder in PACKAGE_DIRS.items():
        packages += [package] + [f"{package}.{sub}" for sub in find_packages(folder)]
    return packages


EXTRAS_REQUIRE = {
    # import-linter: the layers contract (.importlinter) that tests/test_layers.py checks.
    # pytest-xdist: scripts/test.sh runs the suite on two workers (see there).
    "test": ["pytest==9.2.0", "pytest-xdist==3.8.0", "scikit-image==0.25.2", "import-linter==2.15"],
}

setup(
    name="tinyface",
    version="0.1.0",
    description="TFX pipeline for joint super-resolution and landmark alignment of tiny faces",
    python_requires=">=3.10,<3.11",
    packages=namespaced_packages(),
    package_dir=PACKAGE_DIRS,
    # The pretrained model (tinyface/pretrained/): its SavedModel versions and provenance.
    package_data={"": ["*.pbtxt"],
                  "tinyface.pretrained": ["real_faces/PROVENANCE.md", "real_faces/*/*.pb",
                                          "real_faces/*/variables/*"]},
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
    entry_points={"console_scripts": ["tinyface=tinyface.cli.main:main"]},
)
