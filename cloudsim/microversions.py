"""Microversion negotiation, the request context and the version documents."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.wrappers import Request

from . import MAX_VERSION, MIN_VERSION
from .errors import SimError, bad_request
from .validation import (
    VERSION_RE,
)


def parse_version_text(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


MIN_V = parse_version_text(MIN_VERSION)
MAX_V = parse_version_text(MAX_VERSION)


def vstr(v: tuple[int, int]) -> str:
    return f"{v[0]}.{v[1]}"


@dataclass
class Ctx:
    req: Request
    user_id: str
    project_id: str
    roles: list[str]
    is_admin: bool
    version: tuple[int, int]
    base: str

    def at_least(self, major: int, minor: int) -> bool:
        return self.version >= (major, minor)


def parse_microversion(header: str | None) -> tuple[int, int]:
    """The requested version, or a SimError exactly as Cinder 29 answers."""
    if header is None:
        return MIN_V
    requested = None
    for part in header.split(","):
        if "volume" in part:
            pieces = part.split()
            if len(pieces) != 2:
                raise bad_request(
                    f"API Version String {part.strip()} is of invalid format. Must be of format "
                    "MajorNum.MinorNum."
                )
            requested = pieces[1]
            break
    if not requested:
        raise bad_request("API version None is not supported on this method.")
    if requested == "latest":
        return MAX_V
    match = VERSION_RE.match(requested)
    if not match:
        raise bad_request(
            f"API Version String {requested} is of invalid format. Must be of format "
            "MajorNum.MinorNum."
        )
    version = (int(match.group(1)), int(match.group(2)))
    if version < MIN_V or version > MAX_V:
        headers = {}
        if version > MAX_V:
            headers = {
                "OpenStack-API-Version": f"volume {vstr(version)}",
                "Vary": "OpenStack-API-Version",
            }
        raise SimError(
            406,
            f"Version {vstr(version)} is not supported by the API. Minimum is {MIN_VERSION} "
            f"and maximum is {MAX_VERSION}.",
            key="computeFault",
            headers=headers,
        )
    return version


def versions_doc(base: str, prefix: str = "/volume") -> dict:
    return {
        "versions": [
            {
                "id": "v3.0",
                "status": "CURRENT",
                "version": MAX_VERSION,
                "min_version": MIN_VERSION,
                "updated": "2023-08-31T00:00:00Z",
                "links": [
                    {
                        "rel": "describedby",
                        "type": "text/html",
                        "href": "https://docs.openstack.org/",
                    },
                    {"rel": "self", "href": f"{base}{prefix}/v3/"},
                ],
                "media-types": [
                    {
                        "base": "application/json",
                        "type": "application/vnd.openstack.volume+json;version=3",
                    }
                ],
            }
        ]
    }
