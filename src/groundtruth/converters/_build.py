"""Fast construction of model instances from values a reader has already checked.

Pydantic validation costs about a microsecond per object, which is more than parsing a CoNLL
line; `model_construct` is slower still for models with default factories. Readers that
build millions of tokens from ints and strings they produced themselves use `builder(cls)`:
defaults are filled exactly as pydantic would, and nothing is validated. Use it only for
values whose types are right by construction; tests check that the records round-trip
through `model_validate` unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_new = object.__new__
_set = object.__setattr__


def builder(cls: type[M]) -> Callable[..., M]:
    """A function `(**fields) -> cls instance` that skips validation.

    Pass every field in the model's order for the fastest path (the keyword dict is used
    as the instance's `__dict__` as it is); otherwise fields are put in order and defaults
    filled in.
    """
    proto: dict[str, Any] = {}  # every field, in order; defaults (or placeholders)
    factories: list[tuple[str, Callable[[], Any]]] = []
    for name, info in cls.model_fields.items():
        proto[name] = None if info.is_required() else info.default
        if info.default_factory is not None:
            factories.append((name, info.default_factory))  # type: ignore[arg-type]
    count = len(proto)

    def make(**fields: Any) -> M:
        # Keys must be in field order (serialisation follows the dict's order). A caller that
        # passes every field, in order, skips the reordering.
        if len(fields) == count:
            data = fields
        else:
            data = proto.copy()
            for name, factory in factories:
                if name not in fields:
                    data[name] = factory()
            data.update(fields)
        obj = _new(cls)
        _set(obj, "__dict__", data)
        _set(obj, "__pydantic_fields_set__", set(fields))
        _set(obj, "__pydantic_extra__", None)
        _set(obj, "__pydantic_private__", None)
        return obj

    return make
