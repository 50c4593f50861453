"""The ``tgext-resources`` command line.

    tgext-resources aggregate -d DIST [-d DIST ...] --package PKG -o DIR

Each sub-command is also a gearbox command (see commands.py), sharing the arguments
and the code below.  Errors are one line on stderr and a non-zero exit, never a traceback.
"""
import argparse
import sys

from .errors import ResourcesError


def add_aggregate_arguments(parser):
    parser.add_argument(
        "-d", "--distribution", dest="distributions", action="append", required=True, metavar="DIST",
        help="distribution whose widgets (and its dependencies' widgets) to bundle; repeat for more",
    )
    parser.add_argument(
        "--package", required=True, metavar="PKG",
        help="package the bundles are served from; DIR must lie inside it",
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="DIR",
        help="directory inside PKG to write the bundles and the mapping file to",
    )


def run_aggregate(args, out, err):
    """Build the bundles; print each file created on ``out``, then ``aggregated_hash = <hash>``."""
    from .aggregation import aggregate

    def report(line):
        print(line, file=err)

    result = aggregate(args.distributions, args.package, args.output, report)
    for path in result.files:
        print(path, file=out)
    print("aggregated_hash = %s" % result.hash, file=out)
    return 0


COMMANDS = {
    "aggregate": (
        "bundle the JS and CSS of every widget a distribution uses into one file each",
        add_aggregate_arguments,
        run_aggregate,
    ),
}


def parser():
    main = argparse.ArgumentParser(
        prog="tgext-resources", description="Build and publish ToscaWidgets 2 resources of a TurboGears application."
    )
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (description, add_arguments, _) in COMMANDS.items():
        add_arguments(commands.add_parser(name, help=description, description=description))
    return main


def run(name, args, out=None, err=None):
    """Run command ``name`` with parsed ``args``; ResourcesError becomes one line and exit 1."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        return COMMANDS[name][2](args, out, err)
    except ResourcesError as exc:
        print("tgext-resources %s: error: %s" % (name, exc), file=err)
        return 1


def main(argv=None):
    args = parser().parse_args(argv)
    return run(args.command, args)


if __name__ == "__main__":
    sys.exit(main())
