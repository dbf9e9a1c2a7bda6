"""The embedded broker of `make run`: kombu's filesystem transport, with atomic writes.

kombu's transport creates a message file under its final name and then writes into it, so a
worker listing the folder at that moment takes an empty file and dies on a JSONDecodeError
("Unrecoverable error"), which stops the whole `make run` stack. Here a message is written under
a name readers skip (`.<name>.part`: they only take `*.<queue>.msg`) and renamed into place,
which is atomic within one folder. Reading is kombu's own (rename out, then read).

Settings select it with CELERY_BROKER_TRANSPORT when the broker URL is `filesystem://`.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
