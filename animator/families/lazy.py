"""Names a family package exports, imported when first asked for.

The registry imports every family package to learn its presets and settings (for `--help`,
the page's menus, a pose preview); the generators behind those names bring torch and
diffusers, seconds of start-up that a command which never generates should not pay. A
package `__init__` therefore imports its `FAMILY` (light: presets and settings) and hands
the rest to `lazy_exports`, so `from animator.families.wan import WanGenerator` still works.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(package: str, modules: Mapping[str, tuple[str, ...]]) -> Callable[[str], object]:
    """A module `__getattr__` for `package`: each name of `modules[module]` is taken from
    `package.module` when first looked up."""
    where = {name: f"{package}.{module}" for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> object:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(where[name]), name)

    return __getattr__
