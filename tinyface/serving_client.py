"""A TF Serving client for the tinyface model: what `tinyface predict --server URL` talks to.

The URL's scheme picks the protocol (TF Serving's default ports in brackets):
- http(s)://host[:8501]: REST. POST {url}/v1/models/{name}[/versions/{n}]:predict with
  {"signature_name": "serving_default", "inputs": {"lr_images": [[[[r, g, b], ...]]]}} (the
  columnar format: one uint8 batch); the answer is {"outputs": {"sr_image": ..., "landmarks":
  ..., "heatmaps": ...}}.
- grpc://host[:8500]: gRPC. PredictionService.Predict with tensorflow-serving-api's
  PredictRequest; its output_filter leaves the heatmaps on the server.

Before predicting, the client reads the model's serving_default signature from the server's
metadata: the SR size from its output, the LR size from its input (the Trainer's export declares
both; for a model exported without an input shape, by asking the server which candidate size it
accepts, as tinyface.prediction does locally). RemoteModel then plugs into tinyface.prediction, so the
images are prepared, drawn and written exactly as for a local model.

Request bodies are built and answers read by the pure functions below, which the tests feed to
the SavedModel itself through TensorFlow's loader (there is no TF Serving binary to test with).
"""

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Optional, Tuple

import numpy as np
from google.protobuf import json_format

from tinyface import signatures
from tinyface.data.errors import BadInput
from tinyface.prediction import find_lr_size

REST_SCHEMES = ("http", "https")
GRPC_SCHEME = "grpc"
DEFAULT_TIMEOUT_SECONDS = 60.0
# What a prediction needs; the heatmaps stay on the server where the protocol allows (gRPC).
NEEDED_OUTPUTS = (signatures.SR_IMAGE_OUTPUT, signatures.LANDMARKS_OUTPUT)


class Rejected(Exception):
    """The server refused the request's input (HTTP 400 / INVALID_ARGUMENT)."""


# ---- REST: the JSON request and answer.

def rest_predict_body(lr_images: np.ndarray, signature_name: str = signatures.SERVING_DEFAULT) -> dict:
    """The :predict JSON body for a uint8 (N, lr, lr, 3) batch (TF Serving's columnar format)."""
    return {"signature_name": signature_name,
            "inputs": {signatures.LR_IMAGES_INPUT: np.asarray(lr_images, np.uint8).tolist()}}


def rest_outputs(answer: dict) -> Tuple[np.ndarray, np.ndarray]:
    """(uint8 SR images, float32 landmarks) from a :predict JSON answer."""
    outputs = answer.get("outputs")
    if not isinstance(outputs, dict) or any(name not in outputs for name in NEEDED_OUTPUTS):
        raise ValueError(f"the answer has no {' and '.join(NEEDED_OUTPUTS)} outputs "
                         f"(keys: {', '.join(sorted(answer))})")
    return (np.asarray(outputs[signatures.SR_IMAGE_OUTPUT], dtype=np.uint8),
            np.asarray(outputs[signatures.LANDMARKS_OUTPUT], dtype=np.float32))


def rest_model_path(model_name: str, version: Optional[int]) -> str:
    path = f"/v1/models/{urllib.parse.quote(model_name)}"
    return f"{path}/versions/{version}" if version is not None else path


# ---- gRPC: tensorflow-serving-api's PredictRequest and PredictResponse.

def grpc_predict_request(lr_images: np.ndarray, model_name: str, version: Optional[int] = None,
                         signature_name: str = signatures.SERVING_DEFAULT):
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    if version is not None:
        request.model_spec.version.value = version
    request.inputs[signatures.LR_IMAGES_INPUT].CopyFrom(
        tf.make_tensor_proto(np.asarray(lr_images, np.uint8), dtype=tf.uint8))
    request.output_filter.extend(NEEDED_OUTPUTS)
    return request


def grpc_outputs(response) -> Tuple[np.ndarray, np.ndarray]:
    """(uint8 SR images, float32 landmarks) from a PredictResponse."""
    import tensorflow as tf

    missing = [name for name in NEEDED_OUTPUTS if name not in response.outputs]
    if missing:
        raise ValueError(f"the answer has no {' and '.join(missing)} output")
    return (tf.make_ndarray(response.outputs[signatures.SR_IMAGE_OUTPUT]).astype(np.uint8),
            tf.make_ndarray(response.outputs[signatures.LANDMARKS_OUTPUT]).astype(np.float32))


# ---- The signature the server reports (GetModelMetadata; the same SignatureDefMap either way).

def serving_signature_sizes(signature_def_map, where: str) -> Tuple[Optional[int], int]:
    """(LR side if the input declares it, SR side) of serving_default in a SignatureDefMap."""
    if signatures.SERVING_DEFAULT not in signature_def_map.signature_def:
        raise BadInput(where, f"the served model has no {signatures.SERVING_DEFAULT!r} signature (has: "
                              f"{', '.join(sorted(signature_def_map.signature_def)) or 'none'})")
    signature = signature_def_map.signature_def[signatures.SERVING_DEFAULT]
    sr_dims = _dims(signature.outputs[signatures.SR_IMAGE_OUTPUT].tensor_shape) \
        if signatures.SR_IMAGE_OUTPUT in signature.outputs else None
    if not sr_dims or len(sr_dims) != 4 or sr_dims[1] < 1 or sr_dims[1] != sr_dims[2]:
        raise BadInput(where, f"{signatures.SR_IMAGE_OUTPUT} output has no static square size: {sr_dims}")
    lr_dims = _dims(signature.inputs[signatures.LR_IMAGES_INPUT].tensor_shape) \
        if signatures.LR_IMAGES_INPUT in signature.inputs else None
    declared = lr_dims[1] if lr_dims and len(lr_dims) == 4 and lr_dims[1] > 0 and lr_dims[1] == lr_dims[2] else None
    return declared, sr_dims[1]


