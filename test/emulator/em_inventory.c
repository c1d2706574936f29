/*-------------------------------------------------------------------------
 *
 * em_inventory.c
 *	  The emulator's in-memory inventory: loading and checking the fixture
 *	  format, lookups, pool membership, JSON output, ids and timestamps.
 *
 * The inventory is plain data; callers hold em_lock while they read or
 * change the live one.  Senders and pools are kept sorted by id (strcmp),
 * which is also the listing order; pool members are sorted sender ids.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include "em.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define DEFAULT_TIME "2024-01-01T00:00:00Z"

static char *
xstrdup(const char *s)
{
	char	   *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

/* ---------------------------------------------------------------------
 * Time
 * ---------------------------------------------------------------------
 */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era;
	int64_t		yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool
digits(const char *s, int n, int *out)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool
em_parse_time(const char *s, int64_t *ms)
{
	int			y,
				mo,
				d,
				h = 0,
				mi = 0,
				sec = 0,
				frac_ms = 0,
				off = 0;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	size_t		len = strlen(s);
	const char *p;

	if (len < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
		s[7] != '-' || !digits(s + 8, 2, &d))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return false;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	p = s + 10;
	if (*p != '\0')
	{
		if ((*p != 'T' && *p != 't' && *p != ' ') || strlen(p) < 9 ||
			!digits(p + 1, 2, &h) || p[3] != ':' || !digits(p + 4, 2, &mi) ||
			p[6] != ':' || !digits(p + 7, 2, &sec))
			return false;
		if (h > 23 || mi > 59 || sec > 60)
			return false;
		p += 9;
		if (*p == '.')
		{
			int			n = 0;

			p++;
			while (*p >= '0' && *p <= '9')
			{
				if (n < 3)
					frac_ms = frac_ms * 10 + (*p - '0');
				n++;
				p++;
			}
			if (n == 0)
				return false;
			for (; n < 3; n++)
				frac_ms *= 10;
		}
		if (*p == 'Z' || *p == 'z')
			p++;
		else if (*p == '+' || *p == '-')
		{
			int			oh,
						om;

			if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) ||
				oh > 23 || om > 59)
				return false;
			off = (oh * 60 + om) * (*p == '+' ? 1 : -1);
			p += 6;
		}
		else
			return false;
		if (*p != '\0')
			return false;
	}
	*ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) - (int64_t) off * 60) * 1000 + frac_ms;
	return true;
}

void
em_now_rfc3339(char *out)
{
	time_t		t = time(NULL);
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---------------------------------------------------------------------
 * Ids: UUIDv7, monotonic within the process, as TypeIDs
 * ---------------------------------------------------------------------
 */
static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t last_ts;
static uint64_t last_ra;		/* 12 bits */
static uint64_t last_rb;		/* 62 bits */

char *
em_new_id(const char *prefix)
{
	struct timespec now;
	uint64_t	ts,
				ra,
				rb,
				rnd[2] = {0, 0};
	uint8_t		u[16];
	char		suffix[27];
	char	   *out;

	clock_gettime(CLOCK_REALTIME, &now);
	ts = (uint64_t) now.tv_sec * 1000 + (uint64_t) now.tv_nsec / 1000000;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t) sizeof(rnd))
	{
		rnd[0] = (uint64_t) now.tv_nsec * 0x9e3779b97f4a7c15ULL;
		rnd[1] = rnd[0] ^ (uint64_t) now.tv_sec;
	}
	ra = rnd[0] & 0xfff;
	rb = rnd[1] & 0x3fffffffffffffffULL;

	pthread_mutex_lock(&id_lock);
	if (ts <= last_ts)
	{
		/* same (or earlier) millisecond: count up from the last id */
		ts = last_ts;
		ra = last_ra;
		rb = (last_rb + 1) & 0x3fffffffffffffffULL;
		if (rb == 0)
		{
			ra = (ra + 1) & 0xfff;
			if (ra == 0)
				ts++;
		}
	}
	last_ts = ts;
	last_ra = ra;
	last_rb = rb;
	pthread_mutex_unlock(&id_lock);

	for (int i = 0; i < 6; i++)
		u[i] = (uint8_t) (ts >> (40 - 8 * i));
	u[6] = (uint8_t) (0x70 | (ra >> 8));
	u[7] = (uint8_t) ra;
	u[8] = (uint8_t) (0x80 | (rb >> 56));
	for (int i = 9; i < 16; i++)
		u[i] = (uint8_t) (rb >> (8 * (15 - i)));
	cr_typeid_suffix(u, suffix);
	if (asprintf(&out, "%s_%s", prefix, suffix) < 0)
		abort();
	return out;
}

