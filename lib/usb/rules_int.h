/*
 * rules_int.h - internal representation of a parsed rule set, shared by the
 * lexer, parser, matcher and formatter of lib/usb. Not installed.
 */
#ifndef PCL_RULES_INT_H
#define PCL_RULES_INT_H

#include "rules.h"

enum rules_attr {
	RA_ID,
	RA_SERIAL,
	RA_NAME,
	RA_HASH,
	RA_PARENT_HASH,
	RA_VIA_PORT,
	RA_WITH_IFACE,
	RA_CONNECT_TYPE,
	RA_LABEL,
	RA_AUTH_IFACES, /* extension: which interfaces an allow authorises */
	RA_COUNT
};

enum rules_op {
	ROP_EQUALS,
	ROP_ALL_OF,
	ROP_ONE_OF,
	ROP_NONE_OF,
	ROP_EQUALS_ORDERED,
	ROP_MATCH_ALL
};

#define RULES_IF_CLASS	  1u
#define RULES_IF_SUBCLASS 2u
#define RULES_IF_PROTOCOL 4u

struct rules_value {
	char *str;		       /* string attributes */
	int32_t vid, pid;	       /* id: -1 = "*" */
	uint8_t cls, sub, proto, mask; /* interface type; mask RULES_IF_* */
};

struct rules_attrval {
	bool present;
	enum rules_op op;
	size_t n;
	struct rules_value *v;
};

struct rules_rule {
	enum rules_target target;
	unsigned line;
	char *text;
	struct rules_attrval a[RA_COUNT];
};

/* One index bucket: rule indices in ascending order. */
struct rules_bucket {
	uint64_t h; /* FNV-1a of key, compared before the key itself */
	char *key;
	uint32_t *idx;
	size_t n, cap;
};

struct rules {
	char *file;
	struct rules_rule *rules;
	size_t n, cap;
	struct rules_bucket *table; /* open addressing, tcap slots (power of two) */
	size_t tcap, tused;
	size_t nkeys_hash, nkeys_id, nkeys_vid; /* buckets per key kind ('h', 'i', 'v') */
	uint32_t *fallback;			/* rules that no key can select, in order */
	size_t nfallback, capfallback;
};

/* Lexer */
enum rules_tok { RT_EOF, RT_EOL, RT_WORD, RT_STRING, RT_LBRACE, RT_RBRACE, RT_ERROR };

struct rules_lexer {
	const char *p, *end;
	unsigned line;
	char *tok; /* token text (unescaped for strings), NUL-terminated */
	size_t toklen, tokcap;
	char err[160]; /* set with RT_ERROR */
};

void rules_lex_init(struct rules_lexer *lx, const char *buf, size_t len);
enum rules_tok rules_lex_next(struct rules_lexer *lx);
void rules_lex_free(struct rules_lexer *lx);

/* Matcher internals used by the parser and benchmarks. */
int rules_index_build(struct rules *r);
void rules_rule_free(struct rules_rule *rule);

#endif
