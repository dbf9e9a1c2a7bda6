"""Refuses input no view can store: a NUL byte anywhere in the path, query string or form.

PostgreSQL text columns cannot hold NUL, so a NUL that reaches a query raises DataError (a 500)
wherever it lands: a snapshot id in the path, `?row=`, a POSTed `ids`. Nothing legitimate sends
one, so it is refused once here, before any view, with a 400.
"""

from __future__ import annotations

from django.http import HttpResponseBadRequest
from django.http.request import RawPostDataException

NUL = "\x00"


def _has_nul(query) -> bool:
    return any(NUL in key or any(NUL in v for v in query.getlist(key)) for key in query)


class RejectNulMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path or NUL in request.path_info or _has_nul(request.GET):
            return HttpResponseBadRequest("NUL bytes are not accepted.", content_type="text/plain")
        if request.method == "POST":
            try:
                posted = request.POST
            except RawPostDataException:
                posted = None
            if posted is not None and _has_nul(posted):
                return HttpResponseBadRequest(
                    "NUL bytes are not accepted.", content_type="text/plain"
                )
        return self.get_response(request)
