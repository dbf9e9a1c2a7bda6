from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from snapshots.observability import health
from snapshots.views import auth

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="snapshots:list", permanent=False)),
    path("auth/login/", auth.login_view, name="login"),
    path("auth/logout/", auth.logout_view, name="logout"),
    path("auth/project/", auth.switch_project_view, name="switch-project"),
    path("snapshots/", include("snapshots.urls")),
    path("alerts/", include("snapshots.observability.urls")),
    path("django-admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
