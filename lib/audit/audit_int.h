/*
 * audit_int.h - internals shared by the files of lib/audit (not installed).
 * Crypto wrappers over OpenSSL, encodings, record framing, signed notes, state file,
 * the verifier's state. Linked with lib/audit by the engine and the CLI; the parsers
 * declared here take untrusted bytes and say what is wrong in a struct pcl_diag.
 */
#ifndef PCL_AUDIT_INT_H
#define PCL_AUDIT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "b64.h"
#include "diag.h"
#include "hex.h"

#define AUDIT_HASH_LEN 32
#define AUDIT_HEX_LEN  64
/* ,"mac":"<64 hex>"} */
#define AUDIT_MAC_SUFFIX_LEN (8 + AUDIT_HEX_LEN + 2)

/* crypto.c (hex and base64 are lib/common's hex.h and b64.h) */
void audit_hex(char out[AUDIT_HEX_LEN + 1], const uint8_t in[AUDIT_HASH_LEN]);
int audit_unhex(uint8_t out[AUDIT_HASH_LEN], const char *in, size_t len);
int audit_kdf_next(uint8_t next[32], const uint8_t cur[32], uint64_t epoch);
int audit_ed25519_keygen(uint8_t priv[32], uint8_t pub[32]);
int audit_ed25519_sign(uint8_t sig[64], const uint8_t priv[32], const void *msg, size_t len);
bool audit_ed25519_verify(const uint8_t pub[32], const uint8_t sig[64], const void *msg,
			  size_t len);

/* Record hasher and MAC with reusable contexts (cheap per record). */
struct audit_hasher;
struct audit_hasher *audit_hasher_new(void);
void audit_hasher_free(struct audit_hasher *h);
/* Hash of a record: SHA-256(body) where body = line minus the mac suffix, plus "}". */
int audit_hasher_record(struct audit_hasher *h, const char *line, size_t len,
			uint8_t out[AUDIT_HASH_LEN]);
int audit_hasher_set_key(struct audit_hasher *h, const uint8_t key[32]);
int audit_hasher_mac(struct audit_hasher *h, const uint8_t hash[AUDIT_HASH_LEN],
		     uint8_t mac[AUDIT_HASH_LEN]);

/* record.c: the fixed framing of a record line (untrusted input). */
enum audit_type { AUDIT_T_RECORD, AUDIT_T_CHECKPOINT, AUDIT_T_PURGE };
struct audit_frame {
	uint64_t seq, epoch;
	uint8_t prev[AUDIT_HASH_LEN];
	uint8_t mac[AUDIT_HASH_LEN];
	enum audit_type type;
	bool has_ts;   /* "@timestamp" is the fifth member, YYYY-MM-DDTHH:MM:SS.mmmZ */
	int64_t ts_ms; /* its value, unix milliseconds */
};
/* Returns 0 or -EBADMSG, the field at fault in d (file "<input>", line 0; d may be NULL). */
int audit_frame_parse(const char *line, size_t len, struct audit_frame *f, struct pcl_diag *d);
/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (exactly 24 bytes) to unix milliseconds; -EINVAL if not. */
int audit_ts_parse(const char *s, size_t len, int64_t *ms);
/* Unix seconds of the first instant of a month "YYYY-MM". */
int64_t audit_month_start(const char *month);

/* intent.c: one entry of the trail's intent file (a slot of AUDIT_INTENT_SLOT bytes):
 * header "PCLINT1\n", generation (u64 LE), segment month "YYYY-MM\0", trail offset (u64 LE),
 * length (u32 LE), 4 zero bytes, SHA-256 of the first 40 header bytes and the payload;
 * then the payload: the segment's bytes from that offset, whole record lines. */
#define AUDIT_INTENT_SLOTS   8
#define AUDIT_INTENT_SLOT    (64 * 1024)
#define AUDIT_INTENT_FILE    (AUDIT_INTENT_SLOTS * AUDIT_INTENT_SLOT)
#define AUDIT_INTENT_HDR     72
#define AUDIT_INTENT_SUM_OFF 40
#define AUDIT_INTENT_OFF_MAX ((uint64_t)1 << 40) /* a segment is far smaller */
#define AUDIT_INTENT_GEN_MAX ((uint64_t)1 << 62)
struct audit_intent {
	uint64_t gen;
	char month[8];
	uint64_t off;
	size_t len;
	const char *bytes; /* into the parsed slot */
};
/* Parse one slot (untrusted; reads only its n bytes): 0 a whole entry, -ENOENT a slot never
 * written (zero header), -EBADMSG torn or altered (the reason in d, which may be NULL). */
