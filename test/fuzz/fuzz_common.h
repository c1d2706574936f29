/*-------------------------------------------------------------------------
 *
 * fuzz_common.h
 *	  Shared checks of the fuzz targets: the contract of cr_error, of a
 *	  parsed cr_request / cr_full_request, and of cr_rank against a naive
 *	  model (every candidate pair, sorted with cr_pair_cmp).
 *
 * A violated check calls fuzz_fail(), which prints what broke and aborts,
 * so libFuzzer records the input as a crash.  Only documented properties
 * (cr_core.h) are checked.
 *
 * Included by the targets that parse requests; everything is static.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include "cr_core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noreturn, format(printf, 1, 2)))
static inline void
fuzz_fail(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "FUZZ CHECK FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define FUZZ_CHECK(cond, ...) do { if (!(cond)) fuzz_fail(__VA_ARGS__); } while (0)

static inline void *
fuzz_xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (p == NULL)
		abort();
	return p;
}

/* Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF). */
static inline bool
fuzz_valid_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		i = 0;

	while (i < len)
	{
		unsigned char c = p[i];
		int			extra;
		unsigned long cp;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0)
			extra = 1, cp = c & 0x1F;
		else if ((c & 0xF0) == 0xE0)
			extra = 2, cp = c & 0x0F;
		else if ((c & 0xF8) == 0xF0)
			extra = 3, cp = c & 0x07;
		else
			return false;
		if (len - i <= (size_t) extra)
			return false;
		for (int k = 1; k <= extra; k++)
		{
			if ((p[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
			(extra == 3 && cp < 0x10000) || cp > 0x10FFFF ||
			(cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += (size_t) extra + 1;
	}
	return true;
}

/*
 * Is the check named name switched off?  FUZZ_IGNORE in the environment
 * lists checks to skip (space-separated), so a long run can go on past a
 * known, reported bug.  Names:
 *	 message-utf8	cr_error texts need not be valid UTF-8 (cr_fail cuts a
 *					quoted excerpt mid-character)
 *	 fault-path-nul	skip fault rules whose "path" holds a NUL (em_faults.c
 *					reads path[-1])
 */
static inline bool
fuzz_ignored(const char *name)
{
	static const char *ignore;
	static bool read;

	if (!read)
	{
		ignore = getenv("FUZZ_IGNORE");
		read = true;
	}
	return ignore != NULL && strstr(ignore, name) != NULL;
}

/* A NUL-terminated field of a fixed-size array that is valid UTF-8. */
static inline void
fuzz_check_text(const char *what, const char *field, size_t size)
{
	size_t		len = strnlen(field, size);

	FUZZ_CHECK(len < size, "cr_error.%s is not NUL-terminated", what);
	if (!fuzz_ignored("message-utf8"))
		FUZZ_CHECK(fuzz_valid_utf8(field, len),
				   "cr_error.%s is not valid UTF-8: \"%s\"", what, field);
}

/* The contract of a failure report (cr_core.h, "Errors"). */
static inline void
fuzz_check_error(const cr_error *err)
{
	FUZZ_CHECK(err->kind == CR_ERR_INVALID || err->kind == CR_ERR_UNDEFINED ||
			   err->kind == CR_ERR_UNSUPPORTED, "cr_error.kind %d after a failure", (int) err->kind);
	fuzz_check_text("message", err->message, sizeof(err->message));
	fuzz_check_text("context", err->context, sizeof(err->context));
	fuzz_check_text("hint", err->hint, sizeof(err->hint));
	FUZZ_CHECK(err->message[0] != '\0', "empty cr_error.message");
}

/* An error struct full of garbage, so a parser that forgets to fill it shows. */
static inline void
fuzz_poison_error(cr_error *err)
{
	memset(err, 0x5a, sizeof(*err));
}

/* ---------------------------------------------------------------------
 * A parsed request
 * ---------------------------------------------------------------------
 */
static inline void
fuzz_check_request(const cr_request *req)
{
	FUZZ_CHECK(req->n_recipients >= 1 && req->n_recipients <= CR_MAX_RECIPIENTS,
			   "n_recipients %d", req->n_recipients);
	for (int i = 0; i < req->n_recipients; i++)
	{
		const cr_recipient *r = &req->recipients[i];
		uint64_t	h;

		FUZZ_CHECK(r->channel >= 0 && r->channel < CR_RCH_COUNT, "recipient %d: channel %d", i, (int) r->channel);
		switch (r->channel)
		{
			case CR_RCH_PHONE:
			case CR_RCH_WHATSAPP:
				FUZZ_CHECK(cr_is_e164(r->address, r->len), "recipient %d: not E.164", i);
				{
					cr_geo		g = cr_geo_of(r->address, r->len);

					FUZZ_CHECK(g.code == r->geo.code && g.area == r->geo.area,
							   "recipient %d: geo %d/%d, expected %d/%d", i,
							   r->geo.code, r->geo.area, g.code, g.area);
				}
				break;
			case CR_RCH_EMAIL:
				FUZZ_CHECK(cr_is_email(r->address, r->len), "recipient %d: not an email", i);
				FUZZ_CHECK(r->geo.code == 0 && r->geo.area == -1, "recipient %d: geo on email", i);
				break;
			default:
				FUZZ_CHECK(r->len >= 1 && cr_utf8_chars(r->address, r->len) <= CR_MAX_PUSH_CHARS,
						   "recipient %d: push address of %zu bytes", i, r->len);
				FUZZ_CHECK(r->geo.code == 0 && r->geo.area == -1, "recipient %d: geo on push", i);
				break;
		}
		FUZZ_CHECK(r->position >= 0 && r->position < CR_MAX_RECIPIENTS, "recipient %d: position %d", i, r->position);
		if (i > 0)
			FUZZ_CHECK(r->position > req->recipients[i - 1].position,
					   "recipient %d: positions not increasing", i);
		for (int k = 0; k < i; k++)
		{
			const cr_recipient *o = &req->recipients[k];

			FUZZ_CHECK(!(o->channel == r->channel && o->len == r->len &&
						 memcmp(o->address, r->address, r->len) == 0),
					   "recipients %d and %d are duplicates", k, i);
		}
		h = cr_fnv1a_update(cr_fnv1a_update(CR_FNV_OFFSET, r->address, r->len), "|", 1);
		FUZZ_CHECK(h == r->hash_prefix, "recipient %d: hash_prefix", i);
	}
	FUZZ_CHECK((req->filter_mask & ~((1u << CR_SCH_COUNT) - 1)) == 0, "filter_mask %#x", req->filter_mask);
	FUZZ_CHECK(req->has_filter || req->filter_mask == 0, "filter_mask without has_filter");
	FUZZ_CHECK((req->listed_mask & ~((1u << CR_SCH_COUNT) - 1)) == 0, "listed_mask %#x", req->listed_mask);
	{
		int64_t		max = -1;

		for (int c = 0; c < CR_SCH_COUNT; c++)
			if (req->listed_mask & (1u << c))
			{
				FUZZ_CHECK(req->listed_priority[c] >= 0 && req->listed_priority[c] <= INT32_MAX,
						   "listed priority %lld", (long long) req->listed_priority[c]);
				if (req->listed_priority[c] > max)
					max = req->listed_priority[c];
			}
		FUZZ_CHECK(max == req->max_listed, "max_listed %lld, expected %lld",
				   (long long) req->max_listed, (long long) max);
	}
}

static inline void
fuzz_check_sender_address(const cr_sender_address *s)
{
	if (s->is_push)
	{
		FUZZ_CHECK(s->channel == CR_SCH_PUSH && s->address == NULL, "push sender with an address");
		FUZZ_CHECK(s->fcm || s->apn, "push sender with no credential");
		if (s->fcm)
			FUZZ_CHECK(cr_is_typeid("comms_credential", s->fcm, s->fcm_len), "bad fcm id");
		if (s->apn)
			FUZZ_CHECK(cr_is_typeid("comms_credential", s->apn, s->apn_len), "bad apn id");
		return;
	}
	FUZZ_CHECK(s->address != NULL && s->address_len > 0, "sender address empty");
	switch (s->channel)
	{
		case CR_SCH_EMAIL:
			FUZZ_CHECK(cr_is_email(s->address, s->address_len), "EMAIL sender address is no email");
			FUZZ_CHECK(s->name != NULL && s->name_len > 0, "EMAIL sender without a name");
			break;
		case CR_SCH_SMS:
		case CR_SCH_RCS:
		case CR_SCH_WHATSAPP:
			FUZZ_CHECK(s->name == NULL, "name on a %s sender", cr_sender_channel_name(s->channel));
			break;
		default:
			fuzz_fail("sender address of channel %d", (int) s->channel);
	}
}

static inline void
fuzz_check_full_request(const cr_full_request *fr)
{
	fuzz_check_request(&fr->req);
	FUZZ_CHECK(!(fr->has_pool && fr->has_sender), "both a pool and a sender");
	if (fr->has_pool)
		FUZZ_CHECK(cr_is_typeid(CR_POOL_PREFIX, fr->pool_id, fr->pool_id_len), "bad pool id accepted");
	if (fr->has_sender)
		fuzz_check_sender_address(&fr->sender);
}

/* ---------------------------------------------------------------------
 * Ranking: cr_rank against every candidate pair sorted by cr_pair_cmp
 * ---------------------------------------------------------------------
 */
static const struct
{
	const char *id;
	const char *address;
	cr_sender_channel channel;
}			fuzz_senders[] = {
	{"comms_sender_01h9krwprkeee8fzqspvwy6s01", "+15035551234", CR_SCH_SMS},
	{"comms_sender_01h9krwprkeee8fzqspvwy6s02", "+14155550000", CR_SCH_SMS},
	{"comms_sender_01h9krwprkeee8fzqspvwy6s03", "+442071234567", CR_SCH_SMS},
	{"comms_sender_01h9krwprkeee8fzqspvwy6s04", "+919876543210", CR_SCH_SMS},
	{"comms_sender_01h9krwprkeee8fzqspvwy6r01", "company_support_agent", CR_SCH_RCS},
	{"comms_sender_01h9krwprkeee8fzqspvwy6w01", "+15035551234", CR_SCH_WHATSAPP},
	{"comms_sender_01h9krwprkeee8fzqspvwy6w02", "+5511912345678", CR_SCH_WHATSAPP},
	{"comms_sender_01h9krwprkeee8fzqspvwy6e01", "support@company.com", CR_SCH_EMAIL},
	{"comms_sender_01h9krwprkeee8fzqspvwy6e02", "noreply@example.org", CR_SCH_EMAIL},
	{"comms_sender_01h9krwprkeee8fzqspvwy6p01", "com.example.app", CR_SCH_PUSH},
};
#define FUZZ_N_SENDERS ((int) (sizeof(fuzz_senders) / sizeof(fuzz_senders[0])))

/* Senders of the pool: every channel, or (subset) SMS and EMAIL only. */
static inline int
fuzz_make_senders(cr_sender *out, bool subset)
{
	int			n = 0;

	for (int i = 0; i < FUZZ_N_SENDERS; i++)
	{
		if (subset && fuzz_senders[i].channel != CR_SCH_SMS && fuzz_senders[i].channel != CR_SCH_EMAIL)
			continue;
		out[n].id = fuzz_senders[i].id;
		out[n].id_len = strlen(fuzz_senders[i].id);
		out[n].address = fuzz_senders[i].address;
		out[n].address_len = strlen(fuzz_senders[i].address);
		out[n].channel = fuzz_senders[i].channel;
		cr_sender_prepare(&out[n]);
		n++;
	}
	return n;
}

static const cr_pool *fuzz_sort_pool;

static inline int
fuzz_pair_qsort_cmp(const void *a, const void *b)
{
	return cr_pair_cmp(fuzz_sort_pool, a, b);
}

/*
 * The model: candidates are the (sender, recipient) pairs whose channels
 * reach each other and pass the filter; a listed channel has its priority,
 * the unlisted channels that occur among the candidates get max_listed+1,
 * +2, ... in enum (default) order, and none may pass INT32_MAX.  Returns
 * the number of candidates, or -1 when the priorities run out; *pairs
 * (malloc'd) holds them sorted.
 */
static inline int
fuzz_model_rank(const cr_request *req, const cr_pool *pool, cr_pair **pairs)
{
	bool		occurs[CR_SCH_COUNT] = {false};
	int64_t		prio[CR_SCH_COUNT];
	int64_t		next = req->max_listed + 1;
	int			n = 0;
	cr_pair    *p = fuzz_xmalloc(sizeof(cr_pair) * (size_t) (pool->n_senders * req->n_recipients + 1));

	for (int s = 0; s < pool->n_senders; s++)
		for (int r = 0; r < req->n_recipients; r++)
		{
			cr_sender_channel c = pool->senders[s].channel;

			if (cr_channel_reaches(c, req->recipients[r].channel) &&
				(!req->has_filter || (req->filter_mask & (1u << c))))
				occurs[c] = true;
		}
	for (int c = 0; c < CR_SCH_COUNT; c++)
	{
		if (req->listed_mask & (1u << c))
			prio[c] = req->listed_priority[c];
		else if (occurs[c])
		{
			if (next > INT32_MAX)
			{
				free(p);
				*pairs = NULL;
				return -1;
			}
			prio[c] = next++;
		}
		else
			prio[c] = -1;
	}
	for (int s = 0; s < pool->n_senders; s++)
		for (int r = 0; r < req->n_recipients; r++)
		{
			const cr_sender *sd = &pool->senders[s];
			const cr_recipient *rc = &req->recipients[r];

			if (!occurs[sd->channel] || !cr_channel_reaches(sd->channel, rc->channel))
				continue;
			p[n].sender = s;
			p[n].recipient = r;
			p[n].priority = (int32_t) prio[sd->channel];
			p[n].geo = cr_geo_match(sd->geo, rc->geo);
			p[n].sticky = cr_sticky_score(rc->address, rc->len, sd->id, sd->id_len);
			n++;
		}
	fuzz_sort_pool = pool;
	qsort(p, (size_t) n, sizeof(cr_pair), fuzz_pair_qsort_cmp);
	*pairs = p;
	return n;
}

static inline void
fuzz_rank_one(const cr_request *req, const cr_pool *pool, int max_results,
			  const cr_pair *model, int n_model)
{
	cr_pair    *out = fuzz_xmalloc(sizeof(cr_pair) * (size_t) max_results);
	cr_error	err;
	int			n;

	fuzz_poison_error(&err);
	n = cr_rank(req, pool, max_results, out, &err);
	if (n_model < 0)
	{
		FUZZ_CHECK(n == -1, "cr_rank returned %d where the priorities run out", n);
		fuzz_check_error(&err);
		free(out);
		return;
	}
	FUZZ_CHECK(n >= 0, "cr_rank failed (%s) where the model ranks %d pairs", err.message, n_model);
	FUZZ_CHECK(n == (n_model < max_results ? n_model : max_results),
			   "cr_rank returned %d pairs of %d candidates, max_results %d", n, n_model, max_results);
	for (int i = 0; i < n; i++)
	{
		const cr_pair *a = &out[i],
				   *b = &model[i];

		FUZZ_CHECK(a->sender == b->sender && a->recipient == b->recipient &&
				   a->priority == b->priority && a->geo == b->geo && a->sticky == b->sticky,
				   "cr_rank pair %d (max_results %d) is sender %d recipient %d priority %d geo %d, "
				   "the model's is sender %d recipient %d priority %d geo %d",
				   i, max_results, a->sender, a->recipient, (int) a->priority, a->geo,
				   b->sender, b->recipient, (int) b->priority, b->geo);
		if (i > 0)
			FUZZ_CHECK(cr_pair_cmp(pool, &out[i - 1], a) < 0, "cr_rank output not strictly ordered at %d", i);
	}
	free(out);
}

/* Rank req over the full pool and a subset, with several result limits. */
static inline void
fuzz_rank_request(const cr_request *req)
{
	cr_sender	senders[FUZZ_N_SENDERS];
	int			index[FUZZ_N_SENDERS];
	static const int limits[] = {1, 3, 10, CR_MAX_RESULTS_LIMIT};

	for (int subset = 0; subset < 2; subset++)
	{
		cr_pool		pool;
		cr_pair    *model;
		int			n_model;
		int			n = fuzz_make_senders(senders, subset);

		cr_pool_build(&pool, senders, n, index);
		n_model = fuzz_model_rank(req, &pool, &model);
		for (size_t k = 0; k < sizeof(limits) / sizeof(limits[0]); k++)
			fuzz_rank_one(req, &pool, limits[k], model, n_model);
		free(model);
	}
}

/*
 * Run every request parser of the core on v (the root of an input): the
 * whole-request parser, and each part parser as if v were that part.
 */
static inline void
fuzz_parse_all(const cr_jv *v)
{
	cr_full_request *fr = fuzz_xmalloc(sizeof(cr_full_request));
	cr_request *req = fuzz_xmalloc(sizeof(cr_request));
	cr_sender_address sa;
	cr_error	err;

	fuzz_poison_error(&err);
	if (cr_parse_full_request(v, fr, &err))
	{
		fuzz_check_full_request(fr);
		fuzz_rank_request(&fr->req);
	}
	else
		fuzz_check_error(&err);

	/* v as the recipients, then channels, of one request */
	cr_request_init(req);
	fuzz_poison_error(&err);
	if (cr_parse_recipients(v, "$.recipientAddresses", req, &err))
	{
		fuzz_poison_error(&err);
		if (cr_parse_channels(NULL, "$.channels", req, &err))
		{
			fuzz_check_request(req);
			fuzz_rank_request(req);
		}
		else
			fuzz_fail("absent channels rejected: %s", err.message);
	}
	else
		fuzz_check_error(&err);

	cr_request_init(req);
	fuzz_poison_error(&err);
	if (!cr_parse_channels(v, "$.channels", req, &err))
		fuzz_check_error(&err);

	fuzz_poison_error(&err);
	if (cr_parse_sender_address(v, "$.senderAddresses", &sa, &err))
		fuzz_check_sender_address(&sa);
	else
		fuzz_check_error(&err);

	if (v && v->type == CR_JV_STRING)
	{
		fuzz_poison_error(&err);
		if (cr_check_pool_id(v->s, v->len, "$.senderPoolId", &err))
			FUZZ_CHECK(cr_is_typeid(CR_POOL_PREFIX, v->s, v->len), "pool id check");
		else
			fuzz_check_error(&err);
	}
	free(fr);
	free(req);
}

/*
 * Does a fault rule array hold a rule whose "path" has an embedded NUL?
 * (Only with FUZZ_IGNORE=fault-path-nul; needs json-c, so em.h, first.)
 */
#ifdef EM_H
static inline bool
fuzz_skip_fault_rules(json_object *rules)
{
	if (!fuzz_ignored("fault-path-nul") || !json_object_is_type(rules, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(rules); i++)
	{
		json_object *path;

		if (json_object_object_get_ex(json_object_array_get_idx(rules, i), "path", &path) &&
			json_object_is_type(path, json_type_string) &&
			strlen(json_object_get_string(path)) != (size_t) json_object_get_string_len(path))
			return true;
	}
	return false;
}
#endif

#endif							/* FUZZ_COMMON_H */
