"""moto corrections for its HTTP server's cost per request (behaviour unchanged).

1. moto 5.2.x's server, to route each request, lists the directories of its installed package (an os.listdir and
   an isdir per entry, about 160 of them) to see whether the Host header names a service: measured as a third of
   the local stack's CPU under load. The list cannot change while the process runs, so it is read once.
2. Its response serializer looks up every member of every value by asking six alias providers for the names
   the member might go by, anew for each value: 0.5 ms per DynamoDB item in a BatchGetItem answer, a sixth of
   the server's CPU under the worker benchmark. For a plain dict (all a DynamoDB answer holds) those names depend
   only on the member's shape, its parent shape and its key, so they are worked out once per triple.
3. Its werkzeug request handler writes a response's headers and body in separate sends; on a kept-alive
   connection (boto3 keeps them) Nagle's algorithm holds the body until the client's delayed ACK, ~40 ms per
   request. TCP_NODELAY (disable_nagle_algorithm) sends at once.
"""

from collections.abc import Iterable
from typing import Any

from moto import backends
from moto.core.serialize import AttributePickerContext, XFormedAttributePicker

_applied = False
_modules: tuple[str, ...] = ()
_names: dict[tuple[Any, Any, str], tuple[str, ...]] = {}
original_list_of_moto_modules = backends.list_of_moto_modules
original_possible_keys = XFormedAttributePicker.get_possible_keys


def _list_once() -> Iterable[str]:
    global _modules
    if not _modules:
        _modules = tuple(original_list_of_moto_modules())
    return iter(_modules)


def _possible_keys(self: XFormedAttributePicker, context: AttributePickerContext) -> Iterable[str]:
    if type(context.obj) is not dict:  # an object may carry aliases of its own (its Meta, its class name)
        return original_possible_keys(self, context)
    shape = context.shape
    key = (shape, getattr(shape, "parent", None), context.key)
    names = _names.get(key)
    if names is None:
        names = _names[key] = tuple(original_possible_keys(self, context))
    return names


def register() -> None:
    global _applied
    if _applied:
        return
    from werkzeug.serving import WSGIRequestHandler

    WSGIRequestHandler.disable_nagle_algorithm = True
    backends.list_of_moto_modules = _list_once
    # A cached tuple where moto's returns a generator: its callers only iterate it.
    XFormedAttributePicker.get_possible_keys = _possible_keys  # type: ignore[method-assign, assignment]
    _applied = True
