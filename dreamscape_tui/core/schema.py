"""Validate TOML data against frozen dataclasses and build them.

The config dataclasses are the schema: a field's type says what is allowed, its default
says what is optional, and ``metadata`` carries ranges (``min``/``max``) and ``required``.
Keeping this generic means a new key needs one line in ``config.py`` and nothing here.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import fields, is_dataclass
from functools import cache
from typing import Any, Literal, TypeVar, Union, cast, get_args, get_origin

from dreamscape_tui.core.errors import UsageError

T = TypeVar("T")


class ConfigError(UsageError):
    """A user-facing configuration problem; ``str()`` is one line naming file and key."""


@cache
def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _describe(tp: Any) -> str:
    origin = get_origin(tp)
    if _is_union(tp):  # e.g. bool | Literal["auto"]: "boolean or 'auto'"
        return " or ".join(_describe(arm) for arm in get_args(tp))
    if origin is Literal:
        values = get_args(tp)
        if len(values) == 1:
            return repr(values[0])
        return "one of " + ", ".join(repr(a) for a in values)
    if origin is tuple:
        inner = get_args(tp)[0]
        if is_dataclass(inner):
            return "an array of tables"
        return f"an array of {_describe(inner)}s"
    if is_dataclass(tp):
        return "a table"
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(tp, str(tp))


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _check_value(tp: Any, value: Any, meta: Any, where: str) -> None:
    """Raise ConfigError if ``value`` does not fit type ``tp`` and the range in ``meta``."""
    origin = get_origin(tp)
    if _is_union(tp):  # fits if any arm fits; the error names every arm
        for arm in get_args(tp):
            try:
                _check_value(arm, value, meta, where)
            except ConfigError:
                continue
            return
        raise ConfigError(f"{where}: expected {_describe(tp)}, got {_type_name(value)} {value!r}")
    if is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table, got {_type_name(value)}")
        check_table(tp, value, where)  # type: ignore[arg-type]
        return
    if origin is tuple:
        inner = get_args(tp)[0]
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected {_describe(tp)}, got {_type_name(value)}")
        for index, item in enumerate(value):
            _check_value(inner, item, {}, f"{where}[{index}]")
        return
    if origin is Literal:
        allowed = get_args(tp)
        if value not in allowed or not isinstance(value, str):
            raise ConfigError(f"{where}: expected {_describe(tp)}, got {value!r}")
        return
    if tp is bool:
        ok = isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif tp is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        ok = isinstance(value, tp)
    if not ok:
        raise ConfigError(f"{where}: expected {_describe(tp)}, got {_type_name(value)} {value!r}")
    lo, hi = meta.get("min"), meta.get("max")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        bounds = f"from {lo} to {hi}" if hi is not None else f"of at least {lo}"
        raise ConfigError(f"{where}: expected {_describe(tp)} {bounds}, got {value!r}")


def check_table(cls: type, data: dict[str, Any], where: str) -> None:
    """Check one TOML table against dataclass ``cls`` (unknown keys, types, ranges)."""
    known = {f.name: f for f in fields(cls)}
    hints = _hints(cls)
    for key, value in data.items():
        if key not in known:
            hint = difflib.get_close_matches(key, list(known), n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            allowed = ", ".join(known)
            section = f"[{where}] " if where else ""
            raise ConfigError(
                f"{section}unknown key {key!r}{suggestion}; allowed: {allowed}"
            )
        _check_value(hints[key], value, known[key].metadata, _join(where, key))
    if where.endswith("]"):  # an array-of-tables entry: every entry must be complete
        for name, f in known.items():
            if f.metadata.get("required") and name not in data:
                raise ConfigError(f"{where}: missing required key {name!r}")


def check_layer(cls: type, data: dict[str, Any], source: str) -> None:
    """Validate one file's data; errors read ``FILE: section.key: problem``."""
    try:
        check_table(cls, data, "")
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def build(cls: type[T], data: dict[str, Any]) -> T:
    """Build ``cls`` from already-validated data, defaults filling the gaps."""
    hints = _hints(cast(Any, cls))
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue
        kwargs[f.name] = _build_value(hints[f.name], data[f.name])
    return cls(**kwargs)


def _build_value(tp: Any, value: Any) -> Any:
    if is_dataclass(tp):
        return build(tp, value)  # type: ignore[arg-type]
    if get_origin(tp) is tuple:
        inner = get_args(tp)[0]
        if is_dataclass(inner):
            return tuple(build(inner, item) for item in value)  # type: ignore[arg-type]
        return tuple(float(v) if inner is float else v for v in value)
    if tp is float:
        return float(value)
    return value


__all__ = ["ConfigError", "build", "check_layer", "check_table"]
