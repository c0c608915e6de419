#!/usr/bin/python3
"""Write the umockdev fixtures of tests/data/devices/ (run from anywhere).

Each USB device's `descriptors` blob is assembled here from its descriptors so
that lengths and counts stay consistent; the .umockdev files are committed and
may be read or edited by hand. Topology: pc-xhci.umockdev holds the PCI xHCI
controller with its root hubs usb1 (USB 2) and usb2 (USB 3); every other USB
file holds one device (and its interfaces) at its own port, so any set of
files loads together: umockdev-run -d pc-xhci.umockdev -d stick-council...
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
XHCI = "/devices/pci0000:00/0000:00:14.0"


def dev_desc(vid, pid, bcd, cls=0, sub=0, proto=0, mps=64, usb=0x200, ncfg=1, serial=True):
    return struct.pack("<BBHBBBBHHHBBBB", 18, 1, usb, cls, sub, proto, mps, vid, pid, bcd,
                       1, 2, 3 if serial else 0, ncfg)


def ep(addr, attr, mps, interval=0, ss=False):
    d = struct.pack("<BBBBHB", 7, 5, addr, attr, mps, interval)
    if ss:  # SuperSpeed endpoint companion
        d += bytes([6, 0x30, 0, 0, 0, 0])
    return d


def itf(num, alt, cls, sub, proto, eps=(), extra=b""):
    return struct.pack("<BBBBBBBBB", 9, 4, num, alt, len(eps), cls, sub, proto, 0) + extra + b"".join(eps)


def hid(report_len):
    return struct.pack("<BBHBBBH", 9, 0x21, 0x0111, 0, 1, 0x22, report_len)


def ifnums(parts):
    """Distinct interface numbers of the interface descriptors in parts."""
    return len({p[2] for p in parts if p[1] == 4})


def config(value, parts, max_power=50, attrs=0x80):
    data = b"".join(parts)
    return struct.pack("<BBHBBBBB", 9, 2, 9 + len(data), ifnums(parts), value, 0, attrs,
                       max_power) + data


def attr(name, value):
    return "A: %s=%s\\n" % (name, value)


def usb_device(path, busnum, devnum, vid, pid, bcd, product, manufacturer, serial, desc,
               speed, connect_type, ifaces, cls=0, sub=0, proto=0, version=" 2.00",
               maxchild=0, root=False, removable="removable", max_power="100mA"):
    """One usb_device record plus its usb_interface records (active config 1, alt 0)."""
    sysname = path.rsplit("/", 1)[1]
    out = []
    out.append("P: %s" % path)
    out.append("N: bus/usb/%03d/%03d" % (busnum, devnum))
    out += ["E: BUSNUM=%03d" % busnum, "E: DEVNAME=/dev/bus/usb/%03d/%03d" % (busnum, devnum),
            "E: DEVNUM=%03d" % devnum, "E: DEVTYPE=usb_device", "E: DRIVER=usb",
            "E: MAJOR=189", "E: MINOR=%d" % ((busnum - 1) * 128 + devnum - 1),
            "E: PRODUCT=%x/%x/%x" % (vid, pid, bcd), "E: SUBSYSTEM=usb",
            "E: TYPE=%d/%d/%d" % (cls, sub, proto)]
    nif = len({(f[0]) for f in ifaces})
    out += [attr("authorized", 1)]
    if root:
        out += [attr("authorized_default", 1), attr("interface_authorized_default", 1)]
    out += [attr("avoid_reset_quirk", 0), attr("bConfigurationValue", 1),
            attr("bDeviceClass", "%02x" % cls), attr("bDeviceProtocol", "%02x" % proto),
            attr("bDeviceSubClass", "%02x" % sub), attr("bMaxPacketSize0", desc[7]),
            attr("bMaxPower", max_power), attr("bNumConfigurations", desc[17]),
            attr("bNumInterfaces", "%2d" % nif), attr("bcdDevice", "%04x" % bcd),
            attr("bmAttributes", "80"), attr("busnum", busnum), attr("devnum", devnum),
            attr("devpath", sysname.split("-", 1)[1] if "-" in sysname else 0),
            attr("idProduct", "%04x" % pid), attr("idVendor", "%04x" % vid)]
    if manufacturer:
        out.append(attr("manufacturer", manufacturer))
    out += [attr("maxchild", maxchild)]
    if connect_type:
        out.append(attr("port/connect_type", connect_type))
    if product:
        out.append(attr("product", product))
    out.append(attr("removable", removable))
    if serial:
        out.append(attr("serial", serial))
    out += [attr("speed", speed), attr("version", version)]
    out.append("H: descriptors=%s" % desc.hex().upper())
    out.append("")
    for (num, c, s, p) in ifaces:
        ipath = "%s/%s:1.%d" % (path, sysname if not root else "%d-0" % busnum, num)
        out += ["P: %s" % ipath, "E: DEVTYPE=usb_interface",
                "E: INTERFACE=%d/%d/%d" % (c, s, p),
                "E: MODALIAS=usb:v%04Xp%04Xd%04Xdc%02Xdsc%02Xdp%02Xic%02Xisc%02Xip%02Xin%02X"
                % (vid, pid, bcd, cls, sub, proto, c, s, p, num),
                "E: PRODUCT=%x/%x/%x" % (vid, pid, bcd), "E: SUBSYSTEM=usb",
                "E: TYPE=%d/%d/%d" % (cls, sub, proto),
                attr("authorized", 1), attr("bAlternateSetting", " 0"),
                attr("bInterfaceClass", "%02x" % c), attr("bInterfaceNumber", "%02x" % num),
                attr("bInterfaceProtocol", "%02x" % p), attr("bInterfaceSubClass", "%02x" % s),
                ""]
    return "\n".join(out) + "\n"


def write(name, comment, text):
    with open(os.path.join(HERE, name), "w") as f:
        pass  # umockdev files take no comments; README.md describes each
        f.write(text)


MMC = """P: /devices/pci0000:00/0000:00:1c.0/0000:02:00.0/rtsx_pci_sdmmc.0/mmc_host/mmc0/mmc0:aaaa/block/mmcblk0
N: mmcblk0
E: DEVNAME=/dev/mmcblk0
E: DEVTYPE=disk
E: MAJOR=179
E: MINOR=0
E: SUBSYSTEM=block
E: ID_NAME=SC32G
E: ID_SERIAL=0x3a4f1c21
A: alignment_offset=0\\n
A: capability=50\\n
A: dev=179:0\\n
A: removable=0\\n
A: ro=0\\n
A: size=62333952\\n

