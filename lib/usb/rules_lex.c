/*
 * rules_lex.c - tokenizer of the USBGuard rule language: barewords, quoted
 * strings with \" \\ \xHH escapes, braces, '#' comments, one rule per line.
 * Linked by the engine, the CLI and tests; input is an administrator's rule
 * file, checked byte by byte (never trusted to be well formed).
 */
#include "rules_int.h"
#include "hex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_MAX 4096

void rules_lex_init(struct rules_lexer *lx, const char *buf, size_t len)
{
	memset(lx, 0, sizeof(*lx));
	lx->p = buf;
	lx->end = buf + len;
	lx->line = 1;
}

void rules_lex_free(struct rules_lexer *lx)
{
	free(lx->tok);
	lx->tok = NULL;
	lx->tokcap = lx->toklen = 0;
}

static int tok_put(struct rules_lexer *lx, char c)
{
	if (lx->toklen + 1 >= lx->tokcap) {
		size_t ncap = lx->tokcap ? lx->tokcap * 2 : 64;
		char *n;

		if (ncap > TOKEN_MAX + 1)
			ncap = TOKEN_MAX + 1;
		if (lx->toklen + 1 >= ncap)
			return -1;
		n = realloc(lx->tok, ncap);
		if (n == NULL)
			return -1;
		lx->tok = n;
		lx->tokcap = ncap;
	}
	lx->tok[lx->toklen++] = c;
	lx->tok[lx->toklen] = '\0';
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static enum rules_tok lex_error(struct rules_lexer *lx, const char *msg)
{
	snprintf(lx->err, sizeof(lx->err), "%s", msg);
	return RT_ERROR;
}

static enum rules_tok lex_string(struct rules_lexer *lx)
{
	lx->p++; /* opening quote */
	for (;;) {
		char c;

		if (lx->p >= lx->end || *lx->p == '\n')
			return lex_error(lx, "unterminated string");
		c = *lx->p++;
		if (c == '"')
			return RT_STRING;
		if (c == '\0')
			return lex_error(lx, "NUL byte in string");
		if (c == '\\') {
			if (lx->p >= lx->end || *lx->p == '\n')
				return lex_error(lx, "unterminated escape in string");
			c = *lx->p++;
			switch (c) {
			case '"':
			case '\\':
			case '\'':
				break;
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'x': {
				int hi = lx->p < lx->end ? pcl_hex_digit(lx->p[0]) : -1;
				int lo = lx->p + 1 < lx->end ? pcl_hex_digit(lx->p[1]) : -1;

				if (hi < 0 || lo < 0)
					return lex_error(lx, "\\x escape needs two hex digits");
				c = (char)(hi * 16 + lo);
				if (c == '\0')
					return lex_error(lx,
							 "\\x00 (NUL) is not allowed in a string");
				lx->p += 2;
				break;
			}
			default: {
				char m[64];

				snprintf(m, sizeof(m), "unknown escape \\%c in string",
					 (c >= 0x20 && c < 0x7f) ? c : '?');
				return lex_error(lx, m);
			}
			}
		}
		if (tok_put(lx, c) != 0)
			return lex_error(lx, "string longer than 4096 bytes");
	}
}

enum rules_tok rules_lex_next(struct rules_lexer *lx)
{
	lx->toklen = 0;
	if (lx->tok != NULL)
		lx->tok[0] = '\0';
	lx->err[0] = '\0';

	for (;;) {
		while (lx->p < lx->end && is_space(*lx->p))
			lx->p++;
		if (lx->p >= lx->end)
			return RT_EOF;
		if (*lx->p == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
			continue;
		}
		break;
	}
	switch (*lx->p) {
	case '\n':
		lx->p++;
		lx->line++;
		return RT_EOL;
	case '{':
		lx->p++;
		return RT_LBRACE;
	case '}':
		lx->p++;
		return RT_RBRACE;
	case '"':
		if (tok_put(lx, '\0') != 0) /* make tok non-NULL for empty strings */
			return lex_error(lx, "out of memory");
		lx->toklen = 0;
		lx->tok[0] = '\0';
		return lex_string(lx);
	case '\0':
		return lex_error(lx, "NUL byte");
	default:
		break;
	}
	while (lx->p < lx->end) {
		char c = *lx->p;

		if (is_space(c) || c == '\n' || c == '{' || c == '}' || c == '"' || c == '#')
			break;
		if (c == '\0')
			return lex_error(lx, "NUL byte");
		if (tok_put(lx, c) != 0)
			return lex_error(lx, "word longer than 4096 bytes");
		lx->p++;
	}
	return RT_WORD;
}
