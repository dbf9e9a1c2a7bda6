"""The whole URL map as fill-in templates, and every parameter name the code reads.

Both are read from the code at test time, so a new view, form field or filter is fuzzed
without anyone listing it here.
"""

from __future__ import annotations

import re
from pathlib import Path

from django import forms
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

ROOT = Path(__file__).resolve().parents[2]
_ROUTE_ARG = re.compile(r"<(?:\w+:)?(\w+)>")
_REGEX_ARG = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_READ_PARAM = re.compile(r"request\.(?:GET|POST)\.(?:get|getlist)\(\s*\"(\w+)\"")


def _template(pattern) -> str:
    if isinstance(pattern, RoutePattern):
        return _ROUTE_ARG.sub(r"{\1}", str(pattern))
    if isinstance(pattern, RegexPattern):
        text = _REGEX_ARG.sub(r"{\1}", pattern.regex.pattern)
        return text.lstrip("^").rstrip("$").replace("\\", "")
    return str(pattern)


def url_templates() -> list[str]:
    """'/snapshots/{snapshot_id}/edit/'-style templates for every endpoint, admin included."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for item in patterns:
            if isinstance(item, URLResolver):
                walk(item.url_patterns, prefix + _template(item.pattern))
            elif isinstance(item, URLPattern):
                found.append("/" + prefix + _template(item.pattern))

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


def template_args(template: str) -> list[str]:
    return re.findall(r"{(\w+)}", template)


def parameter_names() -> list[str]:
    """Every form field, filter and raw GET/POST name the app reads, plus formset keys."""
    import importlib
    import pkgutil

    from snapshots import filters
    from snapshots import forms as form_package
    from snapshots.observability import alert_forms

    form_modules = [
        importlib.import_module(f"snapshots.forms.{info.name}")
        for info in pkgutil.iter_modules(form_package.__path__)
    ]
    names: set[str] = {"next", "_export", "export", "confirm", "ids", "pk", "select"}
    for module in (*form_modules, alert_forms):
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, forms.BaseForm):
                names |= set(obj.base_fields)
    for module in (filters,):
        for obj in vars(module).values():
            base = getattr(obj, "base_filters", None)
            if isinstance(base, dict):
                names |= set(base)
            if isinstance(obj, type) and issubclass(obj, forms.BaseForm):
                names |= set(obj.base_fields)
    for source in (ROOT / "snapshots" / "views").glob("*.py"):
        names |= set(_READ_PARAM.findall(source.read_text()))
    for field in ("key", "value", "original_key", "original_value", "remove"):
        names |= {f"meta-0-{field}", f"meta-1-{field}"}
    names |= {
        f"meta-{n}" for n in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")
    }
    return sorted(names)
