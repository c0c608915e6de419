# Fakenham Town Council, IT policy ratified March 2026.
council = fakenham
name = Fakenham Town Council
# 3.9: personal removable storage only with prior approval from the Clerk.
approver-title = Clerk
exceptions = yes
# 3.9 names storage: USB sticks, external drives, CDs and DVDs.
approval-for = storage
# 4.2.8: data on removable media securely deleted once the transfer is complete.
wipe = required
# 4.1.5: multi-factor authentication mandatory for access to sensitive Council data.
user-verification = required
# 7.8: logs retained for a defined period (for example six months), then securely deleted.
retention-months = 6
# An exception lasts at most a working day (or until the device is unplugged).
max-grant-hours = 8
# 4.1.4: portable devices holding council data are encrypted. luks2 makes a registered
# council stick read-write only as a LUKS2 container (portcullis media prepare);
# set it once the council's sticks are made so, until then plain ones would be
# read-only.
council-sticks = any
