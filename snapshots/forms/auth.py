from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm


class LoginForm(forms.Form):
    username = forms.CharField(
        max_length=255,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    domain = forms.CharField(max_length=255, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if settings.DASHBOARD_AUTH == "keystone":
            self.fields["domain"].initial = settings.KEYSTONE_DEFAULT_DOMAIN
            self.fields["domain"].help_text = "Keystone domain of your user"
        else:
            del self.fields["domain"]


class AdminLoginForm(AdminAuthenticationForm):
    """Django admin's sign-in, saying so when the throttle refused the attempt."""

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            throttled = getattr(self.request, "login_throttled", None)
            if throttled is not None:
                raise forms.ValidationError(str(throttled), code="throttled") from None
            raise
