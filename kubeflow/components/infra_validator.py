"""InfraValidator for Kubeflow: TFX's InfraValidator executor, compiled and run on KFP v2.

- TFX's v2 compiler raises NotImplementedError for any instance of TFX's InfraValidator class
  (tfx/orchestration/kubeflow/v2/step_builder.py), so this is a component of its own over the
  same spec and executor.
- The executor's Kubernetes runner starts a TF Serving pod next to its own and looks itself up
  through KFP_POD_NAME and KFP_NAMESPACE. The KFP v2 backend sets KFP_POD_NAME (from the pod's
  metadata) but not KFP_NAMESPACE; the executor takes it from the pod's service-account mount,
  which Kubernetes provides in every pod.
"""

import os
from typing import MutableMapping, Optional

from absl import logging
from tfx import types
from tfx.components.infra_validator import executor as infra_validator_executor
from tfx.dsl.components.base import base_component, executor_spec
from tfx.proto import infra_validator_pb2
from tfx.types import standard_artifacts, standard_component_specs
from tfx.utils import kube_utils

SERVICE_ACCOUNT_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


def ensure_kfp_namespace(environ: MutableMapping[str, str] = os.environ,
                         namespace_file: str = SERVICE_ACCOUNT_NAMESPACE_FILE) -> Optional[str]:
    """Sets KFP_NAMESPACE from the pod's namespace when KFP did not; returns the namespace."""
    if environ.get(kube_utils.KFP_NAMESPACE):
        return environ[kube_utils.KFP_NAMESPACE]
    if not os.path.exists(namespace_file):
        return None   # not in a pod: the Kubernetes runner will say it must run inside KFP
    with open(namespace_file) as f:
        namespace = f.read().strip()
    environ[kube_utils.KFP_NAMESPACE] = namespace
    logging.info("KFP_NAMESPACE set to %s from %s", namespace, namespace_file)
    return namespace


class Executor(infra_validator_executor.Executor):

    def Do(self, input_dict, output_dict, exec_properties):
        ensure_kfp_namespace()
        super().Do(input_dict, output_dict, exec_properties)


class InfraValidator(base_component.BaseComponent):
    SPEC_CLASS = standard_component_specs.InfraValidatorSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, model: types.BaseChannel, examples: types.BaseChannel,
                 serving_spec: infra_validator_pb2.ServingSpec,
                 request_spec: infra_validator_pb2.RequestSpec,
                 validation_spec: infra_validator_pb2.ValidationSpec):
        super().__init__(spec=standard_component_specs.InfraValidatorSpec(
            model=model,
            examples=examples,
            blessing=types.Channel(type=standard_artifacts.InfraBlessing),
            serving_spec=serving_spec,
            validation_spec=validation_spec,
            request_spec=request_spec))
