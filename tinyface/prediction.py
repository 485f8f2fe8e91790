"""Running an exported tinyface model on image files: the library behind `tinyface predict`.

The model is the Trainer's SavedModel (trainer/training/export.py), used through its serving_default
signature exactly as TF Serving would: uint8 LR images in, the uint8 SR image and the 68
landmarks (SR pixels, 0-based, pixel centres at integers) out. The same preparation, drawing
and files serve a model behind TF Serving (tinyface/serving_client.py): predict() and
predict_files() take any model with lr_size, sr_size, predict_batch() and describe().
Which faces of an image are answered, and how they are cut out of whole photos, is
tinyface.photo_faces'.

TensorFlow is imported inside the functions that need it, so preparing inputs and drawing
landmarks stay usable (and testable) without loading TensorFlow.
"""

import dataclasses
import json
import os
import re
from typing import Optional

import numpy as np
from PIL import Image, ImageDraw

from tinyface import photo_faces, signatures
from tinyface.data.errors import BadInput
from tinyface.data.image_io import load_rgb

PREDICTIONS_JSON = "predictions.json"
LANDMARK_FILL = (0, 255, 0)     # saturated green: far from every skin, hair and lip colour
LANDMARK_OUTLINE = (0, 0, 0)    # a dark ring keeps the dot visible on pale or green backgrounds
_VERSION_DIR = re.compile(r"[0-9]+")  # TF Serving versions are plain decimal numbers


@dataclasses.dataclass(frozen=True)
class Model:
    """A loaded serving model and the sizes it works at."""

    serve: object               # the serving_default signature (a TF ConcreteFunction)
    lr_size: int                # side of the square uint8 input it accepts
    sr_size: int                # side of the SR image it returns; landmarks are in its pixels
    saved_model_dir: str        # the SavedModel directory actually loaded
    version: Optional[int]      # its TF Serving version, None when given a SavedModel directly
    # The object tf.saved_model.load returned: the signature only holds weak references to the
    # model's variables, so they would be freed (and `serve` would fail) without this one.
    loaded: object = dataclasses.field(repr=False, compare=False, default=None)

    def predict_batch(self, lr_images):
        """(uint8 SR images, float32 landmarks) for one uint8 (N, lr, lr, 3) batch."""
        import tensorflow as tf

        outputs = self.serve(**{signatures.LR_IMAGES_INPUT: tf.constant(lr_images)})
        return outputs[signatures.SR_IMAGE_OUTPUT].numpy(), outputs[signatures.LANDMARKS_OUTPUT].numpy()

    def describe(self):
        """Where the predictions came from, for predictions.json."""
        return {"model_dir": self.saved_model_dir, "model_version": self.version}


@dataclasses.dataclass(frozen=True)
class Prediction:
    sr_images: np.ndarray       # uint8 (N, sr, sr, 3)
    landmarks: np.ndarray       # float32 (N, 68, 2), SR pixels


def find_saved_model(model_dir):
    """(SavedModel directory, version or None) for a SavedModel or a TF Serving base directory.

    A TF Serving base holds one SavedModel per numeric subdirectory (`base/<version>/`); like
    TF Serving, the highest number wins (numerically: 12 beats 3), so `tinyface predict`
    answers with the model a server on the same folder would serve. Other subdirectories
    (e.g. a temporary export folder) are ignored, as TF Serving ignores them.
    """
    model_dir = str(model_dir)
    if os.path.isfile(model_dir):
        kind = " (a Keras .keras archive)" if model_dir.endswith(".keras") else ""
        raise BadInput(model_dir, f"is a file{kind}, not a SavedModel folder: give the Trainer's export "
                                  f"(a folder with saved_model.pb) or a TF Serving base folder")
    if not os.path.isdir(model_dir):
        raise BadInput(model_dir, "model directory not found")
    if _has_saved_model(model_dir):
        return model_dir, None
    # (number, folder name as written: it may be zero-padded, e.g. "0012").
    versions = sorted((int(name), name) for name in os.listdir(model_dir)
                      if _VERSION_DIR.fullmatch(name) and os.path.isdir(os.path.join(model_dir, name)))
    if not versions:
        raise BadInput(model_dir, "no SavedModel: expected saved_model.pb here, or numeric version "
                                  "subdirectories holding one (TF Serving layout base/<version>/)")
    version, name = versions[-1]
    chosen = os.path.join(model_dir, name)
    if not _has_saved_model(chosen):
        # Not falling back to an older version: a server would fail on this one too, and
        # silently predicting with an older model would hide that.
        raise BadInput(chosen, f"highest model version {version} has no saved_model.pb")
    return chosen, version


