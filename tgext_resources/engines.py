"""Which template engines ToscaWidgets 2 renders widget templates with, checked at start-up.

Widget libraries ship templates for some engines only (tw2.jqplugins.ui: Genshi and Mako).
ToscaWidgets picks, for each template, the first engine of its preference list that has a
file for it, so the list must hold an engine every widget in use can be rendered with.
"""
import importlib
import importlib.util
import logging
import os
import typing

from .declared import subclasses
from .errors import ConfigError, TemplateEngineError

log = logging.getLogger(__name__)


class Engine(typing.NamedTuple):
    name: str  # in resources.engines and ToscaWidgets' preferred_rendering_engines
    module: str  # what it imports
    distribution: str  # what pip installs
    extensions: tuple  # of the template files it renders


# In the order engines are tried when the application does not say (after those it uses
# for its own pages): fastest first, Genshi renders the same widget several times slower
# than Mako.  Kajiki must not claim ``.html``: Genshi-only widget libraries ship ``.html``
# Genshi templates, and Kajiki renders those without any error as raw ``py:`` markup.
ENGINES = (
    Engine("kajiki", "kajiki", "Kajiki", ("kajiki", "xhtml", "xml")),
    Engine("mako", "mako", "Mako", ("mak", "mako")),
    Engine("jinja", "jinja2", "Jinja2", ("jinja", "jinja2")),
    Engine("genshi", "genshi", "Genshi", ("genshi", "html")),
    Engine("chameleon", "chameleon", "Chameleon", ("pt",)),
)
_BY_NAME = {engine.name: engine for engine in ENGINES}

#: Every engine name, in the order above.
NAMES = tuple(_BY_NAME)
#: ToscaWidgets' ``rendering_extension_lookup``: the extensions of each engine.
EXTENSIONS = {engine.name: engine.extensions for engine in ENGINES}


def is_installed(engine):
    return importlib.util.find_spec(_BY_NAME[engine].module) is not None


def _distributions(engines):
    return [_BY_NAME[engine].distribution for engine in engines]


def choose_engines(configured, default_renderer, renderers):
    """Return the engines ToscaWidgets may use, most preferred first.

    ``configured`` (``resources.engines``) is taken as it is; otherwise the application's
    default renderer comes first, then its other renderers, then every other installed
    engine, so that third-party widgets with templates for other engines still render.
    """
    if configured:
        missing = [e for e in configured if not is_installed(e)]
        if missing:
            raise ConfigError(
                "resources.engines", " ".join(configured),
                "%s not installed: pip install %s, or remove %s from the list"
                % (", ".join(missing), " ".join(_distributions(missing)), " and ".join(missing)),
            )
        return tuple(configured)
    chosen = []
    for engine in (default_renderer, *renderers, *NAMES):
        if engine in _BY_NAME and engine not in chosen and is_installed(engine):
            chosen.append(engine)
    if not chosen:
        raise TemplateEngineError(
            "No template engine ToscaWidgets 2 can render widgets with is installed: "
            "pip install Kajiki (or Mako, Genshi, Jinja2)."
        )
    return tuple(chosen)


def template_engines_with_file(template):
    """The engines that have a file for the dotted ``template`` name, or None if it is not dotted."""
    if os.sep in template or "/" in template:
        return None  # a path: every engine can open it, there is no choice to check
    location, _, name = template.rpartition(".")
    if not location:
        return None
    try:
        module = importlib.import_module(location)
    except ImportError:
        return ()
    directory = os.path.dirname(getattr(module, "__file__", None) or "")
    return tuple(
        engine.name for engine in ENGINES
        if any(os.path.exists(os.path.join(directory, "%s.%s" % (name, ext))) for ext in engine.extensions)
    )


def check_widget_templates(engines):
    """Raise TemplateEngineError naming every defined widget whose template no engine in ``engines`` has."""
    problems = {}
    verdicts = {}
    from tw2.core.widgets import Widget

    for cls in subclasses(Widget):
        template = getattr(cls, "template", None)
        if not isinstance(template, str) or not template or getattr(cls, "inline_engine_name", None):
            continue
        if template not in verdicts:
            verdicts[template] = _template_problem(template, engines)
        if verdicts[template]:
            problems.setdefault(verdicts[template], []).append("%s.%s" % (cls.__module__, cls.__name__))
    if problems:
        lines = ["%s (used by %s)" % (problem, ", ".join(sorted(set(users))[:3])) for problem, users in sorted(problems.items())]
        raise TemplateEngineError(
            "These widget templates cannot be rendered with the template engines ToscaWidgets "
            "may use here (%s):\n  %s" % (", ".join(engines), "\n  ".join(lines))
        )


def _template_problem(template, engines):
    prefix, sep, rest = template.partition(":")
    if sep and prefix in EXTENSIONS:
        # An explicit engine: ToscaWidgets uses it whatever the preferences say.
        if is_installed(prefix):
            return None
        return "%s needs %s: pip install %s" % (template, prefix, _BY_NAME[prefix].distribution)
    available = template_engines_with_file(template)
    if available is None or any(e in engines for e in available):
        return None
    if not available:
        # No engine choice can help: that widget fails whatever the configuration says.
        log.warning("Widget template %s has no file for any template engine", template)
        return None
    installed = [e for e in available if is_installed(e)]
    if installed:
        # The engine is here, only not among those chosen: the fix is the list, not pip.
        return "%s exists only for %s: add %s to resources.engines" % (
            template, ", ".join(available), " or ".join(installed))
    distributions = _distributions(available)
    return (
        "%s exists only for %s: install %s (pip install %s) and add %s to resources.engines"
        % (template, ", ".join(available), " or ".join(distributions), distributions[0], " or ".join(available))
    )