P: /devices/pci0000:00/0000:00:1c.0/0000:02:00.0/rtsx_pci_sdmmc.0/mmc_host/mmc0/mmc0:aaaa
E: DRIVER=mmcblk
E: MMC_NAME=SC32G
E: MMC_TYPE=SD
E: MODALIAS=mmc:block
E: SUBSYSTEM=mmc
A: cid=035344534333324780 3a4f1c2101500\\n
A: csd=400e00325b590000ed c87f800a400000\\n
A: date=01/2021\\n
A: manfid=0x000003\\n
A: name=SC32G\\n
A: oemid=0x5344\\n
A: serial=0x3a4f1c21\\n
A: type=SD\\n

P: /devices/pci0000:00/0000:00:1c.0/0000:02:00.0/rtsx_pci_sdmmc.0/mmc_host/mmc0
E: SUBSYSTEM=mmc_host

P: /devices/pci0000:00/0000:00:1c.0/0000:02:00.0/rtsx_pci_sdmmc.0
E: DRIVER=rtsx_pci_sdmmc
E: MODALIAS=platform:rtsx_pci_sdmmc
E: SUBSYSTEM=platform

P: /devices/pci0000:00/0000:00:1c.0/0000:02:00.0
E: DRIVER=rtsx_pci
E: PCI_CLASS=FF00
E: PCI_ID=10EC:522A
E: PCI_SLOT_NAME=0000:02:00.0
E: PCI_SUBSYS_ID=1028:0869
E: MODALIAS=pci:v000010ECd0000522Asv00001028sd00000869bcFFsc00i00
E: SUBSYSTEM=pci
A: class=0xff0000\\n
A: device=0x522a\\n
A: vendor=0x10ec\\n
"""

SATA = """P: /devices/pci0000:00/0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0/block/sr0
N: sr0
E: DEVNAME=/dev/sr0
E: DEVTYPE=disk
E: MAJOR=11
E: MINOR=0
E: SUBSYSTEM=block
E: ID_CDROM=1
E: ID_CDROM_DVD=1
E: ID_MODEL=DVD+-RW_GUD1N
E: ID_VENDOR=HL-DT-ST
A: capability=119\\n
A: dev=11:0\\n
A: events=media_change eject_request\\n
A: removable=1\\n
A: ro=0\\n
A: size=0\\n

P: /devices/pci0000:00/0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0
E: DEVTYPE=scsi_device
E: DRIVER=sr
E: MODALIAS=scsi:t-0x05
E: SUBSYSTEM=scsi
A: delete=\\n
A: device_blocked=0\\n
A: model=DVD+-RW GUD1N   \\n
A: rev=LD02\\n
A: scsi_level=6\\n
A: state=running\\n
A: type=5\\n
A: vendor=HL-DT-ST\\n

