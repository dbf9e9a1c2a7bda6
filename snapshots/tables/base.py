"""What the list tables share: project labels, and rows rendered without django-tables2's
per-cell machinery.

django-tables2 builds every cell through a BoundRow: it inspects the render method's
signature, rebuilds the column's attributes and runs the template engine around each cell.
`FastRowsMixin` works out once per table, for each visible column, the `<td ...>` that opens
it and a callable record -> cell HTML (the table's `render_<column>` with the arguments it
asks for, or the escaped value; the column's default for an empty value), then builds each
row as one string. Same cells, same escaping, a fraction of the cost.
"""

from __future__ import annotations

import copy
import inspect
import operator
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import ClassVar

import django_tables2 as tables
from django.core.exceptions import ObjectDoesNotExist
from django.utils.html import conditional_escape, escape, format_html, strip_tags
from django.utils.safestring import SafeString, mark_safe
from django_tables2.templatetags.django_tables2 import table_page_range

from snapshots.choices import Status
from snapshots.templatetags.list_tags import query_with
from snapshots.templatetags.reveal import reveal_html

# Status value -> label, once (Status(value).label and Status.values cost a lookup per cell).
STATUS_LABELS: dict[str, str] = dict(Status.choices)


class ExportColumnsMixin:
    """Columns only an export shows (`export_only`), added only when the table is built for one
    (`exporting=True`): every column costs a deep copy each time a table is built."""

    export_only: ClassVar[dict[str, object]] = {}

    def __init__(self, *args, exporting: bool = False, **kwargs) -> None:
        if exporting and self.export_only:
            kwargs["extra_columns"] = [
                (name, copy.deepcopy(column)) for name, column in self.export_only.items()
            ]
        super().__init__(*args, **kwargs)


class ProjectNamesMixin:
    """Tables get the project id -> name map once from the view (no query per row); their
    `project` column (a project id) shows and exports the project's name."""

    def __init__(self, *args, project_names: dict[str, str] | None = None, **kwargs) -> None:
        self.project_names = project_names or {}
        super().__init__(*args, **kwargs)

    def project_label(self, project_id: str) -> str:
        return self.project_names.get(project_id, project_id)

    def render_project(self, value):
        return reveal_html(self.project_label(value))

    def value_project(self, value):
        return self.project_label(value)


Cell = Callable[[object], object]


def resolver(accessor) -> Cell:
    """record -> the value a django-tables2 Accessor names (`a__b` is `record.a.b`), None when
    a step is missing; callables are called. Accessor.resolve() does the same with a lookup
    strategy per step, which every cell of every row and export paid for."""
    getter = operator.attrgetter(str(accessor).replace("__", "."))

    def resolve(record):
        try:
            value = getter(record)
        except (AttributeError, ObjectDoesNotExist):
            return None
        return value() if callable(value) else value

    return resolve


def _leading_space(attrs: str) -> str:
    return f" {attrs}" if attrs else ""


class FastRowsMixin:
    """`row_html(record)` and `rows_html()` for a django-tables2 Table (see module docstring)."""

    _cells: list[tuple[str, Cell]] | None = None

    def _cell(self, bound_column) -> Cell:
        resolve = resolver(bound_column.accessor)
        empty = bound_column.column.empty_values
        default = bound_column.default
        method = getattr(self, f"render_{bound_column.name}", None)
        if method is None:
            render = None
        else:
            wanted = set(inspect.signature(method).parameters) & {"value", "record"}
            if wanted == {"record"}:

                def render(record, value):
                    return method(record=record)
            elif wanted == {"value"}:

                def render(record, value):
                    return method(value=value)
            else:

                def render(record, value):
                    return method(record=record, value=value)

        def cell(record):
            value = resolve(record)
            if value in empty:
                return default
            return value if render is None else render(record, value)

        return cell

    def cells(self) -> list[tuple[str, Cell]]:
        """(`<td ...>` opening, record -> cell) of each visible column, worked out once."""
        if self._cells is None:
            self._cells = [
                (
                    f"<td{_leading_space(column.attrs['td'].as_html())}"
                    f' data-label="{escape(strip_tags(str(column.header)))}">',
                    self._cell(column),
                )
                for column in self.columns
            ]
        return self._cells

    def row_open(self, record, *, oob: bool = False) -> str:
        """The `<tr ...>` of a row (escaped); tables override it to add their attributes."""
        return "<tr>"

    def first_cell_prefix(self, record) -> str:
        """HTML put before the first cell's content (escaped by the caller)."""
        return ""

    def row_html(self, record, *, oob: bool = False) -> SafeString:
        parts = [self.row_open(record, oob=oob)]
        for index, (td_open, cell) in enumerate(self.cells()):
            parts.append(td_open)
            if index == 0:
                parts.append(self.first_cell_prefix(record))
            parts.append(str(conditional_escape(cell(record))))
            parts.append("</td>")
        parts.append("</tr>")
        return mark_safe("".join(parts))  # noqa: S308 (every part above is escaped)

    def rows_html(self, records: Iterable | None = None) -> list[SafeString]:
        """The rows of the current page (`page_records`, set by the list view), or `records`."""
        if records is None:
            records = getattr(self, "page_records", None)
        if records is None:
            records = [row.record for row in self.paginated_rows]
        return [self.row_html(record) for record in records]