def _dims(shape):
    return None if shape.unknown_rank else [dim.size for dim in shape.dim]


def _signature_def_map():
    from tensorflow_serving.apis import get_model_metadata_pb2

    return get_model_metadata_pb2.SignatureDefMap()


class _Rest:

    def __init__(self, url, model_name, version, timeout):
        self.url, self.model_name, self.version, self.timeout = url.rstrip("/"), model_name, version, timeout

    def _call(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            message = _error_message(error.read())
            if error.code == 400:
                raise Rejected(message) from None
            raise BadInput(self.url, f"TF Serving answered {error.code}: {_one_line(message)}") from None
        except (urllib.error.URLError, OSError) as error:
            raise BadInput(self.url, f"cannot reach TF Serving: {getattr(error, 'reason', error)}") from None

    def metadata(self):
        """(SignatureDefMap, the version the server serves)."""
        answer = self._call(rest_model_path(self.model_name, self.version) + "/metadata")
        signature_defs = _signature_def_map()
        json_format.ParseDict(answer.get("metadata", {}).get("signature_def", {}), signature_defs,
                              ignore_unknown_fields=True)
        version = answer.get("model_spec", {}).get("version")
        return signature_defs, int(version) if version is not None else self.version

    def predict(self, lr_images):
        return rest_outputs(self._call(rest_model_path(self.model_name, self.version) + ":predict",
                                       rest_predict_body(lr_images)))


class _Grpc:

    def __init__(self, url, model_name, version, timeout):
        import grpc
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        self.url, self.model_name, self.version, self.timeout = url, model_name, version, timeout
        self._grpc = grpc
        self._stub = prediction_service_pb2_grpc.PredictionServiceStub(
            grpc.insecure_channel(urllib.parse.urlsplit(url).netloc))

    def _call(self, method, request):
        try:
            return method(request, timeout=self.timeout)
        except self._grpc.RpcError as error:
            if error.code() == self._grpc.StatusCode.INVALID_ARGUMENT:
                raise Rejected(error.details()) from None
            if error.code() in (self._grpc.StatusCode.UNAVAILABLE, self._grpc.StatusCode.DEADLINE_EXCEEDED):
                raise BadInput(self.url, f"cannot reach TF Serving: {_one_line(error.details())}") from None
            raise BadInput(self.url, f"TF Serving answered {error.code().name}: {_one_line(error.details())}") from None

    def metadata(self):
        from tensorflow_serving.apis import get_model_metadata_pb2

        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        request.model_spec.name = self.model_name
        if self.version is not None:
            request.model_spec.version.value = self.version
        answer = self._call(self._stub.GetModelMetadata, request)
        signature_defs = _signature_def_map()
        answer.metadata["signature_def"].Unpack(signature_defs)
        served = answer.model_spec.version.value if answer.model_spec.HasField("version") else self.version
        return signature_defs, served

    def predict(self, lr_images):
        return grpc_outputs(self._call(
            self._stub.Predict, grpc_predict_request(lr_images, self.model_name, self.version)))


def _error_message(body: bytes) -> str:
    try:
        return str(json.loads(body)["error"])
    except (ValueError, KeyError, TypeError):
        return body.decode(errors="replace").strip() or "no details"


def _one_line(message: str) -> str:
    """A server's error as one line: TensorFlow's are several (a banner, the failed assertion,
    the graph node); the assertion, when there is one, is what names the problem."""
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    assertion = [line for line in lines if line.startswith("assertion failed:")]
    return (assertion or lines or ["no details"])[0]


class RemoteModel:
    """A model served by TF Serving, usable wherever tinyface.prediction takes a model."""

    def __init__(self, url: str, model_name: str, version: Optional[int] = None,
                 timeout: float = DEFAULT_TIMEOUT_SECONDS):
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme in REST_SCHEMES:
            self._server = _Rest(url, model_name, version, timeout)
        elif scheme == GRPC_SCHEME:
            self._server = _Grpc(url, model_name, version, timeout)
        else:
            raise BadInput(url, f"the server URL must start with http://, https:// (REST, port 8501) or "
                                f"grpc:// (gRPC, port 8500)")
        self.url, self.model_name = url, model_name
        signature_defs, self.version = self._server.metadata()
        declared, self.sr_size = serving_signature_sizes(signature_defs, url)
        self.lr_size = declared or find_lr_size(self._accepts, self.sr_size, url)

    def _accepts(self, lr_size):
        try:
            self._server.predict(np.zeros((1, lr_size, lr_size, 3), np.uint8))
        except Rejected:
            return False
        return True

    def predict_batch(self, lr_images):
        try:
            return self._server.predict(lr_images)
        except Rejected as error:
            raise BadInput(self.url, f"TF Serving rejected the images: {_one_line(error)}") from None

    def describe(self):
        return {"server": self.url, "model_name": self.model_name, "model_version": self.version}
