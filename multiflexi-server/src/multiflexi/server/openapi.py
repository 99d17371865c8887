"""Routes that describe themselves: the one way a view of the API or the compatibility
layer is declared (both faces build on it; neither imports the other).

Every such view is registered through
:func:`operation`. The decorator records what the view takes (path, query and
body models) and what it answers (a pydantic model or type, a status), wires
the Flask rule with a wrapper that validates the input and serialises the
output, and :func:`openapi_document` builds the OpenAPI 3.1 document from the
same records. The document therefore cannot describe a route that does not
exist, nor miss one.

Schemas are pydantic v2 models; their JSON Schema (draft 2020-12, which is
the dialect of OpenAPI 3.1) is put under ``components.schemas`` as is.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, Response, json, request
from flask.blueprints import BlueprintSetupState
from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from werkzeug.routing import IntegerConverter, Map

from multiflexi.core.ids import MAX_ID  # largest id a path accepts; bigger ones are 404
from multiflexi.server.errors import PROBLEM, problem

_RULE_PARAM = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>[a-z_]+)>")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclasses.dataclass(frozen=True)
class Operation:
    """One documented route: how it is called and what it answers."""

    blueprint: str
    prefix: str
    method: str
    rule: str
    endpoint: str
    summary: str
    tag: str
    status: int
    response: Any
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    public: bool
    #: media type of a non-JSON answer (a download, an event stream)
    media_type: str | None
    #: the body may also come as a multipart file upload in this form field
    upload_field: str | None
    description: str | None
    #: further success statuses answered with the same schema (201 beside 200, ...)
    also: tuple[int, ...] = ()
    #: the pattern a string path parameter must match (by name), when narrower than "no /"
    path_patterns: tuple[tuple[str, str], ...] = ()
    #: of a ``text/event-stream``: each event's name and the model of its JSON data
    events: tuple[tuple[str, type[BaseModel]], ...] = ()

    @property
    def path(self) -> str:
        """The OpenAPI path: the prefix and the rule with ``{name}`` parameters."""
        return self.prefix + _RULE_PARAM.sub(lambda m: "{" + m["name"] + "}", self.rule)

    def path_parameters(self) -> list[tuple[str, str]]:
        return [(m["name"], m["conv"] or "string") for m in _RULE_PARAM.finditer(self.rule)]


#: every operation, in registration order
OPERATIONS: list[Operation] = []
_PREFIXES: dict[str, str] = {}


def mount(blueprint: Blueprint, prefix: str) -> None:
    """Tell the registry where a blueprint is mounted (for the document's paths)."""
    _PREFIXES[blueprint.name] = prefix


def validation_problem(exc: PydanticValidationError) -> Response:
    """A request that does not match its schema: 422, each violation on one line."""
    lines = []
    fields = []
    for error in exc.errors(include_url=False, include_input=False):
        field = ".".join(str(part) for part in error["loc"]) or None
        lines.append(f"{field or 'body'}: {error['msg']}")
        fields.append({"field": field, "message": error["msg"]})
    return problem(
        422,
        "Invalid input",
        "the request does not match its schema",
        kind="validation",
        errors=lines,
        fields=fields,
    )


def _query_args(model: type[BaseModel]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        field = model.model_fields.get(key)
        many = field is not None and _is_list(field.annotation)
        # a parameter of one value given several times is refused (a list is no string)
        args[key] = values if many or len(values) > 1 else values[0]
    return args


def _is_list(annotation: Any) -> bool:
    """Whether a query field takes repeated values (``list[...]``, maybe optional)."""
    if typing.get_origin(annotation) is list:
        return True
    return any(typing.get_origin(arg) is list for arg in typing.get_args(annotation))


def _body(op: Operation) -> Any:
    if op.upload_field and request.mimetype == "multipart/form-data":
        upload = request.files.get(op.upload_field)
        if upload is not None:
            return {"__upload__": upload.read()}
        field = request.form.get(op.upload_field)
        if field is None:
            return problem(
                422, "Invalid input", f"send the document in form field {op.upload_field!r}"
            )
        return {"__upload__": field.encode()}
    if not request.data:
        return problem(422, "Invalid input", "a JSON request body is required", kind="validation")
    if not request.is_json:
        return problem(415, "Unsupported media type", "send the body as application/json")
    data = request.get_json(silent=True)
    if data is None and request.data.strip() != b"null":
        return problem(400, "Bad request", "the request body is not valid JSON")
    return data


def _dump(adapter: TypeAdapter[Any], result: Any) -> bytes:
    return json.dumps(adapter.dump_python(result, mode="json")).encode()


def operation(
    blueprint: Blueprint,
    method: str,
    rule: str,
    *,
    summary: str,
    tag: str,
    response: Any = None,
    status: int = 200,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    public: bool = False,
    media_type: str | None = None,
    upload_field: str | None = None,
    description: str | None = None,
    also: tuple[int, ...] = (),
    path_patterns: dict[str, str] | None = None,
    events: dict[str, type[BaseModel]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a view and its description.

    The view receives the path parameters by name, and ``query=`` and
    ``body=`` as validated models when declared. It returns an instance of
    ``response`` (serialised as JSON with ``status``), or a Flask
    :class:`~flask.Response` it built itself (downloads, streams, 201 with a
    Location header, ...).
    """
    method = method.upper()
    if response is None and media_type is None and status == 200:
        status = 204  # nothing to say
    flask_rule = rule.replace("<int:", f"<{IdConverter.NAME}:")
    _use_id_converter(blueprint)
    adapter = TypeAdapter(response) if response is not None else None

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        endpoint = f"{view.__module__.rsplit('.', 1)[-1]}_{view.__name__}"
        op = Operation(
            blueprint=blueprint.name,
            prefix="",
            method=method,
            rule=rule,
            endpoint=f"{blueprint.name}.{endpoint}",
            summary=summary,
            tag=tag,
            status=status,
            response=response,
            body=body,
            query=query,
            public=public,
            media_type=media_type,
            upload_field=upload_field,
            description=description or (view.__doc__ or "").strip() or None,
            also=also,
            path_patterns=tuple(sorted((path_patterns or {}).items())),
            events=tuple((events or {}).items()),
        )
        OPERATIONS.append(op)

        def wrapper(**path: Any) -> Any:
            kwargs: dict[str, Any] = dict(path)
            try:
                if query is not None:
                    kwargs["query"] = query.model_validate(_query_args(query))
                if body is not None:
                    data = _body(op)
                    if isinstance(data, Response):
                        return data
                    if isinstance(data, dict) and "__upload__" in data:
                        kwargs["body"] = data["__upload__"]
                    else:
                        kwargs["body"] = body.model_validate(data)
            except PydanticValidationError as exc:
                return validation_problem(exc)
            result = view(**kwargs)
            if isinstance(result, Response):
                return result
            if adapter is None:
                return Response(status=204)
            if isinstance(result, dict) and _is_model(response):
                result = response.model_validate(result)
            return Response(_dump(adapter, result), status=status, mimetype="application/json")

        wrapper.__name__ = endpoint
        wrapper.__doc__ = view.__doc__
        wrapper.operation = op  # type: ignore[attr-defined]
        blueprint.add_url_rule(flask_rule, endpoint, wrapper, methods=[method])
        return view

    return decorate


def _at_most(limit: int) -> str:
    """A regular expression of the decimal numbers from 0 to ``limit`` (leading zeros allowed)."""
    digits = str(limit)
    options = [f"[0-9]{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        lowest = "1" if i == 0 and len(digits) > 1 else "0"
        if digit > lowest:
            rest = len(digits) - i - 1
            tail = f"[0-9]{{{rest}}}" if rest else ""
            below = str(int(digit) - 1)
            span = below if below == lowest else f"[{lowest}-{below}]"
            options.append(f"{digits[:i]}{span}{tail}")
    options.append(digits)
    return "0*(?:" + "|".join(options) + ")"


class IdConverter(IntegerConverter):
    """``<int:...>`` of a documented rule: only numbers up to MAX_ID match the path at all.

    A bigger number matches no rule, so it is a 404 whatever the method (werkzeug
    answers 405 when a rule's pattern matched and only its converter refused).
    """

    NAME = "mfx_id"
    regex = _at_most(MAX_ID)

    def __init__(self, map: Map) -> None:
        super().__init__(map, max=MAX_ID)


_WITH_ID_CONVERTER: set[str] = set()


def _use_id_converter(blueprint: Blueprint) -> None:
    """Have the app know the id converter before the blueprint's first rule is added."""
    if blueprint.name in _WITH_ID_CONVERTER:
        return
    _WITH_ID_CONVERTER.add(blueprint.name)

    @blueprint.record_once
    def _register(state: BlueprintSetupState) -> None:
        state.app.url_map.converters[IdConverter.NAME] = IdConverter


def _is_model(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, BaseModel)


def operations(blueprint_name: str | None = None) -> list[Operation]:
    """The registered operations with their mount prefix (optionally of one blueprint)."""
    return [
        dataclasses.replace(op, prefix=_PREFIXES.get(op.blueprint, ""))
        for op in OPERATIONS
        if blueprint_name is None or op.blueprint == blueprint_name
    ]


def find(endpoint: str | None) -> Operation | None:
    """The operation behind a Flask endpoint name (None for undocumented ones)."""
    return next((op for op in OPERATIONS if op.endpoint == endpoint), None)


def is_public(endpoint: str | None) -> bool:
    """Whether the endpoint is an operation declared ``public`` (no authentication)."""
    op = find(endpoint)
    return op is not None and op.public


# -- the document -------------------------------------------------------------------


def _param_schema(converter: str, pattern: str | None = None) -> dict[str, Any]:
    if converter == "int":
        return {"type": "integer", "minimum": 0, "maximum": MAX_ID}
    return {"type": "string", "pattern": pattern or "^[^/]+$", "minLength": 1}


def _query_parameters(model: type[BaseModel], defs: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    defs.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        description = prop.pop("description", None)
        prop.pop("title", None)
        param: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
        }
        if description:
            param["description"] = description
        if prop.get("type") == "array" or any(
            alt.get("type") == "array" for alt in prop.get("anyOf", [])
        ):
            param["style"] = "form"
            param["explode"] = True
        params.append(param)
    return params


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem document.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "kind": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {"type": "string"},
            "description": "every violation on one line (invalid input)",
        },
        "fields": {
            "type": "array",
            "description": (
                "the same violations, each with the request field it is about (null: the "
                "request as a whole), to show beside that field (invalid input)"
            ),
            "items": {
                "type": "object",
                "properties": {
                    "field": {
                        "type": ["string", "null"],
                        "description": "a request field, e.g. slug, values.API_TOKEN",
                    },
                    "message": {"type": "string"},
                },
                "required": ["field", "message"],
            },
        },
    },
    "required": ["title", "status"],
}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _errors_of(op: Operation) -> dict[str, Any]:
    errors = {
        "400": _problem("The request cannot be read."),
        "404": _problem("No such object, or one the caller may not see."),
        "405": _problem("The method is not allowed here."),
        "422": _problem("The input breaks a rule; nothing was changed."),
    }
    if not op.public or op.body is not None:
        errors["401"] = _problem("Authentication is required, or it failed.")
        errors["403"] = _problem("The caller may see this but not do this.")
        errors["429"] = {
            **_problem("Too many failed logins of this login from this address; wait."),
            "headers": {
                "Retry-After": {
                    "description": "seconds until this address may try this login again",
                    "schema": {"type": "integer", "minimum": 1},
                }
            },
        }
    if op.method != "GET":
        errors["409"] = _problem("The change conflicts with the current state.")
    if op.body is not None:
        errors["415"] = _problem("The body is not JSON.")
    errors["503"] = _problem("A service the server needs is unavailable.")
    return errors


def event_stream_pattern(names: Iterable[str]) -> str:
    """The whole text of an event stream whose events have these names (one-line data).

    Each event: an optional ``id:`` line (a number), an optional ``retry:`` line
    (milliseconds), its ``event:`` line and one ``data:`` line, then a blank line; a
    comment line (``: keep-alive``) may stand between events.
    """
    alternatives = "|".join(re.escape(name) for name in names)
    event = rf"(?:id: [0-9]+\n)?(?:retry: [0-9]+\n)?event: (?:{alternatives})\ndata: [^\n]*\n"
    return rf"^(?:(?::[^\n]*\n|{event})\n)*$"


def _event_stream_schema(
    events: tuple[tuple[str, type[BaseModel]], ...], refs: dict[Any, Any]
) -> dict[str, Any]:
    listed = ", ".join(f"`{name}`" for name, _model in events)
    return {
        "pattern": event_stream_pattern(name for name, _model in events),
        "description": (
            f"Server-Sent Events named {listed}; the data of each is one line of JSON "
            "(x-events gives its schema by event name)."
        ),
        "x-events": {name: refs[(model, "serialization")] for name, model in events},
    }


def _keys_as_validated(schema: Any) -> None:
    """A mapping whose keys have a schema (``patternProperties``) takes no other keys.

    That is how pydantic validates ``dict[Key, Value]``; JSON Schema would let any
    key that does not match through unless it is told otherwise.
    """
    if isinstance(schema, dict):
        if "patternProperties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        for value in schema.values():
            _keys_as_validated(value)
    elif isinstance(schema, list):
        for item in schema:
            _keys_as_validated(item)


def openapi_document(
    *,
    title: str,
    version: str,
    description: str,
    blueprints: Iterable[str],
    security_schemes: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the given blueprints' operations.

    ``security_schemes``: how a caller authenticates (any one of them), by name.
    """
    ops = [op for name in blueprints for op in operations(name)]
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for op in ops:
        if op.body is not None:
            wanted.append((op.body, "validation"))
        if isinstance(op.response, type) and issubclass(op.response, BaseModel):
            wanted.append((op.response, "serialization"))
        wanted.extend((model, "serialization") for _name, model in op.events)
    refs, top = models_json_schema(wanted, ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    schemas["Problem"] = PROBLEM_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        entry: dict[str, Any] = {
            "operationId": op.endpoint.replace(".", "_"),
            "summary": op.summary,
            "tags": [op.tag],
        }
        if op.description:
            entry["description"] = op.description
        params: list[dict[str, Any]] = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": _param_schema(conv, dict(op.path_patterns).get(name)),
            }
            for name, conv in op.path_parameters()
        ]
        if op.query is not None:
            params.extend(_query_parameters(op.query, schemas))
        if params:
            entry["parameters"] = params
        if op.body is not None:
            content: dict[str, Any] = {
                "application/json": {"schema": refs[(op.body, "validation")]}
            }
            if op.upload_field:
                content["multipart/form-data"] = {
                    "schema": {
                        "type": "object",
                        "properties": {
                            op.upload_field: {
                                "type": "string",
                                "contentMediaType": "application/json",
                            }
                        },
                        "required": [op.upload_field],
                    }
                }
            entry["requestBody"] = {"required": True, "content": content}
        responses: dict[str, Any] = {}
        if op.media_type is not None:
            media_schema: dict[str, Any] = (
                {"type": "string", "contentMediaType": op.media_type}
                if op.media_type != "application/json"
                else {}
            )
            if op.events:
                media_schema.update(_event_stream_schema(op.events, refs))
            responses[str(op.status)] = {
                "description": op.summary,
                "content": {op.media_type: {"schema": media_schema}},
            }
        elif op.response is None:
            responses[str(op.status)] = {"description": "Done; no content."}
        else:
            if (op.response, "serialization") in refs:
                schema = refs[(op.response, "serialization")]
            else:
                schema = TypeAdapter(op.response).json_schema(
                    ref_template="#/components/schemas/{model}", mode="serialization"
                )
                schemas.update(schema.pop("$defs", {}))
            for code in (op.status, *op.also):
                responses[str(code)] = {
                    "description": op.summary,
                    "content": {"application/json": {"schema": schema}},
                }
        responses.update(_errors_of(op))
        entry["responses"] = responses
        if op.public:
            entry["security"] = []
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    _keys_as_validated(schemas)
    _keys_as_validated(paths)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {"title": title, "version": version, "description": description},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": dict(security_schemes),
        },
        "security": [{name: []} for name in security_schemes],
        "tags": [{"name": tag} for tag in sorted({op.tag for op in ops})],
    }
