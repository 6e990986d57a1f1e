"""Command line: ``python -m replication <verb> [options]``, one module per verb, each of one
shape (:data:`VERBS`; ``--help`` lists them).

Bad input ends in one line on stderr and exit code 2; a run that cannot go on (diverged,
interrupted, a refused write) in one line and exit code 1, with everything already computed
kept in the run directory (:mod:`replication.errors`).
"""

from __future__ import annotations

import argparse
import sys

from replication import (bench, cards, encoder_probe, figures_cli, gallery, pages, reproduce,
                         sample, seeds, shipping, study, train, zero_shot)
from replication.cli import Parser, help_formatter
from replication.evaluate import cli as evaluate_cli


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m replication",
                    description="Train the report's models and regenerate its figures.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for verb, module in VERBS:
        sub = commands.add_parser(verb, help=module.HELP, description=module.DESCRIPTION,
                                  formatter_class=help_formatter(module.DESCRIPTION))
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run_cli, verb_parser=sub)
    return parser


# Every verb, in the order --help lists them: (verb, its module, which has HELP (one line),
# DESCRIPTION, add_arguments(parser) and run_cli(args, parser) -> exit code; its script in
# scripts/ calls the same module through cli.script_main).
VERBS = (
    ("train", train),
    ("sample", sample),
    ("figures", figures_cli),
    ("gallery", gallery),
    ("reproduce", reproduce),
    ("evaluate", evaluate_cli),
    ("study", study),
    ("seeds", seeds),
    ("bench", bench),
    ("ship", shipping),
    ("cards", cards),
    ("pages", pages),
    ("judge", zero_shot),
    ("probe", encoder_probe),
)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args, args.verb_parser)


if __name__ == "__main__":
    sys.exit(main())
