"""Shipped runs (pretrained/), the ``sample`` command, redrawing without training, and each
profile's own figures folder."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from replication.__main__ import main
from replication.figures import FigureError, draw_experiment, figures_folder
from replication.runs import RunDir
from replication.shipping import ShippingError, folder_bytes, ship_run, shipped_run


@pytest.fixture(scope="module")
def shipped(tmp_path_factory, vae_smoke_run, cgan_smoke_run):
    """The VAE and CGAN smoke runs shipped into a ``pretrained`` root."""
    root = tmp_path_factory.mktemp("pretrained")
    for run in (vae_smoke_run, cgan_smoke_run):
        ship_run(run, root=root)
    return root


def _images(path):
    import imageio.v3 as iio

    return iio.imread(path)


def test_a_shipped_run_is_small_and_keeps_what_sampling_and_figures_need(shipped,
                                                                           cgan_smoke_run):
    run, original = RunDir(shipped / "cgan"), RunDir(cgan_smoke_run)
    names = {p.name for p in run.model_dir.iterdir()}
    assert names == {"generator.keras", "generator_ema.keras"}  # no discriminator
    assert not (run.path / "checkpoint").exists() and not run.tensorboard_dir.exists()
    assert folder_bytes(run.path) < folder_bytes(original.path) / 3
    assert run.snapshot_epochs() == original.snapshot_epochs()
    first, last = run.load_snapshot(1), run.load_snapshot(run.snapshot_epochs()[-1])
    assert "ema_samples" not in first and "ema_samples" in last  # read at the last epoch only
    np.testing.assert_array_equal(first["samples"], original.load_snapshot(1)["samples"])
    info = run.info()
    assert info["state"] == "finished" and info["config"] == original.info()["config"]
    assert info["shipped"]["from_run"] == str(original.path)
    # float16 storage: the same images up to a level or two of 255
    assert max(info["shipped"]["max_pixel_difference"].values()) <= 2


def test_float16_storage_loads_as_float32_with_keras_alone(shipped):
    """A shipped generator is a standard .keras file: keras.saving.load_model reads it."""
    import keras

    model = keras.saving.load_model(shipped / "cgan" / "model" / "generator.keras")
    assert {w.dtype for w in model.weights} == {"float32"}


def test_figures_redrawn_from_the_shipped_run_match_the_original(shipped, cgan_smoke_run,
                                                                 tmp_path):
    a = draw_experiment("cgan", cgan_smoke_run, tmp_path / "a", only=["fig20", "fig21"])
    b = draw_experiment("cgan", shipped / "cgan", tmp_path / "b", only=["fig20", "fig21"])
    assert [p.name for p in a] == [p.name for p in b]
    for left, right in zip(a, b):
        x, y = _images(left), _images(right)
        assert x.shape == y.shape
        # the footer names the run directory's date and data only; the images are the same
        assert np.mean(x != y) < 0.01, left.name


def test_shipping_refuses_unfinished_runs(tmp_path, vae_smoke_run):
    run = tmp_path / "run"
    shutil.copytree(vae_smoke_run, run)
    status = json.loads((run / "status.json").read_text())
    (run / "status.json").write_text(json.dumps({**status, "state": "interrupted"}))
    with pytest.raises(ShippingError, match="not finished"):
        ship_run(run, root=tmp_path / "pretrained")
    assert not (tmp_path / "pretrained" / "vae").exists()
    with pytest.raises(ShippingError, match="no shipped dcgan run"):
        shipped_run("dcgan", root=tmp_path / "pretrained")


def test_a_shipped_run_is_named_as_a_user_would_type_it(shipped, monkeypatch, tmp_path):
    """The manifest, the gallery and the figures' footers name the shipped run by its path
    relative to the working directory, not by the absolute path of the machine that drew them."""
    monkeypatch.chdir(shipped.parent)
    assert str(shipped_run("cgan", root=shipped).path) == f"{shipped.name}/cgan"
    monkeypatch.chdir(tmp_path)  # not inside: the path stays as given
    assert shipped_run("cgan", root=shipped).path == shipped / "cgan"


@pytest.mark.parametrize("argv, rows", [(["--class", "cat", "--n", "6"], None),
                                        (["--n", "20", "--generator", "averaged"], 10)])
def test_sample_a_class_or_every_class(shipped, tmp_path, argv, rows, capsys):
    out, npz = tmp_path / "grid.png", tmp_path / "grid.npz"
    code = main(["sample", "cgan", "--run-dir", str(shipped / "cgan"), "--out", str(out),
                 "--npz", str(npz), *argv])
    assert code == 0 and out.stat().st_size > 0
    arrays = np.load(npz)
    if rows is None:
        assert arrays["images"].shape == (6, 32, 32, 3)
        assert set(arrays["labels"]) == {3}  # cat is CIFAR-10's class 3
    else:  # one row per class, two per row
        assert list(arrays["labels"]) == [c for c in range(10) for _ in range(2)]
    assert f"wrote {out}" in capsys.readouterr().out


def test_sample_a_vae_decodes_prior_draws(shipped, tmp_path):
    npz = tmp_path / "vae.npz"
    assert main(["sample", "vae", "--run-dir", str(shipped / "vae"), "--n", "9",
                 "--out", str(tmp_path / "vae.png"), "--npz", str(npz)]) == 0
    images = np.load(npz)["images"]
    assert images.shape == (9, 28, 28, 1) and images.dtype == np.uint8
    assert len({im.tobytes() for im in images}) == 9  # different draws


@pytest.mark.parametrize("argv, message", [
    (["cgan", "--class", "unicorn"], "has no class 'unicorn'"),
    (["cgan", "--class", "10"], "has no class '10'"),
    (["vae", "--class", "3"], "vae is unconditional"),
    (["vae", "--generator", "averaged"], "no averaged model"),
])
def test_sample_bad_values_exit_2_with_one_line(shipped, tmp_path, argv, message, capsys):
    experiment = argv[0]
    code = main(["sample", *argv, "--run-dir", str(shipped / experiment),
                 "--out", str(tmp_path / "x.png")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x.png").exists()


def test_each_profile_draws_into_its_own_folder(tmp_path, vae_smoke_run):
    assert str(figures_folder("report")) == "figures"
    assert str(figures_folder("quick")) == "figures/quick"
    assert figures_folder("smoke", vae_smoke_run) == vae_smoke_run / "figures"
    written = draw_experiment("vae", vae_smoke_run, only=["fig05"])  # smoke: its run directory
    assert written == [vae_smoke_run / "figures" / "fig05.png"]


def test_a_short_run_never_draws_over_report_figures(tmp_path, vae_smoke_run):
    report = tmp_path / "figures"
    report.mkdir()
    (report / "manifest.json").write_text(json.dumps(
        {"files": {"fig05.png": {"id": "fig05", "profile": "report"}}}))
    with pytest.raises(FigureError, match="holds the report profile's figures"):
        draw_experiment("vae", vae_smoke_run, report, only=["fig05"])
    assert not (report / "fig05.png").exists()


def test_redraw_from_shipped_runs_trains_nothing(shipped, tmp_path, monkeypatch, capsys):
    from replication import reproduce, runs

    monkeypatch.setattr(runs, "PRETRAINED_DIR", shipped)
    monkeypatch.setattr("replication.train.train", lambda *a, **k: pytest.fail("trained"))
    out = tmp_path / "out"
    assert reproduce.main(["--pretrained", "--only", "vae,cgan", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())["files"]
    assert {"fig02.png", "vae_grid.gif", "fig20.png", "cgan.gif"} <= set(manifest)
    assert {e["run"] for e in manifest.values()} == {str(shipped / "vae"), str(shipped / "cgan")}
    assert "overview.png" not in manifest  # not every panel's run was redrawn
    assert (out / "README.md").exists()
    assert "redrawn from the shipped runs" in capsys.readouterr().out
    # a shipped run that is missing: one line, exit 2
    assert reproduce.main(["--pretrained", "--only", "dcgan", "--out", str(out)]) == 2


def test_overview_puts_the_final_grids_side_by_side(tmp_path, vae_smoke_run, cgan_smoke_run):
    from replication.figures.overview import draw_overview

    path = draw_overview({"vae": vae_smoke_run, "cgan": cgan_smoke_run}, tmp_path)
    assert path == tmp_path / "overview.png" and _images(path).shape[1] > 600
    entry = json.loads((tmp_path / "manifest.json").read_text())["files"]["overview.png"]
    assert entry["runs"] == {"vae": str(vae_smoke_run), "cgan": str(cgan_smoke_run)}
    assert entry["epochs_run"] == {"vae": 2, "cgan": 2}
    assert draw_overview({}, tmp_path / "none") is None


def test_frames_round_trip_within_a_few_levels():
    from replication.runs import decode_frames
    from replication.shipping import encode_frames

    rng = np.random.default_rng(0)
    smooth = np.repeat(np.repeat(rng.integers(0, 256, (7, 8, 8, 3)), 4, 1), 4, 2).astype(np.uint8)
    for images in (smooth, smooth[..., :1]):
        data, shape = encode_frames(images)
        back = decode_frames(data, shape)
        assert back.shape == images.shape and back.dtype == np.uint8
        assert np.abs(back.astype(int) - images).mean() < 4 and data.nbytes < images.nbytes


def test_epochs_only_gifs_read_ship_as_frames(tmp_path, dcgan_smoke_run):
    """A 3-epoch run (the smoke run with its first epoch repeated): epoch 2 feeds only the GIF,
    so it ships as a JPEG frame; epochs 1 (fig10) and 3 (fig11) stay lossless."""
    import csv

    run = tmp_path / "run"
    shutil.copytree(dcgan_smoke_run, run)
    snaps = run / "snapshots"
    (snaps / "epoch_002.npz").rename(snaps / "epoch_003.npz")
    shutil.copy(snaps / "epoch_001.npz", snaps / "epoch_002.npz")
    rows = list(csv.DictReader(open(run / "history.csv")))
    rows = [rows[0], {**rows[0], "epoch": "2"}, {**rows[1], "epoch": "3"}]
    with open(run / "history.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for name, change in (("config.json", lambda d: d["config"].update(epochs=3)),
                         ("status.json", lambda d: d.update(epochs_done=3))):
        data = json.loads((run / name).read_text())
        change(data)
        (run / name).write_text(json.dumps(data))

    shipped = RunDir(ship_run(run, root=tmp_path / "pretrained"))
    stored = np.load(shipped.snapshot_file(2))
    assert set(stored.files) == {"samples__jpeg", "samples__shape", "columns"}
    assert "samples" in np.load(shipped.snapshot_file(1)).files  # fig10: lossless
    original = RunDir(run).load_snapshot(2)["samples"]
    frames = shipped.load_snapshot(2)["samples"]
    assert frames.shape == original.shape
    assert np.abs(frames.astype(int) - original).mean() < 6
    np.testing.assert_array_equal(shipped.load_snapshot(3)["samples"],
                                  RunDir(run).load_snapshot(3)["samples"])
    info = shipped.info()["shipped"]["snapshots"]
    assert info["lossless_epochs"] == [1, 3] and info["gif_frames"].startswith("1 image array")
    written = draw_experiment("dcgan", shipped.path, tmp_path / "fig", only=["dcgan.gif"])
    import imageio.v3 as iio

    assert len(iio.imread(written[0], index=None)) == 3


def test_a_shipped_vae_keeps_last_epoch_arrays_exact_and_earlier_scatter_points_as_float16(
        shipped, vae_smoke_run):
    run, original = RunDir(shipped / "vae"), RunDir(vae_smoke_run)
    first, last = run.load_snapshot(1), run.load_snapshot(2)
    assert first["latent_z"].dtype == np.float16  # read only by the latent GIF's frames
    np.testing.assert_allclose(first["latent_z"], original.load_snapshot(1)["latent_z"],
                               rtol=2e-3, atol=2e-3)
    assert "samples" not in first and "reconstructions" not in first  # still figures: last only
    for key, value in original.load_snapshot(2).items():
        np.testing.assert_array_equal(last[key], value, err_msg=key)


def test_a_run_without_an_averaged_generator_ships_its_trained_one(tmp_path, cgan_smoke_run):
    run = tmp_path / "run"
    shutil.copytree(cgan_smoke_run, run)
    (run / "model" / "generator_ema.keras").unlink()
    shipped = RunDir(ship_run(run, root=tmp_path / "pretrained"))
    assert {p.name for p in shipped.model_dir.iterdir()} == {"generator.keras"}
    (run / "model" / "generator.keras").unlink()
    with pytest.raises(ShippingError, match="has no generator.keras"):
        ship_run(run, root=tmp_path / "again")


def test_a_shipped_vae_is_inference_only_and_bounds_agree(shipped, vae_smoke_run):
    """The VAE is saved compiled (its Adam state inside the .keras file: twice the weights);
    the shipped file keeps the weights only, loads without compiling, and gives the same
    bound, up to float16 storage."""
    import io
    import zipfile

    import h5py

    from replication import load_model
    from replication.metrics import vae_bounds

    original = RunDir(vae_smoke_run).model_dir / "vae.keras"
    copy = RunDir(shipped / "vae").model_dir / "vae.keras"
    with zipfile.ZipFile(original) as archive:
        with h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as weights:
            assert "optimizer" in weights  # what shipping has to leave out
    with zipfile.ZipFile(copy) as archive:
        assert "compile_config" not in json.loads(archive.read("config.json"))
        with h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as weights:
            assert "optimizer" not in weights
    assert copy.stat().st_size < 0.6 * original.stat().st_size
    images = np.random.default_rng(0).random((64, 28, 28, 1)).astype("float32")
    a = vae_bounds(load_model(original), images, samples=4, seed=0)
    b = vae_bounds(load_model(copy), images, samples=4, seed=0)
    for key in a:
        assert b[key] == pytest.approx(a[key], rel=2e-3), key
