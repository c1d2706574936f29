/*-------------------------------------------------------------------------
 *
 * em_jv.c
 *	  json-c values to the resolution core's cr_jv tree, in an arena.
 *
 * The core quotes number texts in its messages, and the extension hands it
 * PostgreSQL's numeric_out text of each jsonb number (1e2 -> 100,
 * 1.50e1 -> 15.0, -0 -> 0).  So that the emulator's 400 messages match the
 * local resolver's, each number here is given the same normalized text,
 * computed from the number as written in the request body: json-c keeps
 * the written text of non-integers only, and saturates integers beyond
 * 64 bits.  The written texts are recovered by a scan of the body in
 * document order and checked against json-c's values; should they not line
 * up (duplicate keys can reorder values), json-c's own texts are used.
 *
 * Containers are converted up to JV_MAX_ITEMS elements and JV_MAX_DEPTH
 * levels; the core treats a partly converted container as too large, long
 * after it would have refused a real request for its size.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include "em.h"

#include <stdlib.h>
#include <string.h>

#define JV_MAX_ITEMS 1024
#define JV_MAX_DEPTH 16
#define NUM_MAX_DIGITS 2000		/* beyond: keep the text as written */

typedef struct arena_block
{
	struct arena_block *next;
	size_t		used;
	size_t		cap;
	max_align_t data[];
} arena_block;

void *
em_arena_alloc(em_arena *a, size_t n)
{
	arena_block *b = a->head;
	void	   *p;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (b == NULL || b->cap - b->used < n)
	{
		size_t		cap = n > 65536 ? n : 65536;

		b = malloc(sizeof(arena_block) + cap);
		if (b == NULL)
			abort();
		b->next = a->head;
		b->used = 0;
		b->cap = cap;
		a->head = b;
	}
	p = (char *) b->data + b->used;
	b->used += n;
	return p;
}

void
em_arena_free(em_arena *a)
{
	arena_block *b = a->head;

	while (b)
	{
		arena_block *next = b->next;

		free(b);
		b = next;
	}
	a->head = NULL;
}

/*
 * The text PostgreSQL's numeric_out gives for the JSON number s (valid JSON
 * number syntax), in the arena; NULL when out of numeric's range.
 */
static char *
numeric_text(em_arena *a, const char *s, size_t len)
{
	const char *p = s,
			   *end = s + len;
	bool		neg = false,
				nonzero = false;
	const char *ip,
			   *fp = NULL;
	size_t		ilen = 0,
				flen = 0;
	long		exp = 0,
				point,
				dscale;
	char	   *out,
			   *o;
	size_t		ndig;

	if (p < end && *p == '-')
	{
		neg = true;
		p++;
	}
	ip = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++, ilen++;
	if (p < end && *p == '.')
	{
		fp = ++p;
		while (p < end && *p >= '0' && *p <= '9')
			p++, flen++;
	}
	if (p < end && (*p == 'e' || *p == 'E'))
	{
		bool		eneg = false;

		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		while (p < end && *p >= '0' && *p <= '9')
		{
			if (exp > NUM_MAX_DIGITS)
				return NULL;
			exp = exp * 10 + (*p++ - '0');
		}
		if (eneg)
			exp = -exp;
	}
	if (p != end || ilen == 0)
		return NULL;
	ndig = ilen + flen;
	/* digit i of the significand, or '0' outside it */
#define DIGIT(i) ((i) < 0 || (size_t) (i) >= ndig ? '0' : \
				  ((size_t) (i) < ilen ? ip[(i)] : fp[(i) - ilen]))
	point = (long) ilen + exp;	/* digits before the decimal point */
	dscale = (long) flen - exp;
	if (dscale < 0)
		dscale = 0;
	if (point > NUM_MAX_DIGITS || dscale > NUM_MAX_DIGITS)
		return NULL;
	for (size_t i = 0; i < ndig; i++)
		nonzero |= DIGIT((long) i) != '0';
	out = o = em_arena_alloc(a, (size_t) (point > 0 ? point : 0) + (size_t) dscale + 4);
	if (neg && nonzero)
		*o++ = '-';
	{
		long		i = 0;

		while (i < point - 1 && DIGIT(i) == '0')	/* leading zeros */
			i++;
		if (point <= 0)
			*o++ = '0';
		for (; i < point; i++)
			*o++ = DIGIT(i);
	}
	if (dscale > 0)
	{
		*o++ = '.';
		for (long i = 0; i < dscale; i++)
			*o++ = DIGIT(point + i);
	}
	*o = '\0';
