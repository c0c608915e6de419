/*
 * roles.h - the process roles of Portcullis, one row each (roles.c): name, program,
 * user, capabilities kept, seccomp role. docs/architecture.md shows the same table.
 */
#ifndef PCL_ROLES_H
#define PCL_ROLES_H
#include <stdbool.h>

#include "sandbox.h"

enum pcl_role_id {
	PCL_ROLE_PARENT,
	PCL_ROLE_LAUNCHER,
	PCL_ROLE_ENGINE,
	PCL_ROLE_XFERWATCH,
	PCL_ROLE_WIPE,
	PCL_ROLE_WIPER,
	PCL_ROLE_FIDO,
	PCL_ROLE_WIPE_STARTER,
	PCL_ROLE_COUNT
};

struct pcl_role {
	const char *name;
	const char *program; /* in LIBEXECDIR/portcullis; NULL: not a program of its own */
	bool launched;	     /* started by the launcher for the parent (parent_launch.c) */
	const char *user;
	const char *caps; /* capabilities kept, as the unit names them; "none" */
	enum sandbox_role filter;
	const char *filter_at; /* where the role installs its filter */
};

/* The row of role id, or NULL. */
const struct pcl_role *pcl_role_get(unsigned id);

#endif
