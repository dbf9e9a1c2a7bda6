"""Forms of the snapshot workflows: a volume from a snapshot, bringing a backend snapshot under
Cinder's management, and the host whose manageable snapshots an admin reads.

They check Cinder's own rules (validators.py, and the size and zone rules of a volume made from a
snapshot) before anything is sent; the services check the rest on the mirror.
"""

from __future__ import annotations

from django import forms

from snapshots.forms import validators
from snapshots.forms.snapshots import KeyedForm, style_fields

SAME = ""  # choice value: leave it to Cinder (the source volume's type or zone)


class VolumeFromSnapshotForm(KeyedForm):
    name = forms.CharField(required=False, strip=True, validators=[validators.validate_name])
    description = forms.CharField(
        required=False, strip=True, validators=[validators.validate_description]
    )
    size = forms.IntegerField(label="Size (GiB)", min_value=1)
    volume_type = forms.ChoiceField(label="Volume type", required=False)
    availability_zone = forms.ChoiceField(label="Availability zone", required=False)

    def __init__(
        self,
        *args,
        snapshot_size: int,
        source_type: str,
        source_zone: str,
        types: list[str],
        zones: list[str],
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.snapshot_size = snapshot_size
        self.source_zone = source_zone
        size = self.fields["size"]
        size.widget.attrs.update({"min": snapshot_size})
        if not self.is_bound:
            size.initial = snapshot_size
        same_type = f"Same as the source volume ({source_type})" if source_type else "Default"
        self.fields["volume_type"].choices = [(SAME, same_type)] + [
            (t, t) for t in types if t and t != source_type
        ]
        same_zone = f"Same as the source volume ({source_zone})" if source_zone else "Default"
        self.fields["availability_zone"].choices = [(SAME, same_zone)] + [
            (z, z) for z in zones if z and z != source_zone
        ]
        style_fields(self)
        for name in ("volume_type", "availability_zone"):
            self.fields[name].widget.attrs["class"] = "form-select"

    def clean_size(self) -> int:
        size = self.cleaned_data["size"]
        if size < self.snapshot_size:
            raise forms.ValidationError(
                "Cinder makes a volume at least as large as the snapshot (%(min)d GiB).",
                code="too_small",
                params={"min": self.snapshot_size},
            )
        return size

    def clean_availability_zone(self) -> str:
        zone = self.cleaned_data["availability_zone"]
        if zone and self.source_zone and zone != self.source_zone:
            raise forms.ValidationError(
                "Cinder makes a volume from a snapshot in the snapshot's own zone (%(zone)s).",
                code="other_zone",
                params={"zone": self.source_zone},
            )
        return zone


class ManageForm(KeyedForm):
    name = forms.CharField(required=False, strip=True, validators=[validators.validate_name])
    description = forms.CharField(
        required=False, strip=True, validators=[validators.validate_description]
    )


class HostForm(forms.Form):
    """The backend (`host@backend`, a `#pool` is ignored) whose snapshots to read."""

    host = forms.CharField(max_length=255, strip=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].widget.attrs.update(
            {"placeholder": "host@backend", "autocomplete": "off"}
        )
        style_fields(self)

    def clean_host(self) -> str:
        host = self.cleaned_data["host"].partition("#")[0].strip()
        if "@" not in host:
            raise forms.ValidationError("Give the backend as host@backend.", code="bad_host")
        return host
