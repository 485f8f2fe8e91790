"""What create_pipeline() wires differently when it builds the pipeline for Kubeflow.

Passed as create_pipeline(kubeflow=...); None (the default) is the local pipeline. The data
root and training steps go in create_pipeline's own data_root and train_steps arguments (as
RuntimeParameters); the other runtime parameters and the Kubeflow-only settings are here.
"""

import dataclasses
from typing import Optional, Sequence

from kubeflow.infra_validation import InfraValidation
from kubeflow.parameters import RuntimeParameters


@dataclasses.dataclass(frozen=True)
class KubeflowWiring:
    parameters: RuntimeParameters       # span, model and the blessing thresholds are read from here
    trainer_run_fn: str                 # the Trainer's entry point as a module path in the image
    statistics_archive: str             # remote root of the span statistics archive (drift baseline)
    eval_slice_features: Sequence[str]  # the Evaluator's slices; its EvalConfig is built at run time
    infra_validation: Optional[InfraValidation]   # None: no InfraValidator (Vertex has no pods to start)
