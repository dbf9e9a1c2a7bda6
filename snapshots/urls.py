"""The app's URLs, one module per area so each grows on its own."""

from snapshots.urls_actions import urlpatterns as action_urls
from snapshots.urls_audit import urlpatterns as audit_urls
from snapshots.urls_browse import urlpatterns as browse_urls

app_name = "snapshots"

urlpatterns = [*browse_urls, *action_urls, *audit_urls]