/* ---------------------------------------------------------------------
 * Tags
 * ---------------------------------------------------------------------
 */
static bool
tag_chars_ok(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		char		c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '_' || c == '~' || c == '-'))
			return false;
	}
	return true;
}

bool
em_check_tags(json_object *tags, const char *context, em_resp *r)
{
	char		ctx[320];

	if (!json_object_is_type(tags, json_type_object))
	{
		em_resp_errorf(r, 400, context, "tags must be an object, not %s",
					   json_type_to_name(json_object_get_type(tags)));
		return false;
	}
	if (json_object_object_length(tags) > 10)
	{
		em_resp_error(r, 400, "tags may hold at most 10 pairs", context);
		return false;
	}
	json_object_object_foreach(tags, key, val)
	{
		size_t		klen = strlen(key);

		snprintf(ctx, sizeof(ctx), "%s.%.128s", context, key);
		if (klen > 128 || !tag_chars_ok(key, klen))
		{
			em_resp_error(r, 400, "a tag key must be 1 to 128 characters of a-z, A-Z, 0-9, '.', '_', '~' and '-'", ctx);
			return false;
		}
		if (!json_object_is_type(val, json_type_string))
		{
			em_resp_errorf(r, 400, ctx, "a tag value must be a string, not %s",
						   json_type_to_name(json_object_get_type(val)));
			return false;
		}
		if (json_object_get_string_len(val) > 256 ||
			!tag_chars_ok(json_object_get_string(val), (size_t) json_object_get_string_len(val)))
		{
			em_resp_error(r, 400, "a tag value must be 1 to 256 characters of a-z, A-Z, 0-9, '.', '_', '~' and '-'", ctx);
			return false;
		}
	}
	return true;
}

/* ---------------------------------------------------------------------
 * Loading
 * ---------------------------------------------------------------------
 */
static bool
fail(char *err, size_t errlen, const char *fmt,...)
__attribute__((format(printf, 3, 4)));

static bool
fail(char *err, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

static bool
check_keys(json_object *o, const char *const *keys, const char *where,
		   char *err, size_t errlen)
{
	json_object_object_foreach(o, key, val)
	{
		bool		known = false;

		(void) val;
		for (int i = 0; keys[i]; i++)
			if (strcmp(keys[i], key) == 0)
				known = true;
		if (!known)
			return fail(err, errlen, "%s: unknown key \"%.60s\"", where, key);
	}
	return true;
}

/* A required (or defaulted) string member; *out is malloc'd. */
static bool
get_string(json_object *o, const char *key, const char *dflt, bool nullable,
		   const char *where, char **out, char *err, size_t errlen)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v))
	{
		if (dflt == NULL && !nullable)
			return fail(err, errlen, "%s: missing \"%s\"", where, key);
		*out = dflt ? xstrdup(dflt) : NULL;
		return true;
	}
	if (v == NULL && nullable)
		return true;
	if (!json_object_is_type(v, json_type_string))
		return fail(err, errlen, "%s.%s: must be a string%s", where, key,
					nullable ? " or null" : "");
	if (strlen(json_object_get_string(v)) != (size_t) json_object_get_string_len(v))
		return fail(err, errlen, "%s.%s: must not contain NUL", where, key);
	*out = xstrdup(json_object_get_string(v));
	return true;
}

static json_object *
get_tags(json_object *o, const char *where, char *err, size_t errlen, bool *ok)
{
	json_object *v;

	*ok = true;
	if (!json_object_object_get_ex(o, "tags", &v) || v == NULL)
		return json_object_new_object();
	if (!json_object_is_type(v, json_type_object))
	{
		*ok = fail(err, errlen, "%s.tags: must be an object", where);
		return NULL;
	}
	json_object_object_foreach(v, key, val)
	{
		if (!json_object_is_type(val, json_type_string))
		{
			*ok = fail(err, errlen, "%s.tags.%.60s: must be a string", where, key);
			return NULL;
		}
	}
	return json_object_get(v);
}

