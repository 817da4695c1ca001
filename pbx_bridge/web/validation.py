"""Request parsing: bodies and queries into pydantic models; every error names its field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import structlog
from aiohttp import web
from pydantic import BaseModel, ValidationError

from pbx_bridge.dispatch.services import Conflict, DispatchError, NotFound
from pbx_bridge.web.auth import Handler, problem
from pbx_bridge.web.schemas import CONTROL_CHARACTERS, MAX_ID

log = structlog.get_logger(__name__)

M = TypeVar("M", bound=BaseModel)


def _field(error: Mapping[str, Any]) -> str:
    location = [str(part) for part in error.get("loc", ())]
    return ".".join(location) or "body"


def invalid(error: ValidationError) -> Exception:
    errors = error.errors(include_url=False, include_input=False)
    # A control character bound for the PBX is a malformed request, not a wrong value: 400.
    for entry in errors:
        if entry["type"] == CONTROL_CHARACTERS:
            field = _field(entry)
            return problem(web.HTTPBadRequest, f"{field}: {entry['msg']}", field)
    first = errors[0]
    field = _field(first)
    return problem(web.HTTPUnprocessableEntity, f"{field}: {first['msg']}", field)


async def parse_body(request: web.Request, model: type[M]) -> M:
    """The JSON body, strictly: no "2" for 2, no true for 1 (an empty body is `{}`)."""
    raw = await request.read()
    try:
        return model.model_validate_json(raw.strip() or b"{}", strict=True)
    except ValidationError as error:
        if error.errors()[0]["type"] == "json_invalid":
            raise problem(web.HTTPBadRequest, "the body is not JSON", "body") from None
        raise invalid(error) from None


def parse_query(request: web.Request, model: type[M]) -> M:
    # A parameter's name is its field's alias when it has one (`from` is Python's keyword).
    names = [field.alias or name for name, field in model.model_fields.items()]
    for name in names:
        if len(request.query.getall(name, ())) > 1:
            # Which one was meant? Refused rather than guessed.
            raise problem(web.HTTPUnprocessableEntity, f"{name}: give it once", name)
    known = {name: request.query[name] for name in names if name in request.query}
    try:
        return model.model_validate(known)
    except ValidationError as error:
        raise invalid(error) from None


def path_id(request: web.Request, name: str) -> int:
    """An integer id from the path; one out of range is simply not found."""
    raw = request.match_info[name]
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise problem(web.HTTPNotFound, f"no such {name.removesuffix('_id')}", name)
    return int(raw)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error answers JSON: refusals of the use cases, the router's 404/405, and a 500."""
    try:
        return await handler(request)
    except NotFound as error:
        raise problem(web.HTTPNotFound, error.message, error.field or None) from None
    except Conflict as error:
        raise problem(web.HTTPConflict, error.message, error.field or None) from None
    except DispatchError as error:
        raise problem(web.HTTPUnprocessableEntity, error.message, error.field or None) from None
    except web.HTTPException as error:
        if error.content_type == "application/json" or error.status < 400:
            raise
        allow = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
        return web.json_response({"error": error.reason}, status=error.status, headers=allow)
    except Exception:
        log.exception("api.failed", path=request.path, method=request.method)
        raise problem(
            web.HTTPInternalServerError, "internal error; the operator's log has the details"
        ) from None
