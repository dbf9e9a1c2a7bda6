"""The app's URLs, one module per area so each grows on its own."""

from snapshots.urls_actions import urlpatterns as action_urls
from snapshots.urls_audit import urlpatterns as audit_urls
from snapshots.urls_browse import urlpatterns as browse_urls

app_name = "snapshots"

# Fixed words (create/, volumes/, stuck/, ...) before the browse area's catch-all `<snapshot_id>/`.
urlpatterns = [*action_urls, *audit_urls, *browse_urls]
