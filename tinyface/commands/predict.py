"""`tinyface predict`: super-resolve face images and find their 68 landmarks with an exported model.

    tinyface predict --model serving_model/jasrnet face.jpg crops/*.png

--model is the Trainer's SavedModel, or a TF Serving base folder (the highest numeric version
is used). Each image is taken as an already cropped face and resized whole to the model's LR
input. Writes OUT/<name>_sr.png (landmarks drawn), OUT/<name>_sr_clean.png and
OUT/predictions.json (landmarks in SR pixels).
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
    parser.add_argument("--model", required=True, metavar="DIR",
                        help="SavedModel folder, or TF Serving base folder with numeric versions")
    parser.add_argument("--out", default="predictions", metavar="DIR",
                        help="output folder, created if missing (default: ./predictions)")
    parser.add_argument("--batch-size", type=_positive_int, default=32, help="images per model call (default: 32)")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="face image files (any format PIL reads)")
    parser.set_defaults(func=run)


def run(args):
    # TensorFlow comes in with tinyface.prediction's model loading, only when predicting.
    from tinyface import prediction

    model = prediction.load_model(args.model)
    records = prediction.predict_files(model, args.images, args.out, batch_size=args.batch_size)
    for record in records:
        done = f"{record['note']}; " if record["note"] else ""
        print(f"{record['input']}: {done}wrote {os.path.join(args.out, record['sr_image'])}")
    return 0
