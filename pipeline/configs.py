"""Every setting of the tinyface pipeline, in one place (as in TFX's templates).

Paths default under TINYFACE_HOME (./tinyface_home). A run overrides any of these without
code edits: pipeline/run_config.py (`tinyface run --config FILE`, see the README).
"""

import os

from tinyface import features
from tinyface.data.degradation import DegradationConfig
from tinyface.data.heatmaps import DIC_HEATMAPS
from tinyface.data.pairs import PairConfig
from trainer.training_config import paper_config

PIPELINE_NAME = "tinyface"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOME = os.environ.get("TINYFACE_HOME", os.path.join(os.getcwd(), "tinyface_home"))
PIPELINE_ROOT = os.path.join(HOME, "pipelines", PIPELINE_NAME)

# ---- Data. The default is the embedded synthetic dataset (made on first use under the run's
# home, then cached); a run's data.root setting reads another folder instead.
SYNTH_COUNT = 400
SYNTH_SEED = 0
DATA_FORMAT = "auto"          # a reader name (300w, dlib_xml, wflw, celeba, lfw5) or auto-detect
DATASET_NAME = None           # None: the reader's default name ("300w", "wflw", ...)
USE_SPANS = False             # True: the data folder holds span-N folders and the newest one is read
HR_SIZE = 128                 # fixed: every model preset is built for 128x128 faces
CROP_MARGIN = 0.25
STRICT = False                # True: the first bad record fails the run
TRAIN_BUCKETS, EVAL_BUCKETS = 8, 2  # train/eval split by a hash of the face id

# ---- Validation. The curated schema is checked in; ImportSchemaGen brings it in.
SCHEMA_FILE = os.path.join(REPO_ROOT, "schemas", "faces", "schema.pbtxt")
# Drift between a span and the previous one: {feature: (comparator, threshold)}.
# Measured on two 80-face synthetic spans of one distribution: JSD <= 0.09 and pose-bucket
# L-infinity <= 0.075 (sampling noise); the shifted presets reach 0.8 (dark), 1.0 (small
# faces), 0.17-0.19 (larger yaw). Thresholds sit about twice above the noise.
DRIFT_THRESHOLDS = {
    features.BRIGHTNESS: ("jensen_shannon_divergence", 0.2),
    features.YAW: ("jensen_shannon_divergence", 0.15),
    features.FACE_SIZE: ("jensen_shannon_divergence", 0.2),
    features.POSE_BUCKET: ("infinity_norm", 0.15),
}
# Splits compared for drift. Eval is a hash-subset of the same span, so comparing train
# catches the same shift without the sampling noise of a small eval split.
DRIFT_SPLITS = ("train",)

# ---- Pairs.
PAIR_CONFIG = PairConfig(
    degradation=DegradationConfig(scales=(8,)),
    seed=0,
    materialize_heatmaps=False,   # rendered in the input pipeline; see README for the figures
    heatmap_spec=DIC_HEATMAPS,
)

# ---- Training. The module file is the Trainer's entry point; TFX packs its folder (trainer/).
TRAINER_MODULE_FILE = os.path.join(REPO_ROOT, "trainer", "run_fn.py")
# The demo default is the small JASRNet (with its two documented demo options, see
# trainer/jasrnet.py) at Adam 1e-3 instead of the paper's 5e-5: at 5e-5 the 16-feature net
# learns too little in a demo's few thousand steps. On the default data, 2000 steps reached
# +1.6 dB over bicubic and NME 0.088 (mean shape 0.162); 3000 leave margin on every slice.
# Set model="dic" (and model_size="reference" on real hardware) for the other model.
TRAINING = paper_config("jasrnet", model_size="small", batch_size=8, learning_rate=1e-3,
                        checkpoint_every=500, eval_steps=10)
TRAIN_STEPS = 3000
EVAL_STEPS = 10

# ---- Evaluation and push. Blessing needs, on every slice, PSNR-Y at least this much above
# bicubic and NME below the mean shape's; against the last blessed model, no drop beyond the
# margins. WFLW users add features.WFLW_ATTRIBUTES to the slices.
EVAL_SLICE_FEATURES = features.PAIR_SLICE_FEATURES
MIN_PSNR_GAIN_DB = 1.0
MAX_NME_RATIO_TO_MEAN_SHAPE = 1.0
PSNR_REGRESSION_MARGIN_DB = 0.1
NME_REGRESSION_MARGIN = 0.005

# ---- Beam. DirectRunner in-process by default; any Beam runner by these flags.
BEAM_PIPELINE_ARGS = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]

