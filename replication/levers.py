"""Speed levers shared by training and the benchmark: numeric precision and XLA.

* ``precision``: ``fp32``; ``bf16`` = Keras policy ``mixed_bfloat16`` (bfloat16 compute, float32
  variables; no loss scaling needed: bfloat16 has float32's exponent range); ``fp16`` =
  ``mixed_float16`` (GPUs), with every optimizer wrapped in ``LossScaleOptimizer`` - Keras does
  this for ``compile(optimizer=...)``; the GANs, which compile two optimizers of their own,
  wrap both themselves.
* ``xla``: ``on`` / ``off`` / ``auto``.  ``auto`` takes the per-device choice measured by
  ``scripts/bench.py`` (:data:`XLA_BY_DEVICE`); for a device kind not measured it leaves the
  choice to Keras (which enables XLA on GPUs without a distribution strategy).
"""

from __future__ import annotations

import contextlib
import time

PRECISIONS = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}
PRECISION_SETTINGS = tuple(PRECISIONS) + ("auto",)
XLA_SETTINGS = ("auto", "on", "off")

# ``--precision auto``: bf16 for the experiments whose training step scripts/bench.py measured
# faster in bf16 than in fp32 on a CPU with AVX512-BF16 (each experiment's ``bf16_on_cpu`` in
# the registry, docs/speed.md: 1.3-1.4x for the conv VAE and the three GANs; the EfficientNet
# VAE is 1.8x *slower*, its depthwise convolutions).  Elsewhere (CPUs without BF16, GPUs: not
# measured here) auto means fp32.

# Measured with scripts/bench.py (docs/speed.md): on this 2-core Zen 4 CPU every model's
# training step was slower with jit_compile=True.  GPUs: not measured here (no TensorFlow on
# the GPU machines), so Keras decides.
XLA_BY_DEVICE = {"CPU": False}


@contextlib.contextmanager
def precision_policy(precision: str):
    """Set the Keras global dtype policy for models built inside the block; restore it after."""
    import keras

    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(PRECISIONS[precision])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


# The CPUs the project's per-machine tables were measured on (the main job's time estimate):
# name -> (vendor, family, model) as /proc/cpuinfo gives them.
MEASURED_CPUS = {"zen4": ("AuthenticAMD", 25, 17), "zen5": ("AuthenticAMD", 26, 2),
                 "xeon207": ("GenuineIntel", 6, 207)}
CPU_NAMES = {"zen4": "AMD EPYC Zen 4", "zen5": "AMD EPYC Zen 5",
             "xeon207": "Intel Xeon with AMX (model 207)"}


def cpuinfo_fields(cpuinfo: str | None = None) -> dict[str, str] | None:
    """The first processor's ``key: value`` fields of /proc/cpuinfo (or of ``cpuinfo``);
    None when it cannot be read."""
    try:
        text = open("/proc/cpuinfo").read() if cpuinfo is None else cpuinfo
    except OSError:
        return None
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def measured_cpu(cpuinfo: str | None = None) -> str | None:
    """The name in :data:`MEASURED_CPUS` of this machine's CPU, or None."""
    fields = cpuinfo_fields(cpuinfo) or {}
    try:
        signature = (fields.get("vendor_id"), int(fields["cpu family"]), int(fields["model"]))
    except (KeyError, ValueError):
        return None
    return next((name for name, known in MEASURED_CPUS.items() if known == signature), None)


def cpu_has_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as fh:
            return any(line.startswith("flags") and "avx512_bf16" in line.split() for line in fh)
    except OSError:
        return False


def resolve_precision(setting: str, bf16_on_cpu: bool, kind: str | None = None) -> str:
    """The concrete precision for ``setting``: ``auto`` -> the measured choice (see above),
    given the experiment's preference ``bf16_on_cpu`` (its registry entry's)."""
    if setting != "auto":
        return setting
    if (kind or device_kind()) == "CPU" and cpu_has_bf16() and bf16_on_cpu:
        return "bf16"
    return "fp32"


def matmul_peak(precision: str = "fp32", n: int = 4096, repeats: int = 5) -> float:
    """Best FLOP/s of an ``n x n`` matrix multiply in the compute dtype of ``precision`` (the
    benchmark's measure of a device's peak)."""
    import tensorflow as tf

    dtype = {"fp32": tf.float32, "bf16": tf.bfloat16, "fp16": tf.float16}[precision]
    a = tf.cast(tf.random.stateless_normal((n, n), seed=(1, 2)), dtype)
    b = tf.cast(tf.random.stateless_normal((n, n), seed=(3, 4)), dtype)
    matmul = tf.function(lambda x, y: tf.reduce_sum(tf.cast(tf.matmul(x, y)[0, :8], tf.float32)))
    matmul(a, b).numpy()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        matmul(a, b).numpy()
        best = min(best, time.perf_counter() - started)
    return 2.0 * n ** 3 / best


def device_kind() -> str:
    import tensorflow as tf

    return "GPU" if tf.config.list_physical_devices("GPU") else "CPU"


def resolve_xla(setting: str, kind: str | None = None):
    """``True`` / ``False``, or ``"auto"`` (Keras decides) for ``setting`` on this device."""
    if setting == "on":
        return True
    if setting == "off":
        return False
    measured = XLA_BY_DEVICE.get(kind or device_kind())
    return "auto" if measured is None else measured


def loss_scaled(optimizer, precision: str):
    """``optimizer`` wrapped for dynamic loss scaling when ``precision`` is fp16."""
    import keras

    if precision == "fp16" and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer, name=f"{optimizer.name}_scaled")
    return optimizer
