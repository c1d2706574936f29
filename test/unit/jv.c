/*
 * jv.c
 *	  Arena-backed cr_jv builder and shared assertions for the unit tests.
 */
#define _POSIX_C_SOURCE 200809L
#include "test_common.h"

#define JV_NODES 8192
#define JV_MEMBERS 8192
#define JV_ITEMS 8192
#define JV_BYTES (512 * 1024)

static cr_jv nodes[JV_NODES];
static cr_jv_member members[JV_MEMBERS];
static const cr_jv *items[JV_ITEMS];
static char bytes[JV_BYTES];
static size_t n_nodes,
			n_members,
			n_items,
			n_bytes;

void
jv_reset(void)
{
	n_nodes = n_members = n_items = n_bytes = 0;
}

static cr_jv *
new_node(cr_jv_type type)
{
	cr_jv	   *v;

	if (n_nodes >= JV_NODES)
		fail_msg("jv arena: out of nodes");
	v = &nodes[n_nodes++];
	memset(v, 0, sizeof(*v));
	v->type = type;
	return v;
}

const char *
jdup(const char *s, size_t len)
{
	char	   *p;

	if (n_bytes + len + 1 > JV_BYTES)
		fail_msg("jv arena: out of bytes");
	p = &bytes[n_bytes];
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	n_bytes += len + 1;
	return p;
}

const cr_jv *
jnull(void)
{
	return new_node(CR_JV_NULL);
}

const cr_jv *
jbool(bool b)
{
	cr_jv	   *v = new_node(CR_JV_BOOL);

	v->b = b;
	return v;
}

const cr_jv *
jnum(const char *text)
{
	cr_jv	   *v = new_node(CR_JV_NUMBER);

	v->len = strlen(text);
	v->s = jdup(text, v->len);
	return v;
}

const cr_jv *
jstrn(const char *s, size_t len)
{
	cr_jv	   *v = new_node(CR_JV_STRING);

	v->s = jdup(s, len);
	v->len = len;
	return v;
}

const cr_jv *
jstr(const char *s)
{
	return jstrn(s, strlen(s));
}

const cr_jv *
jarr_v(const cr_jv *const *its, size_t n)
{
	cr_jv	   *v = new_node(CR_JV_ARRAY);

	if (n_items + n > JV_ITEMS)
		fail_msg("jv arena: out of items");
	for (size_t i = 0; i < n; i++)
		items[n_items + i] = its[i];
	v->items = &items[n_items];
	n_items += n;
	v->n = v->n_loaded = n;
	return v;
}

const cr_jv *
jobj_v(const jkv *kv, size_t n)
{
	cr_jv	   *v = new_node(CR_JV_OBJECT);

	if (n_members + n > JV_MEMBERS)
		fail_msg("jv arena: out of members");
	for (size_t i = 0; i < n; i++)
	{
		cr_jv_member *m = &members[n_members + i];

		m->key_len = strlen(kv[i].key);
		m->key = jdup(kv[i].key, m->key_len);
		m->value = kv[i].value;
	}
	v->members = &members[n_members];
	n_members += n;
	v->n = v->n_loaded = n;
	return v;
}

const cr_jv *
jtruncated(const cr_jv *container, size_t true_n)
{
	cr_jv	   *v = new_node(container->type);

	*v = *container;
	v->n = true_n;
	return v;
}

/* Strict UTF-8 check (no overlongs, surrogates or code points past U+10FFFF). */
bool
utf8_valid(const char *s, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		unsigned char c = (unsigned char) s[i];
		int			extra;
		uint32_t	cp;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			extra = 1, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			extra = 2, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			extra = 3, cp = c & 0x07;
		else
			return false;
		if (i + extra >= len)	/* truncated */
			return false;
		for (int k = 1; k <= extra; k++)
		{
			unsigned char cc = (unsigned char) s[i + k];

			if ((cc & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (cc & 0x3F);
		}
		if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
			(cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
			return false;
		i += extra + 1;
	}
	return true;
}

/*
 * cr_core.h: "a primary message, lower case, no period", "hint: full
 * sentence, or """; both one line.
 */
void
check_error_text_at(const cr_error *err, const char *file, int line)
{
	size_t		ml = strnlen(err->message, sizeof(err->message));
	size_t		hl = strnlen(err->hint, sizeof(err->hint));

	if (ml == 0 || ml >= sizeof(err->message))
		fail_msg("%s:%d: error message empty or unterminated", file, line);
	if (err->message[0] >= 'A' && err->message[0] <= 'Z')
		fail_msg("%s:%d: error message starts upper case: \"%s\"", file, line, err->message);
	if (err->message[ml - 1] == '.')
		fail_msg("%s:%d: error message ends with a period: \"%s\"", file, line, err->message);
	if (strnlen(err->context, sizeof(err->context)) >= sizeof(err->context))
		fail_msg("%s:%d: error context unterminated", file, line);
	if (hl >= sizeof(err->hint))
		fail_msg("%s:%d: error hint unterminated", file, line);
	if (hl > 0 && (!(err->hint[0] >= 'A' && err->hint[0] <= 'Z') || err->hint[hl - 1] != '.'))
		fail_msg("%s:%d: error hint is not a full sentence: \"%s\"", file, line, err->hint);
	for (size_t i = 0; i < ml; i++)
		if ((unsigned char) err->message[i] < 0x20 || err->message[i] == 0x7F)
			fail_msg("%s:%d: control character in error message \"%s\"", file, line, err->message);
	/* "Messages quote at most a short, UTF-8-safe prefix of user input" */
	if (!utf8_valid(err->message, ml))
		fail_msg("%s:%d: error message is not valid UTF-8: \"%s\"", file, line, err->message);
}
