"""WSGI application factory of SampleApp (paste.app_factory entry point ``main``)."""
from sampleapp.config.app_cfg import base_config

__all__ = ["make_app"]


def make_app(global_conf, **app_conf):
    """Build the SampleApp WSGI application from the [app:main] section of an .ini file."""
    return base_config.make_wsgi_app(global_conf, app_conf)
