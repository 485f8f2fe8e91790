"""tinyface: joint super-resolution and landmark alignment of tiny faces, as a TFX pipeline.

The `tinyface` package holds the plain-Python core (dataset readers, synthetic faces,
degradation, heatmaps, data reports, the command line). The TFX layers live beside it in
`components/`, `pipeline/`, `trainer/` and `kubeflow/`, as in TFX's own templates.
"""

__version__ = "0.1.0"
