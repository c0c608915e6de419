/*
 * wipe.h - secure wipe of a removable medium: keyed pattern, engine, pre-checks,
 * certificate and the wiper's report protocol.
 * Linked by the wiper process (portcullis-wiper), the portcullis CLI and, later, the
 * daemon parent. Error convention of lib/: 0 or a count on success, -errno on failure;
 * parsers and refusing checks fill a struct pcl_diag. Nothing here logs.
 */
#ifndef PCL_WIPE_H
#define PCL_WIPE_H

#include "diag.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WIPE_KEY_LEN	   32		      /* AES-256 key of the pattern */
#define WIPE_CHUNK_DEFAULT (4u * 1024 * 1024) /* bytes per write/read */
#define WIPE_ALIGN	   4096		      /* buffer alignment for O_DIRECT */
#define WIPE_METHOD	   "Clear (keyed pattern overwrite + full verify)"

/* ---- pattern: AES-256-CTR keystream whose counter is the byte offset / 16 ---- */

struct wipe_pattern;

/* Create a pattern generator for key (WIPE_KEY_LEN bytes); the key is copied. */
int wipe_pattern_new(struct wipe_pattern **out, const uint8_t key[WIPE_KEY_LEN]);
/* Wipe the key schedule and free; *p becomes NULL. */
void wipe_pattern_free(struct wipe_pattern **p);
/* Fill buf with the pattern of device bytes [offset, offset+len); offset % 16 == 0. */
int wipe_pattern_fill(struct wipe_pattern *p, uint64_t offset, uint8_t *buf, size_t len);
/*
 * Which device offset was the 16-byte pattern unit `unit` written for?
 * Returns 0 and sets *offset when unit is pattern data of this key (for any offset),
 * -ENOENT when it is not (foreign data, zeros, corruption).
 */
int wipe_pattern_locate(struct wipe_pattern *p, const uint8_t unit[16], uint64_t *offset);

/* ---- engine ---- */

/* I/O seam: the real one works on a block-device fd, tests use memory. */
struct wipe_io_ops {
	ssize_t (*pwrite)(void *ctx, const void *buf, size_t len, uint64_t off);
	ssize_t (*pread)(void *ctx, void *buf, size_t len, uint64_t off);
	/* Discard [off, off+len); -EOPNOTSUPP when unsupported. May be NULL. */
	int (*discard)(void *ctx, uint64_t off, uint64_t len);
	/* Flush the device's write cache; -errno on failure. May be NULL. */
	int (*flush)(void *ctx);
};

/* Ops over a block-device fd: pwrite/pread, BLKDISCARD, fdatasync. ctx is (int *)fd. */
extern const struct wipe_io_ops wipe_fd_ops;

enum wipe_phase { WIPE_PHASE_WRITE = 0, WIPE_PHASE_VERIFY, WIPE_PHASE_DISCARD, WIPE_PHASE_DONE };

enum wipe_status {
	WIPE_OK = 0,
	WIPE_ERR_MISMATCH, /* read-back differs from the pattern */
	WIPE_ERR_WRAPPED,  /* read-back holds the pattern of another address: fake capacity */
	WIPE_ERR_SHORT,	   /* device ended before its announced size */
	WIPE_ERR_IO,	   /* I/O error */
	WIPE_ERR_GONE,	   /* device disappeared (ENODEV/ENXIO) */
	WIPE_ERR_INTERNAL, /* out of memory, crypto failure */
	WIPE_ERR_CANCELLED,
	WIPE_ERR_REFUSED, /* the wiper refused the job (device size changed, bad fd) */
};

struct wipe_progress {
	enum wipe_phase phase;
	uint64_t done;	/* bytes done in this phase */
	uint64_t total; /* bytes of this phase */
	double rate;	/* bytes per second in this phase so far */
	double eta;	/* seconds left for the whole job, estimated */
	double elapsed; /* seconds since the job started */
};

