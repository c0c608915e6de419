# Watton Town Council, IT and communications policy adopted November 2022.
council = watton
name = Watton Town Council
# 1.1: the Clerk and the Deputy Clerk ("The Clerk"); both may be enrolled as approvers.
approver-title = Clerk
exceptions = yes
# 5.3: no device of any kind (USB flash drive, tablet, smartphone, connected by USB,
# infra-red, Wi-Fi or any other way) without authorisation from The Clerk.
approval-for = any-device
# The policy has no secure-deletion clause; the media are wiped as the other councils
# require, which 5.1 (no deleting data except as authorised) does not forbid for copies.
wipe = required
user-verification = preferred
retention-months = 6
max-grant-hours = 8
# The policy does not ask for encrypted sticks; luks2 would make a registered plain
# council stick read-only.
council-sticks = any
# A stick taken out owes its wipe; not back at a council PC within this many days, it is
# overdue on the IT provider's collector (optional; 14 when not given).
wipe-owed-days = 10