class _ShallowCopies(OrderedDict):
    """A table class's columns, copied one level deep per table instead of deeply: a table
    only sets attributes of its own copies (`visible`, `accessor`), never mutates what they
    share (attrs, order_by), and the deep copy was a tenth of building a page."""

    def __deepcopy__(self, memo):
        return OrderedDict((name, copy.copy(column)) for name, column in self.items())


class ListTable(ExportColumnsMixin, FastRowsMixin, tables.Table):
    """The base of every list's table: its header cells and page links are worked out here
    once (partials/table_head.html and partials/pagination.html only write them out)."""

    def header_cells(self) -> list[dict]:
        """Per visible column: its <th> attributes, label, and sort state and link."""
        cells = []
        for column in self.columns:
            cell = {
                "name": column.name,
                "header": column.header,
                "th_attrs": column.attrs["th"].as_html(),
                "orderable": column.orderable,
                "is_ordered": column.is_ordered,
            }
            if column.orderable:
                alias = column.order_by_alias
                following = alias.next
                cell["descending"] = alias.is_descending
                cell["next_descending"] = following.is_descending
                cell["url"] = query_with(self.request.GET, sort=str(following), page=None)
            cells.append(cell)
        return cells

    def sort_caption(self) -> str:
        """ ", sorted by Size descending" for the caption (screen readers), or ""."""
        parts = []
        for order in self.order_by or ():
            if order.bare in self.columns:
                way = "descending" if order.is_descending else "ascending"
                parts.append(f"{self.columns[order.bare].header} {way}")
        return f", sorted by {' '.join(parts)}" if parts else ""

    def page_links(self) -> dict:
        """The pager's links: previous, numbered (with "..." gaps), next."""
        page, query = self.page, self.request.GET
        numbers = table_page_range(page, self.paginator) if self.paginator.num_pages > 1 else []
        return {
            "previous": query_with(query, page=page.previous_page_number())
            if page.has_previous()
            else "",
            "next": query_with(query, page=page.next_page_number()) if page.has_next() else "",
            "pages": [
                (number, "" if number == "..." else query_with(query, page=number))
                for number in numbers
            ],
        }

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.base_columns = _ShallowCopies(cls.base_columns)


def cell_column(header: str, td_class: str = "") -> tables.Column:
    """A column whose `render_<name>(record)` builds the whole cell; a WholeListTable's
    columns are never sorted."""
    return tables.Column(
        verbose_name=header,
        empty_values=(),
        orderable=False,
        attrs={"td": {"class": td_class}} if td_class else {},
    )


# The header of a column of buttons: read out, not shown.
ACTIONS_HEADER = mark_safe('<span class="visually-hidden">Actions</span>')


class WholeListTable(ListTable):
    """A list shown whole, in the order the view gives it (no sort links, no pages), through
    partials/whole_table.html: the table, or the `empty_html()` paragraph when it has no rows.
    Subclasses set `caption` (read out), `empty_id` and Meta.empty_text."""

    caption = ""
    empty_id = ""

    class Meta:
        orderable = False
        template_name = "partials/whole_table.html"

    _numbers: dict[int, int] | None = None

    def number(self, record) -> int:
        """The record's place in the list, from 1 (for ids that must differ per row)."""
        if self._numbers is None:
            self._numbers = {id(item): n for n, item in enumerate(self.data.data, 1)}
        return self._numbers[id(record)]

    def empty_html(self) -> SafeString:
        return format_html('<p id="{}">{}</p>', self.empty_id, self.empty_text)