static void
free_sender(em_sender *s)
{
	free(s->id);
	free(s->display_name);
	free(s->address);
	json_object_put(s->tags);
	free(s->created_at);
	free(s->updated_at);
}

static void
free_pool(em_pool *p)
{
	free(p->id);
	free(p->name);
	json_object_put(p->tags);
	free(p->created_at);
	free(p->updated_at);
	for (int i = 0; i < p->n_members; i++)
		free(p->members[i]);
	free(p->members);
}

void
em_inventory_free(em_inventory *inv)
{
	if (inv == NULL)
		return;
	for (int i = 0; i < inv->n_senders; i++)
		free_sender(&inv->senders[i]);
	for (int i = 0; i < inv->n_pools; i++)
		free_pool(&inv->pools[i]);
	free(inv->senders);
	free(inv->pools);
	free(inv);
}

static bool
parse_sender(json_object *o, int i, em_sender *s, char *err, size_t errlen)
{
	static const char *const keys[] = {"id", "displayName", "address", "channel", "status",
	"tags", "createdAt", "updatedAt", NULL};
	char		where[64];
	char	   *channel = NULL,
			   *status = NULL;
	int			ch;
	bool		ok;

	snprintf(where, sizeof(where), "senders[%d]", i);
	if (!json_object_is_type(o, json_type_object))
		return fail(err, errlen, "%s: must be an object", where);
	if (!check_keys(o, keys, where, err, errlen) ||
		!get_string(o, "id", NULL, false, where, &s->id, err, errlen) ||
		!get_string(o, "displayName", NULL, true, where, &s->display_name, err, errlen) ||
		!get_string(o, "address", NULL, false, where, &s->address, err, errlen) ||
		!get_string(o, "channel", NULL, false, where, &channel, err, errlen) ||
		!get_string(o, "status", "ACTIVATED", false, where, &status, err, errlen) ||
		!get_string(o, "createdAt", DEFAULT_TIME, false, where, &s->created_at, err, errlen) ||
		!get_string(o, "updatedAt", NULL, true, where, &s->updated_at, err, errlen))
		goto bad;
	if (!cr_is_typeid(CR_SENDER_PREFIX, s->id, strlen(s->id)))
	{
		fail(err, errlen, "%s.id: invalid sender id \"%.60s\"", where, s->id);
		goto bad;
	}
	if (s->address[0] == '\0')
	{
		fail(err, errlen, "%s.address: must not be empty", where);
		goto bad;
	}
	ch = cr_sender_channel_from_name(channel, strlen(channel));
	if (ch < 0)
	{
		fail(err, errlen, "%s.channel: invalid sender channel \"%.20s\"", where, channel);
		goto bad;
	}
	s->channel = (cr_sender_channel) ch;
	if (strcmp(status, "ACTIVATED") == 0)
		s->activated = true;
	else if (strcmp(status, "DEACTIVATED") == 0)
		s->activated = false;
	else
	{
		fail(err, errlen, "%s.status: must be ACTIVATED or DEACTIVATED", where);
		goto bad;
	}
	if (!em_parse_time(s->created_at, &s->created_ms))
	{
		fail(err, errlen, "%s.createdAt: not an RFC 3339 date-time", where);
		goto bad;
	}
	if (s->updated_at == NULL)
		s->updated_at = xstrdup(s->created_at);
	else
	{
		int64_t		dummy;

		if (!em_parse_time(s->updated_at, &dummy))
		{
			fail(err, errlen, "%s.updatedAt: not an RFC 3339 date-time", where);
			goto bad;
		}
	}
	s->tags = get_tags(o, where, err, errlen, &ok);
	if (!ok)
		goto bad;
	free(channel);
	free(status);
	return true;
bad:
	free(channel);
	free(status);
	return false;
}

static int
cmp_sender(const void *a, const void *b)
{
	return strcmp(((const em_sender *) a)->id, ((const em_sender *) b)->id);
}

static int
cmp_pool(const void *a, const void *b)
{
	return strcmp(((const em_pool *) a)->id, ((const em_pool *) b)->id);
}

static int
cmp_sender_addr(const void *a, const void *b)
{
	const em_sender *x = *(const em_sender *const *) a;
	const em_sender *y = *(const em_sender *const *) b;

	if (x->channel != y->channel)
		return x->channel < y->channel ? -1 : 1;
	return strcmp(x->address, y->address);
}