P: /devices/pci0000:00/0000:00:17.0/ata2/host1/target1:0:0
E: DEVTYPE=scsi_target
E: SUBSYSTEM=scsi

P: /devices/pci0000:00/0000:00:17.0/ata2/host1
E: DEVTYPE=scsi_host
E: SUBSYSTEM=scsi

P: /devices/pci0000:00/0000:00:17.0
E: DRIVER=ahci
E: PCI_CLASS=10601
E: PCI_ID=8086:A352
E: PCI_SLOT_NAME=0000:00:17.0
E: MODALIAS=pci:v00008086d0000A352sv00001028sd00000869bc01sc06i01
E: SUBSYSTEM=pci
A: class=0x010601\\n
A: device=0xa352\\n
A: vendor=0x8086\\n
"""


def main():
    # --- PCI xHCI controller with its two root hubs --------------------------------
    rh2 = dev_desc(0x1d6b, 0x0002, 0x0601, cls=9, proto=1) + config(
        1, [itf(0, 0, 9, 0, 0, [ep(0x81, 3, 4, 12)])], max_power=0, attrs=0xe0)
    rh3 = dev_desc(0x1d6b, 0x0003, 0x0601, cls=9, proto=3, mps=9, usb=0x0300) + config(
        1, [itf(0, 0, 9, 0, 0, [ep(0x81, 3, 4, 12, ss=True)])], max_power=0, attrs=0xe0)
    pci = "\n".join([
        "P: %s" % XHCI, "E: DRIVER=xhci_hcd", "E: PCI_CLASS=C0330", "E: PCI_ID=8086:A36D",
        "E: PCI_SLOT_NAME=0000:00:14.0", "E: PCI_SUBSYS_ID=1028:0869",
        "E: MODALIAS=pci:v00008086d0000A36Dsv00001028sd00000869bc0Csc03i30",
        "E: SUBSYSTEM=pci", attr("class", "0x0c0330"), attr("device", "0xa36d"),
        attr("vendor", "0x8086"), ""]) + "\n"
    text = pci
    text += usb_device(XHCI + "/usb1", 1, 1, 0x1d6b, 0x0002, 0x0601, "xHCI Host Controller",
                       "Linux 6.1.0-13-amd64 xhci-hcd", "0000:00:14.0", rh2, 480, None,
                       [(0, 9, 0, 0)], cls=9, proto=1, maxchild=16, root=True,
                       removable="unknown", max_power="0mA")
    text += usb_device(XHCI + "/usb2", 2, 1, 0x1d6b, 0x0003, 0x0601, "xHCI Host Controller",
                       "Linux 6.1.0-13-amd64 xhci-hcd", "0000:00:14.0", rh3, 5000, None,
                       [(0, 9, 0, 0)], cls=9, proto=3, version=" 3.00", maxchild=10,
                       root=True, removable="unknown", max_power="0mA")
    write("pc-xhci.umockdev", "Intel Cannon Lake PCH xHCI controller (PCI 0000:00:14.0) "
          "with root hubs usb1 (USB 2.0) and usb2 (USB 3.1)", text)

    U1 = XHCI + "/usb1"

    # --- external 4-port hub at 1-1 (multi-TT: alternate setting 1) -----------------
    hub = dev_desc(0x05e3, 0x0610, 0x9226, cls=9, proto=2, serial=False) + config(
        1, [itf(0, 0, 9, 0, 1, [ep(0x81, 3, 1, 12)]), itf(0, 1, 9, 0, 2, [ep(0x81, 3, 1, 12)])],
        max_power=50, attrs=0xe0)
    write("hub-genesys.umockdev", "Genesys Logic 4-port USB 2.0 hub at 1-1 (multi-TT, no serial)",
          usb_device(U1 + "/1-1", 1, 2, 0x05e3, 0x0610, 0x9226, "USB2.1 Hub", "GenesysLogic",
                     None, hub, 480, "hotplug", [(0, 9, 0, 1)], cls=9, proto=2, maxchild=4,
                     max_power="100mA"))

    def storage(vid, pid, bcd, serial, extra=(), max_power=112):
        parts = [itf(0, 0, 8, 6, 0x50, [ep(0x81, 2, 512), ep(0x02, 2, 512)])]
        parts += list(extra)
        return dev_desc(vid, pid, bcd, serial=serial is not None) + config(1, parts, max_power)

    kbd_if = lambda num: itf(num, 0, 3, 1, 1, [ep(0x83, 3, 8, 10)], extra=hid(63))

    council_serial = "4C530001140516116522"
    write("stick-council.umockdev", "council-registered SanDisk Ultra stick at 1-1.1 behind the hub",
          usb_device(U1 + "/1-1/1-1.1", 1, 3, 0x0781, 0x5581, 0x0100, " SanDisk 3.2Gen1", "USB",
                     council_serial, storage(0x0781, 0x5581, 0x0100, council_serial), 480,
                     "unknown", [(0, 8, 6, 0x50)], max_power="224mA"))
    write("stick-council-hid.umockdev", "lookalike: council stick's VID:PID and serial, plus a "
          "hidden HID keyboard interface, at 1-4",
          usb_device(U1 + "/1-4", 1, 6, 0x0781, 0x5581, 0x0100, " SanDisk 3.2Gen1", "USB",
                     council_serial, storage(0x0781, 0x5581, 0x0100, council_serial,
                                             [kbd_if(1)]), 480, "hotplug",
                     [(0, 8, 6, 0x50), (1, 3, 1, 1)], max_power="224mA"))
    write("stick-personal.umockdev", "a councillor's personal Silicon Motion stick at 1-2",
          usb_device(U1 + "/1-2", 1, 4, 0x090c, 0x1000, 0x1100, "Flash Disk", "SMI Corporation",
                     "AA00000000011111", storage(0x090c, 0x1000, 0x1100, "x"), 480, "hotplug",
                     [(0, 8, 6, 0x50)], max_power="200mA"))
    write("stick-personal-twin.umockdev", "lookalike: same VID:PID as the personal stick, "
          "another serial, at 1-3",
          usb_device(U1 + "/1-3", 1, 5, 0x090c, 0x1000, 0x1100, "Flash Disk", "SMI Corporation",
                     "AA00000000022222", storage(0x090c, 0x1000, 0x1100, "x"), 480, "hotplug",
                     [(0, 8, 6, 0x50)], max_power="200mA"))
    write("badusb.umockdev", "BadUSB composite at 1-5: mass storage plus a HID keyboard",
          usb_device(U1 + "/1-5", 1, 7, 0x0951, 0x1666, 0x0110, "DataTraveler 3.0", "Kingston",
                     "E0D55EA574C3F4B0A9850B4E", storage(0x0951, 0x1666, 0x0110, "x",
                                                        [kbd_if(1)]), 480, "hotplug",
                     [(0, 8, 6, 0x50), (1, 3, 1, 1)], max_power="300mA"))
    reader = dev_desc(0x0bda, 0x0129, 0x3960) + config(
        1, [itf(0, 0, 0xff, 6, 0x50, [ep(0x81, 2, 512), ep(0x02, 2, 512), ep(0x83, 3, 3, 10)])], 250)
    write("card-reader.umockdev", "Realtek USB card reader at 1-6 (vendor-specific class ff:06:50)",
          usb_device(U1 + "/1-6", 1, 8, 0x0bda, 0x0129, 0x3960, "USB2.0-CRW", "Generic",
                     "20100201396000000", reader, 480, "hotplug", [(0, 0xff, 6, 0x50)],
                     max_power="500mA"))
    phone = dev_desc(0x18d1, 0x4ee2, 0x0440) + config(1, [
        itf(0, 0, 6, 1, 1, [ep(0x81, 2, 512), ep(0x01, 2, 512), ep(0x82, 3, 28, 6)]),
        itf(1, 0, 0xff, 0x42, 1, [ep(0x02, 2, 512), ep(0x83, 2, 512)])], 250)
    write("phone-mtp-adb.umockdev", "Google Pixel phone at 1-7: MTP (06:01:01) and ADB (ff:42:01)",
          usb_device(U1 + "/1-7", 1, 9, 0x18d1, 0x4ee2, 0x0440, "Pixel 7", "Google",
                     "2A121FDH2003X5", phone, 480, "hotplug",
                     [(0, 6, 1, 1), (1, 0xff, 0x42, 1)], max_power="500mA"))
    ccid = bytes([0x36, 0x21, 0x00, 0x01, 0x00, 0x07, 0x03, 0, 0, 0]) + bytes(44)
    fido = dev_desc(0x1050, 0x0407, 0x0526, serial=False) + config(1, [
        kbd_if(0),
        itf(1, 0, 3, 0, 0, [ep(0x04, 3, 64, 2), ep(0x84, 3, 64, 2)], extra=hid(34)),
        itf(2, 0, 0x0b, 0, 0, [ep(0x02, 2, 64), ep(0x82, 2, 64), ep(0x85, 3, 8, 32)],
            extra=ccid)], 15, attrs=0xa0)
    write("fido-key.umockdev", "YubiKey 5 at 1-8: OTP keyboard (03:01:01), FIDO HID (03:00:00), "
          "CCID (0b:00:00); no serial",
          usb_device(U1 + "/1-8", 1, 10, 0x1050, 0x0407, 0x0526, "YubiKey OTP+FIDO+CCID",
                     "Yubico", None, fido, 12, "hotplug",
                     [(0, 3, 1, 1), (1, 3, 0, 0), (2, 0x0b, 0, 0)], max_power="30mA"))
    cd = dev_desc(0x13fd, 0x0840, 0x0100) + config(
        1, [itf(0, 0, 8, 2, 0x50, [ep(0x81, 2, 512), ep(0x02, 2, 512)])], 250)
    write("cd-drive.umockdev", "USB CD/DVD writer at 1-9 (MMC-5 over mass storage, 08:02:50)",
          usb_device(U1 + "/1-9", 1, 11, 0x13fd, 0x0840, 0x0100, "External", "Initio",
                     "1210000000000006", cd, 480, "hotplug", [(0, 8, 2, 0x50)],
                     max_power="500mA"))
    kbd = dev_desc(0x046d, 0xc31c, 0x6400, mps=8, serial=False) + config(1, [
        itf(0, 0, 3, 1, 1, [ep(0x81, 3, 8, 10)], extra=hid(59)),
        itf(1, 0, 3, 0, 0, [ep(0x82, 3, 4, 255)], extra=hid(155))], 45, attrs=0xa0)
    write("keyboard.umockdev", "Logitech USB keyboard at 1-10 (boot keyboard + consumer keys)",
          usb_device(U1 + "/1-10", 1, 12, 0x046d, 0xc31c, 0x6400, "USB Keyboard", "Logitech",
                     None, kbd, 1.5, "hotplug", [(0, 3, 1, 1), (1, 3, 0, 0)], version=" 1.10",
                     max_power="90mA"))
    mouse = dev_desc(0x046d, 0xc077, 0x7200, mps=8, serial=False) + config(1, [
        itf(0, 0, 3, 1, 2, [ep(0x81, 3, 4, 10)], extra=hid(46))], 50, attrs=0xa0)
    write("mouse-hub.umockdev", "Logitech USB optical mouse at 1-1.2 behind the hub",
          usb_device(U1 + "/1-1/1-1.2", 1, 13, 0x046d, 0xc077, 0x7200, "USB Optical Mouse",
                     "Logitech", None, mouse, 1.5, "unknown", [(0, 3, 1, 2)], version=" 2.00",
                     max_power="100mA"))
    # USB 3 network adapter: config 1 vendor-specific, config 2 CDC ECM (data alt 0/1)
    cdc = [bytes([5, 0x24, 0, 0x10, 0x01]), bytes([5, 0x24, 6, 0, 1]),
           bytes([13, 0x24, 0x0f, 4, 0, 0, 0, 0, 0xea, 5, 0, 0, 0])]
    net = dev_desc(0x0bda, 0x8153, 0x3100, mps=9, usb=0x0320, ncfg=2) + config(1, [
        itf(0, 0, 0xff, 0xff, 0, [ep(0x81, 2, 1024, ss=True), ep(0x02, 2, 1024, ss=True),
                                  ep(0x83, 3, 2, 8, ss=True)])], 36) + config(2, [
        bytes([8, 0x0b, 0, 2, 2, 6, 0, 0]),
        itf(0, 0, 2, 6, 0, [ep(0x83, 3, 16, 8, ss=True)], extra=b"".join(cdc)),
        itf(1, 0, 0x0a, 0, 0), itf(1, 1, 0x0a, 0, 0, [ep(0x81, 2, 1024, ss=True),
                                                     ep(0x02, 2, 1024, ss=True)])], 36)
    write("net-adapter.umockdev", "Realtek RTL8153 USB 3 gigabit adapter at 2-1: config 1 "
          "vendor (ff:ff:00), config 2 CDC ECM",
          usb_device(XHCI + "/usb2/2-1", 2, 2, 0x0bda, 0x8153, 0x3100, "USB 10/100/1000 LAN",
                     "Realtek", "000001000000", net, 5000, "hotplug", [(0, 0xff, 0xff, 0)],
                     version=" 3.20", max_power="288mA"))
    write("mmc-sd-reader.umockdev", "Realtek RTS522A PCI SD reader with a 32 GB SD card (mmcblk0)",
          MMC)
    write("sata-optical.umockdev", "internal SATA DVD writer on AHCI: scsi 1:0:0:0, block sr0",
          SATA)


if __name__ == "__main__":
    main()
