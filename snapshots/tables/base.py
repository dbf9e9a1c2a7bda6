"""What the list tables share."""

from __future__ import annotations


class ProjectNamesMixin:
    """Tables get the project id -> name map once from the view (no query per row)."""

    def __init__(self, *args, project_names: dict[str, str] | None = None, **kwargs) -> None:
        self.project_names = project_names or {}
        super().__init__(*args, **kwargs)

    def project_label(self, project_id: str) -> str:
        return self.project_names.get(project_id, project_id)
