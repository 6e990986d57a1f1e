"""End to end, what a fresh Python process sees: ``import replication`` and the command line's
--help load no TensorFlow, a saved model loads quietly, a killed writer leaves only its
temporary file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from replication.runs import RunDir

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize("light", ["replication.__main__", "replication.experiments"])
def test_light_modules_do_not_load_tensorflow(light):
    """--help answers at once: the command line and the registry load no heavy library."""
    import subprocess
    import sys

    code = (f"import sys, {light}; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.strip()
    assert out == "[]", f"importing {light} loads {out}"


@pytest.mark.parametrize("argv", [["-m", "replication", "train", "--help"],
                                  ["-m", "replication", "train", "vae", "--epochs", "0"],
                                  ["scripts/reproduce_all.py", "--help"]])
def test_help_and_bad_flags_answer_without_loading_tensorflow(argv):
    """``-X importtime`` lists every module imported: TensorFlow and Keras are not among
    them, so no start-up lines are printed and the answer is immediate."""
    out = subprocess.run([sys.executable, "-X", "importtime", *argv], capture_output=True,
                         text=True, cwd=ROOT)
    assert out.returncode in (0, 2)
    imported = {line.split("|")[-1].strip() for line in out.stderr.splitlines()
                if line.startswith("import time:")}
    assert imported and not imported & {"tensorflow", "keras"}


def test_help_documents_every_flag():
    out = subprocess.run([sys.executable, "-m", "replication", "train", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for flag in ("--profile", "--epochs", "--batch-size", "--data", "--seed", "--run-dir",
                 "--resume", "--dataset"):
        assert flag in out


def test_saved_model_loads_in_a_fresh_process_with_replication_load_model(vae_smoke_run):
    """``import replication`` stays light (no TensorFlow) and ``replication.load_model`` reads
    a run's model quietly: nothing but the model's class name on stdout, nothing on stderr."""
    path = RunDir(vae_smoke_run).model_dir / "vae.keras"
    code = ("import sys, replication; assert 'tensorflow' not in sys.modules; "
            "m = replication.load_model(sys.argv[1]); print(type(m).__name__)")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, env=env)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.strip() == "VAE"
    assert out.stderr == ""


def test_files_left_by_a_killed_writer_are_cleaned_and_finished_files_kept(tmp_path):
    import os
    import subprocess
    import sys

    from replication.runs import PARTIAL_MARK, remove_partial_files

    # A process killed inside atomic_path leaves its temporary file, never the target.
    script = ("import os, sys; from replication.runs import atomic_path\n"
              "with atomic_path(sys.argv[1]) as tmp:\n"
              "    tmp.write_bytes(b'half')\n"
              "    os._exit(9)\n")
    target = tmp_path / "fig02.png"
    subprocess.run([sys.executable, "-c", script, str(target)], check=False)
    left = [p.name for p in tmp_path.iterdir()]
    assert not target.exists() and len(left) == 1 and PARTIAL_MARK in left[0]
    (tmp_path / "fig03.png").write_bytes(b"done")
    (tmp_path / ".hidden").write_text("not ours")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / f".state{PARTIAL_MARK}x.npz").write_bytes(b"half")
    assert remove_partial_files(tmp_path) == 1
    assert sorted(os.listdir(tmp_path)) == [".hidden", "fig03.png", "sub"]
    assert remove_partial_files(tmp_path, recursive=True) == 1
    assert os.listdir(tmp_path / "sub") == []
