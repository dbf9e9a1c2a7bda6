"""Creating, changing and deleting snapshots, and the admin repairs."""

urlpatterns: list = []
