"""A form renderer for the list filters that writes the plain widgets itself.

Django renders every widget, and every option of a select or a checkbox list, through the
template engine (input.html including attrs.html, once per widget and per option): about a
fifth of the snapshot list's time. The HTML of these widgets is simple and fixed, so this
renderer writes exactly the same markup in Python for inputs (text, number, date, search,
checkbox, the options of a checkbox list) and selects, with the same escaping, and leaves any
other template to Django. tests/test_filter_widgets.py checks the output is identical.
"""

from __future__ import annotations

from functools import cache

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape

INPUTS = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        "input",
        "text",
        "number",
        "date",
        "datetime",
        "time",
        "search",
        "email",
        "url",
        "hidden",
        "checkbox",
        "checkbox_option",
        "radio_option",
        "input_option",
    )
)
SELECT = "django/forms/widgets/select.html"


def _text(value) -> str:
    """What `{{ value|stringformat:'s' }}` writes: the text, escaped unless marked safe."""
    return str(conditional_escape(value if hasattr(value, "__html__") else str(value)))


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html"""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(f" {conditional_escape(name)}")
        if value is not True:
            parts.append(f'="{_text(value)}"')
    return "".join(parts)


def _input(widget: dict) -> str:
    """django/forms/widgets/input.html"""
    value = widget.get("value")
    shown = f' value="{_text(value)}"' if value is not None else ""
    return (
        f'<input type="{conditional_escape(widget["type"])}"'
        f' name="{conditional_escape(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'
    )


def _option(option: dict) -> str:
    """django/forms/widgets/select_option.html"""
    return (
        f'<option value="{_text(option["value"])}"{_attrs(option["attrs"])}>'
        f"{conditional_escape(option['label'])}</option>"
    )


def _select(widget: dict) -> str:
    """django/forms/widgets/select.html"""
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in group_choices:
            if option["template_name"] != "django/forms/widgets/select_option.html":
                return ""  # not a plain option: let Django render the whole select
            parts.append("\n  " + _option(option) + "\n")  # the option template's own newline
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


class ListFilterRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        widget = context.get("widget") if isinstance(context, dict) else None
        if widget is not None:
            if template_name in INPUTS and not widget.get("wrap_label"):
                return _input(widget)
            if template_name == SELECT:
                html = _select(widget)
                if html:
                    return html
        return super().render(template_name, context, request=request)


@cache
def renderer() -> ListFilterRenderer:
    return ListFilterRenderer()
