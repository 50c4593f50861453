"""The ``tgext-resources`` command line.

    tgext-resources aggregate -d DIST [-d DIST ...] --package PKG -o DIR [--inline-limit N]
    tgext-resources export -c INI -o DIR
    tgext-resources webserver-config nginx|apache -c INI --root DIR --upstream HOST:PORT [--listen PORT]
                                     [--server-name NAME ...]
                                     [--tls-cert FILE --tls-key FILE [--tls-listen PORT]] [--brotli auto|on|off]

Each sub-command is also a gearbox command (see commands.py), sharing the arguments
and the code below.  Errors are one line on stderr and a non-zero exit, never a traceback.
The output is the command's own: the INFO lines of loading the application (TurboGears',
tw2's "Registered controller ...", the extension's start-up lines) are left out unless
``--verbose`` (``gearbox -v``); warnings and errors always show.
"""
import argparse
import logging
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
    from .converters import INLINE_LIMIT

    parser.add_argument(
        "--inline-limit", default=INLINE_LIMIT, metavar="N",
        help="images and fonts the stylesheets refer to of at most N bytes go into the CSS bundle as "
             "data: URIs; 0: none (default %(default)s). Give the value of the application's "
             "resources.inline_limit: start-up checks they agree",
    )


def run_aggregate(args, out, err):
    """Build the bundles; print each file created on ``out``, then ``aggregated_hash = <hash>``."""
    from .aggregation import aggregate

    def report(line):
        print(line, file=err)

    result = aggregate(args.distributions, args.package, args.output, report, args.inline_limit)
    for path in result.files:
        print(path, file=out)
    print("aggregated_hash = %s" % result.hash, file=out)
    return 0


def add_export_arguments(parser):
    parser.add_argument("-c", "--config", required=True, metavar="INI", help="the application's .ini file")
    parser.add_argument(
        "-o", "--output", required=True, metavar="DIR",
        help="directory the front server serves from; resources land under DIR/<resources prefix>",
    )


def run_export(args, out, err):
    """Write every resource of the application under DIR; print a summary."""
    from .export import export, load_application

    summary = export(load_application(args.config), args.output)
    for line in summary.lines():
        print(line, file=out)
    return 0


def add_webserver_arguments(parser):
    parser.add_argument("server", choices=sorted(("nginx", "apache")), help="the front server")
    parser.add_argument("-c", "--config", required=True, metavar="INI", help="the application's .ini file")
    parser.add_argument("--root", required=True, metavar="DIR", help="the directory `export -o` wrote to")
    parser.add_argument("--upstream", required=True, metavar="HOST:PORT", help="where the application listens")
    parser.add_argument("--listen", default="80", metavar="PORT", help="the port the front server listens on (80)")
    parser.add_argument(
        "--server-name", dest="server_names", action="append", default=[], metavar="NAME",
        help="a host name the site answers to (repeat for more); requests for other hosts are refused. "
             "Without it every Host is passed to the application, and a warning says so",
    )
    parser.add_argument(
        "--tls-cert", metavar="FILE",
        help="the site's certificate, then its chain (PEM): listen with TLS and HTTP/2, and make --listen "
             "redirect plain HTTP to HTTPS; needs --tls-key",
    )
    parser.add_argument("--tls-key", metavar="FILE", help="the private key of --tls-cert (PEM, no passphrase)")
    parser.add_argument("--tls-listen", metavar="PORT", help="the port of TLS (443)")
    parser.add_argument(
        "--brotli", default="auto", metavar="auto|on|off",
        help="serve the .br siblings `export` writes: nginx needs its brotli_static module loaded (Debian: "
             "libnginx-mod-http-brotli-static); auto (the default) is on when this machine's nginx loads it, "
             "and always for Apache",
    )


def run_webserver_config(args, out, err):
    """Print the server block for the application configured by INI."""
    from .configurator import SETTINGS_KEY
    from .export import load_application
    from .webserver import ANY_HOST_WARNING, SERVERS, Site, brotli_static, command_line, server_names
    from .webserver_tls import checked_tls, port_number

    # Every option checked before loading the application: a typo fails fast.
    names = server_names(args.server_names)
    listen = port_number("--listen", args.listen, 80)
    tls = checked_tls(args.tls_cert, args.tls_key, args.tls_listen, listen)
    brotli = brotli_static(args.server, args.brotli)
    conf = load_application(args.config)
    site = Site(
        conf[SETTINGS_KEY], conf["package_name"], args.root, args.upstream, listen,
        command_line(args.server, args.config, args.root, args.upstream, listen, names, tls, args.brotli), names,
        tls, brotli,
    )
    out.write(SERVERS[args.server](site))
    if not site.server_names:
        print("tgext-resources webserver-config: warning: %s" % ANY_HOST_WARNING, file=err)
    return 0


COMMANDS = {
    "aggregate": (
        "bundle the JS and CSS of every widget a distribution uses into one file each",
        add_aggregate_arguments,
        run_aggregate,
    ),
    "export": (
        "write every resource the application serves under a directory, as laid out in their URLs",
        add_export_arguments,
        run_export,
    ),
    "webserver-config": (
        "print an nginx server block or Apache VirtualHost serving the exported resources",
        add_webserver_arguments,
        run_webserver_config,
    ),
}


def parser():
    main = argparse.ArgumentParser(
        prog="tgext-resources", description="Build and publish ToscaWidgets 2 resources of a TurboGears application."
    )
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (description, add_arguments, _) in COMMANDS.items():
        command = commands.add_parser(name, help=description, description=description)
        add_arguments(command)
        # Not in add_arguments: gearbox has its own -v, which its commands follow.
        command.add_argument("-v", "--verbose", action="store_true",
                             help="also print the log lines of loading the application (INFO)")
    return main


def run(name, args, out=None, err=None, program=None, quiet=False):
    """Run command ``name`` with parsed ``args``; ResourcesError becomes one line, naming
    ``program`` (the command as the user typed it), and exit 1.

    ``quiet`` (the command lines, unless verbose): leave out INFO and DEBUG log lines from
    then on, for the rest of the process.  Loading the application logs a line per tw2
    controller, per cache region..., some from threads that outlive the command's work, and
    they would bury its output.  Warnings and errors still show."""
    out = out or sys.stdout
    err = err or sys.stderr
    if quiet:
        logging.disable(logging.INFO)
    try:
        return COMMANDS[name][2](args, out, err)
    except ResourcesError as exc:
        print("%s: error: %s" % (program or "tgext-resources %s" % name, exc), file=err)
        return 1


def main(argv=None):
    args = parser().parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s [%(name)s] %(message)s")
    return run(args.command, args, quiet=not args.verbose)


if __name__ == "__main__":
    sys.exit(main())
