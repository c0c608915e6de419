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