struct wipe_params {
	uint64_t size;	   /* bytes to wipe (the device size recorded at approval) */
	uint32_t chunk;	   /* bytes per I/O, multiple of block; 0: WIPE_CHUNK_DEFAULT */
	uint32_t block;	   /* logical block size for reporting; 0: 512 */
	int discard;	   /* 1: BLKDISCARD after a verified pass */
	int verify;	   /* 1: full read-back (always on in the wiper) */
	int single_thread; /* 1: no worker thread (a benchmark baseline only) */
	/* Called from the engine's main thread at most every progress_interval seconds. */
	void (*progress)(void *ctx, const struct wipe_progress *p);
	void *progress_ctx;
	double progress_interval; /* 0: 0.5 s */
	/* Polled between chunks; nonzero cancels. May be NULL. */
	int (*cancelled)(void *ctx);
};

struct wipe_result {
	enum wipe_status status;
	int err;		  /* errno of an I/O failure, 0 otherwise */
	uint64_t written;	  /* bytes written and acknowledged */
	uint64_t verified;	  /* bytes read back and matching */
	uint64_t first_bad;	  /* first mismatching byte offset (MISMATCH/WRAPPED/SHORT/IO) */
	uint64_t first_bad_block; /* first_bad / block */
	uint64_t wrapped_to;	  /* WRAPPED: the offset whose pattern was found at first_bad */
	int discarded;		  /* 1 when BLKDISCARD succeeded */
	double write_seconds, verify_seconds;
	char reason[160]; /* human-readable, empty when OK */
};

/*
 * Overwrite [0, size) with the keyed pattern, then read everything back and compare,
 * then discard when asked. Returns 0 when the engine ran (see res->status), -errno
 * when it could not start (bad parameters, out of memory).
 */
int wipe_run(const struct wipe_io_ops *ops, void *io_ctx, const uint8_t key[WIPE_KEY_LEN],
	     const struct wipe_params *params, struct wipe_result *res);

/*
 * The root parent's own check of a wiper's "ok": read `samples` random blocks of `block`
 * bytes (plus the first and the last) through its own fd and compare them with the
 * pattern of the key it generated. Run before any discard. Returns 0 when all match,
 * -EBADMSG with res->status/first_bad/reason set when one does not, -errno on I/O errors.
 */
int wipe_spot_check(const struct wipe_io_ops *ops, void *io_ctx, const uint8_t key[WIPE_KEY_LEN],
		    uint64_t size, uint32_t block, unsigned samples, struct wipe_result *res);

const char *wipe_status_name(enum wipe_status s);
/* Parse a status name back; -EINVAL when unknown. */
int wipe_status_parse(const char *name, enum wipe_status *out);

/* ---- parameters handed to the wiper on its parameter fd (key never in argv) ---- */

struct wipe_job {
	uint8_t key[WIPE_KEY_LEN];
	uint64_t size;
	uint32_t chunk;
	uint32_t block;
	int discard;
};

/* Serialise a job as "version=1\nkey=<hex>\nsize=N\nchunk=N\nblock=N\ndiscard=0|1\n". */
int wipe_job_format(const struct wipe_job *job, char *buf, size_t len);
/* Parse the same text; unknown keys, duplicates, bad numbers fail with a diag. */
int wipe_job_parse(const char *text, size_t len, struct wipe_job *job, struct pcl_diag *d);

/* ---- report lines the wiper prints on stdout (one JSON object per line) ---- */

enum wipe_report_kind { WIPE_REPORT_START = 1, WIPE_REPORT_PROGRESS, WIPE_REPORT_RESULT };

struct wipe_report {
	enum wipe_report_kind kind;
	struct wipe_progress progress; /* PROGRESS */
	struct wipe_result result;     /* RESULT */
	uint64_t size;		       /* START */
	int64_t time;		       /* START/RESULT: unix seconds */
};

