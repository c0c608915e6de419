/*
 * rules_match.c - the rule index and first-match decision. Rules that can
 * only match one device id, vendor or hash are filed under that key; the
 * rest stay in a short fallback list. A decision merges the (ascending)
 * candidate lists of the device's keys, so the first matching rule in file
 * order wins without scanning unrelated rules. Linked by the engine, the
 * CLI and tests; device strings are untrusted and only compared.
 */
#include "rules_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static struct rules_bucket *bucket_find(const struct rules *r, const char *key)
{
	size_t mask, i;
	uint64_t h;

	if (r->tcap == 0)
		return NULL;
	mask = r->tcap - 1;
	h = fnv1a(key);
	for (i = h & mask;; i = (i + 1) & mask) {
		struct rules_bucket *b = &r->table[i];

		if (b->key == NULL)
			return NULL;
		if (b->h == h && strcmp(b->key, key) == 0)
			return b;
	}
}

static int list_push(uint32_t **v, size_t *n, size_t *cap, uint32_t idx)
{
	if (*n > 0 && (*v)[*n - 1] == idx)
		return 0; /* same rule, same key twice (e.g. one-of { a a }) */
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		uint32_t *nv = realloc(*v, ncap * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = idx;
	return 0;
}

static int bucket_add(struct rules *r, const char *key, uint32_t idx)
{
	struct rules_bucket *b = bucket_find(r, key);
	size_t mask = r->tcap - 1, i;

	if (b == NULL) {
		for (i = fnv1a(key) & mask; r->table[i].key != NULL; i = (i + 1) & mask)
			;
		b = &r->table[i];
		b->h = fnv1a(key);
		b->key = strdup(key);
		if (b->key == NULL)
			return -ENOMEM;
		r->tused++;
		if (key[0] == 'h')
			r->nkeys_hash++;
		else if (key[0] == 'i')
			r->nkeys_id++;
		else
			r->nkeys_vid++;
	}
	return list_push(&b->idx, &b->n, &b->cap, idx);
}

/* Operators under which a match implies the device value is one of the listed ones. */
static bool op_selects(enum rules_op op)
{
	return op == ROP_EQUALS || op == ROP_ONE_OF || op == ROP_ALL_OF ||
	       op == ROP_EQUALS_ORDERED || op == ROP_MATCH_ALL;
}

static void hex4(char *k, unsigned v)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 3; i >= 0; i--, v >>= 4)
		k[i] = digits[v & 0xf];
}

/* "i:vvvv:pppp" for an exact id, "v:vvvv" for a vendor (pid < 0). k holds 12 bytes. */
static void id_key(char *k, int32_t vid, int32_t pid)
{
	k[0] = pid < 0 ? 'v' : 'i';
	k[1] = ':';
	hex4(k + 2, (unsigned)vid);
	if (pid < 0) {
		k[6] = '\0';
		return;
	}
	k[6] = ':';
	hex4(k + 7, (unsigned)pid);
	k[11] = '\0';
}

static int index_rule(struct rules *r, uint32_t idx)
{
	const struct rules_rule *rule = &r->rules[idx];
	const struct rules_attrval *h = &rule->a[RA_HASH], *id = &rule->a[RA_ID];
	char key[80];
	int rc = 0;

	if (h->present && op_selects(h->op)) {
		for (size_t i = 0; rc == 0 && i < h->n; i++) {
			snprintf(key, sizeof(key), "h:%.70s", h->v[i].str);
			if (strlen(h->v[i].str) > 70) /* no device hash is that long */
				continue;
			rc = bucket_add(r, key, idx);
		}
		return rc;
	}
	if (id->present && op_selects(id->op)) {
		bool any_wild = false;

		for (size_t i = 0; i < id->n; i++)
			any_wild |= id->v[i].vid < 0;
		if (!any_wild) {
			for (size_t i = 0; rc == 0 && i < id->n; i++) {
				id_key(key, id->v[i].vid, id->v[i].pid);
				rc = bucket_add(r, key, idx);
			}
			return rc;
		}
	}
	return list_push(&r->fallback, &r->nfallback, &r->capfallback, idx);
}

