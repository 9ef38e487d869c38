"""What the operations localaws adds share: who calls (account, region), JSON in and out, AWS-shaped errors, and the
required fields of each request, read from botocore's model of the service (the model the SDKs are generated from).

A handler is a function named after its operation in snake case (create_connector serves CreateConnector). It takes
a Call and the values of its path, returns the response body as a dict, and raises AwsError to answer with an error.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import unquote, urlsplit

import botocore.session
from moto.utilities.utils import get_partition
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter, Map, Rule
from werkzeug.wrappers import Request, Response

Handler = Callable[..., dict[str, Any]]
Route = tuple[Handler, dict[str, Any]]

# the server runs a thread per request: one handler at a time reads and changes the stores
_LOCK = threading.Lock()


class AwsError(Exception):
    """An error as AWS answers it: an HTTP status, and a code the SDKs turn into their exception class."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def not_found(message: str) -> AwsError:
    return AwsError(404, "NotFoundException", message)


def bad_request(message: str) -> AwsError:
    return AwsError(400, "BadRequestException", message)


def conflict(message: str) -> AwsError:
    return AwsError(409, "ConflictException", message)


def now() -> str:
    """A timestamp as the REST JSON services write it (ISO 8601, UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Call:
    """One request to an added operation: the caller's account and region, the JSON body, the query string."""

    service: str
    account: str
    region: str
    body: dict[str, Any]
    query: MultiDict

    def arn(self, resource: str) -> str:
        return f"arn:{get_partition(self.region)}:{self.service}:{self.region}:{self.account}:{resource}"

    def owns(self, arn: str) -> bool:
        """The ARN is one of this account's, in this region (the stores hold every account and region)."""
        return arn.startswith(self.arn(""))

    def find(self, store: dict[str, Any], arn: str, missing: AwsError) -> Any:
        """The item of a store (by ARN) that is this caller's, else the error `missing`."""
        if arn not in store or not self.owns(arn):
            raise missing
        return store[arn]

    def new_arn(self, store: dict[str, Any], kind: str, name: str) -> str:
        """The ARN of a new item named `name`: a conflict if the caller has one by that name already."""
        if any(item.name == name for arn, item in store.items() if self.owns(arn)):
            raise conflict(f"A {kind} named {name} already exists")
        return self.arn(f"{kind}/{name}/{uuid.uuid4()}-1")

    def base64(self, key: str) -> str:
        """A body field that must be base64 text (a properties file), as given."""
        value = self.body[key]
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, TypeError):
            raise bad_request(f"{key} must be base64") from None
        return value


@dataclass(frozen=True)
class Service:
    """An AWS service localaws serves, in whole or in part. route answers which handler serves a request, if any
    (None: moto's, if anyone's); the other fields are the service's protocol and its error for a malformed request."""

    name: str  # the SigV4 signing name, which the credential scope of every request carries
    route: Callable[[Request], Route | None]
    content_type: str = "application/json"
    invalid_input: str = "BadRequestException"


class ArnConverter(BaseConverter):
    """One path segment holding an ARN: the SDKs percent-encode its colons and slashes."""

    def to_python(self, value: str) -> str:
        return unquote(value)


def rest_routes(*rules: Rule) -> Callable[[Request], Route | None]:
    """The route function of a REST JSON service, from werkzeug rules whose endpoints are handlers. Rules match the
    path as sent, before decoding, so that an ARN with slashes in it stays one segment."""
    routes = Map(rules, converters={"arn": ArnConverter}, strict_slashes=False)

    def route(request: Request) -> Route | None:
        sent_path = urlsplit(request.environ.get("REQUEST_URI", request.path)).path
        try:
            return routes.bind("localhost").match(sent_path, method=request.method)
        except HTTPException:  # no rule for this path and method
            return None

    return route


def handle(service: Service, handler: Handler, path_values: dict[str, Any], request: Request, account: str,
           region: str) -> Response:
    """Run a handler on a request; its result or error as the response."""
    try:
        body = json.loads(request.get_data() or b"{}")
        if not isinstance(body, dict):
            raise ValueError("not a JSON object")
    except ValueError as error:
        return error_response(service, AwsError(400, service.invalid_input, f"the body is not a JSON object: {error}"))
    operation = "".join(word.title() for word in handler.__name__.split("_"))
    missing = list(missing_fields(service.name, operation, body))
    if missing:
        return error_response(service, AwsError(400, service.invalid_input,
                                                f"{operation}: missing required field(s): {', '.join(missing)}"))
    try:
        with _LOCK:
            result = handler(Call(service.name, account, region, body, request.args), **path_values)
    except AwsError as error:
        return error_response(service, error)
    return Response(json.dumps(result), 200, headers={"x-amzn-RequestId": str(uuid.uuid4())},
                    content_type=service.content_type)


def error_response(service: Service, error: AwsError) -> Response:
    # the code in the header for REST JSON clients and in the body for JSON 1.1 ones; each SDK reads either
    return Response(json.dumps({"__type": error.code, "message": error.message}), error.status,
                    headers={"X-Amzn-ErrorType": error.code, "x-amzn-RequestId": str(uuid.uuid4())},
                    content_type=service.content_type)


@cache
def _operations(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def missing_fields(service: str, operation: str, body: dict[str, Any]) -> Iterator[str]:
    """The required members of the operation's input that the JSON body lacks, at any depth, by their wire names.
    Members bound to the path, query string or headers are left out: the routes match those."""
    return _missing(_operations(service).operation_model(operation).input_shape, body, "")


def _missing(shape: Any, value: Any, prefix: str) -> Iterator[str]:
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if member.serialization.get("location"):
                continue
            key = member.serialization.get("name", name)
            if key in value:
                yield from _missing(member, value[key], f"{prefix}{key}.")
            elif name in shape.required_members:
                yield f"{prefix}{key}"
    elif shape.type_name == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            yield from _missing(shape.member, item, f"{prefix[:-1]}[{index}].")
