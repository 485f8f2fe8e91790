"""Training progress for the user: a line at least every PROGRESS_EVERY_SECONDS, terminal or not.

Keras' own progress bar redraws one line in place, which a CI log or a file only gets once per
epoch (a checkpoint interval: minutes). TrainingProgress writes whole lines through the user's
channel (tinyface.console) instead:

    Trainer: step 1200/3000 (40%), 86 img/s, loss 0.0831 (pixel 0.0512, heatmap 0.0319), ETA 3 min 25 s
    Trainer: step 1500/3000 validation: loss 0.0902 (pixel 0.0561, heatmap 0.0341)

A timer thread writes them, so a line comes on time even while no step ends: while the first
step builds the graph, during validation, at a checkpoint, or when one step takes longer than
the interval (bf16 emulated on a CPU without it). The loss terms shown are Keras' running means
since the start of the current checkpoint interval.
"""

import threading
import time

import keras

from tinyface import console

PROGRESS_EVERY_SECONDS = 20    # under the 30 s a user (or a CI watchdog) should wait at most
VALIDATION_PREFIX = "val_"     # Keras' name for the validation figures of a metric


def loss_text(losses):
    """"loss 0.0831 (pixel 0.0512, heatmap 0.0319)": the total first, then the terms in order."""
    terms = {name: value for name, value in losses.items() if name != "loss"}
    text = f"loss {losses['loss']:.4f}" if "loss" in losses else ""
    if terms:
        inner = ", ".join(f"{name} {value:.4f}" for name, value in terms.items())
        text = f"{text} ({inner})" if text else inner
    return text


def progress_line(label, step, total_steps, images_per_second=None, losses=None, eta_seconds=None,
                  doing=None):
    """One progress line; parts that are not known yet (before the first step) are left out."""
    parts = [f"{label}: step {step}/{total_steps} ({100 * step // max(total_steps, 1)}%)"]
    if doing:
        parts.append(doing)
    if images_per_second is not None:
        parts.append(f"{images_per_second:.0f} img/s")
    if losses:
        parts.append(loss_text(losses))
    if eta_seconds is not None:
        parts.append(f"ETA {console.duration_text(eta_seconds)}")
    return ", ".join(parts)


def numbers(logs, validation=False):
    """The float figures of Keras `logs` (tensors or numbers): the training ones, or with
    `validation` the validation ones without their prefix."""
    out = {}
    for name, value in (logs or {}).items():
        if name.startswith(VALIDATION_PREFIX) != validation:
            continue
        try:
            out[name[len(VALIDATION_PREFIX):] if validation else name] = float(value)
        except (TypeError, ValueError):
            continue
    return out


class TrainingProgress(keras.callbacks.Callback):
    """Writes progress lines (see the module docstring) through `write` (default console.say)."""

    def __init__(self, total_steps, batch_size, every_seconds=PROGRESS_EVERY_SECONDS, label="Trainer",
                 write=None, clock=time.monotonic):
        super().__init__()
        self.total_steps = total_steps
        self.batch_size = batch_size
        self.every_seconds = every_seconds
        self.label = label
        self.write = write or console.say
        self.clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = None
        self._epoch = 0
        self._step = 0
        self._logs, self._losses, self._losses_at = None, {}, None
        self._doing = "building the training graph"
        self._began = None
        self._first = None          # (step, time) of the first step this process finished
        self._last_line = None      # (step, time) when the last line was written

    # ---- Keras hooks (the training thread) --------------------------------------------------
    def on_train_begin(self, logs=None):
        now = self.clock()
        self._began = now
        self._last_line = (self._step, now)
        # At once: the Trainer's start-up (wheel build, datasets, model) came before this.
        self.write(f"{self.label}: training {self.total_steps} steps of {self.batch_size} images")
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, name="training-progress", daemon=True)
        self._ticker.start()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        now = self.clock()
        steps_per_epoch = (self.params or {}).get("steps") or 0
        with self._lock:
            self._step = self._epoch * steps_per_epoch + batch + 1
            self._doing = None
            if self._first is None:
                self._first = (self._step, now)
            self._logs = logs
            # Reading the figures waits for the step's results: only as often as lines need them.
            if self._losses_at is None or now - self._losses_at >= self.every_seconds / 4:
                self._losses, self._losses_at = numbers(logs), now

    def on_test_begin(self, logs=None):
        with self._lock:
            self._doing = "validating"

    def on_test_end(self, logs=None):
        with self._lock:
            self._doing = None

    def on_epoch_end(self, epoch, logs=None):
        validation = numbers(logs, validation=True)
        if validation:
            self._emit(f"{self.label}: step {self._step}/{self.total_steps} validation: {loss_text(validation)}")

    def on_train_end(self, logs=None):
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        now = self.clock()
        if self._first is not None and self._step > self._first[0] and now > self._first[1]:
            rate = (self._step - self._first[0]) * self.batch_size / (now - self._first[1])
            self._emit(f"{self.label}: trained to step {self._step}/{self.total_steps}, {rate:.0f} img/s, "
                       f"{loss_text(numbers(self._logs))}")

    # ---- the timer thread --------------------------------------------------------------------
    def _tick(self):
        while not self._stop.wait(self._seconds_to_next_line()):
            self._emit(self.current_line())

    def _seconds_to_next_line(self):
        with self._lock:
            return max(0.0, self._last_line[1] + self.every_seconds - self.clock())

    def current_line(self):
        """The line for now: speed over the steps since the last line, ETA from the average."""
        now = self.clock()
        with self._lock:
            step, doing, losses = self._step, self._doing, dict(self._losses)
            last_step, last_time = self._last_line
            first = self._first
        images_per_second = eta = None
        if first is not None and last_step < first[0]:
            last_step, last_time = first   # the speed of steps run here, not of a resumed count
        if first is not None and step > last_step and now > last_time:
            images_per_second = (step - last_step) * self.batch_size / (now - last_time)
        if first is not None and step > first[0] and now > first[1]:
            eta = (self.total_steps - step) * (now - first[1]) / (step - first[0])
        if first is None:
            doing = f"{doing} ({console.duration_text(now - self._began)})" if doing else doing
        return progress_line(self.label, step, self.total_steps, images_per_second, losses, eta, doing)

    def _emit(self, line):
        with self._lock:
            self._last_line = (self._step, self.clock())
        self.write(line)
