"""replication/bench/: the benchmark's measuring tools: FLOP counting, throughput windows,
argument checks, the per-op breakdown (the benchmark worker itself runs in
tests/e2e/test_bench_worker.py)."""

from __future__ import annotations

import pytest

from replication.bench.worker import _windows, count_flops


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


def test_op_breakdown_reads_the_profiler_trace_of_a_real_step():
    """The per-op breakdown of scripts/bench.py on a small traced training step: every op
    time lands in a category, the shares add up, and the categories are the right ones."""
    import tensorflow as tf

    from replication.bench.worker import OP_CATEGORIES, op_breakdown, op_category

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


def test_bench_json_records_the_options_not_the_parser():
    import argparse

    from replication.bench import _settings

    args = argparse.Namespace(models="dcgan", out="b.json", worker=None, handler=print,
                              verb_parser=argparse.ArgumentParser())
    assert _settings(args) == {"models": "dcgan", "out": "b.json"}


def test_report_estimate_adds_steps_and_tracking_and_names_what_is_missing():
    from replication.bench import report_estimate

    results = [
        {"model": "vae", "precision": "bf16", "report_training_minutes": 8.0, "report_epochs": 30},
        {"model": "acgan", "precision": "bf16", "report_training_minutes": 40.0,
         "report_epochs": 18, "tracking_seconds": 5.0},
        {"model": "dcgan", "precision": "bf16", "error": "worker died"},
    ]
    estimate = report_estimate(results)
    assert estimate["training_minutes"] == {"vae": 8.0, "acgan": 40.0}
    assert estimate["tracking_minutes"] == {"vae": 0.0, "acgan": 1.5}  # 5 s x 18 epochs
    assert estimate["hours"] == round(49.5 / 60, 2)
    assert not estimate["complete"]
    assert "not measured: cgan, dcgan, effnet_vae" in estimate["line"]
    assert estimate["precisions"] == {"vae": "bf16", "acgan": "bf16"}


def test_bench_precision_auto_is_each_models_own_choice(monkeypatch):
    """--precision auto benches each model at what a run's --precision auto picks for it."""
    from replication import bench, levers

    monkeypatch.setattr(levers, "cpu_has_bf16", lambda: True)
    asked = []
    monkeypatch.setattr(bench, "_run_worker",
                        lambda name, args, precision: asked.append((name, precision)) or
                        {"model": name, "precision": precision, "error": "not run here"})
    import replication.runs as runs

    monkeypatch.setattr(runs, "write_json", lambda *a, **k: None)  # no bench.json written
    assert bench.main(["--models", "vae,effnet_vae", "--precision", "auto"]) == 1
    assert asked == [("vae", "bf16"), ("effnet_vae", "fp32")]
