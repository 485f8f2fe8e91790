"""Component variants that let the one pipeline definition run on Kubeflow Pipelines v2.

Why they exist (read from the installed TFX 1.16 and the KFP backend's source):
- the open-source KFP v2 backend rejects TFX's Resolver nodes ("resolver executors not
  implemented") and ignores the ExampleGen driver hook (lifecycle.preCacheCheck) that picks a
  span; TFX's v2 compiler refuses InfraValidator instances outright;
- a task's inputs are whole artifacts and parameters: no resolver can hand over "nothing", and
  no run-time value can be spliced into a proto-valued property.
So the resolution a LocalDagRunner does over ML Metadata happens here inside components, over
remote storage, and the typed runtime parameters reach TFX's executors through thin executor
subclasses. Each variant runs TFX's (or tinyface's) own executor for the actual work.
"""
