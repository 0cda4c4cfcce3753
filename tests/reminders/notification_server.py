"""A test notification server: owns org.freedesktop.Notifications on the session bus.

Run as `python notification_server.py RECORD_FILE` with DBUS_SESSION_BUS_ADDRESS set. It
implements Notify, GetCapabilities, GetServerInformation and CloseNotification, appends one
JSON line per Notify call to RECORD_FILE, and prints "ready" once it owns the name, so a test
can wait for it. This is what makes a real desktop notification observable in a test.
"""

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

from dbus_fast import BusType, NameFlag, RequestNameReply
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import (
    DBusDict,
    DBusInt32,
    DBusSignature,
    DBusStr,
    DBusUInt32,
)
from dbus_fast.service import ServiceInterface, dbus_method, dbus_signal

BUS_NAME = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
DBusStrList = Annotated[list[str], DBusSignature("as")]
ServerInfo = Annotated[tuple[str, str, str, str], DBusSignature("ssss")]


class NotificationServer(ServiceInterface):
    def __init__(self, record: Path) -> None:
        super().__init__(BUS_NAME)
        self._record = record
        self._next_id = 0

    @dbus_method()
    def Notify(
        self,
        app_name: DBusStr,
        replaces_id: DBusUInt32,
        app_icon: DBusStr,
        summary: DBusStr,
        body: DBusStr,
        actions: DBusStrList,
        hints: DBusDict,
        expire_timeout: DBusInt32,
    ) -> DBusUInt32:
        self._next_id += 1
        entry = {
            "id": self._next_id,
            "app_name": app_name,
            "summary": summary,
            "body": body,
            "actions": list(actions),
            "expire_timeout": expire_timeout,
        }
        with self._record.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
        return self._next_id

    @dbus_method()
    def GetCapabilities(self) -> DBusStrList:
        return ["body", "actions"]

    @dbus_method()
    def GetServerInformation(self) -> ServerInfo:
        return ("crmcompanion-test", "crmcompanion", "1.0", "1.2")

    @dbus_method()
    def CloseNotification(self, notification_id: DBusUInt32) -> None:
        self.NotificationClosed(notification_id, 3)

    @dbus_signal()
    def NotificationClosed(
        self, notification_id: DBusUInt32, reason: DBusUInt32
    ) -> Annotated[tuple[int, int], DBusSignature("uu")]:
        return (notification_id, reason)


async def serve(record: Path) -> None:
    bus = await MessageBus(bus_type=BusType.SESSION).connect()
    bus.export(OBJECT_PATH, NotificationServer(record))
    reply = await bus.request_name(BUS_NAME, NameFlag.DO_NOT_QUEUE)
    if reply is not RequestNameReply.PRIMARY_OWNER:
        print(f"could not own {BUS_NAME}: {reply}", flush=True)
        sys.exit(1)
    print("ready", flush=True)
    await bus.wait_for_disconnect()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1])))
