/*
 * fidosim.h: lets libfido2 talk to portcullis-token-sim. A device path "sim:/path/sock"
 * names the simulator's UNIX socket; anything else is a real device for fido_dev_open.
 * Linked by the CLI, the daemon's fido helper and the tests (target pcl_fidosim).
 */
#ifndef PCL_FIDOSIM_H
#define PCL_FIDOSIM_H

#include <stdbool.h>

#include <fido.h>

#define FIDOSIM_PREFIX "sim:"

/* true if path names a simulator ("sim:" followed by a socket path). */
bool fidosim_is_sim_path(const char *path);

/* Open dev at path: simulator paths through the simulator transport, others through
 * fido_dev_open(). dev must come from fido_dev_new() and not be open. Returns a
 * libfido2 status (FIDO_OK on success). */
int fidosim_dev_open(fido_dev_t *dev, const char *path);

#endif /* PCL_FIDOSIM_H */
