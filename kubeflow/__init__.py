"""tinyface on Kubeflow Pipelines v2 and Vertex AI Pipelines.

The one pipeline definition (pipeline/pipeline.py::create_pipeline) compiled with TFX's
KubeflowV2DagRunner, the component variants that let it run there, the pipeline image's
settings and scheduled retraining through kfp's client. See the README's "Kubeflow" section.
"""