def _has_saved_model(directory):
    return any(os.path.isfile(os.path.join(directory, name)) for name in ("saved_model.pb", "saved_model.pbtxt"))


def load_model(model_dir):
    """Loads the serving model in `model_dir` (SavedModel or TF Serving base directory).

    The SR size comes from the signature's output spec, the LR size from its input spec (the
    Trainer's export declares both). A model exported before the input shape was declared is
    probed instead: one zero image per candidate size sr/scale, for every integer scale (x8
    first), and the size the model accepts is the LR size. A rejected size fails in the input
    check before any convolution, so the probe costs about one forward pass of one image.
    """
    loaded, saved_model_dir, version = open_saved_model(model_dir)
    serve = signature(loaded, signatures.SERVING_DEFAULT, saved_model_dir)
    sr_shape = serve.structured_outputs[signatures.SR_IMAGE_OUTPUT].shape
    if sr_shape.rank != 4 or sr_shape[1] is None or sr_shape[1] != sr_shape[2]:
        raise BadInput(saved_model_dir, f"{signatures.SR_IMAGE_OUTPUT} output has no static square size: {sr_shape}")
    sr_size = int(sr_shape[1])
    lr_size = _declared_lr_size(serve) or _probe_lr_size(serve, sr_size, saved_model_dir)
    return Model(serve=serve, lr_size=lr_size, sr_size=sr_size, saved_model_dir=saved_model_dir,
                 version=version, loaded=loaded)


def open_saved_model(model_dir):
    """(loaded SavedModel, its directory, TF Serving version or None) for a SavedModel or a
    TF Serving base directory; BadInput naming the folder when it holds no loadable SavedModel."""
    import tensorflow as tf

    saved_model_dir, version = find_saved_model(model_dir)
    try:
        loaded = tf.saved_model.load(saved_model_dir)
    except (OSError, ValueError, tf.errors.OpError) as error:
        raise BadInput(saved_model_dir, f"cannot load SavedModel: {_first_line(error)}") from None
    return loaded, saved_model_dir, version


def signature(loaded, name, saved_model_dir):
    """The named signature of a loaded SavedModel; BadInput listing the ones it has otherwise."""
    if name not in loaded.signatures:
        raise BadInput(saved_model_dir, f"SavedModel has no {name!r} signature "
                                        f"(has: {', '.join(sorted(loaded.signatures)) or 'none'})")
    return loaded.signatures[name]


def _declared_lr_size(serve):
    _, kwargs = serve.structured_input_signature
    shape = kwargs[signatures.LR_IMAGES_INPUT].shape
    if shape.rank == 4 and shape[1] is not None and shape[1] == shape[2]:
        return int(shape[1])
    return None


def _probe_lr_size(serve, sr_size, saved_model_dir):
    import tensorflow as tf

    def accepts(lr_size):
        try:
            serve(**{signatures.LR_IMAGES_INPUT: tf.zeros([1, lr_size, lr_size, 3], tf.uint8)})
        except tf.errors.InvalidArgumentError:
            return False
        return True

    return find_lr_size(accepts, sr_size, saved_model_dir)


