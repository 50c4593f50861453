"""TurboGears glue: the configurator mixin and the components it registers, one per concern.

Works with ``tg.FullStackApplicationConfigurator``, ``tg.MinimalApplicationConfigurator``
and the legacy ``tg.AppConfig`` (which wraps a full-stack configurator of its own).
"""
import importlib
import importlib.util
import logging
import os

from tg.configuration import AppConfig
from tg.configurator.base import (AppReadyConfigurationAction, BeforeConfigConfigurationAction,
                                  ConfigReadyConfigurationAction, ConfigurationComponent)

from . import engines, forms
from .errors import ConfigError, MiddlewareError
from .settings import parse_settings

log = logging.getLogger(__name__)

#: Where the parsed :class:`~tgext_resources.settings.Settings` live in ``tg.config``.
SETTINGS_KEY = "tgext_resources.settings"

#: Where tw2 widgets' own controllers are served, as TurboGears always had them.
CONTROLLER_PREFIX = "/tw2/controllers/"


class ResourcesSettingsComponent(ConfigurationComponent):
    """Parses the extension's keys before any other component looks at the configuration.

    Registered first, so that a bad value stops start-up before anything is built.
    """

    id = "tgext_resources.settings"

    def get_actions(self):
        return (BeforeConfigConfigurationAction(self._parse),)

    def _parse(self, conf, app):
        conf[SETTINGS_KEY] = parse_settings(conf)


class MinimalModeComponent(ConfigurationComponent):
    """``minimal_mode``: flips TurboGears' keys before its components read them, and stands
    in for what was switched off (see minimal.py)."""

    id = "tgext_resources.minimal"

    def on_bind(self, configurator):
        from .minimal import wrapper_class

        # Injected only into applications with minimal_mode on (it asks their settings).
        configurator.register_application_wrapper(wrapper_class(SETTINGS_KEY), after=True)

    def get_actions(self):
        return (BeforeConfigConfigurationAction(self._switch_off),)

    def _switch_off(self, conf, app):
        from .minimal import switch_off

        # Right after the settings: error and slow-request tracing copy their options next.
        if conf[SETTINGS_KEY].mode.minimal:
            switch_off(conf)


class FormsComponent(ConfigurationComponent):
    """Teaches TurboGears' ``@validate`` the validation errors of tw2 forms (see forms.py)."""

    id = "tgext_resources.forms"

    def get_actions(self):
        return (ConfigReadyConfigurationAction(self._setup_validation),)

    def _setup_validation(self, conf, app):
        forms.install(conf)


class ResourcesMiddlewareComponent(ConfigurationComponent):
    """Wraps the application in what ``add_tosca_middleware`` returns.

    Registered last, so the middleware is the outermost one: resource requests are answered
    before the rest of the stack runs, and pages are injected after every other middleware
    (error pages included) has produced them.
    """

    id = "tgext_resources"
    owner = None  # the configurator carrying ResourcesConfigMixin

    def on_bind(self, configurator):
        from .routehints import controller_wrapper
        from .shareable import SessionWatch

        # Innermost, so that the controller's _before is watched too (see shareable.py).
        configurator.register_application_wrapper(SessionWatch, after=False)
        configurator.get_component("dispatch").register_controller_wrapper(controller_wrapper)

    def get_actions(self):
        return (AppReadyConfigurationAction(self._add_middleware),)

    def _add_middleware(self, conf, app):
        # tgext.tw2's component (its defaults put custom_tw2_config in the configuration) adds
        # tw2's plain TwMiddleware inside this one: it would inject first, unversioned and
        # unbundled, with engines this one did not pick.  Two never run silently.
        if "custom_tw2_config" in conf and conf.get("tw2.enabled"):
            raise MiddlewareError(
                "tgext.tw2 is enabled too (tw2.enabled = true): its middleware would inject the "
                "resources first, unversioned and unbundled. tgext.resources does all it did: remove "
                "plug(base_config, \"tgext.tw2\") from app_cfg.py, or set tw2.enabled = false (README: "
                "\"Coming from tgext.tw2\")"
            )
        if self.owner is None:  # enabled with plug(): nothing overrides add_tosca_middleware
            return build_middleware(app, conf)
        wrapped = self.owner.add_tosca_middleware(app)
        if not callable(wrapped):
            raise MiddlewareError(
                "%s.add_tosca_middleware(app) returned %r instead of a WSGI application: "
                "return the result of super().add_tosca_middleware(app)."
                % (type(self.owner).__name__, wrapped)
            )
        return wrapped