static bool
parse_pool(em_inventory *inv, json_object *o, int i, em_pool *p, char *err,
		   size_t errlen)
{
	static const char *const keys[] = {"id", "name", "tags", "createdAt", "updatedAt",
	"senders", NULL};
	char		where[64];
	json_object *m;
	bool		ok;

	snprintf(where, sizeof(where), "senderPools[%d]", i);
	if (!json_object_is_type(o, json_type_object))
		return fail(err, errlen, "%s: must be an object", where);
	if (!check_keys(o, keys, where, err, errlen) ||
		!get_string(o, "id", NULL, false, where, &p->id, err, errlen) ||
		!get_string(o, "name", "", false, where, &p->name, err, errlen) ||
		!get_string(o, "createdAt", DEFAULT_TIME, false, where, &p->created_at, err, errlen) ||
		!get_string(o, "updatedAt", NULL, true, where, &p->updated_at, err, errlen))
		return false;
	if (!cr_is_typeid(CR_POOL_PREFIX, p->id, strlen(p->id)))
		return fail(err, errlen, "%s.id: invalid sender pool id \"%.60s\"", where, p->id);
	if (!em_parse_time(p->created_at, &p->created_ms))
		return fail(err, errlen, "%s.createdAt: not an RFC 3339 date-time", where);
	if (p->updated_at == NULL)
		p->updated_at = xstrdup(p->created_at);
	else
	{
		int64_t		dummy;

		if (!em_parse_time(p->updated_at, &dummy))
			return fail(err, errlen, "%s.updatedAt: not an RFC 3339 date-time", where);
	}
	p->tags = get_tags(o, where, err, errlen, &ok);
	if (!ok)
		return false;
	if (json_object_object_get_ex(o, "senders", &m) && m != NULL)
	{
		size_t		n;

		if (!json_object_is_type(m, json_type_array))
			return fail(err, errlen, "%s.senders: must be an array of sender ids", where);
		n = json_object_array_length(m);
		for (size_t k = 0; k < n; k++)
		{
			json_object *e = json_object_array_get_idx(m, k);
			json_object *sid;
			const char *id;

			/* a bare id, or {"senderId": id} as the API's requests have it */
			if (json_object_is_type(e, json_type_object) &&
				json_object_object_get_ex(e, "senderId", &sid))
				e = sid;
			if (!json_object_is_type(e, json_type_string))
				return fail(err, errlen, "%s.senders[%zu]: must be a sender id", where, k);
			id = json_object_get_string(e);
			if (em_find_sender(inv, id) == NULL)
				return fail(err, errlen, "%s.senders[%zu]: unknown sender \"%.60s\"", where, k, id);
			em_pool_add_member(p, id);
		}
	}
	return true;
}

