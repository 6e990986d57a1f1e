"""replication/zero_shot.py: ImageNet Lite0 as the independent judge of a conditional run's
samples."""

from __future__ import annotations

import pytest


def test_lite0_judges_a_conditional_runs_samples(cgan_smoke_run):
    """The independent judge of the conditional GANs: class-balanced samples of the run's
    generators, each put in a CIFAR-10 class by ImageNet Lite0 zero-shot."""
    from replication.zero_shot import CIFAR10_CLASSES, zero_shot_generated

    for generator in ("trained", "averaged"):
        result = zero_shot_generated(cgan_smoke_run, n=20, generator=generator, input_size=64,
                                     batch_size=10)
        assert result["n"] == 20 and result["generator"] == generator
        assert 0.0 <= result["agreement"] <= 1.0 and 0.0 <= result["agreement_max_rule"] <= 1.0
        for rule in ("", "_max_rule"):
            per_class = result[f"per_class_agreement{rule}"]
            assert list(per_class) == list(CIFAR10_CLASSES)
            # 2 samples per class: the classes' shares average to the overall one
            assert sum(per_class.values()) / 10 == pytest.approx(result[f"agreement{rule}"])


def test_the_linear_probe_judge_reads_real_images_and_a_runs_samples(cgan_smoke_run, capsys):
    """The second independent judge: a ridge probe on Lite0's ImageNet features, fitted on real
    training images; its first row is its accuracy on real test images, the ceiling."""
    from replication.zero_shot import CIFAR10_CLASSES, main, probe_judge

    rows = probe_judge([cgan_smoke_run], n=20, n_train=200, n_test=100, input_size=64,
                       batch_size=50)
    real, *judged = rows
    assert real["run"] == "real CIFAR-10 test images" and real["n"] == 100
    assert real["n_train"] == 200 and real["input_size"] == 64
    # ImageNet features read real CIFAR-10 far above the 10 % of chance, even from 200 images
    assert real["agreement"] > 0.3
    assert [row["generator"] for row in judged] == ["trained", "averaged"]
    for row in judged:
        assert row["n"] == 20 and 0.0 <= row["agreement"] <= 1.0
        assert list(row["per_class_agreement"]) == list(CIFAR10_CLASSES)
        assert sum(row["per_class_agreement"].values()) / 10 == \
            pytest.approx(row["agreement"])
        # coverage by the project's rule, read from the judge's own predictions
        counts = row["predicted_counts"]
        assert list(counts) == list(CIFAR10_CLASSES) and sum(counts.values()) == 20
        assert row["class_coverage"] == sum(c >= 20 / 20 for c in counts.values())
    # the probe needs runs to judge: one clear line
    with pytest.raises(SystemExit) as exit_info:
        main(["--judge", "probe"])
    assert exit_info.value.code == 2 and "--judge probe needs --run" in capsys.readouterr().err


def test_the_judges_refuse_a_run_of_another_dataset(cgan_smoke_run, tmp_path):
    import json
    import shutil

    from replication.zero_shot import conditional_samples

    run = tmp_path / "mnist-run"
    shutil.copytree(cgan_smoke_run, run)
    info = json.loads((run / "config.json").read_text())
    info["config"]["dataset"] = "mnist"
    (run / "config.json").write_text(json.dumps(info))
    with pytest.raises(ValueError, match="mnist run: the Lite0 judges read CIFAR-10"):
        conditional_samples(run, 10)


def test_the_judges_answer_a_run_they_cannot_judge_in_one_line(tmp_path, capsys):
    from pathlib import Path

    from replication.zero_shot import main

    # a folder that is no run; a shipped run that is no conditional GAN
    for run in (tmp_path / "missing", Path(__file__).parents[1] / "pretrained" / "vae"):
        assert main(["--judge", "probe", "--run", str(run)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith("error: ")


def test_the_judges_read_what_generators_a_run_kept(cgan_smoke_run, tmp_path, capsys):
    """No averaged generator (--ema-half-life 0): the trained one alone; no model at all: one
    line, before any image is judged."""
    import shutil

    from replication.runs import AVERAGED_GENERATOR_FILE, GENERATOR_FILE
    from replication.zero_shot import judged_generators, main

    assert judged_generators(cgan_smoke_run) == ("trained", "averaged")
    run = tmp_path / "no-ema"
    shutil.copytree(cgan_smoke_run, run)
    (run / "model" / AVERAGED_GENERATOR_FILE).unlink()
    assert judged_generators(run) == ("trained",)
    (run / "model" / GENERATOR_FILE).unlink()
    for judge in ("zero-shot", "probe"):
        assert main(["--judge", judge, "--run", str(cgan_smoke_run), str(run)]) == 2
        out, err = capsys.readouterr()
        assert out == "" and "no such model file" in err and len(err.strip().splitlines()) == 1

