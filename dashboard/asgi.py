"""The dashboard on an async server (uvicorn): every page through Django, and open tabs' change
streams (LIVE_STREAM_PATH) held by the event loop itself, so thousands cost no thread each.
Compose runs it as the `live` service and sends only the stream path to it."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
application = get_asgi_application()

from snapshots.views.live_stream import LiveStreamApp  # noqa: E402  (needs the settings above)

application = LiveStreamApp(application)