em_inventory *
em_inventory_from_json(json_object *root, char *err, size_t errlen)
{
	static const char *const keys[] = {"senders", "senderPools", NULL};
	em_inventory *inv = calloc(1, sizeof(em_inventory));
	json_object *arr;
	em_sender **byaddr = NULL;

	if (inv == NULL)
		abort();
	if (!json_object_is_type(root, json_type_object))
	{
		fail(err, errlen, "inventory must be an object {\"senders\": [...], \"senderPools\": [...]}");
		goto bad;
	}
	if (!check_keys(root, keys, "inventory", err, errlen))
		goto bad;
	if (json_object_object_get_ex(root, "senders", &arr) && arr != NULL)
	{
		int			n;

		if (!json_object_is_type(arr, json_type_array))
		{
			fail(err, errlen, "senders: must be an array");
			goto bad;
		}
		n = (int) json_object_array_length(arr);
		inv->senders = calloc((size_t) n + 1, sizeof(em_sender));
		if (inv->senders == NULL)
			abort();
		for (int i = 0; i < n; i++)
		{
			inv->n_senders++;
			if (!parse_sender(json_object_array_get_idx(arr, i), i, &inv->senders[i], err, errlen))
				goto bad;
		}
		qsort(inv->senders, inv->n_senders, sizeof(em_sender), cmp_sender);
		for (int i = 1; i < n; i++)
			if (strcmp(inv->senders[i - 1].id, inv->senders[i].id) == 0)
			{
				fail(err, errlen, "senders: duplicate id \"%s\"", inv->senders[i].id);
				goto bad;
			}
		/* (channel, address) is unique, as in the local table */
		byaddr = malloc(sizeof(em_sender *) * ((size_t) n + 1));
		if (byaddr == NULL)
			abort();
		for (int i = 0; i < n; i++)
			byaddr[i] = &inv->senders[i];
		qsort(byaddr, n, sizeof(em_sender *), cmp_sender_addr);
		for (int i = 1; i < n; i++)
			if (cmp_sender_addr(&byaddr[i - 1], &byaddr[i]) == 0)
			{
				fail(err, errlen, "senders: duplicate %s sender address \"%.60s\"",
					 cr_sender_channel_name(byaddr[i]->channel), byaddr[i]->address);
				goto bad;
			}
	}
	if (json_object_object_get_ex(root, "senderPools", &arr) && arr != NULL)
	{
		int			n;

		if (!json_object_is_type(arr, json_type_array))
		{
			fail(err, errlen, "senderPools: must be an array");
			goto bad;
		}
		n = (int) json_object_array_length(arr);
		inv->pools = calloc((size_t) n + 1, sizeof(em_pool));
		if (inv->pools == NULL)
			abort();
		inv->cap_pools = n + 1;
		for (int i = 0; i < n; i++)
		{
			inv->n_pools++;
			if (!parse_pool(inv, json_object_array_get_idx(arr, i), i, &inv->pools[i], err, errlen))
				goto bad;
		}
		qsort(inv->pools, inv->n_pools, sizeof(em_pool), cmp_pool);
		for (int i = 1; i < n; i++)
			if (strcmp(inv->pools[i - 1].id, inv->pools[i].id) == 0)
			{
				fail(err, errlen, "senderPools: duplicate id \"%s\"", inv->pools[i].id);
				goto bad;
			}
	}
	free(byaddr);
	return inv;
bad:
	free(byaddr);
	em_inventory_free(inv);
	return NULL;
}

em_inventory *
em_inventory_load_file(const char *path, char *err, size_t errlen)
{
	json_object *root = json_object_from_file(path);
	em_inventory *inv;

	if (root == NULL)
	{
		const char *why = json_util_get_last_err();
		size_t		len = why ? strcspn(why, "\n") : 0;

		fail(err, errlen, "cannot read inventory %s: %.*s", path, (int) len, why ? why : "");
		return NULL;
	}
	inv = em_inventory_from_json(root, err, errlen);
	json_object_put(root);
	return inv;
}

/* ---------------------------------------------------------------------
 * Lookups and changes
 * ---------------------------------------------------------------------
 */
em_sender *
em_find_sender(const em_inventory *inv, const char *id)
{
	em_sender	key;

	if (inv->n_senders == 0)
		return NULL;
	key.id = (char *) id;
	return bsearch(&key, inv->senders, inv->n_senders, sizeof(em_sender), cmp_sender);
}

em_pool *
em_find_pool(const em_inventory *inv, const char *id)
{
	em_pool		key;

	if (inv->n_pools == 0)
		return NULL;
	key.id = (char *) id;
	return bsearch(&key, inv->pools, inv->n_pools, sizeof(em_pool), cmp_pool);
}

em_pool *
em_pool_insert(em_inventory *inv, const char *id, const char *name,
			   json_object *tags, const char *now)
{
	int			at = 0;
	em_pool    *p;

	while (at < inv->n_pools && strcmp(inv->pools[at].id, id) < 0)
		at++;
	if (inv->n_pools == inv->cap_pools)
	{
		inv->cap_pools = inv->cap_pools ? inv->cap_pools * 2 : 8;
		inv->pools = xrealloc(inv->pools, sizeof(em_pool) * inv->cap_pools);
	}
	memmove(&inv->pools[at + 1], &inv->pools[at], sizeof(em_pool) * (inv->n_pools - at));
	inv->n_pools++;
	p = &inv->pools[at];
	memset(p, 0, sizeof(*p));
	p->id = xstrdup(id);
	p->name = xstrdup(name);
	p->tags = tags ? json_object_get(tags) : json_object_new_object();
	p->created_at = xstrdup(now);
	p->updated_at = xstrdup(now);
	if (!em_parse_time(now, &p->created_ms))
		p->created_ms = 0;
	return p;
}

