"""Speed levers and the benchmark's measuring tools: precision policies, loss scaling, XLA
choice, FLOP counting (no timings are asserted anywhere)."""

from __future__ import annotations

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from replication import levers
from replication.bench import _windows, count_flops
from replication.config import ConfigError
from replication.experiments import make_config
from replication.experiments import get


def test_bad_lever_settings_are_config_errors():
    with pytest.raises(ConfigError, match="unknown precision 'fp8'"):
        make_config("dcgan", "smoke", precision="fp8")
    with pytest.raises(ConfigError, match="unknown xla setting"):
        make_config("vae", "smoke", xla="maybe")


def test_xla_choice_comes_from_the_measured_table():
    assert levers.resolve_xla("on") is True and levers.resolve_xla("off") is False
    assert levers.resolve_xla("auto", "CPU") is levers.XLA_BY_DEVICE["CPU"]
    assert levers.resolve_xla("auto", "TPU") == "auto"  # not measured: Keras decides


def test_auto_precision_is_the_measured_choice(monkeypatch):
    monkeypatch.setattr(levers, "cpu_has_bf16", lambda: True)
    assert levers.resolve_precision("auto", get("acgan").bf16_on_cpu, "CPU") == "bf16"
    assert levers.resolve_precision("auto", get("effnet_vae").bf16_on_cpu, "CPU") == "fp32"  # measured slower
    assert levers.resolve_precision("auto", get("acgan").bf16_on_cpu, "GPU") == "fp32"  # not measured
    assert levers.resolve_precision("fp16", get("acgan").bf16_on_cpu, "CPU") == "fp16"
    monkeypatch.setattr(levers, "cpu_has_bf16", lambda: False)
    assert levers.resolve_precision("auto", get("acgan").bf16_on_cpu, "CPU") == "fp32"


def test_auto_precision_is_recorded_concretely_and_resumes(tmp_path, monkeypatch):
    from replication.train import train

    monkeypatch.setattr(levers, "cpu_has_bf16", lambda: True)
    run = train("dcgan", "smoke", run_dir=tmp_path / "d", precision="auto", epochs=1, verbose=0)
    assert json.loads((run.path / "config.json").read_text())["config"]["precision"] == "bf16"
    train("dcgan", "smoke", run_dir=run.path, precision="auto", resume=True, epochs=2, verbose=0)
    assert len(run.history()) == 2


def test_precision_policy_is_scoped():
    before = keras.config.dtype_policy().name
    with levers.precision_policy("bf16"):
        layer = keras.layers.Dense(2)
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == before
    assert layer.compute_dtype == "bfloat16" and layer.variable_dtype == "float32"


@pytest.mark.parametrize("experiment", ["vae", "cgan"])
def test_bf16_training_runs_and_keeps_float32_weights(experiment, tmp_path):
    from replication.train import train

    run = train(experiment, "smoke", run_dir=tmp_path / experiment, precision="bf16", verbose=0)
    history = run.history()
    assert len(history) == 2
    assert all(np.isfinite(v) for row in history for k, v in row.items() if k != "epoch")
    saved = json.loads((run.path / "config.json").read_text())
    assert saved["config"]["precision"] == "bf16"
    name = "vae.keras" if experiment == "vae" else "generator.keras"
    model = keras.saving.load_model(run.model_dir / name)
    assert {w.dtype for w in model.weights} == {"float32"}
    # A resumed run keeps its precision.
    with pytest.raises(ConfigError, match="cannot change precision"):
        train(experiment, "smoke", run_dir=run.path, resume=True, precision="fp32", verbose=0)


def test_fp16_wraps_both_gan_optimizers_in_loss_scaling(mnist):
    from replication import experiments

    config = make_config("dcgan", "smoke", dataset="mnist", precision="fp16")
    with levers.precision_policy("fp16"):
        built = experiments.get("dcgan").build(config, mnist)
    for role in ("d", "g"):
        assert isinstance(built.optimizers[role], keras.optimizers.LossScaleOptimizer)
    assert built.model.generator.layers[-1].compute_dtype == "float16"


