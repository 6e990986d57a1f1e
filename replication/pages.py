"""The tables the pages hold, written from the files they report.

A page (the README, a ``docs/`` page) marks each generated table with a pair of comments; this
module rewrites what lies between them from the files, so that a number on a page is the number
its file holds:

- ``<!-- seeds EXPERIMENT PROFILE -->`` … ``<!-- /seeds -->``: a study's variants as the mean
  and range over their seeds, and the seed that ships (:func:`replication.seeds.table`, from
  the committed study records);
- ``<!-- study EXPERIMENT PROFILE [VARIANT,...] -->`` … ``<!-- /study -->``: a study's
  table over the committed records, of the variants named (:func:`replication.study.table`);
- ``<!-- means EXPERIMENT PROFILE FIRST-LAST -->`` … ``<!-- /means -->``: each study run's
  tracked values averaged over those epochs (:func:`replication.study.means`);
- ``<!-- schedule EXPERIMENT -->`` … ``<!-- /schedule -->``: the paper-schedule table, the
  shipped report run beside the runs recorded at the paper's profile
  (:func:`replication.study.schedule_table`);
- ``<!-- results -->`` … ``<!-- /results -->``: the README's results table
  (:func:`replication.seeds.results_table`);
- ``<!-- shipped -->`` … ``<!-- /shipped -->``: every run in ``pretrained/`` with its
  schedule, seed, machine, training time and numbers (:func:`replication.cards.shipped_table`);
- ``<!-- profiles -->`` … ``<!-- /profiles -->``: each profile's schedule per experiment, from
  the experiments' profile tables (:func:`profiles_table`);
- ``<!-- variants EXPERIMENT VARIANT,... -->`` … ``<!-- /variants -->``: the named study
  variants, their ``train`` flags and why (:func:`variants_table`, from
  :data:`replication.study.STUDIES`).

``python -m replication pages`` rewrites every page of the project that has such a block;
``--check`` changes nothing and exits 1 naming the pages that are behind their files (the
test suite does the same).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from replication import cards, experiments, seeds, study
from replication.cli import script_main
from replication.config import PROFILES, ConfigError
from replication.data import epoch_examples, steps_per_epoch
from replication.errors import run_command
from replication.runs import as_written
from replication.vocabulary import comma_list

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("README.md", "docs/*.md")

# One pattern per kind of block; its groups: 1 the opening comment, 2-4 its arguments (empty
# where the kind takes fewer), 5 the table it replaces, 6 the closing comment.
BLOCKS = {
    "seeds": re.compile(r"(<!-- seeds (\S+) (\S+)() -->\n)(.*?)(<!-- /seeds -->)", re.S),
    "study": re.compile(r"(<!-- study (\S+) (\S+)(?: (\S+))? -->\n)(.*?)(<!-- /study -->)",
                        re.S),
    "means": re.compile(r"(<!-- means (\S+) (\S+) (\d+-\d+) -->\n)(.*?)(<!-- /means -->)",
                        re.S),
    "schedule": re.compile(r"(<!-- schedule (\S+)()() -->\n)(.*?)(<!-- /schedule -->)", re.S),
    "results": re.compile(r"(<!-- results -->\n)()()()(.*?)(<!-- /results -->)", re.S),
    "shipped": re.compile(r"(<!-- shipped -->\n)()()()(.*?)(<!-- /shipped -->)", re.S),
    "profiles": re.compile(r"(<!-- profiles -->\n)()()()(.*?)(<!-- /profiles -->)", re.S),
    "variants": re.compile(r"(<!-- variants (\S+) (\S+)() -->\n)(.*?)(<!-- /variants -->)",
                           re.S),
}


def profiles_table() -> list[str]:
    """Each profile's schedule per report experiment, as its configuration holds it: epochs ×
    images per epoch, the training steps and their batch, the precision setting."""
    names = experiments.names()
    lines = ["| profile | " + " | ".join(f"`{name}`" for name in names) + " |",
             "|---" * (len(names) + 1) + "|"]
    for profile in PROFILES:
        cells = []
        for name in names:
            config = experiments.make_config(name, profile)
            images = epoch_examples(config)
            steps = config.epochs * steps_per_epoch(images, config.batch_size)
            cells.append(f"{config.epochs} × {images:,}: {steps:,} steps of "
                         f"{config.batch_size}, {config.precision}")
        lines.append(f"| `{profile}` | " + " | ".join(cells) + " |")
    return lines


def variants_table(experiment: str, names: list[str]) -> list[str]:
    """The study variants ``names`` of ``experiment``: the ``train`` flags of each (what it sets
    beyond the profile) and why it is studied."""
    if experiment not in study.STUDIES:
        raise ConfigError(f"no study of {experiment}; the studies: {', '.join(study.STUDIES)}")
    known = {variant.name: variant for variant in study.variants_of(experiment)}
    missing = [name for name in names if name not in known]
    if missing:
        raise ConfigError(f"{experiment} has no study variant {', '.join(missing)}; "
                          f"its variants: {', '.join(known)}")
    lines = ["| variant | `train` flags | why |", "|---|---|---|"]
    for name in names:
        variant = known[name]
        lines.append(f"| `{name}` | `{variant.describe()}` | {variant.why} |")
    return lines


def pages(root=ROOT) -> list[Path]:
    """The project's pages that hold at least one generated block."""
    found = sorted({path for pattern in PAGES for path in Path(root).glob(pattern)})
    return [path for path in found
            if any(block.search(path.read_text()) for block in BLOCKS.values())]


