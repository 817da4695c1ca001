"""The regency's agencies and which of them takes each category, from a TOML file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pbx_bridge.dispatch.model import Category

DEFAULT_FILE = Path(__file__).with_name("agencies.toml")


class AgencyConfigError(ValueError):
    """The agencies file is unusable; the message names the file and the key."""


@dataclass(frozen=True)
class Route:
    primary: str
    second: str = ""


@dataclass(frozen=True)
class Agencies:
    regency: str
    names: dict[str, str]  # agency id -> its full name
    routes: dict[Category, Route]

    def route(self, category: Category) -> Route:
        return self.routes[category]


def load_agencies(path: Path | None = None) -> Agencies:
    path = path or DEFAULT_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise AgencyConfigError(f"{path}: cannot read: {error.strerror}") from error
    except tomllib.TOMLDecodeError as error:
        raise AgencyConfigError(f"{path}: not valid TOML: {error}") from error
    return parse_agencies(data, str(path))


def parse_agencies(data: dict[str, Any], source: str = "agencies") -> Agencies:
    names = data.get("agencies")
    routes = data.get("routes")
    if not isinstance(names, dict) or not names:
        raise AgencyConfigError(f"{source}: [agencies] must list at least one agency")
    if not isinstance(routes, dict):
        raise AgencyConfigError(f"{source}: [routes] is missing")
    unknown = sorted(set(routes) - {c.value for c in Category})
    if unknown:
        raise AgencyConfigError(f"{source}: routes.{unknown[0]} is not a category")
    parsed: dict[Category, Route] = {}
    for category in Category:
        entry = routes.get(category.value)
        if not isinstance(entry, dict) or "primary" not in entry:
            raise AgencyConfigError(f"{source}: routes.{category} needs a primary agency")
        route = Route(primary=str(entry["primary"]), second=str(entry.get("second", "")))
        for key, agency in (("primary", route.primary), ("second", route.second)):
            if agency and agency not in names:
                raise AgencyConfigError(
                    f"{source}: routes.{category}.{key} = {agency!r} is not in [agencies]"
                )
        parsed[category] = route
    return Agencies(
        regency=str(data.get("regency", "")),
        names={str(k): str(v) for k, v in names.items()},
        routes=parsed,
    )