#undef DIGIT
	return out;
}

/* Number tokens of a valid JSON text, in document order. */
typedef struct numtok
{
	const char *s;
	size_t		len;
} numtok;

static numtok *
scan_numbers(const char *body, size_t len, size_t *n)
{
	numtok	   *toks = NULL;
	size_t		cap = 0;

	*n = 0;
	for (size_t i = 0; i < len; i++)
	{
		char		c = body[i];

		if (c == '"')
		{
			for (i++; i < len && body[i] != '"'; i++)
				if (body[i] == '\\')
					i++;
		}
		else if (c == '-' || (c >= '0' && c <= '9'))
		{
			size_t		start = i;

			while (i < len && ((body[i] >= '0' && body[i] <= '9') || body[i] == '-' ||
							   body[i] == '+' || body[i] == '.' || body[i] == 'e' || body[i] == 'E'))
				i++;
			if (*n == cap)
			{
				cap = cap ? cap * 2 : 16;
				toks = realloc(toks, sizeof(numtok) * cap);
				if (toks == NULL)
					abort();
			}
			toks[*n].s = body + start;
			toks[*n].len = i - start;
			(*n)++;
			i--;
		}
	}
	return toks;
}

typedef struct numref
{
	json_object *obj;
	const char *s;				/* text as written */
	size_t		len;
} numref;

typedef struct conv
{
	em_arena   *a;
	numref	   *refs;			/* sorted by obj once matched */
	size_t		n_refs;
	size_t		cap_refs;
} conv;

/* Collect the number nodes of the whole tree in document order. */
static void
collect_numbers(conv *c, json_object *o)
{
	switch (json_object_get_type(o))
	{
		case json_type_int:
		case json_type_double:
			if (c->n_refs == c->cap_refs)
			{
				c->cap_refs = c->cap_refs ? c->cap_refs * 2 : 16;
				c->refs = realloc(c->refs, sizeof(numref) * c->cap_refs);
				if (c->refs == NULL)
					abort();
			}
			c->refs[c->n_refs].obj = o;
			c->refs[c->n_refs].s = NULL;
			c->n_refs++;
			break;
		case json_type_array:
			for (size_t i = 0, n = json_object_array_length(o); i < n; i++)
				collect_numbers(c, json_object_array_get_idx(o, i));
			break;
		case json_type_object:
			{
				json_object_object_foreach(o, key, val)
				{
					(void) key;
					collect_numbers(c, val);
				}
				break;
			}
		default:
			break;
	}
}

/* Does the written text w fit json-c's value of o? */
static bool
text_fits(em_arena *a, json_object *o, const char *w, size_t wlen)
{
	size_t		len;
	const char *t = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	char	   *nw,
			   *nt;
	bool		integer = true;

	if (len == wlen && memcmp(t, w, len) == 0)
		return true;
	nw = numeric_text(a, w, wlen);
	nt = numeric_text(a, t, len);
	if (nw && nt && strcmp(nw, nt) == 0)
		return true;
	if (json_object_get_type(o) != json_type_int)
		return false;
	/* an integer json-c saturated */
	for (size_t i = (w[0] == '-'); i < wlen; i++)
		integer &= w[i] >= '0' && w[i] <= '9';
	if (!integer)
		return false;
	if (w[0] == '-')
		return strcmp(t, "-9223372036854775808") == 0;
	return strcmp(t, "9223372036854775807") == 0 || strcmp(t, "18446744073709551615") == 0;
}

