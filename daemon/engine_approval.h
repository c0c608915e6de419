/*
 * engine_approval.h - Clerk approvals in the engine: approver enrolment, approval
 * requests for blocked devices, verification of the approver's FIDO2 assertion
 * (libfido2's verification API, never a device), grants and their expiry.
 */
#ifndef PCL_DAEMON_ENGINE_APPROVAL_H
#define PCL_DAEMON_ENGINE_APPROVAL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct engine;
struct dev_entry;

/* Load the council profile, the approvers and the used nonces (state-dir). 0 or negative
 * errno, logged. */
int eappr_open(struct engine *e);
/* The rule file to load: the configured one if its signature verifies (or while no
 * approver is enrolled), else the last good signed policy. 0, or negative errno (logged)
 * when there is none. */
int eappr_policy_select(struct engine *e, char *path, size_t len);
/* Whether uid requested the exception that d is allowed by (a grant in force). */
bool eappr_requested_by(const struct dev_entry *d, uid_t uid);
/* The feature's hooks: on_decided, a blocked device owing a wipe is let in to be wiped
 * (eappr_owed_recognise); on_disk, a disk added under a USB device is set read-only if
 * its grant says so; on_removed, d's grant ends (a wipe it still owed is recorded as
 * missed); on_tick and on_due (to the second), grants are warned before and ended at
 * their expiry. */
struct engine_hooks;
extern const struct engine_hooks eappr_hooks;
/* Wipe after the transfer: a medium of d was mounted; whether its grant now asks for a
 * wipe (read-write, mounted since approved or last wiped, and the approval said so); it
 * was wiped. */
void eappr_medium_mounted(const struct dev_entry *d, uint64_t bytes);
bool eappr_wipe_due(const struct dev_entry *d);
/* What happens to d's medium, for the owner's notice at first use: "none", "at-eject"
 * (wiped here once the transfer is over) or "owed" (taken out: wiped when it comes back
 * to a council PC, recorded wipe-owed when it leaves written). */
const char *eappr_wipe_plan(const struct dev_entry *d);
/* Is d allowed under a read-only grant (its disks must never be mounted read-write)? */
bool eappr_read_only(const struct dev_entry *d);
void eappr_medium_wiped(struct engine *e, const struct dev_entry *d);
/* The wipe due at d's eject (eappr_wipe_due) did not start, for a reason (why) other than
 * the medium being busy: recorded `wipe-refused` with the attempt and whether it is tried
 * again; it is, EAPPR_WIPE_RETRY_SECONDS later, up to EAPPR_WIPE_TRIES attempts in all.
 * After the last the device is blocked (fail closed: it leaves unwiped, recorded
 * wipe-missed, and an owed wipe stays open for its next insertion). */
#define EAPPR_WIPE_TRIES	 3
#define EAPPR_WIPE_RETRY_SECONDS 3
void eappr_wipe_refused(struct engine *e, struct dev_entry *d, const char *why);
/* When (wall-clock seconds) d's refused wipe is to be tried again, 0 for none. */
int64_t eappr_wipe_retry_at(const struct dev_entry *d);
/* Whether d's wipe, refused at its last attempt, is to be tried now (its time, now, has
 * come; the mark is cleared and eappr_wipe_refused sets it again). */
bool eappr_wipe_retry_due(const struct dev_entry *d, int64_t now);
/* A device the rules block: if the council bundle lists it as owing a wipe (and it was
 * not wiped here since), it is let in read-only to be wiped at eject (true; d->state is
 * then DEV_ALLOWED, recorded wipe-owed-found). */
bool eappr_owed_recognise(struct engine *e, struct dev_entry *d);
/* Council sticks (allowed by the rules): a file was written to d's medium (it now owes its
 * wipe when it leaves); it was wiped here (settled); it left (wipe-owed, with a reference
 * made here). */
void eappr_owed_written(const struct dev_entry *d);
void eappr_owed_settled(const struct dev_entry *d);
void eappr_owed_left(struct engine *e, const struct dev_entry *d);
/* Close an owed wipe by hand (control command wipe-owed-close; the caller checked who). */
struct json_object *eappr_owed_close(struct engine *e, const char *ref, const char *reason,
				     uid_t uid);
/* The reference of the approval d is allowed by ("A-" and 16 hex digits of its request's
 * nonce, also in the exception-approved record as approval.ref), or "none". */
void eappr_reference(const struct dev_entry *d, char *out, size_t len);
/* Is d let in by an exception (a grant in force), rather than by a rule? */
bool eappr_granted(const struct dev_entry *d);
/* Does the council profile in force say its own sticks must be LUKS2 containers? */
bool eappr_council_luks2(void);

#endif
