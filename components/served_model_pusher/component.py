"""Pusher: TFX's Pusher component (same inputs, outputs and settings) with our executor, which
does not push again a model TF Serving already serves (see executor.py)."""

from tfx import v1 as tfx
from tfx.dsl.components.base import executor_spec

from tinyface.components.served_model_pusher import executor


class Pusher(tfx.components.Pusher):
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)
