"""Every exception the extension raises, under one base class."""


class ResourcesError(Exception):
    """Base class of every error raised by tgext.resources."""


class ConfigError(ResourcesError, ValueError):
    """A configuration value is wrong; the message names the key, the value and the fix."""

    def __init__(self, key, value, accepted):
        self.key = key
        self.value = value
        self.accepted = accepted
        super().__init__(
            "%s = %r is not valid: %s. Fix it in the [app:main] section of the "
            ".ini file (or in app_cfg.py)." % (key, value, accepted)
        )


class TemplateEngineError(ResourcesError):
    """A widget's template exists only for template engines the application cannot use."""


class MiddlewareError(ResourcesError, TypeError):
    """``add_tosca_middleware`` did not return a WSGI application, or another ToscaWidgets
    middleware (tgext.tw2's) is enabled next to this one."""


class UnsafePathError(ResourcesError, ValueError):
    """A resource path that could reach outside its package (``..``, absolute, NUL, backslash)."""


class UnstorablePathError(ResourcesError, ValueError):
    """A URL path the filesystem cache cannot hold: too many segments, or a name or path too long for the disk."""


class AggregationError(ResourcesError):
    """``tgext-resources aggregate`` cannot build the bundles; the message says why."""


class MappingError(ResourcesError, ValueError):
    """A mapping file is unreadable or malformed."""


class BundleError(ResourcesError):
    """``aggregated_hash`` points at bundles the application cannot use; start-up stops."""


class ExportError(ResourcesError):
    """``tgext-resources export`` cannot be done; the message says why."""


class WebServerConfigError(ResourcesError):
    """The front-server configuration cannot be written as asked."""


class WidgetMutationError(ResourcesError, RuntimeError):
    """A request changed a widget shared by all requests (raised in development only)."""


class MinimalModeError(ResourcesError):
    """A request used a TurboGears feature that ``minimal_mode = true`` switches off."""


class NonceError(ResourcesError, ValueError):
    """The CSP nonce a request gives for its tags is no nonce a Content-Security-Policy header can carry."""
