"""tgext.resources: fast ToscaWidgets 2 resources and caching for TurboGears 2."""
import os

from setuptools import find_packages, setup

here = os.path.abspath(os.path.dirname(__file__))
with open(os.path.join(here, "README.rst"), encoding="utf-8") as f:
    long_description = f.read()

setup(
    name="tgext.resources",
    version="0.1.0",
    description="Fast ToscaWidgets 2 resources, bundles and caching for TurboGears 2",
    long_description=long_description,
    long_description_content_type="text/x-rst",
    license="MIT",
    classifiers=[
        "Framework :: TurboGears",
        "Framework :: TurboGears :: Widgets",
        "Programming Language :: Python :: 3",
        "Topic :: Internet :: WWW/HTTP :: WSGI :: Middleware",
    ],
    python_requires=">=3.10",
    packages=find_packages(include=["tgext_resources", "tgext_resources.*"]),
    include_package_data=True,
    install_requires=[
        "TurboGears2>=2.5,<2.6",
        "tw2.core>=2.3,<2.4",
        "WebOb>=1.8.9,<1.10",
        "Beaker>=1.12",
        # tw2.core 2.3 and tw2.jquery import pkg_resources: setuptools 82 removed it and
        # 80.9 to 81 print a deprecation warning on every start.
        "setuptools>=65,<80.9",
        # Pure-Python minifiers (with optional C speed-ups): no Java at build time.
        "rjsmin>=1.2",
        "rcssmin>=1.1",
        "packaging>=21",
    ],
    extras_require={
        # Brotli-compressed siblings of the bundles, next to the gzip ones.
        "brotli": ["Brotli>=1.0"],
        # Cache regions on ext:redis and ext:memcached.
        "redis": ["redis>=4"],
        "memcached": ["python-memcached>=1.59"],
        "test": [
            "Brotli>=1.0",
            "redis>=4",
            "python-memcached>=1.59",
            # TurboGears' authentication, for the quickstart-shaped stack of bench/minimal.py.
            "repoze.who>=3",
            "gearbox>=0.5",
            "pytest>=8",
            "WebTest>=3.0",
            "playwright>=1.40",
            "Kajiki>=1.0",
            "Mako>=1.2",
            "Genshi>=0.7",
            "tw2.forms>=2.2",
            "tw2.jquery>=2.2",
            "tw2.jqplugins.ui>=2.3",
            "SQLAlchemy>=2.0",
            "zope.sqlalchemy>=3.0",
            "transaction>=4.0",
            "waitress>=3.0",
            # environ["wsgi.early_hints"] (103 Early Hints) arrived in gunicorn 25; its HTTP/2
            # (the h2 package) is where they are sent by default.
            "gunicorn[http2]>=25",
            # The publisher's rates are measured against WhiteNoise's (bench/publisher.py).
            "whitenoise>=6",
            # plug(base_config, "tgext_resources"), the way TurboGears applications enable extensions.
            "tgext.pluggable>=0.9",
            # The official ToscaWidgets extension, to check that it never runs unseen next to this one.
            "tgext.tw2>=0.1",
            # The development toolbar TurboGears' quickstart enables; its "Resources & cache" section.
            "tgext.debugbar>=0.6",
            # REDbot, the HTTP caching lint run on the front server's responses (tests/test_redbot.py).
            "redbot>=2.7,<3; python_version >= '3.11'",
        ],
    },
    entry_points={
        "console_scripts": ["tgext-resources = tgext_resources.cli:main"],
        "gearbox.commands": [
            "resources-aggregate = tgext_resources.commands:AggregateCommand",
            "resources-export = tgext_resources.commands:ExportCommand",
            "resources-webserver-config = tgext_resources.commands:WebServerConfigCommand",
        ],
    },
    zip_safe=False,
)
