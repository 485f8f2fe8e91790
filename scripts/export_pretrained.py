"""Exports a trained network as tinyface's pretrained model, computing in float32.

    python scripts/export_pretrained.py MODEL_ARTIFACT --model jasrnet --size small \
        [--eval-pairs '<pipeline root>/PairGen/examples/N/Split-eval/*']

MODEL_ARTIFACT is a Trainer's Model artifact folder (its Format-Weights/network.weights.h5 is
read). The network is built again in float32, the weights loaded, and the serving SavedModel
written with trainer/training/export.py to tinyface/pretrained/real_faces/<version>/ (version: seconds
since the epoch, as the Pusher names versions). Why not copy the Trainer's export: a run trained
in mixed bfloat16 exports a graph that computes in bfloat16, which CPUs without native bf16
emulate many times slower; the float32 graph runs at full speed everywhere.

With --eval-pairs it checks that the run's evaluation figures carry over: on those pair files,
the float32 export and the Trainer's export are scored with the evaluation's metrics (PSNR-Y, 8
px shaved; NME by the outer eye corners) and the means printed side by side.
"""

import argparse
import glob
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _export_float32(artifact, model, size, out_root):
    import keras

    from tinyface.trainer.training import export
    from tinyface.trainer.models import registry, network_weights

    keras.mixed_precision.set_global_policy("float32")
    built = registry.build_model(model, size)
    network_weights.load_initial_weights(built.network, artifact)
    target = os.path.join(out_root, str(int(time.time())))
    export.export_serving_model(built.network, target, built.contract)
    return target


def _eval_pairs(pattern):
    import tensorflow as tf

    from tinyface import features

    files = sorted(glob.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no pair files match {pattern}")
    lr, hr, landmarks = [], [], []
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
        example = tf.train.Example.FromString(record.numpy()).features.feature
        lr.append(tf.io.decode_png(example[features.LR_IMAGE].bytes_list.value[0], channels=3).numpy())
        hr.append(tf.io.decode_png(example[features.HR_IMAGE].bytes_list.value[0], channels=3).numpy())
        landmarks.append(np.reshape(example[features.LANDMARKS_68].float_list.value, (68, 2)))
    return np.stack(lr), np.stack(hr), np.stack(landmarks)


def _scores(model_dir, lr, hr, landmarks):
    from tinyface import metrics, prediction

    model = prediction.load_model(model_dir)
    started = time.perf_counter()
    predicted = prediction.predict(model, lr, batch_size=16)
    seconds = time.perf_counter() - started
    shave = hr.shape[1] // lr.shape[1]
    psnr_y = np.mean([metrics.psnr(sr, truth, shave=shave, y_channel=True)
                      for sr, truth in zip(predicted.sr_images, hr)])
    nme = np.mean(metrics.nme_batch(predicted.landmarks, landmarks))
    return psnr_y, nme, seconds / len(lr)


def main(argv=None):
    from tinyface import pretrained

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("artifact", help="a Trainer's Model artifact folder")
    parser.add_argument("--model", required=True, help="the model the run trained (training.model)")
    parser.add_argument("--size", required=True, help="its size preset (training.model_size)")
    parser.add_argument("--eval-pairs", help="glob of GZIP pair TFRecords to compare the two exports on")
    parser.add_argument("--out", default=pretrained.MODEL_DIR, help="base folder (default: %(default)s)")
    args = parser.parse_args(argv)
    target = _export_float32(args.artifact, args.model, args.size, args.out)
    print(f"exported {args.model} ({args.size}) in float32 to {target}")
    if args.eval_pairs:
        lr, hr, landmarks = _eval_pairs(args.eval_pairs)
        print(f"on {len(lr)} pairs:  PSNR-Y   NME   s/face")
        for name, model_dir in (("trained export", os.path.join(args.artifact, "Format-Serving")),
                                ("float32 export", target)):
            print(f"  {name}: {' '.join(f'{v:.4f}' for v in _scores(model_dir, lr, hr, landmarks))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
