"""What InfraValidator checks on Kubeflow, as TFX's protos: the model loads in TF Serving's
official image in a pod of the cluster and answers PredictRequests built from eval pairs.

The requests go to the serve_tf_examples signature: TFX builds PredictRequests only for a
signature taking serialized tf.Examples. It runs the same network as serving_default, the
signature clients call (tinyface/serving_client.py), so a model that answers here loads and runs.
"""

import dataclasses

from tfx.proto import infra_validator_pb2

from tinyface import signatures

REQUEST_SPLIT = "eval"          # PairGen's eval pairs


@dataclasses.dataclass(frozen=True)
class InfraValidation:
    serving_spec: infra_validator_pb2.ServingSpec
    request_spec: infra_validator_pb2.RequestSpec
    validation_spec: infra_validator_pb2.ValidationSpec


def infra_validation(serving_image: str, serving_tag: str, model_name: str, num_examples: int,
                     max_loading_time_seconds: int = 300, num_tries: int = 3) -> InfraValidation:
    if num_examples < 1:
        raise ValueError(f"InfraValidator needs at least one request example, got {num_examples}")
    return InfraValidation(
        serving_spec=infra_validator_pb2.ServingSpec(
            tensorflow_serving=infra_validator_pb2.TensorFlowServing(image_name=serving_image, tags=[serving_tag]),
            kubernetes=infra_validator_pb2.KubernetesConfig(),
            model_name=model_name),
        request_spec=infra_validator_pb2.RequestSpec(
            tensorflow_serving=infra_validator_pb2.TensorFlowServingRequestSpec(
                signature_names=[signatures.TF_EXAMPLE_SIGNATURE]),
            split_name=REQUEST_SPLIT,
            num_examples=num_examples),
        validation_spec=infra_validator_pb2.ValidationSpec(
            max_loading_time_seconds=max_loading_time_seconds, num_tries=num_tries))
