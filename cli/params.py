"""Parsing of repeated ``--param key=value`` options (typing is the catalog's job, not the command line's)."""

from __future__ import annotations

import json
from typing import Any

import click


def parse_params(pairs: tuple[str, ...]) -> dict[str, Any]:
    """KEY=VALUE strings to a dict; a key given twice collects its values into a list (for list parameters)."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, value = _split(pair, "--param")
        if key in params:
            previous = params[key]
            params[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            params[key] = value
    return params


def parse_json_params(pairs: tuple[str, ...]) -> dict[str, Any]:
    """KEY=JSON pairs, for ad-hoc Cypher that needs numbers, booleans, lists or maps as parameters."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, text = _split(pair, "--json-param")
        try:
            params[key] = json.loads(text)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"the value of {key!r} is not JSON ({exc.msg}); e.g. {key}=42, {key}='[\"a\"]'",
                                     param_hint="--json-param") from None
    return params


def _split(pair: str, option: str) -> tuple[str, str]:
    key, sep, value = pair.partition("=")
    if not sep or not key.strip():
        raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint=option)
    return key.strip(), value
