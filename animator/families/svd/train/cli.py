"""`python -m animator train`: the command line of training (its own parser; the main CLI
hands it the rest of the line)."""

from __future__ import annotations

import argparse
import logging
import sys
import typing

from animator.errors import InputError
from animator.families.svd.train.config import check_config, load_config


def main(argv: typing.Sequence[str] | None = None) -> int:
    """`python -m animator train --config train.yaml key=value ...`"""
    # --help shows the package docstring: the commands and the objective.
    description = sys.modules[__package__].__doc__
    parser = argparse.ArgumentParser(prog="python -m animator train", description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="YAML file of TrainConfig fields")
    parser.add_argument("overrides", nargs="*", help="key=value settings applied on top")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        config = load_config(args.config, args.overrides)
        check_config(config)  # refused in a second, before torch is imported
        from animator.families.svd.train.loop import train

        final = train(config)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(final)
    return 0
