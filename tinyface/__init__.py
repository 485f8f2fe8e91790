"""tinyface: joint super-resolution and landmark alignment of tiny faces, as a TFX pipeline.

The `tinyface` package holds the plain-Python core (dataset readers, synthetic faces,
degradation, heatmaps, data reports, the command line). The TFX layers live beside it in
`components/`, `pipeline/`, `trainer/` and `kubeflow/`, as in TFX's own templates.
"""

__version__ = "0.1.0"


def __getattr__(name):
    # TFX's Kubeflow entrypoint rebuilds each artifact from its type name, which it imports as a
    # class path: "tinyface.DataReport" (components/artifacts.py) must resolve here. Lazily, so
    # `import tinyface` stays free of TFX.
    if name == "DataReport":
        from components.artifacts import DataReport
        return DataReport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
