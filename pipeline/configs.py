"""Every setting of the tinyface pipeline, in one place (as in TFX's templates).

Paths default under TINYFACE_HOME (./tinyface_home). A run overrides any of these without
code edits: pipeline/run_config.py (`tinyface run --config FILE`, see the README).
"""

import os

from tinyface import features, home
from tinyface.data.degradation.degrade import DegradationConfig
from tinyface.data.degradation.pairs import PairConfig
from tinyface.evaluation.blessing import BlessingThresholds
from tinyface.trainer.models import registry as model_registry
from tinyface.trainer.training.training_config import paper_config

PIPELINE_NAME = "tinyface"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOME = home.default_home()
PIPELINE_ROOT = os.path.join(HOME, "pipelines", PIPELINE_NAME)

# ---- Data. The default is the embedded synthetic dataset (made on first use under the run's
# home, then cached); a run's data.root setting reads another folder instead.
SYNTH_COUNT = 400
SYNTH_SEED = 0
DATA_FORMAT = "auto"          # a reader name (300w, dlib_xml, wflw, celeba, lfw5) or auto-detect
DATASET_NAME = None           # None: the reader's default name ("300w", "wflw", ...)
USE_SPANS = False             # True: the data folder holds span-N folders and the newest one is read
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

# ---- Training. The module file is the Trainer's entry point; TFX packs its folder (trainer/).
TRAINER_MODULE_FILE = os.path.join(REPO_ROOT, "trainer", "run_fn.py")
# The demo default is the small JASRNet (with its two documented demo options, see
# trainer/models/jasrnet.py) at Adam 2e-3, halved at 60 % and 85 % of the run, batch 4, instead of the
# paper's 5e-5: at 5e-5 the 16-feature net learns too little in a demo's few thousand steps.
# Chosen by measurement (README, "Evaluation and blessing") so that the whole job fits 10 minutes on a 2-core
# CPU without bf16 and still blesses every slice: 1500 steps at batch 4 see a quarter of the
# images of the former 3000 at batch 8, for 0.1 dB less gain and NME 0.096 instead of 0.072.
# Set model="dic" (and model_size="reference" on real hardware) for the other model.
TRAIN_STEPS = 1500
EVAL_STEPS = 10   # eval batches per checkpoint: TFX's EvalArgs, which run_fn writes into the config
TRAINING = paper_config("jasrnet", model_size="small", batch_size=4, learning_rate=2e-3,
                        lr_milestones=(0.6, 0.85), checkpoint_every=500, eval_steps=EVAL_STEPS)
# What the trained model takes and gives (HR size, scale, heatmaps): its preset states them once
# (trainer/model_contract.py); the ingest crop and the pairs below derive from it, and a run's
# config derives them from the model it trains (pipeline/run_config.RunConfig.model_contract).
MODEL_CONTRACT = model_registry.model_contract(TRAINING.model, TRAINING.model_size)

# ---- Pairs: LR inputs of the model's scale. Heatmaps are left to the trained model's codec
# (heatmap_spec None; RunConfig.model_pair_config fills it in).
PAIR_CONFIG = PairConfig(
    degradation=DegradationConfig(scales=(MODEL_CONTRACT.scale,)),
    seed=0,
    materialize_heatmaps=False,   # rendered in the input pipeline; see README for the figures
)

# ---- Evaluation and push. Blessing needs, on every slice, PSNR-Y at least this much above
# bicubic and NME below the mean shape's; against the last blessed model, no drop beyond the
# margins. WFLW users add features.WFLW_ATTRIBUTES to the slices.
EVAL_SLICE_FEATURES = features.PAIR_SLICE_FEATURES
BLESSING = BlessingThresholds(min_psnr_gain_db=1.0, max_nme_ratio_to_mean_shape=1.0,
                              psnr_regression_margin_db=0.1, nme_regression_margin=0.005)

# ---- Beam. DirectRunner in-process by default; any Beam runner by these flags.
BEAM_PIPELINE_ARGS = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]


# =================================================================================================
# ---- Kubeflow / Beam runner. Settings of the Kubeflow Pipelines v2 / Vertex flavour of the
# pipeline (kubeflow/, `tinyface compile-kubeflow`, `tinyface schedule`); the local run above does
# not read them. The cluster sees nothing of this machine: what the pipeline writes lives under a
# remote root, what it runs is inside the pipeline image. Every value comes from the environment
# when set there (a CI job compiles without code edits); the commands' flags win over both.