/* Format one line (with '\n'); returns its length or -ENOSPC. */
int wipe_report_format(const struct wipe_report *r, char *buf, size_t len);
/* Parse one line from the (unprivileged, so untrusted) wiper. */
int wipe_report_parse(const char *line, size_t len, struct wipe_report *r, struct pcl_diag *d);

/* ---- running portcullis-wiper (the CLI's --local mode and the daemon parent) ---- */

struct wipe_child {
	pid_t pid;
	int out;	/* read end of the wiper's stdout */
	char buf[8192]; /* partial line */
	size_t len;
};

/*
 * Start `wiper --fd 3 --job-fd 4 --user USER` with devfd as fd 3, the job written into a
 * pipe read as fd 4 and stdout piped back. Only fds 0-4 are inherited. The job (with the
 * key) is written here; the caller wipes its copy.
 */
int wipe_spawn(const char *wiper, int devfd, const struct wipe_job *job, const char *user,
	       struct wipe_child *c);
/* How wipe_spawn starts the wiper: fds[0], fds[1], fds[2] become its descriptors 1, 3
 * and 4; returns its pid (a child of the caller) or a negative errno. NULL (the default):
 * fork and exec here. portcullis-wipe, whose filter has no execve, sets its starter's
 * (tools/wipe_starter.c). */
typedef long (*wipe_start_fn)(const char *wiper, const char *user, const int fds[3]);
void wipe_spawn_set_starter(wipe_start_fn start);
/* Next report line: 1 and *r filled, 0 at end of output, -EINVAL (diag) on a bad line. */
int wipe_child_next(struct wipe_child *c, struct wipe_report *r, struct pcl_diag *d);
/* Kill (when kill_it), reap, close; returns the wait status or -errno. */
int wipe_child_finish(struct wipe_child *c, int kill_it);

/* ---- pre-checks (pure, with the sysfs and mount-table roots as seams) ---- */

struct wipe_sysroot {
	const char *sysfs;     /* "/sys" */
	const char *mountinfo; /* "/proc/self/mountinfo" */
	const char *swaps;     /* "/proc/swaps" */
};

extern const struct wipe_sysroot wipe_sysroot_default;

#define WIPE_MAX_DEVS 64

/* The whole disk, its partitions and everything stacked on them (dm, md, loop holders). */
struct wipe_devset {
	dev_t devs[WIPE_MAX_DEVS];
	char names[WIPE_MAX_DEVS][32];
	size_t n;
};

/* Collect the disk dev and all partitions/holders below /sys/dev/block/M:m. */
int wipe_devset_collect(const struct wipe_sysroot *root, dev_t disk, struct wipe_devset *set);

struct wipe_mount_hit {
	dev_t dev;
	char mountpoint[256];
	int is_root; /* mounted at "/" */
};

/*
 * Scan /proc/self/mountinfo text for a mount whose device is in set. Returns 1 and
 * fills hit when found, 0 when none, -EINVAL with a diag on a malformed line.
 */
int wipe_mountinfo_find(const char *text, size_t len, const struct wipe_devset *set,
			struct wipe_mount_hit *hit, struct pcl_diag *d);

/*
 * Refuse a device that is not safe to wipe: not a whole disk, the system disk (holds "/"
 * or a holder of it), mounted anywhere (itself, a partition or a dm/md/loop holder),
 * or used as swap. Returns 0 when safe, -EBUSY/-EPERM/-EINVAL with why in d (file "", the
 * disk being the caller's to name; a malformed mount table as "mountinfo:LINE").
 */
int wipe_precheck(const struct wipe_sysroot *root, dev_t disk, struct pcl_diag *d);

/* What the approval recorded about the medium, re-read before wiping. */
struct wipe_identity {
	char vendor[64], model[64], serial[128];
	uint64_t size; /* bytes */
	char usb_vid[8], usb_pid[8], usb_serial[128];
	char usb_path[64]; /* e.g. "1-1.2"; informative, not compared */
};

