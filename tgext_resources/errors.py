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
    """``add_tosca_middleware`` did not return a WSGI application."""
