"""replication/shipping.py: shipped runs (pretrained/) are small and keep what sampling and the
figures need; a paper-schedule run ships beside the report's."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from replication.figures import draw_experiment
from replication.runs import RunDir, ShippingError, shipped_at, shipped_name, shipped_run
from replication.shipping import folder_bytes, reproduce_command, ship_run
from tests.helpers.images import read_image as _images


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


def test_a_paper_run_ships_beside_the_report_run(paper_run, acgan_smoke_run, tmp_path):
    assert shipped_name("acgan", "paper") == "acgan_paper"
    assert shipped_name("acgan", "report") == shipped_name("acgan", "smoke") == "acgan"
    shipped = ship_run(paper_run, root=tmp_path)
    assert shipped == tmp_path / "acgan_paper"
    ship_run(acgan_smoke_run, root=tmp_path)
    assert shipped_run("acgan", tmp_path, "paper").path.name == "acgan_paper"
    assert shipped_run("acgan", tmp_path).path.name == "acgan"
    assert [run.path.name for run in shipped_at("acgan", "paper", tmp_path)] == ["acgan_paper"]
    # the shipped paper run keeps what its gallery section reads: the last two epochs' grids
    last = RunDir(shipped).load_snapshot(3)
    assert "samples" in last and "ema_samples" in last
    with pytest.raises(ShippingError, match="no shipped cgan run in"):
        shipped_run("cgan", tmp_path, "paper")
    with pytest.raises(ShippingError, match="no shipped acgan run 'longer'.*ships report, paper"):
        shipped_run("acgan", tmp_path, "longer")


def test_a_departing_run_ships_only_as_a_named_variant(tmp_path, acgan_smoke_run):
    """No departure from a profile's recipe ships as that recipe: it needs a variant name,
    which lands in the folder's name and the shipped block; a faithful run refuses one."""
    run = tmp_path / "run"
    shutil.copytree(acgan_smoke_run, run)
    config = json.loads((run / "config.json").read_text())
    config["config"]["class_loss"] = "real"
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(ShippingError, match="departs from the smoke profile's recipe "
                                            r"\(class_loss 'real' \(profile 'all'\)\).*--variant"):
        ship_run(run, root=tmp_path / "pretrained")
    with pytest.raises(ShippingError, match="own recipe; ship it without --variant"):
        ship_run(acgan_smoke_run, root=tmp_path / "pretrained", variant="x")
    with pytest.raises(ShippingError, match="letters, digits"):
        ship_run(run, root=tmp_path / "pretrained", variant="real cls")
    shipped = ship_run(run, root=tmp_path / "pretrained", variant="real-cls")
    assert shipped.name == "acgan_real-cls"
    block = json.loads((shipped / "config.json").read_text())["shipped"]
    assert block["variant"] == "real-cls" and "class_loss" in block["departures"]
    assert shipped_run("acgan", tmp_path / "pretrained", "real-cls").path.name == shipped.name


def _config_of(command: str):
    """The settings a ``python -m replication train ...`` command line trains with."""
    import dataclasses
    import shlex

    from replication.__main__ import build_parser
    from replication.experiments import get, make_config

    words = shlex.split(command)
    assert words[:4] == ["python", "-m", "replication", "train"], command
    args = build_parser().parse_args(words[3:])
    fields = {f.name for f in dataclasses.fields(get(args.experiment).config_class)}
    return make_config(args.experiment, args.profile, **{
        k: v for k, v in vars(args).items() if k in fields - {"profile", "experiment"}})


def test_a_shipped_runs_command_trains_it_again_and_its_status_lists_what_ships(
        tmp_path, acgan_smoke_run):
    from replication.experiments import config_from_dict

    run = tmp_path / "run"
    shutil.copytree(acgan_smoke_run, run)
    config = json.loads((run / "config.json").read_text())
    config["config"].update(seed=3, fused_batchnorm=False, precision="bf16")
    config["command"] = "python scripts/study.py run acgan --stop-after 1 --runs ../x"
    (run / "config.json").write_text(json.dumps(config))
    shipped = ship_run(run, root=tmp_path / "pretrained")
    saved = json.loads((shipped / "config.json").read_text())
    assert saved["shipped"]["trained_by"] == config["command"]
    assert "--seed 3" in saved["command"] and "--no-fused-batchnorm" in saved["command"]
    assert _config_of(saved["command"]).to_dict() == config_from_dict(saved["config"]).to_dict()
    status = json.loads((shipped / "status.json").read_text())
    assert status["models"] and all((shipped / "model" / m).exists() for m in status["models"])


def test_every_shipped_run_says_how_to_train_it_again():
    """pretrained/*: the command in config.json trains the same settings from a clean clone
    (no study screening, no path outside the repository), the status lists only shipped models,
    and a run that departs from its profile is shipped under its variant's name."""
    from replication.experiments import config_from_dict
    from replication.runs import PRETRAINED_DIR
    from replication.shipping import departures

    folders = sorted(p.parent for p in PRETRAINED_DIR.glob("*/config.json"))
    assert folders
    for folder in folders:
        saved = json.loads((folder / "config.json").read_text())
        assert saved["command"] == reproduce_command(saved), folder.name
        assert _config_of(saved["command"]).to_dict() == \
            config_from_dict(saved["config"]).to_dict(), folder.name
        status = json.loads((folder / "status.json").read_text())
        assert all((folder / "model" / m).exists() for m in status["models"]), folder.name
        variant = saved["shipped"].get("variant")
        assert bool(variant) == bool(departures(saved)), folder.name
        assert folder.name == shipped_name(saved["experiment"], saved["config"]["profile"],
                                           variant)