def render(text: str, records=None, pretrained=None) -> tuple[str, list[str]]:
    """``text`` with every generated block written afresh from ``records`` (the study records,
    default the committed ones) and ``pretrained`` (the shipped runs, default the project's);
    and the blocks' names (``seeds cgan report``, ``results``, ``shipped``)."""
    records = study.RECORDS if records is None else records
    done = []

    def table(kind, match) -> list[str]:
        if kind == "seeds":
            return seeds.table(match.group(2), records, match.group(3), pretrained)
        if kind == "study":
            named = comma_list(match.group(4)) or None
            found = study.table(match.group(2), records, match.group(3), named)
            if len(found) < 3:
                raise ConfigError(f"no study records of {match.group(2)} "
                                  f"({match.group(3)}) {match.group(4) or ''} under {records}")
            return found
        if kind == "means":
            first, last = (int(epoch) for epoch in match.group(4).split("-"))
            return study.means(match.group(2), (first, last), records, match.group(3))
        if kind == "schedule":
            return study.schedule_table(match.group(2), records)
        if kind == "results":
            return seeds.results_table(records, pretrained)
        if kind == "profiles":
            return profiles_table()
        if kind == "variants":
            return variants_table(match.group(2), comma_list(match.group(3)))
        return cards.shipped_table(pretrained)

    for kind, pattern in BLOCKS.items():
        def fill(match, kind=kind) -> str:
            done.append(" ".join(filter(None, (kind, *match.group(2, 3, 4)))))
            return match.group(1) + "\n".join(table(kind, match)) + "\n" + match.group(6)

        text = pattern.sub(fill, text)
    return text, done


def update_page(page, records=None, pretrained=None) -> list[str]:
    """Rewrite ``page``'s generated blocks (:func:`render`); the blocks' names."""
    path = Path(page)
    text, done = render(path.read_text(), records, pretrained)
    path.write_text(text)
    return done


def behind(page, records=None, pretrained=None) -> bool:
    """Whether ``page`` differs from what :func:`update_page` would write today."""
    text = Path(page).read_text()
    return render(text, records, pretrained)[0] != text


HELP = "write the tables of the README and docs/ from the runs and records they report"
DESCRIPTION = ("Write the tables of the README and docs/ from the files they report: the seed "
               "tables and the results table from the study records, the shipped-runs table "
               "from pretrained/.")


def add_arguments(parser) -> None:
    parser.add_argument("pages", nargs="*", metavar="PAGE.md",
                        help="pages to rewrite (default: every page of the project with a "
                             "generated block)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 naming the pages behind their files")
    parser.add_argument("--runs", default=str(study.RECORDS), metavar="DIR",
                        help="the study records (default %(default)s)")


def run_cli(args, parser) -> int:
    chosen = [Path(p) for p in args.pages] or pages()
    for page in chosen:
        if not page.is_file():
            parser.error(f"no such page {page}")
    def check() -> int:
        stale = [as_written(page) for page in chosen if behind(page, args.runs)]
        for page in stale:
            print(f"{page} is behind its files: python -m replication pages {page}")
        return 1 if stale else 0

    if args.check:
        return run_command(check)

    def update() -> None:
        for page in chosen:
            print(f"{as_written(page)}: {', '.join(update_page(page, args.runs))}")

    return run_command(update)


def main(argv=None) -> int:
    return script_main("python -m replication pages", sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