# Remote root (gs://..., s3://...) of everything the pipeline writes: the pipeline root, the
# served models and the archive of span statistics the drift check reads. No default: any path
# of this machine would be meaningless in the cluster.
KUBEFLOW_ROOT = os.environ.get("TINYFACE_KUBEFLOW_ROOT")
# The pipeline image built by the Dockerfile: <registry>/<name>.
KUBEFLOW_IMAGE_REGISTRY = os.environ.get("TINYFACE_IMAGE_REGISTRY", "")
KUBEFLOW_IMAGE_NAME = os.environ.get("TINYFACE_IMAGE_NAME", "tinyface-pipeline:latest")
# The pushed image's digest (sha256:..., as `docker push` prints it): the compiled spec then names
# the image <registry>/<name without tag>@<digest>. KFP's cache keys each task on the image
# string, and a tag such as :latest can point at new code under the same key.
KUBEFLOW_IMAGE_DIGEST = os.environ.get("TINYFACE_IMAGE_DIGEST")
# The Dockerfile's WORKDIR: the repository inside the image (the checked-in schema is read there).
KUBEFLOW_IMAGE_REPO_DIR = "/tinyface"
# Default of the data_root runtime parameter: a folder of span-N folders the pods read, a URI of
# a tf.io.gfile filesystem read directly with nothing mounted (gs:// is built into TensorFlow;
# s3:// and hdfs:// need tensorflow-io's filesystem plugins in the image), or a mounted folder
# (on Vertex, Cloud Storage also appears under /gcs/<bucket>/). None: every run must name it.
KUBEFLOW_DATA_ROOT = os.environ.get("TINYFACE_KUBEFLOW_DATA_ROOT")
KUBEFLOW_USE_SPANS = True      # scheduled retraining reads the newest span-N folder of data_root
# InfraValidator: the model must load in TF Serving's official image (the version matching
# TensorFlow 2.16) on the cluster and answer this many eval pairs before Pusher may push it.
# Vertex runs no Kubernetes pods of its own: compile with --no-infra-validation there.
KUBEFLOW_INFRA_VALIDATION = True
KUBEFLOW_TF_SERVING_IMAGE = "tensorflow/serving"
KUBEFLOW_TF_SERVING_TAG = "2.16.1"
KUBEFLOW_INFRA_VALIDATION_EXAMPLES = 4
KUBEFLOW_SERVING_MODEL_NAME = PIPELINE_NAME   # the model name TF Serving serves (= the base folder's)
# Scheduled retraining (`tinyface schedule`): the KFP experiment and recurring run's names.
KUBEFLOW_EXPERIMENT = PIPELINE_NAME
KUBEFLOW_RECURRING_RUN = f"{PIPELINE_NAME}-retraining"

# Beam on Kubeflow: the runner is chosen by name; each runner's flags are filled from
# KUBEFLOW_BEAM_OPTIONS ({image} is the pipeline image, so Beam workers run the same code).
# DirectRunner runs inside each component's pod on all its cores. FlinkRunner, SparkRunner and
# PortableRunner reach a Beam job server and workers running the pipeline image (on Kubernetes,
# a worker-pool sidecar: --environment_type=EXTERNAL, --environment_config=localhost:50000).
KUBEFLOW_BEAM_RUNNER = os.environ.get("TINYFACE_BEAM_RUNNER", "DirectRunner")
KUBEFLOW_BEAM_RUNNER_FLAGS = {
    "DirectRunner": ("--direct_running_mode=multi_processing", "--direct_num_workers=0"),
    "DataflowRunner": ("--project={project}", "--region={region}", "--temp_location={temp_location}",
                       "--sdk_container_image={image}", "--experiments=use_runner_v2"),
    "FlinkRunner": ("--flink_master={flink_master}", "--environment_type={environment_type}",
                    "--environment_config={environment_config}"),
    "SparkRunner": ("--spark_master_url={spark_master_url}", "--environment_type={environment_type}",
                    "--environment_config={environment_config}"),
    "PortableRunner": ("--job_endpoint={job_endpoint}", "--environment_type={environment_type}",
                       "--environment_config={environment_config}"),
}
# Option values, each from TINYFACE_BEAM_<NAME> (e.g. TINYFACE_BEAM_PROJECT); None: not set.
KUBEFLOW_BEAM_OPTIONS = {
    name: os.environ.get(f"TINYFACE_BEAM_{name.upper()}", default)
    for name, default in (("project", None), ("region", None), ("temp_location", None),
                          ("flink_master", None), ("spark_master_url", None), ("job_endpoint", None),
                          ("environment_type", "EXTERNAL"), ("environment_config", "localhost:50000"))
}
# Further Beam flags for any runner, e.g. TINYFACE_BEAM_ARGS="--max_num_workers=20".
KUBEFLOW_BEAM_EXTRA_ARGS = tuple(os.environ.get("TINYFACE_BEAM_ARGS", "").split())
