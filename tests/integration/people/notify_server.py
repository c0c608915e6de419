"""A minimal desktop notification server for tests: owns org.freedesktop.Notifications on
the session bus it is started on (DBUS_SESSION_BUS_ADDRESS) and appends every Notify call,
as one JSON line, to the file named on the command line. Writes "ready" on stdout once the
name is owned.

usage: notify_server.py RECORD_FILE [CAPABILITY...]
"""
import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

IFACE = "org.freedesktop.Notifications"


class Server(dbus.service.Object):
    def __init__(self, bus, record, caps):
        super().__init__(bus, "/org/freedesktop/Notifications")
        self.record = record
        self.caps = caps
        self.next_id = 1

    @dbus.service.method(IFACE, in_signature="", out_signature="as")
    def GetCapabilities(self):
        return self.caps

    @dbus.service.method(IFACE, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app_name, replaces_id, app_icon, summary, body, actions, hints, timeout):
        entry = {
            "app_name": str(app_name), "replaces_id": int(replaces_id),
            "app_icon": str(app_icon), "summary": str(summary), "body": str(body),
            "actions": [str(a) for a in actions],
            "hints": {str(k): (int(v) if isinstance(v, (dbus.Byte, dbus.Int32, dbus.UInt32))
                               else str(v)) for k, v in hints.items()},
            "expire_timeout": int(timeout),
        }
        with open(self.record, "a") as f:
            f.write(json.dumps(entry) + "\n")
        self.next_id += 1
        return dbus.UInt32(self.next_id - 1)

    @dbus.service.method(IFACE, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("pcl-test-notifications", "portcullis", "1", "1.2")

    @dbus.service.method(IFACE, in_signature="u", out_signature="")
    def CloseNotification(self, nid):
        pass


def main():
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    name = dbus.service.BusName(IFACE, bus, do_not_queue=True)
    server = Server(bus, sys.argv[1], sys.argv[2:] or ["body"])
    print("ready", flush=True)
    GLib.MainLoop().run()
    del name, server


if __name__ == "__main__":
    main()