void
em_pool_delete(em_inventory *inv, em_pool *p)
{
	int			at = (int) (p - inv->pools);

	free_pool(p);
	memmove(&inv->pools[at], &inv->pools[at + 1], sizeof(em_pool) * (inv->n_pools - at - 1));
	inv->n_pools--;
}

static int
member_pos(const em_pool *p, const char *id, bool *found)
{
	int			lo = 0,
				hi = p->n_members;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;
		int			c = strcmp(p->members[mid], id);

		if (c == 0)
		{
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

bool
em_pool_has_member(const em_pool *p, const char *sender_id)
{
	bool		found;

	member_pos(p, sender_id, &found);
	return found;
}

void
em_pool_add_member(em_pool *p, const char *sender_id)
{
	bool		found;
	int			at = member_pos(p, sender_id, &found);

	if (found)
		return;
	if (p->n_members == p->cap_members)
	{
		p->cap_members = p->cap_members ? p->cap_members * 2 : 8;
		p->members = xrealloc(p->members, sizeof(char *) * p->cap_members);
	}
	memmove(&p->members[at + 1], &p->members[at], sizeof(char *) * (p->n_members - at));
	p->members[at] = xstrdup(sender_id);
	p->n_members++;
}

bool
em_pool_remove_member(em_pool *p, const char *sender_id)
{
	bool		found;
	int			at = member_pos(p, sender_id, &found);

	if (!found)
		return false;
	free(p->members[at]);
	memmove(&p->members[at], &p->members[at + 1], sizeof(char *) * (p->n_members - at - 1));
	p->n_members--;
	return true;
}

/* ---------------------------------------------------------------------
 * JSON output
 * ---------------------------------------------------------------------
 */
json_object *
em_sender_to_json(const em_sender *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(s->id));
	json_object_object_add(o, "displayName",
						   s->display_name ? json_object_new_string(s->display_name) : NULL);
	json_object_object_add(o, "address", json_object_new_string(s->address));
	json_object_object_add(o, "channel", json_object_new_string(cr_sender_channel_name(s->channel)));
	json_object_object_add(o, "status", json_object_new_string(s->activated ? "ACTIVATED" : "DEACTIVATED"));
	json_object_object_add(o, "tags", json_object_get(s->tags));
	json_object_object_add(o, "createdAt", json_object_new_string(s->created_at));
	json_object_object_add(o, "updatedAt", json_object_new_string(s->updated_at));
	return o;
}

json_object *
em_pool_to_json(const em_pool *p)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(p->id));
	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "tags", json_object_get(p->tags));
	json_object_object_add(o, "createdAt", json_object_new_string(p->created_at));
	json_object_object_add(o, "updatedAt", json_object_new_string(p->updated_at));
	return o;
}

json_object *
em_operation_to_json(const em_operation *op)
{
	json_object *o = json_object_new_object();
	json_object *st = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(op->id));
	json_object_object_add(o, "status", json_object_new_string("COMPLETED"));
	json_object_object_add(st, "total", json_object_new_int(op->total));
	json_object_object_add(st, "queued", json_object_new_int(0));
	json_object_object_add(st, "created", json_object_new_int(op->created));
	json_object_object_add(st, "failed", json_object_new_int(op->failed));
	json_object_object_add(o, "stats", st);
	json_object_object_add(o, "createdAt", json_object_new_string(op->created_at));
	json_object_object_add(o, "updatedAt", json_object_new_string(op->created_at));
	return o;
}

json_object *
em_inventory_to_json(const em_inventory *inv)
{
	json_object *root = json_object_new_object();
	json_object *senders = json_object_new_array_ext(inv->n_senders);
	json_object *pools = json_object_new_array_ext(inv->n_pools);

	for (int i = 0; i < inv->n_senders; i++)
		json_object_array_add(senders, em_sender_to_json(&inv->senders[i]));
	for (int i = 0; i < inv->n_pools; i++)
	{
		json_object *p = em_pool_to_json(&inv->pools[i]);
		json_object *m = json_object_new_array_ext(inv->pools[i].n_members);

		for (int k = 0; k < inv->pools[i].n_members; k++)
			json_object_array_add(m, json_object_new_string(inv->pools[i].members[k]));
		json_object_object_add(p, "senders", m);
		json_object_array_add(pools, p);
	}
	json_object_object_add(root, "senders", senders);
	json_object_object_add(root, "senderPools", pools);
	return root;
}
