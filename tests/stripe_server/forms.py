"""Stripe's form encoding: `a[b][0][c]=v` pairs to nested dicts and lists, and typed reading."""

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from tests.stripe_server.errors import StripeApiError, invalid

_NAME = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def parse(encoded: str) -> dict[str, Any]:
    """A query string or form body as the nested parameters Stripe reads from it."""
    return nest(parse_qsl(encoded, keep_blank_values=True))


def nest(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """`[("line_items[0][quantity]", "1")]` → `{"line_items": [{"quantity": "1"}]}`.

    Indexed keys (`expand[0]`) and empty brackets (`expand[]`, appended in order) make lists.
    """
    root: dict[str, Any] = {}
    for name, value in pairs:
        match = _NAME.match(name)
        if match is None:
            raise invalid(f"Invalid parameter name: {name}", param=name)
        parts = [match.group(1), *_SEGMENT.findall(match.group(2))]
        node = root
        for depth, part in enumerate(parts):
            key = str(len(node)) if part == "" else part
            last = depth == len(parts) - 1
            if last:
                if isinstance(node.get(key), dict):
                    raise invalid(f"Invalid hash for {name}: it was given a value too", param=name)
                node[key] = value
                break
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise invalid(f"Invalid hash for {name}: it was given a value too", param=name)
            node = child
    return _listify(root, "")


def _listify(node: dict[str, Any], path: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in node.items():
        name = f"{path}[{key}]" if path else key
        if isinstance(value, dict):
            result[key] = _as_list_or_dict(value, name)
        else:
            result[key] = value
    return result


def _as_list_or_dict(node: dict[str, Any], name: str) -> dict[str, Any] | list[Any]:
    converted = _listify(node, name)
    if converted and all(key.isdigit() for key in converted):
        indexes = sorted(int(key) for key in converted)
        if indexes != list(range(len(indexes))):
            raise invalid(f"Invalid array: {name} must be indexed from 0 without gaps", param=name)
        return [converted[str(index)] for index in indexes]
    return converted


def _empty(name: str) -> StripeApiError:
    return invalid(
        f"You passed an empty string for '{name}'. We assume empty values are an attempt to "
        f"unset a parameter; however '{name}' cannot be unset. You should remove '{name}' from "
        "your request or supply a non-empty value.",
        param=name,
        code="parameter_invalid_empty",
    )


class Params:
    """Typed reading of one level of parameters, with Stripe's error for each kind of mistake.

    Every key read is remembered; `finish()` rejects the rest as unknown parameters, as Stripe
    rejects parameters it does not know.
    """

    def __init__(self, data: Any, prefix: str = "") -> None:
        if not isinstance(data, dict):
            raise invalid(f"Invalid object: {prefix or 'parameters'} must be a hash", param=prefix)
        self.data: dict[str, Any] = data
        self.prefix = prefix
        self._read: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self.prefix}[{key}]" if self.prefix else key

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def _raw(self, key: str, *, required: bool) -> Any:
        self._read.add(key)
        value = self.data.get(key)
        if value is None and required:
            raise invalid(
                f"Missing required param: {self.name(key)}.",
                param=self.name(key),
                code="parameter_missing",
            )
        return value

    def string(
        self,
        key: str,
        *,
        required: bool = False,
        max_length: int | None = None,
        choices: Iterable[str] | None = None,
    ) -> str | None:
        value = self._raw(key, required=required)
        if value is None:
            return None
        name = self.name(key)
        if not isinstance(value, str):
            raise invalid(f"Invalid string: {name} must be a string", param=name)
        if value == "":
            raise _empty(name)
        if max_length is not None and len(value) > max_length:
            raise invalid(
                f"Invalid string: {name} must be at most {max_length} characters long",
                param=name,
            )
        if choices is not None:
            allowed = list(choices)
            if value not in allowed:
                raise invalid(f"Invalid {name}: must be one of {', '.join(allowed)}", param=name)
        return value

    def integer(
        self, key: str, *, required: bool = False, minimum: int | None = None
    ) -> int | None:
        value = self._raw(key, required=required)
        if value is None:
            return None
        name = self.name(key)
        if value == "":
            raise _empty(name)
        if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
            raise invalid(f"Invalid integer: {value}", param=name, code="parameter_invalid_integer")
        number = int(value)
        if minimum is not None and number < minimum:
            raise invalid(
                f"This value must be greater than or equal to {minimum}.",
                param=name,
                code="parameter_invalid_integer",
            )
        return number

    def boolean(self, key: str) -> bool | None:
        value = self._raw(key, required=False)
        if value is None:
            return None
        if value not in {"true", "false"}:
            raise invalid(f"Invalid boolean: {value}", param=self.name(key))
        return bool(value == "true")

    def hash(self, key: str, *, required: bool = False) -> "Params | None":
        value = self._raw(key, required=required)
        if value is None:
            return None
        if value == "":
            raise _empty(self.name(key))
        if not isinstance(value, dict):
            raise invalid(f"Invalid object: {self.name(key)} must be a hash", param=self.name(key))
        return Params(value, self.name(key))

    def array(self, key: str, *, required: bool = False) -> list[Any] | None:
        value = self._raw(key, required=required)
        if value is None:
            return None
        if value == "":
            raise _empty(self.name(key))
        if not isinstance(value, list):
            raise invalid(f"Invalid array: {self.name(key)} must be a list", param=self.name(key))
        return value

    def strings(self, key: str, *, choices: Iterable[str] | None = None) -> list[str] | None:
        values = self.array(key)
        if values is None:
            return None
        allowed = set(choices) if choices is not None else None
        for index, value in enumerate(values):
            name = f"{self.name(key)}[{index}]"
            if not isinstance(value, str):
                raise invalid(f"Invalid string: {name} must be a string", param=name)
            if allowed is not None and value not in allowed:
                raise invalid(f"Invalid {name}: {value}", param=name)
        return values

    def metadata(self, key: str = "metadata") -> dict[str, str]:
        """Stripe's metadata rules: ≤ 50 keys of ≤ 40 characters, values ≤ 500 characters."""
        value = self._raw(key, required=False)
        if value is None or value == "":
            return {}
        name = self.name(key)
        if not isinstance(value, dict):
            raise invalid(f"Invalid object: {name} must be a hash", param=name)
        if len(value) > 50:
            raise invalid(f"Invalid {name}: at most 50 keys are allowed", param=name)
        result: dict[str, str] = {}
        for item_key, item in value.items():
            item_name = f"{name}[{item_key}]"
            if not isinstance(item, str):
                raise invalid(f"Invalid value type: {item_name} must be a string", param=name)
            if len(item_key) > 40:
                raise invalid(
                    f"Metadata keys can have a maximum length of 40 characters: {item_key}",
                    param=item_name,
                )
            if len(item) > 500:
                raise invalid(
                    f"Metadata values can have a maximum length of 500 characters: {item_name}",
                    param=item_name,
                )
            if item != "":  # An empty value unsets the key.
                result[item_key] = item
        return result

    def finish(self, *, ignore: Iterable[str] = ()) -> None:
        """Reject every parameter not read, as Stripe rejects parameters it does not know."""
        skip = set(ignore)
        for key in self.data:
            if key not in self._read and key not in skip:
                raise invalid(
                    f"Received unknown parameter: {self.name(key)} (this Stripe test server "
                    "does not implement it; if Stripe does, add it to tests/stripe_server)",
                    param=self.name(key),
                    code="parameter_unknown",
                )
