# The NALC model IT policy (template wording), for councils that adopted it unchanged.
council = model
name = Model council (NALC template)
# 1.1.2: personal storage devices only with the prior approval of the council.
approver-title = Council's nominated officer
exceptions = yes
approval-for = storage
# 2.2.5: securely delete the data on the media once the transfer is complete.
wipe = required
# No MFA clause: the key's touch is required, its PIN only where the key asks for one.
user-verification = preferred
# Monitoring must be proportionate; no period is named: six months as a default.
retention-months = 6
max-grant-hours = 8
# 2.1.4: portable devices holding council data are encrypted. luks2 makes a registered
# council stick read-write only as a LUKS2 container (portcullis media prepare);
# set it once the council's sticks are made so, until then plain ones would be
# read-only.
council-sticks = any