def find_lr_size(accepts, sr_size, where):
    """The LR side a model takes: the first size sr/scale for which accepts(size) is true.

    x8 (the papers' and tinyface's scale) first: a rejected size costs a logged warning (or, on
    a server, a request), so the usual model is found by the first try.
    """
    scales = sorted((scale for scale in range(1, sr_size + 1) if sr_size % scale == 0), key=lambda s: (s != 8, s))
    for lr_size in (sr_size // scale for scale in scales):
        if accepts(lr_size):
            return lr_size
    raise BadInput(where, f"{signatures.SERVING_DEFAULT} accepts no square uint8 input whose "
                          f"side divides its SR size {sr_size}")


def _first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def predict(model, lr_images, batch_size=32):
    """Runs `model` on uint8 (N, lr, lr, 3) images in batches; returns a Prediction."""
    lr_images = np.asarray(lr_images)
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    expected = (model.lr_size, model.lr_size, 3)
    if lr_images.dtype != np.uint8 or lr_images.ndim != 4 or lr_images.shape[1:] != expected:
        raise ValueError(f"predict expects uint8 images of shape (N, {model.lr_size}, {model.lr_size}, 3), "
                         f"got {lr_images.dtype} {lr_images.shape}")
    sr_images, landmarks = [], []
    for start in range(0, len(lr_images), batch_size):
        sr, points = model.predict_batch(lr_images[start:start + batch_size])
        sr_images.append(sr)
        landmarks.append(points)
    if not sr_images:
        return Prediction(np.zeros((0, model.sr_size, model.sr_size, 3), np.uint8), np.zeros((0, 68, 2), np.float32))
    return Prediction(np.concatenate(sr_images), np.concatenate(landmarks))


def draw_landmarks(image, landmarks, fill=LANDMARK_FILL, radius=None):
    """A copy of RGB uint8 `image` with a dark-ringed dot of colour `fill` (default green) on
    each (x, y) landmark.

    Coordinates are pixels with centres at integers (the model's convention, and PIL's for
    shapes). The dot grows with the image so it stays visible on large images without hiding
    a 128-pixel face, unless `radius` (pixels) is given. Points that are not finite are skipped; points outside are clipped by PIL.
    `fill` lets one image carry two sets of points (the report draws the truth beside the
    prediction) in the same dot style.
    """
    canvas = Image.fromarray(np.asarray(image, dtype=np.uint8))
    draw = ImageDraw.Draw(canvas)
    radius = max(2, round(max(canvas.size) / 64)) if radius is None else radius
    for x, y in np.asarray(landmarks, dtype=np.float64):
        if np.isfinite(x) and np.isfinite(y):
            draw.ellipse([x - radius, y - radius, x + radius, y + radius],
                         fill=tuple(fill), outline=LANDMARK_OUTLINE, width=1)
    return np.asarray(canvas)


def output_stems(image_paths):
    """One output name stem per input, unique: `a/face.jpg` and `b/face.png` -> face, face-2.

    Without this the second would overwrite the first one's PNGs.
    """
    stems, taken = [], set()
    for path in image_paths:
        base = os.path.splitext(os.path.basename(str(path)))[0] or "image"
        stem, count = base, 1
        while stem in taken:
            count += 1
            stem = f"{base}-{count}"
        taken.add(stem)
        stems.append(stem)
    return stems


def predict_files(model, image_paths, out_dir, batch_size=32, faces=photo_faces.AUTO, boxes=None, margin=0.25):
    """Predicts every face of every image file; writes the PNGs and predictions.json into `out_dir`.

    `faces` and `boxes` say where the faces are (tinyface.photo_faces: AUTO finds them in
    photos and takes small images as one face crop; WHOLE takes every image as a crop; boxes
    apply to every image); `margin` is the pipeline's crop margin. Per input `<stem>`:
    - a face crop (WHOLE): `<stem>_sr.png` (SR image with the landmarks drawn), `<stem>_sr_clean.png`;
    - a photo: per face i `<stem>_face<i>_sr.png` and `<stem>_face<i>_sr_clean.png`, and
      `<stem>_landmarks.png`, the photo with every face's landmarks drawn.
    predictions.json (replaced on every run) lists per image its path, upright size, where its
    faces came from, the resize note, and per face its box and crop window, PNG names and the 68
    landmarks both in SR pixels (`landmarks`) and in the image's pixels (`landmarks_image`),
    plus where the model is (model.describe()). Every image is read and its faces found before
    anything is written, so a bad one (BadInput naming it) leaves no partial output behind.
    Returns the per-image JSON records, in input order.
    """
    image_paths = [str(path) for path in image_paths]
    # Only the small LR crops are kept, so many large photos do not fill the memory.
    found = [photo_faces.image_faces(path, model.lr_size, model.sr_size, faces, boxes, margin) for path in image_paths]
    lr_images = [face.lr for image in found for face in image.faces]
    prediction = predict(model, np.stack(lr_images) if lr_images else
                         np.zeros((0, model.lr_size, model.lr_size, 3), np.uint8), batch_size)

    os.makedirs(out_dir, exist_ok=True)
    records, answers = [], iter(zip(prediction.sr_images, prediction.landmarks))
    for image, stem in zip(found, output_stems(image_paths)):
        records.append(_write_image(image, stem, [next(answers) for _ in image.faces], model.sr_size, out_dir))
    report = {
        **model.describe(),
        "lr_size": model.lr_size,
        "sr_size": model.sr_size,
        "landmark_coordinates": "landmarks: SR image pixels; landmarks_image and face_box: the input image's "
                                "pixels as displayed (EXIF orientation applied); 0-based, pixel centres at integers",
        "images": records,
    }
    with open(os.path.join(out_dir, PREDICTIONS_JSON), "w") as f:
        f.write(_format_report(report))
    return records


def _write_image(image, stem, answers, sr_size, out_dir):
    """Writes one image's PNGs; returns its predictions.json record."""
    whole = image.faces_from == photo_faces.WHOLE
    faces, drawn_points = [], []
    for index, (face, (sr, points)) in enumerate(zip(image.faces, answers)):
        prefix = stem if whole else f"{stem}_face{index}"
        drawn_name, clean_name = f"{prefix}_sr.png", f"{prefix}_sr_clean.png"
        Image.fromarray(draw_landmarks(sr, points)).save(os.path.join(out_dir, drawn_name))
        Image.fromarray(sr).save(os.path.join(out_dir, clean_name))
        in_image = photo_faces.to_image_pixels(face, image.size, points, sr_size)
        drawn_points.append((in_image, face))
        faces.append({
            "face_index": index,
            "face_box": list(face.box),
            "crop_window": list(face.window) if face.window is not None else None,
            "sr_image": drawn_name,
            "sr_image_clean": clean_name,
            # float32 -> Python float is exact, so the JSON round-trips to the model's values.
            "landmarks": points.astype(np.float64).tolist(),
            "landmarks_image": in_image.tolist(),
        })
    drawn_photo = None
    if not whole and faces:
        drawn_photo = f"{stem}_landmarks.png"
        canvas = load_rgb(image.path, upright=True)
        for in_image, face in drawn_points:
            # Dots as large on the face as on its 128 px SR image.
            canvas = draw_landmarks(canvas, in_image, radius=max(1, round(2 * face.window[2] / sr_size)))
        Image.fromarray(canvas).save(os.path.join(out_dir, drawn_photo))
    return {
        "input": image.path,
        "input_size": list(image.size),
        "faces_from": image.faces_from,
        "note": image.note,
        "image_with_landmarks": drawn_photo,
        "faces": faces,
    }


def _format_report(report):
    # Indented, except that each image's record stays on one line: indenting 68 [x, y] pairs
    # would spread one image over hundreds of lines.
    head = {key: value for key, value in report.items() if key != "images"}
    lines = ["{"] + [f"  {json.dumps(key)}: {json.dumps(value)}," for key, value in head.items()]
    images = [f"    {json.dumps(record)}" for record in report["images"]]
    lines += ['  "images": [', ",\n".join(images), "  ]", "}"] if images else ['  "images": []', "}"]
    return "\n".join(lines) + "\n"
