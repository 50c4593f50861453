"""tgext.resources: fast ToscaWidgets 2 resources and caching for TurboGears 2."""
from .configurator import ResourcesConfigMixin
from .errors import ConfigError, MiddlewareError, ResourcesError, TemplateEngineError

__all__ = [
    "ResourcesConfigMixin",
    "ResourcesError",
    "ConfigError",
    "TemplateEngineError",
    "MiddlewareError",
]