static int
cmp_ref(const void *x, const void *y)
{
	uintptr_t	a = (uintptr_t) ((const numref *) x)->obj;
	uintptr_t	b = (uintptr_t) ((const numref *) y)->obj;

	return a < b ? -1 : a > b;
}

static void
match_texts(conv *c, const char *body, size_t len)
{
	size_t		n;
	numtok	   *toks = scan_numbers(body, len, &n);
	bool		ok = n == c->n_refs;

	for (size_t i = 0; ok && i < n; i++)
		ok = text_fits(c->a, c->refs[i].obj, toks[i].s, toks[i].len);
	for (size_t i = 0; ok && i < n; i++)
	{
		c->refs[i].s = toks[i].s;
		c->refs[i].len = toks[i].len;
	}
	free(toks);
	qsort(c->refs, c->n_refs, sizeof(numref), cmp_ref);
}

static void
number_jv(conv *c, json_object *o, cr_jv *v)
{
	numref		key = {o, NULL, 0};
	numref	   *ref = c->n_refs ? bsearch(&key, c->refs, c->n_refs, sizeof(numref), cmp_ref) : NULL;
	size_t		len;
	const char *s;
	char	   *text;

	if (ref && ref->s)
	{
		s = ref->s;
		len = ref->len;
	}
	else
		s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	text = numeric_text(c->a, s, len);
	if (text == NULL)
	{
		text = em_arena_alloc(c->a, len + 1);
		memcpy(text, s, len);
		text[len] = '\0';
	}
	v->type = CR_JV_NUMBER;
	v->s = text;
	v->len = strlen(text);
}

static const cr_jv *
to_jv(conv *c, json_object *o, int depth)
{
	cr_jv	   *v = em_arena_alloc(c->a, sizeof(cr_jv));

	memset(v, 0, sizeof(*v));
	switch (json_object_get_type(o))
	{
		case json_type_null:
			v->type = CR_JV_NULL;
			break;
		case json_type_boolean:
			v->type = CR_JV_BOOL;
			v->b = json_object_get_boolean(o);
			break;
		case json_type_int:
		case json_type_double:
			number_jv(c, o, v);
			break;
		case json_type_string:
			v->type = CR_JV_STRING;
			v->s = json_object_get_string(o);
			v->len = (size_t) json_object_get_string_len(o);
			break;
		case json_type_array:
			{
				size_t		n = json_object_array_length(o);
				size_t		k = depth >= JV_MAX_DEPTH ? 0 : (n < JV_MAX_ITEMS ? n : JV_MAX_ITEMS);
				const cr_jv **items = em_arena_alloc(c->a, sizeof(cr_jv *) * (k + 1));

				for (size_t i = 0; i < k; i++)
					items[i] = to_jv(c, json_object_array_get_idx(o, i), depth + 1);
				v->type = CR_JV_ARRAY;
				v->n = n;
				v->n_loaded = k;
				v->items = items;
				break;
			}
		case json_type_object:
			{
				size_t		n = (size_t) json_object_object_length(o);
				size_t		k = depth >= JV_MAX_DEPTH ? 0 : (n < JV_MAX_ITEMS ? n : JV_MAX_ITEMS);
				cr_jv_member *members = em_arena_alloc(c->a, sizeof(cr_jv_member) * (k + 1));
				size_t		i = 0;

				json_object_object_foreach(o, key, val)
				{
					if (i >= k)
						break;
					members[i].key = key;
					members[i].key_len = strlen(key);
					members[i].value = to_jv(c, val, depth + 1);
					i++;
				}
				v->type = CR_JV_OBJECT;
				v->n = n;
				v->n_loaded = k;
				v->members = members;
				break;
			}
	}
	return v;
}

const cr_jv *
em_jv_convert(em_arena *a, json_object *root, const char *body, size_t len)
{
	conv		c = {a, NULL, 0, 0};
	const cr_jv *v;

	collect_numbers(&c, root);
	if (c.n_refs)
		match_texts(&c, body, len);
	v = to_jv(&c, root, 0);
	free(c.refs);
	return v;
}
