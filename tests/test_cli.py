"""replication/cli.py: the flags of every command, the scripts as thin wrappers of the same
flags, help texts that read their defaults from the config, one-line errors for bad flags."""

from __future__ import annotations

import io

import pytest

from replication import cli
from replication.__main__ import VERBS, build_parser, main
from replication.config import GANConfig
from replication.experiments.cgan import CGANConfig
from replication.experiments.effnet_vae import EffNetVAEConfig


def _options(parser) -> set[str]:
    return {s for action in parser._actions for s in action.option_strings}


@pytest.mark.parametrize("verb", [verb for verb, _ in VERBS])
def test_a_script_and_its_verb_take_the_same_flags(verb):
    module = dict(VERBS)[verb]
    script = cli.command_parser(f"python scripts/{verb}.py", module)
    sub = build_parser()._subparsers._group_actions[0].choices[verb]
    assert _options(script) == _options(sub)


def test_shared_flags_are_declared_once_with_the_same_help():
    parsers = {"train": build_parser()._subparsers._group_actions[0].choices["train"],
               "reproduce": build_parser()._subparsers._group_actions[0].choices["reproduce"]}
    helps = {name: {s: a.help for a in p._actions for s in a.option_strings}
             for name, p in parsers.items()}
    for flag in ("--data", "--precision", "--xla", "--strategy", "--devices"):
        assert helps["train"][flag] == helps["reproduce"][flag], flag


def test_help_reads_its_defaults_from_the_config():
    text = io.StringIO()
    build_parser()._subparsers._group_actions[0].choices["train"].print_help(text)
    flat = " ".join(text.getvalue().split())
    assert f"default {CGANConfig.label_conditioning!r}" in flat
    assert f"default {EffNetVAEConfig.encoder}" in flat
    assert f"default {GANConfig.ema_half_life}" in flat


def test_bad_flags_are_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error" in err[0]


@pytest.mark.parametrize("argv, message", [
    (["train", "vae", "--profile", "huge"], "invalid choice"),
    (["train", "vae", "--epochs", "0"], "must be at least 1"),
    (["train", "vae", "--epochs", "ten"], "expected a whole number"),
    (["train", "vae", "--seed", "-3"], "must be non-negative"),
    (["train", "gan"], "invalid choice"),
    (["train", "vae", "--bogus"], "unrecognized arguments"),
])
def test_bad_flags_exit_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_progress_goes_per_step_only_to_a_terminal(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdout", Tty())
    assert cli.progress_verbosity(quiet=False) == 1
    assert cli.progress_verbosity(quiet=True) == 2
    monkeypatch.setattr("sys.stdout", io.StringIO())  # a file or a pipe
    assert cli.progress_verbosity(quiet=False) == 2


def test_train_flags_spell_both_sides_of_a_switch():
    words = cli.train_flags({"mismatched_labels": False, "label_conditioning": "projection",
                             "batch_size": 64})
    assert words == "--no-mismatched-labels --label-conditioning projection --batch-size 64"
    args = build_parser().parse_args(["train", "cgan", *words.split()])
    assert (args.mismatched_labels, args.label_conditioning, args.batch_size) == \
        (False, "projection", 64)
    words = cli.train_flags({"fused_batchnorm": False})
    assert words == "--no-fused-batchnorm"
    assert build_parser().parse_args(["train", "acgan", words]).fused_batchnorm is False
    assert build_parser().parse_args(["train", "acgan"]).fused_batchnorm is None  # the config's


def test_the_train_command_takes_encoder():
    from replication.__main__ import build_parser

    args = build_parser().parse_args(["train", "effnet_vae", "--encoder", "efficientnet-lite0"])
    assert args.encoder == "efficientnet-lite0"
    assert build_parser().parse_args(["train", "effnet_vae"]).encoder is None
