"""Forms of the alerts page: a rule, a webhook."""

from __future__ import annotations

from django import forms
from django.core.validators import URLValidator, validate_email

from snapshots.models import AlertRule, Webhook


class WebhookChoiceField(forms.ModelMultipleChoiceField):
    """Webhook ids: anything that is not a short number is refused before the database sees it
    (a 5,000-digit id overflowed SQLite's integer)."""

    def _check_values(self, value):
        for pk in value:
            text = str(pk)
            if not (text.isascii() and text.isdigit() and len(text) <= 18):
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": text[:20]},
                )
        return super()._check_values(value)


class AlertRuleForm(forms.ModelForm):
    class Meta:
        model = AlertRule
        fields = ["name", "kind", "threshold", "enabled", "emails", "webhooks", "digest_minutes"]
        field_classes = {"webhooks": WebhookChoiceField}
        labels = {
            "threshold": "Threshold (minutes for stuck and unreachable, % for quota)",
            "emails": "E-mail addresses (comma-separated)",
            "digest_minutes": "Digest every N minutes (0: one message per event)",
        }
        widgets = {
            "name": forms.TextInput(attrs={"class": "form-control"}),
            "kind": forms.Select(attrs={"class": "form-select"}),
            "threshold": forms.NumberInput(attrs={"class": "form-control", "step": "any"}),
            "enabled": forms.CheckboxInput(attrs={"class": "form-check-input"}),
            "emails": forms.TextInput(attrs={"class": "form-control"}),
            "webhooks": forms.CheckboxSelectMultiple(),
            "digest_minutes": forms.NumberInput(attrs={"class": "form-control"}),
        }

    def clean_emails(self) -> str:
        addresses = [a.strip() for a in self.cleaned_data["emails"].split(",") if a.strip()]
        for address in addresses:
            validate_email(address)
        return ", ".join(addresses)

    def clean(self):
        data = super().clean()
        kind, threshold = data.get("kind"), data.get("threshold")
        if threshold is not None:
            if kind in (AlertRule.Kind.STUCK, AlertRule.Kind.CLOUD_DOWN) and threshold <= 0:
                self.add_error("threshold", "Give the number of minutes (more than 0).")
            if kind == AlertRule.Kind.QUOTA and not 0 < threshold <= 100:
                self.add_error("threshold", "Give a percentage between 0 and 100.")
        if data.get("digest_minutes") is not None and data["digest_minutes"] > 7 * 24 * 60:
            self.add_error("digest_minutes", "At most a week (10080 minutes).")
        if not data.get("emails") and not data.get("webhooks"):
            raise forms.ValidationError("Give at least one e-mail address or webhook.")
        return data


class WebhookForm(forms.ModelForm):
    secret = forms.CharField(
        label="Secret (signs every request: HMAC-SHA256 in X-Dashboard-Signature)",
        required=False,
        max_length=200,
        widget=forms.PasswordInput(attrs={"class": "form-control", "autocomplete": "new-password"}),
        help_text="Left empty when editing, the current secret is kept.",
    )
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
        widget=forms.URLInput(attrs={"class": "form-control"}),
    )

    class Meta:
        model = Webhook
        fields = ["name", "url"]
        widgets = {"name": forms.TextInput(attrs={"class": "form-control"})}

    def clean_secret(self) -> str:
        secret = self.cleaned_data["secret"]
        if not secret and not self.instance.pk:
            raise forms.ValidationError("A new webhook needs a secret.")
        if secret and len(secret) < 16:
            raise forms.ValidationError("Use at least 16 characters.")
        return secret

    def save(self, commit: bool = True) -> Webhook:
        hook = super().save(commit=False)
        if self.cleaned_data["secret"]:
            hook.secret = self.cleaned_data["secret"]
        if commit:
            hook.save()
        return hook
