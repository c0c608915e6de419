/*
 * rules_parse.c - parser of USBGuard rule files into a rule set: targets,
 * attributes with set operators, the legacy bare device id, and the
 * `authorize-interfaces` extension. Linked by the engine, the CLI and tests.
 * Input is an administrator's rule file; every error is reported as
 * "file:line: message" naming the token, and any error rejects the file.
 */
#include "rules_int.h"

#include "fileio.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RULES_FILE_MAX (64u << 20)
#define RULES_MAX      1000000u
#define LIST_MAX       4096u

struct perr {
	struct pcl_diag *diags;
	size_t max, n;
	const char *file;
};

static void perr_add(struct perr *e, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void perr_add(struct perr *e, unsigned line, const char *fmt, ...)
{
	char msg[PCL_DIAG_MSG_MAX];
	va_list ap;

	if (e->n < e->max && e->diags != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		pcl_diag_set(&e->diags[e->n], e->file, line, "%s", msg);
	}
	e->n++;
}

static const struct {
	const char *name;
	enum rules_attr attr;
} attr_names[] = {
    {"id", RA_ID},
    {"serial", RA_SERIAL},
    {"name", RA_NAME},
    {"hash", RA_HASH},
    {"parent-hash", RA_PARENT_HASH},
    {"via-port", RA_VIA_PORT},
    {"with-interface", RA_WITH_IFACE},
    {"with-connect-type", RA_CONNECT_TYPE},
    {"label", RA_LABEL},
    {"authorize-interfaces", RA_AUTH_IFACES},
};

static const struct {
	const char *name;
	enum rules_op op;
} op_names[] = {
    {"all-of", ROP_ALL_OF},
    {"one-of", ROP_ONE_OF},
    {"none-of", ROP_NONE_OF},
    {"equals", ROP_EQUALS},
    {"equals-ordered", ROP_EQUALS_ORDERED},
    {"match-all", ROP_MATCH_ALL},
};

static int hex_digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			v = v * 16 + (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* "vvvv:pppp", "vvvv:*" or "*:*" */
static int parse_id(const char *s, struct rules_value *v)
{
	unsigned x;

	if (strcmp(s, "*:*") == 0) {
		v->vid = v->pid = -1;
		return 0;
	}
	if (strlen(s) < 6 || s[4] != ':' || hex_digits(s, 4, &x) != 0)
		return -1;
	v->vid = (int32_t)x;
	if (strcmp(s + 5, "*") == 0) {
		v->pid = -1;
		return 0;
	}
	if (strlen(s) != 9 || hex_digits(s + 5, 4, &x) != 0)
		return -1;
	v->pid = (int32_t)x;
	return 0;
}

/* USBGuard spells the patterns "cc:*:*", "cc:ss:*", "cc:ss:pp". */
static int parse_iface_strict(const char *s, struct rules_value *v)
{
	unsigned x;
	size_t len = strlen(s);

	memset(v, 0, sizeof(*v));
	if (len < 6 || s[2] != ':' || hex_digits(s, 2, &x) != 0)
		return -1;
	v->cls = (uint8_t)x;
	v->mask = RULES_IF_CLASS;
	if (strcmp(s + 3, "*:*") == 0)
		return 0;
	if (len < 7 || s[5] != ':' || hex_digits(s + 3, 2, &x) != 0)
		return -1;
	v->sub = (uint8_t)x;
	v->mask |= RULES_IF_SUBCLASS;
	if (strcmp(s + 6, "*") == 0)
		return 0;
	if (len != 8 || hex_digits(s + 6, 2, &x) != 0)
		return -1;
	v->proto = (uint8_t)x;
	v->mask |= RULES_IF_PROTOCOL;
	return 0;
}

static bool attr_is_string(enum rules_attr a)
{
	return a != RA_ID && a != RA_WITH_IFACE && a != RA_AUTH_IFACES;
}

/* Convert one value token of attribute a. Returns 0 or -1 with msg set. */
static int value_from_token(enum rules_attr a, const char *aname, enum rules_tok t, const char *tok,
			    struct rules_value *v, char *msg, size_t msglen)
{
	memset(v, 0, sizeof(*v));
	if (attr_is_string(a)) {
		if (t != RT_STRING) {
			snprintf(msg, msglen, "%s: expected a quoted string, got '%.60s'", aname,
				 tok);
			return -1;
		}
		v->str = strdup(tok);
		if (v->str == NULL) {
			snprintf(msg, msglen, "out of memory");
			return -1;
		}
		return 0;
	}
	if (t != RT_WORD) {
		snprintf(msg, msglen, "%s: expected %s, got \"%.60s\"", aname,
			 a == RA_ID ? "a device id vvvv:pppp" : "an interface type cc:ss:pp", tok);
		return -1;
	}
	if (a == RA_ID) {
		if (parse_id(tok, v) != 0) {
			snprintf(
			    msg, msglen,
			    "id: invalid device id '%.60s' (expected vvvv:pppp, vvvv:* or *:*)",
			    tok);
			return -1;
		}
		return 0;
	}
	if (parse_iface_strict(tok, v) != 0) {
		snprintf(
		    msg, msglen,
		    "%s: invalid interface type '%.60s' (expected cc:ss:pp, cc:ss:* or cc:*:*)",
		    aname, tok);
		return -1;
	}
	return 0;
}

void rules_rule_free(struct rules_rule *rule)
{
	for (int a = 0; a < RA_COUNT; a++) {
		for (size_t i = 0; i < rule->a[a].n; i++)
			free(rule->a[a].v[i].str);
		free(rule->a[a].v);
	}
	free(rule->text);
	memset(rule, 0, sizeof(*rule));
}

static int attr_append(struct rules_attrval *av, const struct rules_value *v)
{
	struct rules_value *n = realloc(av->v, (av->n + 1) * sizeof(*n));

	if (n == NULL)
		return -1;
	av->v = n;
	av->v[av->n++] = *v;
	return 0;
}

/* Parse the value part of attribute a (single value or [op] { list }). */
static int parse_attr_value(struct rules_lexer *lx, enum rules_attr a, const char *aname,
			    struct rules_attrval *av, char *msg, size_t msglen)
{
	enum rules_tok t = rules_lex_next(lx);
	struct rules_value v;

	av->present = true;
	av->op = ROP_EQUALS;
	if (t == RT_WORD) {
		for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++) {
			if (strcmp(lx->tok, op_names[i].name) == 0) {
				if (a == RA_AUTH_IFACES || a == RA_LABEL) {
					snprintf(msg, msglen, "%s takes no set operator ('%s')",
						 aname, lx->tok);
					return -1;
				}
				av->op = op_names[i].op;
				t = rules_lex_next(lx);
				if (t != RT_LBRACE) {
					snprintf(msg, msglen,
						 "%s %s: expected '{' after the operator", aname,
						 op_names[i].name);
					return -1;
				}
				break;
			}
		}
	}
	if (t == RT_ERROR) {
		snprintf(msg, msglen, "%s: %s", aname, lx->err);
		return -1;
	}
	if (t == RT_EOL || t == RT_EOF || t == RT_RBRACE) {
		snprintf(msg, msglen, "%s: missing value", aname);
		return -1;
	}
	if (t != RT_LBRACE) {
		if (value_from_token(a, aname, t, lx->tok, &v, msg, msglen) != 0)
			return -1;
		if (attr_append(av, &v) != 0) {
			free(v.str);
			snprintf(msg, msglen, "out of memory");
			return -1;
		}
		return 0;
	}
	for (;;) {
		t = rules_lex_next(lx);
		if (t == RT_RBRACE)
			break;
		if (t == RT_ERROR) {
			snprintf(msg, msglen, "%s: %s", aname, lx->err);
			return -1;
		}
		if (t == RT_EOL || t == RT_EOF) {
			snprintf(msg, msglen, "%s: missing '}' before the end of the line", aname);
			return -1;
		}
		if (t == RT_LBRACE) {
			snprintf(msg, msglen, "%s: nested '{'", aname);
			return -1;
		}
		if (av->n >= LIST_MAX) {
			snprintf(msg, msglen, "%s: more than %u values", aname, LIST_MAX);
			return -1;
		}
		if (value_from_token(a, aname, t, lx->tok, &v, msg, msglen) != 0)
			return -1;
		if (attr_append(av, &v) != 0) {
			free(v.str);
			snprintf(msg, msglen, "out of memory");
			return -1;
		}
	}
	if (av->n == 0) {
		snprintf(msg, msglen, "%s: empty list '{ }'", aname);
		return -1;
	}
	return 0;
}

/* The rule's target, its first word (t, already read): 0, or -1 (msg). */
static int parse_target(struct rules_lexer *lx, enum rules_tok t, struct rules_rule *rule,
			char *msg, size_t msglen)
{
	if (t == RT_ERROR) {
		snprintf(msg, msglen, "%s", lx->err);
		return -1;
	}
	if (t != RT_WORD) {
		snprintf(msg, msglen,
			 "expected a target (allow, block, reject) at the start of the rule");
		return -1;
	}
	if (strcmp(lx->tok, "allow") == 0)
		rule->target = RULES_ALLOW;
	else if (strcmp(lx->tok, "block") == 0)
		rule->target = RULES_BLOCK;
	else if (strcmp(lx->tok, "reject") == 0)
		rule->target = RULES_REJECT;
	else {
		snprintf(msg, msglen, "unknown target '%.60s' (expected allow, block or reject)",
			 lx->tok);
		return -1;
	}
	return 0;
}

/* The legacy form: the device id (the word just read) right after the target. */
static int parse_legacy_id(struct rules_lexer *lx, struct rules_rule *rule, char *msg,
			   size_t msglen)
{
	struct rules_value v;

	if (value_from_token(RA_ID, "id", RT_WORD, lx->tok, &v, msg, msglen) != 0)
		return -1;
	rule->a[RA_ID].present = true;
	rule->a[RA_ID].op = ROP_EQUALS;
	if (attr_append(&rule->a[RA_ID], &v) != 0) {
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	return 0;
}

/* One attribute, its name the word just read, and its value: 0, or -1 (msg). */
static int parse_attr(struct rules_lexer *lx, struct rules_rule *rule, char *msg, size_t msglen)
{
	enum rules_attr a = RA_COUNT;
	const char *aname = NULL;

	for (size_t i = 0; i < sizeof(attr_names) / sizeof(attr_names[0]); i++) {
		if (strcmp(lx->tok, attr_names[i].name) == 0) {
			a = attr_names[i].attr;
			aname = attr_names[i].name;
		}
	}
	if (a == RA_COUNT) {
		if (strcmp(lx->tok, "if") == 0)
			snprintf(msg, msglen,
				 "rule conditions ('if ...') are not supported; the rule would "
				 "never apply as written");
		else
			snprintf(msg, msglen, "unknown attribute '%.60s'", lx->tok);
		return -1;
	}
	if (rule->a[a].present) {
		snprintf(msg, msglen, "attribute '%s' given twice", aname);
		return -1;
	}
	return parse_attr_value(lx, a, aname, &rule->a[a], msg, msglen);
}

/* The rule as written, without the white space around it (rule->text); 0, or -1. */
static int keep_text(const char *line, size_t len, struct rules_rule *rule, char *msg,
		     size_t msglen)
{
	size_t b = 0, e = len;

	while (b < e && (line[b] == ' ' || line[b] == '\t'))
		b++;
	while (e > b && (line[e - 1] == ' ' || line[e - 1] == '\t' || line[e - 1] == '\r'))
		e--;
	rule->text = strndup(line + b, e - b);
	if (rule->text == NULL) {
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	return 0;
}

/* Parse one line into rule. Returns 1 for a rule, 0 for a blank line, -1 on error (msg). */
static int parse_line(const char *line, size_t len, unsigned lineno, struct rules_rule *rule,
		      char *msg, size_t msglen)
{
	struct rules_lexer lx;
	enum rules_tok t;
	int rc = -1;

	memset(rule, 0, sizeof(*rule));
	rules_lex_init(&lx, line, len);
	lx.line = lineno;
	t = rules_lex_next(&lx);
	if (t == RT_EOF || t == RT_EOL) {
		rules_lex_free(&lx);
		return 0;
	}
	if (parse_target(&lx, t, rule, msg, msglen) != 0)
		goto out;
	for (bool first = true;; first = false) {
		t = rules_lex_next(&lx);
		if (t == RT_EOF || t == RT_EOL)
			break;
		if (t == RT_ERROR) {
			snprintf(msg, msglen, "%s", lx.err);
			goto out;
		}
		if (t != RT_WORD) {
			snprintf(msg, msglen, "expected an attribute name, got %s",
				 t == RT_STRING ? "a string" : "a brace");
			goto out;
		}
		if ((first && strchr(lx.tok, ':') != NULL
			 ? parse_legacy_id(&lx, rule, msg, msglen)
			 : parse_attr(&lx, rule, msg, msglen)) != 0)
			goto out;
	}
	if (rule->a[RA_AUTH_IFACES].present && rule->target != RULES_ALLOW) {
		snprintf(msg, msglen, "authorize-interfaces is only valid in an allow rule");
		goto out;
	}
	if (keep_text(line, len, rule, msg, msglen) != 0)
		goto out;
	rule->line = lineno;
	rc = 1;
out:
	rules_lex_free(&lx);
	if (rc < 0)
		rules_rule_free(rule);
	return rc;
}

void rules_free(struct rules **rp)
{
	struct rules *r;

	if (rp == NULL || *rp == NULL)
		return;
	r = *rp;
	for (size_t i = 0; i < r->n; i++)
		rules_rule_free(&r->rules[i]);
	free(r->rules);
	for (size_t i = 0; i < r->tcap; i++) {
		free(r->table[i].key);
		free(r->table[i].idx);
	}
	free(r->table);
	free(r->fallback);
	free(r->file);
	free(r);
	*rp = NULL;
}

int rules_parse_buffer(const char *name, const char *buf, size_t len, struct rules **out,
		       struct pcl_diag *diags, size_t max_diags, size_t *n_diags)
{
	struct perr e = {.diags = diags, .max = max_diags, .file = name ? name : "<rules>"};
	struct rules *r;
	const char *p = buf, *end = buf + len;
	unsigned lineno = 0;
	int rc = 0;

	if (n_diags != NULL)
		*n_diags = 0;
	if (out == NULL || (buf == NULL && len > 0))
		return -EINVAL;
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->file = strdup(e.file)) == NULL) {
		free(r);
		return -ENOMEM;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct rules_rule rule;
		char msg[PCL_DIAG_MSG_MAX];
		int lr;

		lineno++;
		lr = parse_line(p, ll, lineno, &rule, msg, sizeof(msg));
		p += ll + (nl ? 1 : 0);
		if (lr < 0) {
			perr_add(&e, lineno, "%s", msg);
			continue;
		}
		if (lr == 0)
			continue;
		if (r->n >= RULES_MAX) {
			perr_add(&e, lineno, "more than %u rules", RULES_MAX);
			rules_rule_free(&rule);
			break;
		}
		if (r->n == r->cap) {
			size_t ncap = r->cap ? r->cap * 2 : 16;
			struct rules_rule *n = realloc(r->rules, ncap * sizeof(*n));

			if (n == NULL) {
				rules_rule_free(&rule);
				rc = -ENOMEM;
				break;
			}
			r->rules = n;
			r->cap = ncap;
		}
		r->rules[r->n++] = rule;
	}
	if (n_diags != NULL)
		*n_diags = e.n;
	if (rc == 0 && e.n > 0)
		rc = -EINVAL;
	if (rc == 0)
		rc = rules_index_build(r);
	if (rc != 0) {
		rules_free(&r);
		return rc;
	}
	*out = r;
	return 0;
}

int rules_load_file(const char *path, struct rules **out, struct pcl_diag *diags, size_t max_diags,
		    size_t *n_diags)
{
	char *buf;
	size_t len;
	int rc;

	if (n_diags != NULL)
		*n_diags = 0;
	if (path == NULL || out == NULL)
		return -EINVAL;
	*out = NULL;
	rc = pcl_read_file(path, RULES_FILE_MAX, PCL_READ_REGULAR, &buf, &len);
	if (rc == -ENOMEM)
		return rc;
	if (rc != 0) {
		if (max_diags > 0 && diags != NULL) {
			if (rc == -EFBIG)
				pcl_diag_set(&diags[0], path, 0, "file larger than 64 MiB");
			else if (rc == -EINVAL)
				pcl_diag_set(&diags[0], path, 0, "not a regular file");
			else
				pcl_diag_set(&diags[0], path, 0, "cannot read: %s", strerror(-rc));
		}
		if (n_diags != NULL)
			*n_diags = 1;
		return rc == -EFBIG ? -EINVAL : rc;
	}
	rc = rules_parse_buffer(path, buf, len, out, diags, max_diags, n_diags);
	free(buf);
	return rc;
}
