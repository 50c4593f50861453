"""Global configuration of SampleApp; development.ini complements it."""
from tg import FullStackApplicationConfigurator

from tgext_resources import ResourcesConfigMixin

import sampleapp
from sampleapp import model
from sampleapp.lib import app_globals, helpers


class AppConfigurator(ResourcesConfigMixin, FullStackApplicationConfigurator):
    """TurboGears' full stack, with ToscaWidgets 2 resources done by tgext.resources."""


base_config = AppConfigurator()
base_config.update_blueprint({
    "package": sampleapp,
    "app_globals": app_globals.Globals,
    "helpers": helpers,
    "renderers": ["json", "kajiki"],
    "default_renderer": "kajiki",
    "use_sqlalchemy": True,
    "model": model,
    "DBSession": model.DBSession,
    # No login in the sample: authentication stays off, sessions and the rest stay on.
    "sa_auth.enabled": False,
    "identity.enabled": False,
})
