import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
application = get_wsgi_application()

# Open tabs' "did my rows change?" checks are answered before Django's request handling.
from snapshots.views.live import LiveStampApp  # noqa: E402  (needs the settings above)

application = LiveStampApp(application)
