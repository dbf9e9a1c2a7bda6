"""Forms for the member actions: create, edit (name, description) and the metadata editor.

Forms validate input with Cinder's own rules (validators.py); the services decide and act.
Every action form carries an idempotency key made when it is rendered, so a double submit acts
once (services/idempotency.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.core.exceptions import ValidationError

from snapshots.forms import validators
from snapshots.services import idempotency
from snapshots.services.eligibility import VolumeChoice


def style_fields(form: forms.Form) -> None:
    """Bootstrap classes on every visible widget, so templates can render `{{ field }}`."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput | forms.RadioSelect):
            continue
        css = "form-check-input" if isinstance(widget, forms.CheckboxInput) else "form-control"
        widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class KeyedForm(forms.Form):
    """A form with a hidden idempotency key, fresh on every unbound render."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["idempotency_key"].initial = idempotency.new_key()
        style_fields(self)


# --- metadata rows ----------------------------------------------------------------------------
class MetadataRowForm(forms.Form):
    """One key/value row. Empty rows are ignored; `remove` drops an existing key."""

    key = forms.CharField(required=False, strip=False, max_length=None)
    value = forms.CharField(required=False, strip=False, max_length=None)
    # What the row showed when the page was rendered: the edit sends only what the person changed.
    original_key = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)
    original_value = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)
    remove = forms.BooleanField(required=False)

    def __init__(self, *args, on_create: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.on_create = on_create
        self.fields["key"].widget.attrs.update({"maxlength": validators.MAX_LENGTH})
        self.fields["value"].widget.attrs.update({"maxlength": validators.MAX_LENGTH})
        style_fields(self)

    def clean(self):
        data = super().clean()
        key = data.get("key", "")
        value = data.get("value", "")
        if data.get("remove") or (not key and not value):
            return data
        try:
            validators.validate_metadata_key(key, on_create=self.on_create)
        except ValidationError as exc:
            self.add_error("key", exc)
        try:
            validators.validate_metadata_value(value)
        except ValidationError as exc:
            self.add_error("value", exc)
        return data


class BaseMetadataFormSet(forms.BaseFormSet):
    def __init__(self, *args, on_create: bool = True, **kwargs):
        self.on_create = on_create
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "on_create": self.on_create}

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            on_create=self.on_create,
            renderer=self.renderer,
        )
        self.add_fields(form, None)
        return form

    def clean(self):
        if any(self.errors):
            return
        seen: dict[str, int] = {}
        for index, form in enumerate(self.forms):
            data = form.cleaned_data
            key = data.get("key", "")
            if not key or data.get("remove"):
                continue
            if key in seen:
                form.add_error("key", "This key appears twice.")
                raise ValidationError("Each key may appear only once.")
            seen[key] = index

    def wanted(self) -> dict[str, str]:
        """The metadata as the person wants it (after a valid submit)."""
        out: dict[str, str] = {}
        for form in self.forms:
            data = form.cleaned_data
            if data.get("key") and not data.get("remove"):
                out[data["key"]] = data.get("value", "")
        return out

    def changes(self) -> tuple[dict[str, str], list[str]]:
        """(keys to set, keys to remove) compared with what the form showed."""
        shown = {
            f.cleaned_data["original_key"]: f.cleaned_data.get("original_value", "")
            for f in self.forms
            if f.cleaned_data.get("original_key")
        }
        wanted = self.wanted()
        to_set = {k: v for k, v in wanted.items() if shown.get(k) != v}
        to_remove = [k for k in shown if k not in wanted]
        return to_set, to_remove


def metadata_formset(
    data=None, *, initial: dict[str, str] | None = None, on_create: bool, extra: int = 2
):
    cls = forms.formset_factory(
        MetadataRowForm, formset=BaseMetadataFormSet, extra=extra, max_num=100, validate_max=True
    )
    rows = [
        {"key": k, "value": v, "original_key": k, "original_value": v}
        for k, v in sorted((initial or {}).items())
    ]
    return cls(data, initial=rows, prefix="meta", on_create=on_create)


# --- create -----------------------------------------------------------------------------------
class SnapshotCreateForm(KeyedForm):
    volume = forms.ChoiceField(label="Volume", widget=forms.RadioSelect)
    # strip=False: Cinder must store what was typed, trailing CR/LF/TAB included.
    name = forms.CharField(
        required=False, strip=False, max_length=None, validators=[validators.validate_name]
    )
    description = forms.CharField(
        required=False, strip=False, max_length=None, validators=[validators.validate_description]
    )
    force = forms.BooleanField(
        required=False,
        label="Force: snapshot an in-use volume",
        help_text=(
            "The volume is attached to a server that may be writing to it. The snapshot is "
            "crash-consistent, like pulling the power cord: flush or freeze the file system "
            "first if you need a clean copy."
        ),
    )

    def __init__(self, *args, volumes: Sequence[VolumeChoice], needs_force: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.volumes = list(volumes)
        self.needs_force = needs_force
        self.fields["volume"].choices = [(v.id, v.label) for v in self.volumes]
        self.fields["name"].widget.attrs.update({"maxlength": validators.MAX_LENGTH})
        self.fields["description"].widget.attrs.update({"maxlength": validators.MAX_LENGTH})
        if not needs_force:
            del self.fields["force"]

    def chosen(self) -> VolumeChoice | None:
        wanted = self.cleaned_data.get("volume") if hasattr(self, "cleaned_data") else None
        wanted = wanted or self.data.get("volume") or self.initial.get("volume")
        return next((v for v in self.volumes if v.id == wanted), None)

    def clean(self):
        data = super().clean()
        volume = next((v for v in self.volumes if v.id == data.get("volume")), None)
        if volume is None:
            return data
        if not volume.eligible:
            self.add_error("volume", volume.reason)
        elif volume.needs_force and not data.get("force"):
            self.add_error(
                "force",
                "This volume is in use: Cinder snapshots it only when you tick Force.",
            )
        return data


# --- edit -------------------------------------------------------------------------------------
class SnapshotEditForm(KeyedForm):
    # strip=False: Cinder must store what was typed, trailing CR/LF/TAB included.
    name = forms.CharField(
        required=False, strip=False, max_length=None, validators=[validators.validate_name]
    )
    description = forms.CharField(
        required=False, strip=False, max_length=None, validators=[validators.validate_description]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.update({"maxlength": validators.MAX_LENGTH})
        self.fields["description"].widget.attrs.update({"maxlength": validators.MAX_LENGTH})


class MetadataForm(KeyedForm):
    """The key of the metadata editor page; the rows are a formset (`metadata_formset`)."""


class ConfirmForm(KeyedForm):
    """A confirmation (delete, force delete): the key is all it carries."""
