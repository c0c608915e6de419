/*
 * roles.c - the role table (roles.h): every process of Portcullis, which program it is,
 * the user it runs as, the capabilities it keeps and the seccomp allow-list it installs
 * (sandbox.c). Linked by portcullisd (its launcher starts programs only from this table)
 * and by the sandbox tests. No input.
 */
#include "roles.h"

#include <stddef.h>

static const struct pcl_role roles[PCL_ROLE_COUNT] = {
    [PCL_ROLE_PARENT] = {"parent", NULL, false, "root", "the unit's set", SANDBOX_PARENT,
			 "after the launcher and the first engine are started"},
    [PCL_ROLE_LAUNCHER] = {"launcher", NULL, false, "root", "the unit's set", SANDBOX_LAUNCHER,
			   "at once (forked by the parent before its filter)"},
    [PCL_ROLE_ENGINE] = {"engine", "portcullis-engine", true, "the engine user", "none",
			 SANDBOX_ENGINE, "after its privilege drop, before the first event"},
    [PCL_ROLE_XFERWATCH] = {"transfer-log watcher", "portcullis-xferwatch", true, "root",
			    "CAP_SYS_ADMIN (fanotify, eBPF) CAP_DAC_READ_SEARCH CAP_SYS_PTRACE",
			    SANDBOX_XFERWATCH,
			    "once its eBPF program is attached and its fanotify groups are marked, "
			    "before the first event"},
    [PCL_ROLE_WIPE] = {"wipe orchestrator", "portcullis-wipe", true, "root", "the unit's set",
		       SANDBOX_WIPE, "at its start, once its starter is forked"},
    [PCL_ROLE_WIPE_STARTER] = {"wipe starter", NULL, false, "root", "the unit's set",
			       SANDBOX_WIPE_STARTER,
			       "at once (forked by portcullis-wipe before its filter)"},
    [PCL_ROLE_WIPER] = {"wiper", "portcullis-wiper", false, "nobody", "none", SANDBOX_WIPER,
			"right after reading its job"},
    [PCL_ROLE_FIDO] = {"fido helper", NULL, false, "nobody or the invoking user", "none",
		       SANDBOX_FIDO, "once the key is open"},
};

const struct pcl_role *pcl_role_get(unsigned id)
{
	return id < PCL_ROLE_COUNT ? &roles[id] : NULL;
}
