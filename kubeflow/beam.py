"""Beam pipeline arguments on Kubeflow: the runner chosen by name, its flags filled from settings.

Every Beam component (FaceExampleGen, StatisticsGen, the validators, PairGen, the Evaluator)
gets these flags; switching DirectRunner for Dataflow, Flink or Spark is a setting
(configs.KUBEFLOW_BEAM_RUNNER / TINYFACE_BEAM_RUNNER, or --beam-runner), never a code edit.
"""

import string
from typing import List, Mapping, Optional, Sequence


def beam_pipeline_args(runner: str, runner_flags: Mapping[str, Sequence[str]],
                       options: Mapping[str, Optional[str]], image: str,
                       extra_args: Sequence[str] = ()) -> List[str]:
    """["--runner=<runner>", its flags with {option} filled in, *extra_args].

    `runner_flags` maps each known runner to its flag templates; `options` gives the values
    ({image} is the pipeline image, so remote Beam workers run the same code). A missing value
    is an error naming the environment variable that sets it.
    """
    if runner not in runner_flags:
        raise ValueError(f"unknown Beam runner {runner!r}; expected one of {', '.join(sorted(runner_flags))}")
    values = {**options, "image": image}
    args = [f"--runner={runner}"]
    for template in runner_flags[runner]:
        names = [field for _, field, _, _ in string.Formatter().parse(template) if field]
        missing = [name for name in names if not values.get(name)]
        if missing:
            raise ValueError(f"Beam runner {runner} needs {template.split('=')[0]}: set "
                             + " and ".join(f"TINYFACE_BEAM_{name.upper()}" for name in missing)
                             + " (or --beam-option " + " ".join(f"{name}=..." for name in missing) + ")")
        args.append(template.format(**values))
    return args + list(extra_args)
