"""`tinyface predict`: super-resolve face images and find their 68 landmarks with an exported model.

    tinyface predict face.jpg                                     # the pretrained model
    tinyface predict --model serving_model/jasrnet face.jpg crops/*.png
    tinyface predict --server http://localhost:8501 face.jpg     # TF Serving, REST
    tinyface predict --server grpc://localhost:8500 face.jpg     # TF Serving, gRPC

--model is the Trainer's SavedModel, or a TF Serving base folder (the highest numeric version
is used); --server is a running TF Serving (tinyface/serving_client.py). With neither, the
pretrained model shipped with tinyface (tinyface/pretrained/, trained on real 300-W faces,
research use only) answers. Each image is taken as an already cropped face and resized whole
to the model's LR input. Writes OUT/<name>_sr.png (landmarks drawn), OUT/<name>_sr_clean.png
and OUT/predictions.json (landmarks in SR pixels).
"""

import argparse
import os


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def register(subparsers):
    parser = subparsers.add_parser(
        "predict", help="super-resolve face images and find their landmarks with an exported model",
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model", metavar="DIR",
                        help="SavedModel folder, or TF Serving base folder with numeric versions "
                             "(default: the pretrained model shipped with tinyface)")
    source.add_argument("--server", metavar="URL",
                        help="TF Serving: http(s)://HOST:8501 (REST) or grpc://HOST:8500 (gRPC)")
    parser.add_argument("--model-name", default=None, metavar="NAME",
                        help="with --server: the served model's name (default: tinyface)")
    parser.add_argument("--model-version", type=_positive_int, default=None, metavar="N",
                        help="with --server: this version instead of the newest the server has")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="with --server: seconds to wait for each answer (default: 60)")
    parser.add_argument("--out", default="predictions", metavar="DIR",
                        help="output folder, created if missing (default: ./predictions)")
    parser.add_argument("--batch-size", type=_positive_int, default=32, help="images per model call (default: 32)")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="face image files (any format PIL reads)")
    parser.set_defaults(func=run)


def run(args):
    # TensorFlow comes in with tinyface.prediction's model loading, only when predicting.
    from tinyface import prediction, pretrained

    if args.server:
        model = _remote_model(args)
    else:
        if (args.model_name, args.model_version, args.timeout) != (None, None, None):
            raise ValueError("--model-name, --model-version and --timeout go with --server")
        model = prediction.load_model(args.model or pretrained.model_dir())
    records = prediction.predict_files(model, args.images, args.out, batch_size=args.batch_size)
    for record in records:
        done = f"{record['note']}; " if record["note"] else ""
        print(f"{record['input']}: {done}wrote {os.path.join(args.out, record['sr_image'])}")
    return 0


def _remote_model(args):
    from pipeline import configs
    from tinyface import serving_client

    timeout = serving_client.DEFAULT_TIMEOUT_SECONDS if args.timeout is None else args.timeout
    if timeout <= 0:
        raise ValueError(f"--timeout must be positive, got {timeout}")
    return serving_client.RemoteModel(args.server, args.model_name or configs.KUBEFLOW_SERVING_MODEL_NAME,
                                      version=args.model_version, timeout=timeout)
