"""tinyface: joint super-resolution and landmark alignment of tiny faces, as a TFX pipeline.

One namespace, in layers whose imports point down only (.importlinter; README "Layout"):
  tinyface.cli                      the command line                      (cli/)
  tinyface.kubeflow                 the pipeline's Kubeflow flavour       (kubeflow/)
  tinyface.pipeline                 create_pipeline, local runner, configs (pipeline/)
  tinyface.components, .trainer     TFX components; the Trainer's code    (components/, trainer/)
  tinyface.data, .beam, ...         the plain-Python core library         (tinyface/)
TFX's folders stay at the top of the repository, as in its templates; setup.py installs them
under this package.
"""

__version__ = "0.1.0"


def __getattr__(name):
    # KFP v2 titles a custom artifact type "<namespace>.<Title>" (nothing deeper), and TFX's
    # Kubeflow entrypoint imports that title as the class's path: "tinyface.DataReport" must
    # resolve here. Lazily, because the class needs TFX, which imports TensorFlow (~6 s), and
    # `import tinyface` must stay fast for the CLI and the core library.
    if name == "DataReport":
        from tinyface.components.artifacts import DataReport
        return DataReport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
