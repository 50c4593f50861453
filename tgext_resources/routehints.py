"""TurboGears glue of hints.py: each request's route, told before its controller runs.

The route is the controller TurboGears dispatched to: ``/article/1`` and ``/article/2`` are
one route, whose page links the same resources, so what the first taught is hinted to the
second.  The hints go out once dispatch has found the controller and before it runs, the
time a 103 exists to fill.
"""
import functools

import tg

from .middleware import SERVING_KEY


def controller_wrapper(next_caller):
    """A TurboGears controller wrapper, registered for every controller."""
    def call(tg_config, controller, remainder, params):
        from tw2.core import core

        hints = getattr(core.request_local().get(SERVING_KEY), "early_hints", None)
        if hints is not None:
            hints.before_controller(tg.request.environ, route(controller))
        return next_caller(tg_config, controller, remainder, params)
    return call


def route(controller):
    """The function of ``controller``: a bound method's, or the one a partial wraps (the
    error handler TurboGears calls after a failed validation is a new partial each time)."""
    while isinstance(controller, functools.partial):
        controller = controller.func
    return getattr(controller, "__func__", controller)