/* Read the identity of disk from sysfs (size, vendor, model, serial, USB ancestor). */
int wipe_identity_read(const struct wipe_sysroot *root, dev_t disk, struct wipe_identity *id);
/* 0 when same medium; -EPERM and the differing field named in d (file "") otherwise. */
int wipe_identity_compare(const struct wipe_identity *expected, const struct wipe_identity *now,
			  struct pcl_diag *d);
/* JSON form, as recorded with an approval and by `portcullis wipe --identify`. */
int wipe_identity_to_json(const struct wipe_identity *id, char *buf, size_t len);
int wipe_identity_from_json(const char *text, size_t len, struct wipe_identity *id,
			    struct pcl_diag *d);

/* ---- certificate of sanitisation (NIST SP 800-88 Rev. 1, appendix G fields) ---- */

struct wipe_cert {
	struct wipe_identity media;
	char method[160];
	char method_type[16];	/* "Clear" or "Purge"; "" = "Clear" */
	char verification[160]; /* what was read back; "" = "full read-back of every byte" */
	char tool[64];		/* "portcullis-wiper 0.1.0" */
	unsigned passes;
	enum wipe_status status;
	char reason[160];
	uint64_t first_bad_block;
	uint32_t block;
	uint64_t verified;
	int discarded;
	char filesystem[16]; /* "vfat", "none" */
	int64_t start, end;  /* unix seconds, UTC */
	char operator_name[64];
	char approval[128];
	char host[64];
	char device[64];   /* device node at the time, e.g. /dev/sdb */
	char usb_hash[48]; /* USBGuard-compatible hash of the USB device; "" = not known */
};

#define WIPE_MEDIA_TYPE "Flash memory (removable)" /* NIST SP 800-88 media type */

/* Signing seam: sign msg, write signature and its length; 0 or -errno. */
struct wipe_signer {
	const char *alg;    /* "ed25519" */
	const char *key_id; /* e.g. hex SHA-256 of the public key, printed in the cert */
	int (*sign)(void *ctx, const uint8_t *msg, size_t len, uint8_t *sig, size_t *siglen);
	void *ctx;
};

/* Canonical JSON of the certificate body (fixed key order, no whitespace). */
int wipe_cert_canonical(const struct wipe_cert *c, char *buf, size_t len);
/* {"certificate":<canonical>,"signature":{"alg":..,"key_id":..,"value":<base64>}}\n;
 * signer may be NULL (unsigned, "signature":null). */
int wipe_cert_signed_json(const struct wipe_cert *c, const struct wipe_signer *s, char *buf,
			  size_t len);
/* Printable forms for the Clerk. */
int wipe_cert_text(const struct wipe_cert *c, const char *sigline, char *buf, size_t len);
int wipe_cert_html(const struct wipe_cert *c, const char *sigline, char *buf, size_t len);

/* Ed25519 signer over an OpenSSL key (the IT provider's bench key, and tests). */
struct wipe_ed25519;
int wipe_ed25519_load(struct wipe_ed25519 **out, const char *pem_path);
int wipe_ed25519_generate(struct wipe_ed25519 **out);
void wipe_ed25519_free(struct wipe_ed25519 **k);
void wipe_ed25519_signer(struct wipe_ed25519 *k, struct wipe_signer *s);
/* Verify a signed certificate JSON with the raw 32-byte public key: 0, -EBADMSG, -EINVAL. */
int wipe_cert_verify_ed25519(const char *json, size_t len, const uint8_t pub[32],
			     struct pcl_diag *d);
int wipe_ed25519_public(struct wipe_ed25519 *k, uint8_t pub[32]);
/* Write the private key as PEM to a new file (mode 0600, never an existing file nor
 * through a link): 0, -EEXIST, -errno. */
int wipe_ed25519_save(struct wipe_ed25519 *k, const char *pem_path);
/* The key's id as printed on certificates (hex of SHA-256(public key)[0:16]). */
const char *wipe_ed25519_key_id(const struct wipe_ed25519 *k);

#endif