int rules_index_build(struct rules *r)
{
	size_t want = 16;

	while (want < r->n * 2 + 16)
		want *= 2;
	r->table = calloc(want, sizeof(*r->table));
	if (r->table == NULL)
		return -ENOMEM;
	r->tcap = want;
	for (size_t i = 0; i < r->n; i++) {
		/* each rule adds at most its list length in keys; grow before crowding */
		int rc;

		if ((r->tused + r->rules[i].a[RA_HASH].n + r->rules[i].a[RA_ID].n) * 2 >= r->tcap) {
			struct rules_bucket *old = r->table;
			size_t ocap = r->tcap, ncap = r->tcap * 2;

			while ((r->tused + r->rules[i].a[RA_HASH].n + r->rules[i].a[RA_ID].n) * 2 >=
			       ncap)
				ncap *= 2;
			r->table = calloc(ncap, sizeof(*r->table));
			if (r->table == NULL) {
				r->table = old;
				return -ENOMEM;
			}
			r->tcap = ncap;
			for (size_t j = 0; j < ocap; j++) {
				size_t k;

				if (old[j].key == NULL)
					continue;
				for (k = old[j].h & (ncap - 1); r->table[k].key != NULL;
				     k = (k + 1) & (ncap - 1))
					;
				r->table[k] = old[j];
			}
			free(old);
		}
		rc = index_rule(r, (uint32_t)i);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Does rule value s cover device value t (USBGuard's isSubsetOf)? */
typedef bool (*covers_fn)(const struct rules_value *s, const void *t, size_t ti);

static bool solve(const struct rules_attrval *av, covers_fn covers, const void *t, size_t tn)
{
	switch (av->op) {
	case ROP_ALL_OF:
	case ROP_EQUALS:
		if (av->op == ROP_EQUALS && av->n != tn)
			return false;
		for (size_t i = 0; i < av->n; i++) {
			bool m = false;

			for (size_t j = 0; j < tn && !m; j++)
				m = covers(&av->v[i], t, j);
			if (!m)
				return false;
		}
		return true;
	case ROP_ONE_OF:
	case ROP_NONE_OF:
		for (size_t i = 0; i < av->n; i++)
			for (size_t j = 0; j < tn; j++)
				if (covers(&av->v[i], t, j))
					return av->op == ROP_ONE_OF;
		return av->op == ROP_NONE_OF;
	case ROP_EQUALS_ORDERED:
		if (av->n != tn)
			return false;
		for (size_t i = 0; i < tn; i++)
			if (!covers(&av->v[i], t, i))
				return false;
		return true;
	case ROP_MATCH_ALL:
		for (size_t j = 0; j < tn; j++) {
			bool m = false;

			for (size_t i = 0; i < av->n && !m; i++)
				m = covers(&av->v[i], t, j);
			if (!m)
				return false;
		}
		return true;
	}
	return false;
}

static bool covers_str(const struct rules_value *s, const void *t, size_t ti)
{
	(void)ti;
	return strcmp(s->str, (const char *)t) == 0;
}

static bool covers_id(const struct rules_value *s, const void *t, size_t ti)
{
	const struct usbdev *d = t;

	(void)ti;
	if (s->vid < 0)
		return true;
	if ((uint16_t)s->vid != d->vid)
		return false;
	return s->pid < 0 || (uint16_t)s->pid == d->pid;
}

static bool iface_covers(const struct rules_value *s, const struct usbdev_iface *f)
{
	if ((s->mask & RULES_IF_CLASS) && s->cls != f->cls)
		return false;
	if ((s->mask & RULES_IF_SUBCLASS) && s->sub != f->subclass)
		return false;
	if ((s->mask & RULES_IF_PROTOCOL) && s->proto != f->protocol)
		return false;
	return true;
}

static bool covers_iface(const struct rules_value *s, const void *t, size_t ti)
{
	const struct usbdev *d = t;

	return iface_covers(s, &d->ifaces[ti]);
}

static bool rule_matches(const struct rules_rule *rule, const struct usbdev *d)
{
	static const struct {
		enum rules_attr a;
		size_t off;
	} strs[] = {
	    {RA_SERIAL, offsetof(struct usbdev, serial)},
	    {RA_NAME, offsetof(struct usbdev, product)},
	    {RA_HASH, offsetof(struct usbdev, hash)},
	    {RA_PARENT_HASH, offsetof(struct usbdev, parent_hash)},
	    {RA_VIA_PORT, offsetof(struct usbdev, sysname)},
	    {RA_CONNECT_TYPE, offsetof(struct usbdev, connect_type)},
	};

	if (rule->a[RA_ID].present && !solve(&rule->a[RA_ID], covers_id, d, 1))
		return false;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		const struct rules_attrval *av = &rule->a[strs[i].a];

		if (av->present && !solve(av, covers_str, (const char *)d + strs[i].off, 1))
			return false;
	}
	if (rule->a[RA_WITH_IFACE].present &&
	    !solve(&rule->a[RA_WITH_IFACE], covers_iface, d, d->n_ifaces))
		return false;
	return true;
}

static uint64_t iface_mask(const struct rules_rule *rule, const struct usbdev *d)
{
	const struct rules_attrval *av = &rule->a[RA_AUTH_IFACES];
	size_t n = d->n_ifaces < 64 ? d->n_ifaces : 64;
	uint64_t m = 0;

	for (size_t j = 0; j < n; j++) {
		bool ok = !av->present;

		for (size_t i = 0; i < av->n && !ok; i++)
			ok = iface_covers(&av->v[i], &d->ifaces[j]);
		if (ok)
			m |= 1ull << j;
	}
	return m;
}

void rules_decide(const struct rules *r, const struct usbdev *d, struct rules_decision *out)
{
	const uint32_t *lists[4];
	size_t lens[4], pos[4] = {0, 0, 0, 0}, nl = 0;
	const struct rules_bucket *b;
	char key[80];

	memset(out, 0, sizeof(*out));
	out->target = RULES_BLOCK;
	if (r == NULL || d == NULL)
		return;

	if (r->nkeys_hash > 0) {
		key[0] = 'h';
		key[1] = ':';
		memcpy(key + 2, d->hash, sizeof(d->hash));
		key[2 + sizeof(d->hash) - 1] = '\0';
		if ((b = bucket_find(r, key)) != NULL) {
			lists[nl] = b->idx;
			lens[nl++] = b->n;
		}
	}
	if (r->nkeys_id > 0) {
		id_key(key, d->vid, d->pid);
		if ((b = bucket_find(r, key)) != NULL) {
			lists[nl] = b->idx;
			lens[nl++] = b->n;
		}
	}
	if (r->nkeys_vid > 0) {
		id_key(key, d->vid, -1);
		if ((b = bucket_find(r, key)) != NULL) {
			lists[nl] = b->idx;
			lens[nl++] = b->n;
		}
	}
	lists[nl] = r->fallback;
	lens[nl++] = r->nfallback;

	for (;;) {
		size_t best = nl;
		uint32_t idx = UINT32_MAX;
		const struct rules_rule *rule;

		for (size_t i = 0; i < nl; i++) {
			if (pos[i] < lens[i] && lists[i][pos[i]] < idx) {
				idx = lists[i][pos[i]];
				best = i;
			}
		}
		if (best == nl)
			return; /* no rule matched: block */
		pos[best]++;
		rule = &r->rules[idx];
		if (!rule_matches(rule, d))
			continue;
		out->target = rule->target;
		out->matched = true;
		out->file = r->file;
		out->line = rule->line;
		out->text = rule->text;
		if (rule->target == RULES_ALLOW)
			out->iface_allow = iface_mask(rule, d);
		return;
	}
}

size_t rules_count(const struct rules *r)
{
	return r ? r->n : 0;
}

const char *rules_target_name(enum rules_target t)
{
	switch (t) {
	case RULES_ALLOW:
		return "allow";
	case RULES_REJECT:
		return "reject";
	case RULES_BLOCK:
	default:
		return "block";
	}
}