class ResourcesConfigMixin:
    """Mix into a TurboGears configurator to get ToscaWidgets 2 resources done right::

        class AppConfigurator(ResourcesConfigMixin, FullStackApplicationConfigurator):
            pass

    No ``__slots__`` here: ``tg.AppConfig`` turns unknown attributes into configuration
    lookups, and a slotted mixin sends it into endless recursion.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        enable(self, owner=self)

    def add_tosca_middleware(self, app):
        """Return ``app`` wrapped in the ToscaWidgets 2 middleware; called once per app built.

        Override it to wrap more, calling ``super().add_tosca_middleware(app)``.
        """
        from tg import config  # the configuration being built (TurboGears made it current)

        return build_middleware(app, config)


def enable(configurator, owner=None):
    """Register the extension's components on ``configurator`` (once: the mixin and
    ``plug()`` together are no error).  ``owner``: the mixin, whose ``add_tosca_middleware``
    builds the middleware."""
    configurator = configurator._configurator if isinstance(configurator, AppConfig) else configurator
    if configurator.get_component(ResourcesMiddlewareComponent.id) is None:
        configurator.register(ResourcesSettingsComponent, after=False)
        configurator.register(MinimalModeComponent, after=ResourcesSettingsComponent.id)
        configurator.register(FormsComponent, after=ResourcesSettingsComponent.id)
        configurator.register(ResourcesMiddlewareComponent, after=True)
    if owner is not None:
        configurator.get_component(ResourcesMiddlewareComponent.id).owner = owner


def plugme(app_config, options):
    """tgext.pluggable's entry: ``plug(base_config, "tgext_resources")`` in ``app_cfg.py``
    does what mixing ResourcesConfigMixin into the configurator does."""
    enable(app_config)
    # Nothing of a pluggable application to mount: no controllers, models or statics.
    return dict(appid="tgext_resources", plug_controller=False, plug_models=False,
                plug_helpers=False, plug_bootstrap=False, plug_statics=False)


def tw2_options(conf, settings):
    """The ToscaWidgets 2 middleware options for this application."""
    from tg.i18n import get_lang, ugettext

    default_renderer = conf.get("default_renderer")
    chosen = engines.choose_engines(settings.resources.engines, default_renderer, conf.get("renderers") or ())
    return dict(
        default_engine=default_renderer if default_renderer in chosen else chosen[0],
        preferred_rendering_engines=list(chosen),
        strict_engine_selection=True,
        rendering_extension_lookup={name: list(exts) for name, exts in engines.EXTENSIONS.items()},
        translator=ugettext,
        get_lang=lambda: get_lang(all=False),
        # tw2 defaults to debug, where it throws its template caches away on every render
        # (widget pages several times slower): follow the application instead.
        debug=settings.debug,
        auto_reload_templates=settings.debug,
        res_prefix=settings.resources.prefix,
        res_max_age=settings.resources.max_age,
        controller_prefix=CONTROLLER_PREFIX,
    )


def build_middleware(app, conf):
    """Wrap ``app`` in the middleware the settings in ``conf`` call for; the start-up
    actions of every feature happen here, and its per-application state is set on the
    middleware."""
    from .debugpanel import install as add_debugbar_section
    from .middleware import CONFIG_KEY, ResourcesMiddleware
    from .registry import REGISTRY, declared_link_modules
    from .versioning import VERSIONS

    settings = conf[SETTINGS_KEY]
    options = tw2_options(conf, settings)
    _import_root_controller(conf)
    engines.check_widget_templates(options["preferred_rendering_engines"])
    middleware = ResourcesMiddleware(app, base_url=settings.resources.base_url, **options)
    middleware.settings = settings
    # Hash every module that has a resource now: the first page should not pay for it.
    for modname in REGISTRY.modnames() | declared_link_modules():
        VERSIONS.token(modname)
    log.info("ToscaWidgets 2 resources under %s, widget templates rendered with %s",
             options["res_prefix"], ", ".join(options["preferred_rendering_engines"]))
    from .guard import install, own_resources

    own_resources()  # for every application: the commonest mutation of a shared widget, made harmless
    if settings.guard.enabled:
        install()
        middleware.guarded = True
        log.info("Widget statelessness guard on: a request that changes a shared widget fails")
    _setup_cache(middleware, settings, conf.get("package_name"))
    _setup_fscache(middleware, settings, conf.get("package_name"))
    _setup_bundles(middleware, settings, conf.get("package_name"))
    add_debugbar_section(conf, middleware)  # when tgext.debugbar shows its toolbar
    conf[CONFIG_KEY] = middleware  # for code running outside a request (see middleware.current)
    return middleware


def _setup_cache(middleware, settings, package):
    """The cache regions of this application, for cached_template and cached_entity."""
    from .caching import CacheStore
    from .pagebody import install
    from .pagememory import PageMemory
    from .pages import DECORATED

    install()  # what the page cache stores: the template's output
    store = CacheStore(settings.cache)
    # A page of this application cached in a region that does not exist: say so now (those
    # of other packages are checked when first used).
    for decorator in DECORATED:
        if not package or not decorator.func.__module__.startswith(package + "."):
            continue
        try:
            store.region(decorator.region)
        except ConfigError as exc:
            raise ConfigError(
                "cached_template(region=...) of %s.%s" % (decorator.func.__module__, decorator.func.__qualname__),
                decorator.region, exc.accepted,
            ) from None
    middleware.cache_store = store
    middleware.page_memory = PageMemory()
    log.info("Cache regions: %s", ", ".join("%s (%s)" % (r.name, r.type) for r in settings.cache.regions))


def _setup_fscache(middleware, settings, package):
    """The filesystem cache: its directory created and checked to be writable now."""
    if not settings.fscache.dir:
        return
    from .filecache import FileCache
    from .fscache_sync import attach

    middleware.filecache = FileCache(settings.fscache.dir, settings.fscache.max_files)
    middleware.filecache.prepare("fscache.dir")
    log.info("Filesystem cache in %s", middleware.filecache.root)
    attach(middleware.filecache, settings, package)  # caught up before the first request


def _setup_bundles(middleware, settings, package):
    """The bundles of ``aggregated_hash``, checked against their mapping now."""
    aggregation = settings.aggregation
    if not aggregation.hash:
        return
    from .bundles import Bundles

    bundles = Bundles.load(aggregation.hash, aggregation.directory, package, middleware.resources, settings.debug,
                           settings.resources.inline_limit)
    middleware.use_bundles(bundles, package, aggregation.directory)
    log.info("Bundles of aggregation %s replace %d resources", aggregation.hash, bundles.member_count)


def _import_root_controller(conf):
    """Import the root controller module now, as the first request would.

    Its widgets are then defined, so the start-up template check sees every widget the
    controllers use instead of only those imported while configuring.
    """
    if conf.get("tg.root_controller") is not None or not conf.get("package_name"):
        return
    paths = conf.get("paths") or {}
    root, controllers = paths.get("root"), paths.get("controllers")
    if not root or not controllers or not controllers.startswith(root + os.sep):
        return
    # The module TurboGears' own TGApp.lookup_controller would import.
    module = ".".join([conf["package_name"], *controllers[len(root) + 1:].split(os.sep), "root"])
    try:
        found = importlib.util.find_spec(module)
    except ImportError:
        found = None
    if found is not None:
        importlib.import_module(module)
