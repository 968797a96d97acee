"""Where dlviz computes: the GPUs TensorFlow sees, their memory policy, and one line that says so.

Without a GPU everything runs on the CPU; nothing needs configuring. With one, TensorFlow is told to
take GPU memory as it needs it instead of the whole card at start-up, so a dashboard shares the card.
That setting is only possible before TensorFlow creates its first tensor, which is why importing this
module applies it.

>>> from dlviz import device
>>> device.describe() == "CPU (no GPU found)" or device.describe().startswith("GPU 0: ")
True
"""

from __future__ import annotations

import tensorflow as tf

_memory_growth_done = False


def enable_memory_growth() -> None:
    """Let TensorFlow grow its use of each GPU's memory on demand. Idempotent; runs on import.

    When TensorFlow was initialised before dlviz was imported, its memory policy can no longer change
    and the one it has stays. A GPU the user split into logical devices (with its own memory limits) is
    left as configured.
    """
    global _memory_growth_done
    if _memory_growth_done:
        return
    for gpu in tf.config.list_physical_devices("GPU"):
        if tf.config.get_logical_device_configuration(gpu) is not None:
            continue
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError as exc:
            if "initialized" not in str(exc):
                raise
            break
    _memory_growth_done = True


def has_gpu() -> bool:
    """True when TensorFlow will place work on a GPU."""
    return bool(tf.config.get_visible_devices("GPU"))


def describe() -> str:
    """What dlviz computes on, for people: e.g. ``"GPU 0: NVIDIA H100 80GB HBM3"`` or ``"CPU (no GPU found)"``."""
    visible = tf.config.get_visible_devices("GPU")
    if visible:
        return ", ".join(f"GPU {_index(gpu)}: {_gpu_name(gpu)}" for gpu in visible)
    hidden = len(tf.config.list_physical_devices("GPU"))
    if hidden:
        return f"CPU ({hidden} GPU{'s' if hidden > 1 else ''} hidden by tf.config.set_visible_devices)"
    return "CPU (no GPU found)"


def _index(gpu: tf.config.PhysicalDevice) -> str:
    return gpu.name.rsplit(":", 1)[-1]


def _gpu_name(gpu: tf.config.PhysicalDevice) -> str:
    return tf.config.experimental.get_device_details(gpu).get("device_name") or "unnamed GPU"


enable_memory_growth()
