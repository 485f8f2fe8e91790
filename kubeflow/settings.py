"""The settings of one Kubeflow compilation: pipeline/configs.py's Kubeflow block and a
RunConfig (the pipeline settings, overridable by `--config FILE` as for `tinyface run`), with
the command's flags on top.

Everything the compiled spec points at must exist in the cluster: remote paths (checked here),
or paths inside the pipeline image (the Dockerfile copies this repository to
configs.KUBEFLOW_IMAGE_REPO_DIR).
"""

import dataclasses
import os
import re
from typing import Mapping, Optional, Tuple

from tinyface.pipeline import configs
from tinyface.pipeline.run_config import RunConfig

_REMOTE = re.compile(r"[a-z][a-z0-9+.-]*://\S+")   # gs://..., s3://..., hdfs://...
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
UNPINNED_IMAGE_NOTE = ("note: the image is named by a tag: KFP's cache keys each task on the image name, so a new "
                       "build under the same tag can be answered from the cache of the old one; name it by digest "
                       "(--image NAME@sha256:..., or TINYFACE_IMAGE_DIGEST)")


def require_remote(path: Optional[str], what: str, env: str) -> str:
    if not path:
        raise ValueError(f"{what} is not set: set {env} or pass it (e.g. gs://my-bucket/tinyface)")
    if not _REMOTE.fullmatch(path):
        raise ValueError(f"{what} must be a remote URI such as gs://bucket/path, got {path!r}: "
                         f"the cluster cannot read this machine's files")
    return path.rstrip("/")


def image_path(local_path: str) -> str:
    """Where a file of this repository is inside the pipeline image (or `local_path` if remote)."""
    if _REMOTE.fullmatch(local_path):
        return local_path
    relative = os.path.relpath(os.path.abspath(local_path), configs.REPO_ROOT)
    if relative.startswith(os.pardir):
        raise ValueError(f"{local_path} is outside the repository, so it is not in the pipeline image; "
                         f"put it in the repository or on remote storage")
    return f"{configs.KUBEFLOW_IMAGE_REPO_DIR}/{relative.replace(os.sep, '/')}"


@dataclasses.dataclass(frozen=True)
class KubeflowSettings:
    root: str                                   # remote root of all the pipeline writes
    image: str                                  # the pipeline image
    data_root: Optional[str]                    # default of the data_root runtime parameter
    infra_validation: bool
    beam_runner: str
    beam_options: Mapping[str, Optional[str]]
    beam_extra_args: Tuple[str, ...]
    run_config: RunConfig                       # pipeline settings; defaults of the runtime parameters

    @property
    def pipeline_root(self) -> str:
        return f"{self.root}/pipelines/{configs.PIPELINE_NAME}"

    @property
    def serving_dir(self) -> str:
        """Where Pusher writes blessed models (TF Serving's base/<version>/ layout)."""
        return f"{self.root}/serving/{configs.KUBEFLOW_SERVING_MODEL_NAME}"

    @property
    def statistics_archive(self) -> str:
        return f"{self.root}/span_statistics/{configs.PIPELINE_NAME}"


def default_image() -> str:
    """<registry>/<name>, or <registry>/<name without its tag>@<digest> when a digest is set."""
    registry = configs.KUBEFLOW_IMAGE_REGISTRY.rstrip("/")
    image = f"{registry}/{configs.KUBEFLOW_IMAGE_NAME}" if registry else configs.KUBEFLOW_IMAGE_NAME
    return pinned_image(image, configs.KUBEFLOW_IMAGE_DIGEST) if configs.KUBEFLOW_IMAGE_DIGEST else image


def _without_tag(image: str) -> str:
    name, _, tag = image.rpartition(":")
    return name if name and "/" not in tag else image   # a ':' before the last '/' is a registry port


def pinned_image(image: str, digest: str) -> str:
    """`image` named by `digest` (repository@sha256:...), its tag dropped (a digest names one image)."""
    if not _DIGEST.fullmatch(digest):
        raise ValueError(f"an image digest is sha256: and 64 hex digits, got {digest!r}")
    return f"{_without_tag(image.split('@')[0])}@{digest}"


def is_pinned(image: str) -> bool:
    """Whether `image` is named by digest, so that it names exactly one build of the code."""
    _, at, digest = image.partition("@")
    return bool(at) and bool(_DIGEST.fullmatch(digest))


def check_image(image: str) -> str:
    """`image` if it is a tag or a well-formed digest reference; ValueError for a bad digest."""
    if "@" in image and not is_pinned(image):
        raise ValueError(f"image {image!r}: after '@' must come a digest, sha256: and 64 hex digits")
    return image


def kubeflow_settings(run_config: Optional[RunConfig] = None, root: Optional[str] = None,
                      image: Optional[str] = None, data_root: Optional[str] = None,
                      infra_validation: Optional[bool] = None, beam_runner: Optional[str] = None,
                      beam_options: Optional[Mapping[str, str]] = None) -> KubeflowSettings:
    """configs.py's Kubeflow settings with any of these given ones instead (None: keep)."""
    return KubeflowSettings(
        root=require_remote(root or configs.KUBEFLOW_ROOT, "the Kubeflow root", "TINYFACE_KUBEFLOW_ROOT"),
        image=check_image(image or default_image()),
        data_root=data_root or configs.KUBEFLOW_DATA_ROOT,
        infra_validation=configs.KUBEFLOW_INFRA_VALIDATION if infra_validation is None else infra_validation,
        beam_runner=beam_runner or configs.KUBEFLOW_BEAM_RUNNER,
        beam_options={**configs.KUBEFLOW_BEAM_OPTIONS, **(beam_options or {})},
        beam_extra_args=tuple(configs.KUBEFLOW_BEAM_EXTRA_ARGS),
        run_config=run_config or RunConfig(),
    )
