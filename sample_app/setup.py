"""SampleApp: a TurboGears 2.5 application showing every feature of tgext.resources."""
from setuptools import find_packages, setup

setup(
    name="SampleApp",
    version="1.0",
    description="Sample TurboGears 2.5 application for tgext.resources",
    python_requires=">=3.10",
    packages=find_packages(),
    include_package_data=True,
    package_data={
        "sampleapp": [
            "templates/*.xhtml",
            "public/*.*",
            "public/css/*",
            "public/images/*",
            "widgets/static/*.*",
            "widgets/static/images/*",
            "widgets/templates/*.kajiki",
            "widgets/static/gallery/*",
        ],
    },
    install_requires=[
        "tgext.resources",
        "TurboGears2>=2.5,<2.6",
        "Kajiki>=1.0",
        # tw2.jqplugins.ui ships Mako and Genshi templates only.
        "Mako>=1.2",
        "SQLAlchemy>=2.0",
        "zope.sqlalchemy>=3.0",
        "transaction>=4.0",
        "Beaker>=1.12",
        "tw2.forms>=2.2",
        "tw2.jquery>=2.2",
        "tw2.jqplugins.ui>=2.3",
        "gearbox>=0.5",
        "waitress>=3.0",
        # TurboGears' interactive debugger, used when debug = true.
        "backlash>=0.5",
        # Thumbnails of the images kept in the database.
        "Pillow>=10",
    ],
    entry_points={
        "paste.app_factory": ["main = sampleapp.config.middleware:make_app"],
        # Every widget the application uses, for `tgext-resources aggregate -d SampleApp`,
        # and what of their dependencies' resources the bundles leave out.
        "tw2.widgets": [
            "widgets = sampleapp.widgets",
            "resource_aggregation_filter = sampleapp.widgets:keep_in_bundle",
        ],
    },
    zip_safe=False,
)
