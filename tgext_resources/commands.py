"""The ``tgext-resources`` commands as gearbox commands: ``gearbox resources-aggregate``,
``gearbox resources-export``, ``gearbox resources-webserver-config``.

gearbox loads this module only through its ``gearbox.commands`` entry points, so
gearbox is installed whenever it is imported.
"""
from gearbox.command import Command

from . import cli


class _ResourcesCommand(Command):
    name = None  # the tgext-resources sub-command

    def get_description(self):
        return cli.COMMANDS[self.name][0]

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        cli.COMMANDS[self.name][1](parser)
        return parser

    def take_action(self, opts):
        # gearbox prints a traceback for any exception: errors stay one line here.  Its
        # console shows INFO by default; the application's start-up lines only with -v.
        quiet = getattr(self.app_args, "verbose_level", 1) <= 1
        return cli.run(self.name, opts, program="gearbox resources-%s" % self.name, quiet=quiet)


class AggregateCommand(_ResourcesCommand):
    """Bundle the JS and CSS of every widget a distribution uses into one file each."""

    name = "aggregate"


class ExportCommand(_ResourcesCommand):
    """Write every resource the application serves under a directory, as laid out in their URLs."""

    name = "export"


class WebServerConfigCommand(_ResourcesCommand):
    """Print an nginx server block or Apache VirtualHost serving the exported resources."""

    name = "webserver-config"
