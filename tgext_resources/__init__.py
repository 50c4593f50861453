"""tgext.resources: fast ToscaWidgets 2 resources and caching for TurboGears 2.

The public names are imported when first used, so that ``import tgext_resources`` (and
the ``tgext-resources`` command) loads TurboGears, tw2 and WebOb only when a name that
needs them is asked for.
"""
import importlib

#: Each public name, and the module of this package that defines it.
_PUBLIC = {
    "ResourcesConfigMixin": "configurator",
    "plugme": "configurator",
    "cached_template": "pages",
    "cached_entity": "fragments",
    "refresh_page": "refresh",
    "fs_cached": "fscache",
    "fscache": None,  # the module itself: fscache.store, fscache.invalidate
    "WidgetMutationError": "errors",
    "MinimalModeError": "errors",
    "ResourcesError": "errors",
    "ConfigError": "errors",
    "TemplateEngineError": "errors",
    "MiddlewareError": "errors",
    "AggregationError": "errors",
    "MappingError": "errors",
    "BundleError": "errors",
    "UnsafePathError": "errors",
    "ExportError": "errors",
    "WebServerConfigError": "errors",
}

__all__ = list(_PUBLIC)


def __getattr__(name):
    try:
        module = _PUBLIC[name]
    except KeyError:
        raise AttributeError("module %r has no attribute %r" % (__name__, name)) from None
    if module is None:
        return importlib.import_module("." + name, __name__)
    value = getattr(importlib.import_module("." + module, __name__), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
