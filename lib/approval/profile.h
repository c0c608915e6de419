/*
 * profile.h - council profiles: what a council's IT policy says about exceptions to
 * the removable-media rules (who approves, whether exceptions exist, which devices
 * need approval, wipe, user verification, retention). Linked by the engine, the CLI
 * and tests. Profiles are root-owned files, still parsed defensively ("file:line: ...").
 */
#ifndef PCL_APPROVAL_PROFILE_H
#define PCL_APPROVAL_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

enum appr_classes {
	APPR_CLASSES_STORAGE = 1, /* mass storage and media (the usual "USB sticks, disks") */
	APPR_CLASSES_ANY = 2,	  /* any device connected in any way (Watton 5.3) */
};

struct appr_profile {
	char council[64];	 /* id: [a-z0-9-], the rp id is "portcullis:" council */
	char name[128];		 /* "Watton Town Council" */
	char approver_title[64]; /* "Town Clerk" */
	bool exceptions;	 /* false: no exception route at all (Hednesford 1.1.8) */
	int classes;		 /* enum appr_classes */
	bool wipe;		 /* media wiped after the transfer */
	bool uv;		 /* the approver's key must verify its user (PIN) */
	unsigned retention_months;
	unsigned max_grant_hours; /* longest exception; 0 = until unplug only */
	int council_sticks;	  /* enum appr_sticks; optional key, default ANY */
	/* An owed wipe (a take-out stick not yet back) open longer is overdue; optional key
	 * wipe-owed-days, 14 when not given. */
	unsigned wipe_owed_days;
};

enum appr_sticks {
	APPR_STICKS_ANY = 0,   /* the council's registered sticks are used as they are */
	APPR_STICKS_LUKS2 = 1, /* ... read-write only as LUKS2 containers, else read-only */
};

/* Parse a profile named `name` (for diagnostics); 0 or -EINVAL (diag set). */
int appr_profile_parse(const char *buf, size_t len, const char *name, struct appr_profile *p,
		       struct pcl_diag *diag);

/* Whether a and b say the same in every key (the council's text compared exactly). */
bool appr_profile_same(const struct appr_profile *a, const struct appr_profile *b);

/* Load `spec`: an absolute path, or a name looked up as dir/<name>.profile. */
int appr_profile_load(const char *spec, const char *dir, struct appr_profile *p,
		      struct pcl_diag *diag);

#endif
