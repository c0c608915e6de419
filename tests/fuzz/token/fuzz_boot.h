/*
 * fuzz_boot.h - the token fuzz harnesses' start: every input meets a token booted from the
 * same freshly initialised flash. Linked by the fuzz build only.
 */
#ifndef PCL_FUZZ_TOKEN_BOOT_H
#define PCL_FUZZ_TOKEN_BOOT_H

#include "token.h"

/* Boot the token on the test board layer (deterministic RNG) from a flash image made by
 * the first call and restored on every call; auto_touch: the user's presence is given at
 * once. Aborts if the token does not start. */
void fuzz_token_boot(const struct token_config *cfg, int auto_touch);

#endif
