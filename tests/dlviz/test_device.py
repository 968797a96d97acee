"""dlviz.device and the quiet TensorFlow start (dlviz._env)."""

import os
import re
import subprocess
import sys
import textwrap

import pytest
import tensorflow as tf

from dlviz import _env, device

FAKE_GPUS = [tf.config.PhysicalDevice(f"/physical_device:GPU:{i}", "GPU") for i in range(2)]


def fake_physical_devices(gpus):
    return lambda device_type=None: list(gpus) if device_type == "GPU" else []


def test_describe_reports_what_tensorflow_computes_on():
    text = device.describe()
    if device.has_gpu():
        assert re.fullmatch(r"GPU \d+: .+", text)
    else:
        assert text == "CPU (no GPU found)"


def test_describe_names_each_visible_gpu(monkeypatch):
    monkeypatch.setattr(tf.config, "get_visible_devices", fake_physical_devices(FAKE_GPUS))
    monkeypatch.setattr(
        tf.config.experimental, "get_device_details", lambda gpu: {"device_name": "NVIDIA H100"}
    )
    assert device.has_gpu()
    assert device.describe() == "GPU 0: NVIDIA H100, GPU 1: NVIDIA H100"


def test_describe_says_when_gpus_are_hidden(monkeypatch):
    monkeypatch.setattr(tf.config, "get_visible_devices", fake_physical_devices([]))
    monkeypatch.setattr(tf.config, "list_physical_devices", fake_physical_devices(FAKE_GPUS[:1]))
    assert not device.has_gpu()
    assert device.describe() == "CPU (1 GPU hidden by tf.config.set_visible_devices)"


@pytest.fixture
def fresh_memory_growth(monkeypatch):
    """A device module that has not configured memory growth yet, seeing two fake GPUs; returns the calls."""
    calls = []
    monkeypatch.setattr(device, "_memory_growth_done", False)
    monkeypatch.setattr(tf.config, "list_physical_devices", fake_physical_devices(FAKE_GPUS))
    monkeypatch.setattr(tf.config, "get_logical_device_configuration", lambda gpu: None)
    monkeypatch.setattr(
        tf.config.experimental, "set_memory_growth", lambda gpu, on: calls.append((gpu.name, on))
    )
    return calls


def test_memory_growth_is_enabled_once_per_gpu(fresh_memory_growth):
    device.enable_memory_growth()
    device.enable_memory_growth()
    assert fresh_memory_growth == [(gpu.name, True) for gpu in FAKE_GPUS]


def test_memory_growth_leaves_gpus_split_into_logical_devices(fresh_memory_growth, monkeypatch):
    split = FAKE_GPUS[0]
    monkeypatch.setattr(
        tf.config, "get_logical_device_configuration", lambda gpu: ["a config"] if gpu == split else None
    )
    device.enable_memory_growth()
    assert fresh_memory_growth == [(FAKE_GPUS[1].name, True)]


def test_memory_growth_accepts_an_already_initialised_tensorflow(fresh_memory_growth, monkeypatch):
    def refuse(gpu, on):
        raise RuntimeError("Physical devices cannot be modified after being initialized")

    monkeypatch.setattr(tf.config.experimental, "set_memory_growth", refuse)
    device.enable_memory_growth()
    assert device._memory_growth_done


@pytest.mark.parametrize("error", [RuntimeError("CUDA driver exploded"), ValueError("bad device")])
def test_memory_growth_does_not_swallow_other_errors(fresh_memory_growth, monkeypatch, error):
    def fail(gpu, on):
        raise error

    monkeypatch.setattr(tf.config.experimental, "set_memory_growth", fail)
    with pytest.raises(type(error)):
        device.enable_memory_growth()


@pytest.mark.gpu
def test_matmul_lands_on_the_gpu():
    a = tf.random.stateless_uniform((256, 256), seed=(1, 2))
    product = tf.matmul(a, a)
    assert "GPU" in product.device
    assert device.describe().startswith("GPU 0: ")


@pytest.fixture
def tensorflow_not_yet_imported(monkeypatch):
    """Lets quiet_tensorflow() act as if it ran first; restores the environment and import hooks after."""
    monkeypatch.delitem(sys.modules, "tensorflow")
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    monkeypatch.setattr(sys, "platform", "linux")
    for variable in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLED_DEVICE_TYPES"):
        monkeypatch.delenv(variable, raising=False)


@pytest.mark.parametrize("accelerator", [False, True])
def test_quiet_tensorflow_hides_the_gpu_platform_only_without_an_accelerator(
    tensorflow_not_yet_imported, monkeypatch, accelerator
):
    monkeypatch.setattr(_env, "_accelerator_visible", lambda: accelerator)
    _env.quiet_tensorflow()
    _env.quiet_tensorflow()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2"
    assert os.environ.get("TF_ENABLED_DEVICE_TYPES") == (None if accelerator else "CPU")
    assert sum(isinstance(finder, _env._QuietTensorFlowFinder) for finder in sys.meta_path) == 1


def test_quiet_tensorflow_keeps_the_users_settings(tensorflow_not_yet_imported, monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    monkeypatch.setenv("TF_ENABLED_DEVICE_TYPES", "CPU,GPU")
    monkeypatch.setattr(_env, "_accelerator_visible", lambda: False)
    _env.quiet_tensorflow()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"
    assert os.environ["TF_ENABLED_DEVICE_TYPES"] == "CPU,GPU"


def run_python(code):
    env = {
        k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLED_DEVICE_TYPES")
    }
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.mark.slow
def test_import_is_quiet_and_leaves_tensorflow_configurable():
    result = run_python(
        """
        import dlviz
        from dlviz import device
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        assert len(tf.config.list_logical_devices("CPU")) == 2
        assert all(tf.config.experimental.get_memory_growth(g) for g in tf.config.list_physical_devices("GPU"))
        print(device.describe())
        print(float(tf.constant(2.0) * 3))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "6.0"
    lines = result.stderr.splitlines()
    assert not [line for line in lines if re.match(r"[IW]\d{4} |WARNING: All log messages before", line)]
    if not _env._accelerator_visible():
        assert lines == []


def test_stderr_filter_keeps_errors_and_survives_a_crash():
    """Lines below the level go; errors, plain text and Python output stay, even when the process aborts."""
    result = run_python(
        """
        import os, sys
        from dlviz._env import _native_stderr_filtered
        with _native_stderr_filtered(2):
            os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
            os.write(2, b"I0000 00:00:1795693900.460844    5406 port.cc:153] oneDNN custom operations are on.\\n")
            os.write(2, b"2025-09-17 14:44:05.157831: W external/tsl/x.cc:3] an old-format warning\\n")
            os.write(2, b"E0000 00:00:1795693903.685821    5406 cuda_platform.cc:52] a real error\\n")
            print("python text", file=sys.stderr)
            os.write(2, b"F0000 00:00:1795693903.685821    5406 cpu_feature_guard.cc:1] a fatal error\\n")
            os.abort()
        """
    )
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        "E0000 00:00:1795693903.685821    5406 cuda_platform.cc:52] a real error",
        "python text",
        "F0000 00:00:1795693903.685821    5406 cpu_feature_guard.cc:1] a fatal error",
    ]
