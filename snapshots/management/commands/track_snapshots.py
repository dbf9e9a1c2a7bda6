"""`manage.py track_snapshots`: the name `detect_snapshots` had before detection replaced the
per-project tracker; same options, same work."""

from snapshots.management.commands.detect_snapshots import Command as DetectCommand


class Command(DetectCommand):
    pass
