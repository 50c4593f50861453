"""tgext.resources: fast ToscaWidgets 2 resources and caching for TurboGears 2."""
from .configurator import ResourcesConfigMixin
from .errors import (
    AggregationError,
    BundleError,
    ConfigError,
    MappingError,
    MiddlewareError,
    ResourcesError,
    TemplateEngineError,
    UnsafePathError,
)

__all__ = [
    "ResourcesConfigMixin",
    "ResourcesError",
    "ConfigError",
    "TemplateEngineError",
    "MiddlewareError",
    "AggregationError",
    "MappingError",
    "BundleError",
    "UnsafePathError",
]
