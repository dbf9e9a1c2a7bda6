"""Sign in, sign out and the project switcher."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from snapshots.auth_backends import BACKEND_PATH
from snapshots.choices import Outcome
from snapshots.forms.auth import LoginForm
from snapshots.redirects import safe_next_url
from snapshots.services import audit, errors
from snapshots.services import auth as auth_service
from snapshots.views.common import client_addr


def _next_url(request) -> str:
    return safe_next_url(request, settings.LOGIN_REDIRECT_URL)


def login_view(request):
    if request.user.is_authenticated and request.dashboard_scope is not None:
        return redirect(_next_url(request))
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        addr = client_addr(request)
        # Decided before Keystone is asked: nothing after a successful sign-in may fail.
        target = _next_url(request)
        try:
            if settings.DASHBOARD_AUTH == "keystone":
                result = auth_service.keystone_sign_in(
                    username=data["username"],
                    password=data["password"],
                    domain=data.get("domain") or settings.KEYSTONE_DEFAULT_DOMAIN,
                    client_addr=addr,
                )
                login(request, result.user, backend=BACKEND_PATH)
                request.session["cloud"] = result.session_data
            else:
                user = authenticate(request, username=data["username"], password=data["password"])
                throttled = getattr(request, "login_throttled", None)
                if throttled is not None:
                    raise throttled
                if user is None:
                    audit.record(
                        scope=None,
                        actor_name=data["username"],
                        action="sign_in",
                        outcome=Outcome.DENIED,
                        message="wrong user name or password",
                        client_addr=addr,
                    )
                    raise errors.BadCredentials("Wrong user name or password")
                login(request, user)
            return redirect(target)
        except auth_service.Throttled as exc:
            form.add_error(None, str(exc))
            status = 429
        except errors.BadCredentials:
            form.add_error(None, "Wrong user name, password or domain.")
            status = 401
        except auth_service.NoProject as exc:
            form.add_error(None, str(exc))
            status = 403
        except errors.CloudError as exc:
            form.add_error(None, f"Cannot sign in right now: {exc.user_message()}")
            status = 503
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "registration/login.html",
        {"form": form, "next": request.GET.get("next", ""), "auth_mode": settings.DASHBOARD_AUTH},
        status=status,
    )


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        audit.record(
            scope=request.dashboard_scope,
            action="sign_out",
            outcome=Outcome.SUCCESS,
            client_addr=client_addr(request),
        )
    if settings.DASHBOARD_AUTH == "keystone":
        auth_service.keystone_sign_out(request.session.get("cloud"))
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("login")


@require_POST
def switch_project_view(request):
    if settings.DASHBOARD_AUTH != "keystone" or not request.session.get("cloud"):
        return redirect("snapshots:list")
    try:
        request.session["cloud"] = auth_service.switch_project(
            request.session["cloud"], request.POST.get("project_id", "")
        )
        request.session.cycle_key()
        messages.success(
            request, f"Now working in project {request.session['cloud']['project_name']}."
        )
    except errors.CloudError as exc:
        messages.error(request, exc.user_message())
    return redirect("snapshots:list")
