from django.conf import settings

from snapshots.models import CloudState


def dashboard(request) -> dict:
    scope = getattr(request, "dashboard_scope", None)
    context = {"scope": scope, "auth_mode": settings.DASHBOARD_AUTH}
    if scope is not None:
        context["cloud_state"] = CloudState.objects.filter(id=1).first()
    return context
