# The Debian package (CPack DEB): `cpack -G DEB` in a build directory writes
# portcullis_VERSION_ARCH.deb with the daemon, the CLI, man pages, the systemd unit,
# udev rules, sysusers/tmpfiles snippets and the default configuration (conffiles).
# Maintainer scripts are in cmake/debian/; docs/packaging.md says what they do.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME portcullis)
set(CPACK_PACKAGE_VENDOR "Portcullis")
set(CPACK_PACKAGE_CONTACT "Portcullis maintainers <portcullis@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "USB and removable-media gate for council PCs")
set(CPACK_PACKAGE_DESCRIPTION
    "Keeps new USB devices de-authorised until the council's policy allows them, logs\n every decision to a tamper-evident audit trail verified offline by the IT provider.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Installed under /usr, with DESTDIR so that the configuration lands in /etc (udev/).
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Library dependencies from dpkg-shlibdeps; systemd for sysusers, tmpfiles and the unit;
# passwd for userdel on purge; dosfstools for mkfs.vfat after a wipe.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# dosfstools: mkfs.vfat after a wipe.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd, passwd, dosfstools")
# clamd scans files on approved media when it runs (lib/xfer); rsyslog with RELP ships the
# trail to the IT provider's collector once the PC is enrolled (portcullis-fleet-enrol).
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "clamav-daemon, rsyslog-relp")
# udevd sends the events the engine follows; every Debian system with systemd has it, a
# minimal container may not (portcullisd -n and the CLI work without it).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS udev)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/debian/conffiles ${CMAKE_CURRENT_LIST_DIR}/debian/postinst
    ${CMAKE_CURRENT_LIST_DIR}/debian/prerm ${CMAKE_CURRENT_LIST_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
