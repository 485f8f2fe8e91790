"""Where tinyface keeps everything a run makes (pipeline outputs, ML Metadata, served models,
reports, logs): $TINYFACE_HOME, else ./tinyface_home. Kept free of TensorFlow so the command
line can place its log file before any library is imported."""

import os

HOME_VARIABLE = "TINYFACE_HOME"
LOGS_DIR = "logs"


def default_home():
    return os.environ.get(HOME_VARIABLE, os.path.join(os.getcwd(), "tinyface_home"))


def log_path(home, command, moment):
    """<home>/logs/<command>-<UTC time, to the microsecond>.log: one file per command call."""
    return os.path.join(home, LOGS_DIR, f"{command}-{moment.strftime('%Y%m%dT%H%M%S.%fZ')}.log")
