"""The audit log, status history and overview."""

urlpatterns: list = []