int audit_intent_parse(const uint8_t *slot, size_t n, struct audit_intent *e, struct pcl_diag *d);

/* note.c: C2SP signed notes. */
void audit_key_id(uint8_t id[4], const char *name, const uint8_t pub[32]);
/* vkey: <name>+<hex id>+<base64(0x01 || pub)> */
int audit_vkey_format(char *out, size_t len, const char *name, const uint8_t pub[32]);
int audit_vkey_parse(const char *vkey, char *name, size_t namelen, uint8_t pub[32]);
/* Sign text (must end in '\n'); writes text + "\n" + signature line into a malloc'd note. */
int audit_note_sign(char **note, const char *text, const char *name, const uint8_t priv[32],
		    const uint8_t pub[32]);
/* Verify a note against (name, pub). On success *textlen is the signed text length. */
int audit_note_verify(const char *note, size_t len, const char *name, const uint8_t pub[32],
		      size_t *textlen);

/* Parsed checkpoint body (both the regular checkpoint and the purge statement). */
struct audit_ckpt {
	char origin[256];
	uint64_t size; /* records covered (= last seq) */
	uint8_t head[AUDIT_HASH_LEN];
	int64_t time; /* unix seconds */
	uint64_t epoch;
	bool has_next;
	uint8_t next[32]; /* next epoch's public key */
	bool purge;	  /* "purge" statement instead of a checkpoint */
	char before[8];	  /* purge: YYYY-MM, everything before that month is erased */
};
int audit_ckpt_format(char *out, size_t len, const struct audit_ckpt *c);
int audit_ckpt_parse(struct audit_ckpt *c, const char *text, size_t len);

/* state.c: the writer's secret state (0600 file "state" in the trail directory). */
struct audit_state {
	char origin[200]; /* checkpoint origin fixed at enrolment */
	uint64_t epoch;
	uint8_t mac_key[32];
	uint8_t sign_priv[32], sign_pub[32];
	uint8_t next_priv[32], next_pub[32];
	uint64_t ckpt_seq; /* seq covered by the last checkpoint (never decreases) */
	uint8_t ckpt_head[AUDIT_HASH_LEN];
	char purge_hold[40]; /* boot_id of a boot with a clock jump: no purge in it ("" none) */
};
int audit_state_load(const char *dir, struct audit_state *st);
int audit_state_save(const char *dir, const struct audit_state *st);
void audit_state_wipe(struct audit_state *st);

/* verify.c, verify_state.c: the verifier's state (its saved form is verify_state.c's). */
#define AUDIT_VERIFY_RING    4096 /* window for repeats (adjacent once --collected sorts by seq) */
#define AUDIT_VERIFY_MAX_EXT 64
/* 2^20 epochs: ten years of five-minute checkpoints; bounds key derivation work. */
#define AUDIT_MAX_EPOCH (1u << 20)

struct ext_ckpt {
	char name[256];
	char *note;
	size_t len;
	struct audit_ckpt c;
	bool seen;
};

struct ring_slot {
	uint64_t seq;
	uint8_t hash[AUDIT_HASH_LEN];
	int64_t ts_ms;
};

struct audit_verifier {
	struct audit_verify_opts opts;
	struct audit_key key;
	bool keyed;
	char origin[256];
	struct audit_hasher *hasher;
	uint64_t key_epoch; /* epoch of the MAC key loaded in hasher */
	uint8_t mac_key[32];

	bool started;
	uint64_t last_seq;
	uint8_t last_hash[AUDIT_HASH_LEN];
	uint64_t epoch; /* expected epoch of the next record */
	uint8_t pub[32];
	bool pub_known;
	uint8_t (*pubs)[32]; /* certified key per epoch, for external checkpoints */
	bool *pub_set;
	size_t npubs;

	uint8_t start_prev[AUDIT_HASH_LEN];
	char start_month[8];
	int64_t start_ts_ms;
	bool purge_ok;
	uint64_t last_ckpt_seq;
	char *last_note; /* of the last accepted checkpoint */

	bool have_ts;
	int64_t max_ts_ms;  /* latest @timestamp so far */
	char file_month[8]; /* month of the segment being fed (trail-YYYY-MM.jsonl), or "" */

	struct ring_slot *ring;
	struct ext_ckpt ext[AUDIT_VERIFY_MAX_EXT];
	size_t next_ext;
	unsigned reports;
	struct audit_verify_result res;
};

/* Certify pub as the checkpoint key of epoch (and the current one). */
void audit_verifier_set_pub(struct audit_verifier *v, uint64_t epoch, const uint8_t pub[32]);

#endif
