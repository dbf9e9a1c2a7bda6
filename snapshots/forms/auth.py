from django import forms
from django.conf import settings


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
