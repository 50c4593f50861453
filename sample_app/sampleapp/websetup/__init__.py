"""`gearbox setup-app`: create the tables and some articles to look at."""
import logging

log = logging.getLogger(__name__)


def setup_app(command, conf, vars):
    from sampleapp.config.middleware import make_app

    make_app(conf.global_conf, **conf.local_conf)
    from sampleapp.websetup.schema import setup_schema

    setup_schema()


__all__ = ["setup_app"]
