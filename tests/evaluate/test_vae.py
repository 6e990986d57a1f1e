"""replication/evaluate/vae.py: ``evaluate`` writes the test-set bounds of a VAE run."""

from __future__ import annotations


def test_evaluate_writes_metrics_json_for_a_vae_run(vae_smoke_run, capsys):
    import json

    from replication.evaluate import main

    assert main([str(vae_smoke_run), "--iwae-samples", "5", "--limit", "100"]) == 0
    result = json.loads((vae_smoke_run / "metrics.json").read_text())
    assert result["test_images"] == 100 and result["iwae_samples"] == 5
    assert result["neg_iwae"] <= result["neg_elbo"] + 1.0  # k=5: tighter up to sampling noise
    assert "MNIST" in result["data"] and result["profile"] == "smoke"
    assert "-IWAE(k=5)" in capsys.readouterr().out
