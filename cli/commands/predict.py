"""`tinyface predict`: super-resolve the faces of images and find their 68 landmarks with an exported model.

    tinyface predict group_photo.jpg                            # the pretrained model; faces detected
    tinyface predict --model serving_model/jasrnet --box 120,80,60,60 photo.jpg
    tinyface predict --model serving_model/jasrnet crops/*.png  # small images: one face crop each
    tinyface predict --server http://localhost:8501 face.jpg    # TF Serving, REST
    tinyface predict --server grpc://localhost:8500 face.jpg    # TF Serving, gRPC

--model is the Trainer's SavedModel, or a TF Serving base folder (the highest numeric version
is used); without --model or --server, the pretrained model shipped with tinyface
(tinyface/pretrained/: trained on real 300-W faces, research use only). --server is a running
TF Serving (tinyface/serving_client.py).

Faces: --box x,y,w,h (repeatable) gives them; else an iBUG .pts file beside an image (same
name) gives its face; else OpenCV's frontal-face Haar detector finds them (frontal faces of at
least 24 px; turned or tilted faces need --box). Images no larger than the model's SR image
(128 px) are taken as one face crop each and resized whole (--faces whole forces that, --faces
detect forces detection). Each face is cropped as the pipeline crops it. Photos are read as
displayed (EXIF orientation applied); grayscale and RGBA images are read as RGB.

Writes into --out: per face <name>[_face<i>]_sr.png (landmarks drawn) and _sr_clean.png; per
photo <name>_landmarks.png (every face's landmarks drawn on the photo); predictions.json
(landmarks in SR pixels and, as landmarks_image, in the image's pixels, 0-based).
"""

import argparse
import os

from tinyface import console, photo_faces
from tinyface.cli.commands.arguments import positive_int


def register(subparsers):
    parser = subparsers.add_parser(
        "predict", help="super-resolve face images and find their landmarks with an exported model",
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model", metavar="DIR",
                        help="SavedModel folder, or TF Serving base folder with numeric versions "
                             "(default: the pretrained model)")
    source.add_argument("--server", metavar="URL",
                        help="TF Serving: http(s)://HOST:8501 (REST) or grpc://HOST:8500 (gRPC)")
    parser.add_argument("--model-name", default=None, metavar="NAME",
                        help="with --server: the served model's name (default: tinyface)")
    parser.add_argument("--model-version", type=positive_int, default=None, metavar="N",
                        help="with --server: this version instead of the newest the server has")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="with --server: seconds to wait for each answer (default: 60)")
    parser.add_argument("--out", default="predictions", metavar="DIR",
                        help="output folder, created if missing (default: ./predictions)")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="images per model call (default: 32)")
    parser.add_argument("--box", action="append", type=_face_box, metavar="X,Y,W,H",
                        help="a face's box in the image (first pixel, width, height); repeat for more "
                             "faces; goes with one IMAGE")
    parser.add_argument("--faces", choices=photo_faces.MODES, default=photo_faces.AUTO,
                        help="auto: detect faces in images larger than the model's SR image, take smaller "
                             "ones whole; detect: always detect; whole: every image is one face crop")
    parser.add_argument("images", nargs="+", metavar="IMAGE",
                        help="photos or face crops (any format PIL reads)")
    parser.set_defaults(func=run)


def _face_box(text):
    try:
        return photo_faces.parse_box(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def run(args):
    # TensorFlow comes in with tinyface.prediction's model loading, only when predicting.
    from tinyface.pipeline import configs
    from tinyface import prediction, pretrained

    if args.box and (len(args.images) != 1 or args.faces == photo_faces.WHOLE):
        raise ValueError("--box goes with exactly one IMAGE, and not with --faces whole")
    if args.server:
        model = _remote_model(args)
    else:
        if (args.model_name, args.model_version, args.timeout) != (None, None, None):
            raise ValueError("--model-name, --model-version and --timeout go with --server")
        model = prediction.load_model(args.model or pretrained.model_dir())
    records = prediction.predict_files(model, args.images, args.out, batch_size=args.batch_size,
                                       faces=args.faces, boxes=args.box, margin=configs.CROP_MARGIN)
    for record in records:
        console.say(f"{record['input']}: {_outcome(record, args.out)}")
    return 0


def _outcome(record, out):
    """One line per image: what was found and the file to look at."""
    if record["faces_from"] == photo_faces.WHOLE:
        done = f"{record['note']}; " if record["note"] else ""
        return f"{done}wrote {os.path.join(out, record['faces'][0]['sr_image'])}"
    if not record["faces"]:
        return ("no face found (OpenCV's frontal-face detector finds upright faces of 24 px or more; "
                "give --box x,y,w,h, or --faces whole for a face crop)")
    count = len(record["faces"])
    return (f"{count} face{'s' if count != 1 else ''} ({record['faces_from']}); "
            f"wrote {os.path.join(out, record['image_with_landmarks'])}")


def _remote_model(args):
    from tinyface.pipeline import configs
    from tinyface import serving_client

    timeout = serving_client.DEFAULT_TIMEOUT_SECONDS if args.timeout is None else args.timeout
    if timeout <= 0:
        raise ValueError(f"--timeout must be positive, got {timeout}")
    return serving_client.RemoteModel(args.server, args.model_name or configs.KUBEFLOW_SERVING_MODEL_NAME,
                                      version=args.model_version, timeout=timeout)
