"""Serving widget resources from Python, with one registry for the whole process.

ToscaWidgets registers a resource for serving when its widget class is defined, with the
middleware found in the defining thread's request-local storage, or in a queue that only
the next middleware built in that thread consumes.  An application built second in a
process, or a widget module imported while another application's request runs, leaves
resources that some middleware never learns about: their links answer 404.  Here every
middleware shares one registry, and a new one also registers every link class already
defined, so every link a page carries is served whatever the order of imports.
"""
from tw2.core.resources import Link, ResourcesApp

from .declared import subclasses

# modname/filename -> (modname, filename); directories served whole.
_PATHS = {}
_DIRS = []


def _declared_links():
    for cls in subclasses(Link):
        filename = getattr(cls, "filename", None)
        # Links whose file name is computed per request (tw2.jquery's) register themselves
        # when prepared; only plain declarations can be registered up front.
        if isinstance(filename, str) and filename and not getattr(cls, "no_inject", False):
            yield cls.modname or "__anon__", filename, bool(getattr(cls, "whole_dir", False))


class SharedResourcesApp(ResourcesApp):
    """tw2's resource server, reading and writing the process-wide registry."""

    def __init__(self, config):
        super().__init__(config)
        self._paths = _PATHS
        self._dirs = _DIRS
        for modname, filename, whole_dir in _declared_links():
            self.register(modname, filename, whole_dir)

    def adopt(self, other):
        """Take over what was registered with ``other``, a plain tw2 ResourcesApp."""
        self._paths.update(other._paths)
        self._dirs.extend(d for d in other._dirs if d not in self._dirs)
