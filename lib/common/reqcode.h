/*
 * reqcode.h - the request code: a short, human-typable name for one USB device.
 * Linked by the portcullis CLI (status, notify) and the approval code. A councillor reads
 * the code off their screen and quotes it to the Clerk; the Clerk types it back.
 *
 * Derivation (version 1): SHA-256 over the ASCII tag "portcullis-request-code-v1", one NUL
 * byte, then the device's USBGuard hash string exactly as USBGuard prints it (base64);
 * the first 40 bits of the digest, most significant first, as 8 Crockford base32 digits
 * (0-9 A-Z without I L O U), written "XXXX-XXXX". The code only *names* a device among
 * those a Clerk is looking at; it is never an authorisation (an approval binds the full
 * device identity).
 */
#ifndef PCL_REQCODE_H
#define PCL_REQCODE_H

#define PCL_REQUEST_CODE_LEN 10 /* "XXXX-XXXX" and its NUL */

/* The request code of a device from its USBGuard hash (1 to 128 base64 characters:
 * A-Z a-z 0-9 + / =). Returns 0, or -EINVAL (out set to "") for a missing or malformed
 * hash. */
int pcl_request_code(const char *usb_hash, char out[PCL_REQUEST_CODE_LEN]);

/* Normalise a code as a person typed it: case, spaces and hyphens are ignored, and the
 * look-alikes Crockford allows are mapped (I L -> 1, O -> 0). Returns 0 with the canonical
 * "XXXX-XXXX" in out, or -EINVAL (out set to "") when it is not 8 base32 digits. */
int pcl_request_code_normalise(const char *typed, char out[PCL_REQUEST_CODE_LEN]);

#endif
