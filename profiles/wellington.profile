# Wellington Town Council, IT policy.
council = wellington
name = Wellington Town Council
# 4.2.3: personal storage devices only with the prior approval of the Democratic
# Services & Finance Manager (DSFM).
approver-title = DSFM
exceptions = yes
approval-for = storage
wipe = required
# 5.3: the council deploys MFA where appropriate; 5.6.2: MFA methods are never shared.
user-verification = required
# 8.5: monitoring data kept only long enough for a breach to be investigated.
retention-months = 6
max-grant-hours = 8
# 5.2: portable devices holding council data are encrypted. luks2 makes a registered
# council stick read-write only as a LUKS2 container (portcullis media prepare);
# set it once the council's sticks are made so, until then plain ones would be
# read-only.
council-sticks = any
