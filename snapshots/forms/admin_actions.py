"""Forms for the admin repairs: reset status, set status and progress, and their bulk forms.

The choices are exactly what Cinder accepts (choices.RESETTABLE, SET_STATUS_TRANSITIONS), so a
wrong value is caught next to the field before any call.
"""

from __future__ import annotations

from django import forms

from snapshots.choices import RESETTABLE, Status
from snapshots.forms.snapshots import KeyedForm
from snapshots.forms.validators import MAX_LENGTH
from snapshots.services.eligibility import allowed_set_statuses

# Offered first: the statuses an admin normally resets to (Horizon offers these five).
COMMON_RESETS = ("available", "error", "error_deleting", "creating", "deleting")


def _label(value: str, current: str | None) -> str:
    text = Status(value).label if value in Status.values else value
    return f"{text} (current)" if value == current else text


def reset_choices(current: str | None) -> list[tuple[str, str]]:
    ordered = [*COMMON_RESETS, *(s for s in RESETTABLE if s not in COMMON_RESETS)]
    return [(s, _label(s, current)) for s in ordered]


class ResetStatusForm(KeyedForm):
    status = forms.ChoiceField(label="New status", widget=forms.RadioSelect)
    reason = forms.CharField(
        label="Reason",
        max_length=MAX_LENGTH,
        help_text="Why you reset it; kept in the audit log with your name.",
        widget=forms.TextInput(attrs={"maxlength": MAX_LENGTH}),
    )

    def __init__(self, *args, current: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = reset_choices(current)
        if not self.is_bound and current in RESETTABLE and current != "available":
            self.fields["status"].initial = "available"


class SetStatusForm(KeyedForm):
    status = forms.ChoiceField(label="New status", widget=forms.RadioSelect)
    progress = forms.IntegerField(
        label="Progress (%)",
        required=False,
        min_value=0,
        max_value=100,
        help_text="0 to 100; leave empty to keep what Cinder has.",
    )

    def __init__(self, *args, current: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            (s, _label(s, current)) for s in allowed_set_statuses(current)
        ]


class BulkResetStatusForm(ResetStatusForm):
    """The same choices for many snapshots at once; no status is marked current."""
