# Hednesford Town Council, IT policy of January 2026.
council = hednesford
name = Hednesford Town Council
approver-title = Clerk
# 1.1.8: personal disks, USB sticks, CDs, DVDs, data storage devices cannot be used on
# council computers. There is no exception route: portcullis refuses every request.
exceptions = no
approval-for = storage
# 2.2.10: removable media securely deleted once the transfer is complete (the council's
# own registered media, allowed by the rules, are still wiped).
wipe = required
# 2.1.5: MFA recommended as best practice.
user-verification = required
# 5.1.8: kept only long enough for a breach to come to light and be investigated.
retention-months = 6
max-grant-hours = 0
# 2.1.4: portable devices holding council data are encrypted. luks2 makes a registered
# council stick read-write only as a LUKS2 container (portcullis media prepare);
# set it once the council's sticks are made so, until then plain ones would be
# read-only.
council-sticks = any
