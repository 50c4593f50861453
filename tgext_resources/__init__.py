"""tgext.resources: fast ToscaWidgets 2 resources and caching for TurboGears 2."""
from . import fscache
from .configurator import ResourcesConfigMixin
from .fragments import cached_entity
from .fscache import fs_cached
from .guard import WidgetMutationError
from .minimal import MinimalModeError
from .pages import cached_template, refresh_page
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
    "cached_template",
    "cached_entity",
    "refresh_page",
    "fs_cached",
    "fscache",
    "WidgetMutationError",
    "MinimalModeError",
    "ResourcesError",
    "ConfigError",
    "TemplateEngineError",
    "MiddlewareError",
    "AggregationError",
    "MappingError",
    "BundleError",
    "UnsafePathError",
]
