"""Which template engines ToscaWidgets 2 renders widget templates with, checked at start-up.

Widget libraries ship templates for some engines only (tw2.jqplugins.ui: Genshi and Mako).
ToscaWidgets picks, for each template, the first engine of its preference list that has a
file for it, so the list must hold an engine every widget in use can be rendered with.
"""
import importlib
import importlib.util
import logging
import os

from .declared import subclasses
from .errors import ConfigError, TemplateEngineError
from .settings import TEMPLATE_ENGINES

log = logging.getLogger(__name__)

# Kajiki must not claim ``.html``: Genshi-only widget libraries ship ``.html`` Genshi
# templates, and Kajiki renders those without any error as raw ``py:`` markup.
EXTENSIONS = {
    "kajiki": ("kajiki", "xhtml", "xml"),
    "genshi": ("genshi", "html"),
    "mako": ("mak", "mako"),
    "jinja": ("jinja", "jinja2"),
    "chameleon": ("pt",),
}

# When the application does not say, engines it does not use for its own pages are
# tried fastest first: Genshi renders the same widget several times slower than Mako.
_FALLBACK_ORDER = ("kajiki", "mako", "jinja", "genshi", "chameleon")
_MODULES = {"kajiki": "kajiki", "genshi": "genshi", "mako": "mako", "jinja": "jinja2", "chameleon": "chameleon"}
_DISTRIBUTIONS = {"kajiki": "Kajiki", "genshi": "Genshi", "mako": "Mako", "jinja": "Jinja2", "chameleon": "Chameleon"}


def is_installed(engine):
    return importlib.util.find_spec(_MODULES[engine]) is not None


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
                % (", ".join(missing), " ".join(_DISTRIBUTIONS[e] for e in missing), " and ".join(missing)),
            )
        return tuple(configured)
    chosen = []
    for engine in (default_renderer, *renderers, *_FALLBACK_ORDER):
        if engine in TEMPLATE_ENGINES and engine not in chosen and is_installed(engine):
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
        engine for engine in TEMPLATE_ENGINES
        if any(os.path.exists(os.path.join(directory, "%s.%s" % (name, ext))) for ext in EXTENSIONS[engine])
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
        return "%s needs %s: pip install %s" % (template, prefix, _DISTRIBUTIONS[prefix])
    available = template_engines_with_file(template)
    if available is None or any(e in engines for e in available):
        return None
    if not available:
        # No engine choice can help: that widget fails whatever the configuration says.
        log.warning("Widget template %s has no file for any template engine", template)
        return None
    installable = " or ".join(_DISTRIBUTIONS[e] for e in available)
    return (
        "%s exists only for %s: install %s (pip install %s) or add %s to resources.engines"
        % (template, ", ".join(available), installable, _DISTRIBUTIONS[available[0]], " or ".join(available))
    )
