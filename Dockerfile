# The tinyface pipeline image: TFX 1.16's image with this repository installed (pinned, setup.py).
# Every task of the compiled Kubeflow pipeline runs in it (the spec names the command:
# python -m tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor), and so can Beam
# workers on Dataflow, Flink or Spark (--sdk_container_image / the worker pool).
#
#   docker build -t REGISTRY/tinyface-pipeline:TAG .
#   docker push REGISTRY/tinyface-pipeline:TAG
#   tinyface compile-kubeflow --image REGISTRY/tinyface-pipeline:TAG ...
#
# TFX_IMAGE and BEAM_VERSION are build arguments; BEAM_VERSION must stay setup.py's apache-beam pin.
ARG TFX_IMAGE=gcr.io/tfx-oss-public/tfx:1.16.0
ARG BEAM_VERSION=2.74.0

# The Beam SDK worker's boot program of the Beam version installed below: the TFX image carries
# the one of its own Beam, which must match the SDK it starts.
FROM apache/beam_python3.10_sdk:${BEAM_VERSION} AS beam-worker

FROM ${TFX_IMAGE}
COPY --from=beam-worker /opt/apache/beam /opt/apache/beam

# The repository lives here (configs.KUBEFLOW_IMAGE_REPO_DIR): the compiled spec reads the
# checked-in schema from /tinyface/schemas/.
WORKDIR /tinyface
COPY . /tinyface
RUN python -m pip install --no-cache-dir /tinyface \
 && python -c "import tinyface.cli.main, tinyface.components, tinyface.kubeflow.runner, tinyface.pipeline, tinyface.trainer.run_fn; import tensorflow_serving.apis.predict_pb2"

# TensorFlow's oneDNN kernels on every node, as `tinyface run` turns them on locally: TensorFlow
# leaves them off on AVX2-only CPUs, where training ran 1.3-1.6x faster with them (README,
# "Benchmarks"; a no-op on CPUs with AVX512-VNNI, AVX512-BF16 or AMX). The second variable says
# the switch is for training, so the Trainer still exports for a serving process's default
# kernels (trainer/training/cpu_isa.py).
ENV TF_ENABLE_ONEDNN_OPTS=1 TINYFACE_ONEDNN_FOR_TRAINING=1
