"""moto correction for its HTTP server: do not list moto's own package directory on every request.

moto 5.2.x's server, to route each request, lists the directories of its installed package (an os.listdir and
an isdir per entry, about 160 of them) to see whether the Host header names a service: measured as a third of
the local stack's CPU under load. The list cannot change while the process runs, so it is read once.
"""
from typing import Iterable

from moto import backends

_applied = False
_modules: tuple[str, ...] = ()
original_list_of_moto_modules = backends.list_of_moto_modules


def _list_once() -> Iterable[str]:
    global _modules
    if not _modules:
        _modules = tuple(original_list_of_moto_modules())
    return iter(_modules)


def register() -> None:
    global _applied
    if _applied:
        return
    backends.list_of_moto_modules = _list_once
    _applied = True