def test_flops_are_counted_from_the_traced_graph():
    import tensorflow as tf

    fn = tf.function(lambda a, b: tf.matmul(a, b))
    concrete = fn.get_concrete_function(tf.TensorSpec((8, 16)), tf.TensorSpec((16, 4)))
    assert count_flops(concrete) == 2 * 8 * 16 * 4
    conv = tf.function(lambda x, k: tf.nn.conv2d(x, k, 1, "VALID"))
    concrete = conv.get_concrete_function(tf.TensorSpec((2, 5, 5, 3)), tf.TensorSpec((3, 3, 3, 4)))
    assert count_flops(concrete) == 2 * 2 * 3 * 3 * 4 * (3 * 3 * 3)


def test_throughput_windows():
    times = [0.0, 1.0, 2.0, 2.5, 3.0]  # step-end timestamps
    assert _windows(times, batch=10, window_steps=2) == [10.0, 20.0]


def test_bench_cli_rejects_bad_arguments():
    from replication.bench import main

    with pytest.raises(SystemExit):
        main(["--models", "gan9"])
    with pytest.raises(SystemExit):
        main(["--windows", "0"])


def test_bench_worker_measures_a_real_training_step(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "scripts/bench.py", "--models", "vae", "--warmup", "1",
                           "--windows", "1", "--window-steps", "2", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())["results"][0]
    assert result["model"] == "vae" and result["batch_size"] == 128
    # Forward + backward of a ~1.7 M-parameter conv VAE on 128 MNIST images: a few GFLOP.
    assert 1e9 < result["flops_per_step"] < 1e11
    assert result["fit_images_per_s"]["median"] > 0 and result["plain_images_per_s"]["median"] > 0
    assert 0 < result["fraction_of_peak"] < 1.5 and result["peak_memory_mib"] > 100
    assert "| vae | fp32 | off | 128 |" in done.stdout


def test_op_breakdown_reads_the_profiler_trace_of_a_real_step():
    """The per-op breakdown of scripts/bench.py on a small traced training step: every op
    time lands in a category, the shares add up, and the categories are the right ones."""
    import tensorflow as tf

    from replication.bench import OP_CATEGORIES, op_breakdown, op_category

    assert op_category("gradient_tape/conv1/Conv2DBackpropFilter",
                       "_MklNativeConv2DBackpropFilter") == "conv/matmul backward"
    assert op_category("deconv1/conv2d_transpose", "Conv2DBackpropInput") == "conv/matmul"
    assert op_category("deconv1_bn/FusedBatchNormV3", "_MklFusedBatchNormV3") == "batchnorm"
    assert op_category("d_adam/Sqrt", "Sqrt") == "optimizer"
    assert op_category("conv1/Cast", "Cast") == "cast"
    # Keras numbers repeated layer calls: conv2_bn_1; its moments are BatchNorm's own work.
    assert op_category("discriminator_1/conv2_bn_1/moments/mean", "Mean") == "batchnorm"
    assert op_category("d_adam/Cast_14", "Cast") == "optimizer"
    assert op_category("conv1_lrelu/LeakyRelu", "LeakyRelu") == "elementwise and other"

    kernel = tf.Variable(tf.random.normal((3, 3, 8, 16), seed=0))

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            y = tf.nn.conv2d(tf.cast(x, tf.float32), kernel, 1, "SAME")
            loss = tf.reduce_mean(tf.nn.leaky_relu(y) ** 2)
        kernel.assign_sub(0.01 * tape.gradient(loss, kernel))
        return {"loss": loss}

    batches = iter([tf.random.normal((16, 32, 32, 8), dtype=tf.float64)] * 3)
    result = op_breakdown(step, batches, steps=3)
    share = result["share"]
    assert set(share) == set(OP_CATEGORIES)
    assert abs(sum(share.values()) - 1.0) < 0.01
    assert share["conv/matmul"] > 0 and share["conv/matmul backward"] > 0
    assert share["cast"] > 0
    assert result["op_seconds_per_step"] > 0 and result["top_op_types"]
