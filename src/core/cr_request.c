/*-------------------------------------------------------------------------
 *
 * cr_request.c
 *	  Parse and validate Resolve input (sql.md 4.1) from a cr_jv tree:
 *	  recipients, channel controls, pool ids, sender addresses (form B) and
 *	  whole request bodies.
 *
 * Each parser either fills its output completely or fails with a cr_error
 * whose context names the offending element the way the API does
 * ("$.recipientAddresses[2].address").  Parsers check elements in input
 * order and report the first problem found.
 *
 *-------------------------------------------------------------------------
 */
#include "cr_core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define EXCERPT_CHARS 40

#define HINT_RECIPIENT_CHANNELS "Recipient channels are PHONE, EMAIL, WHATSAPP and PUSH."
#define HINT_SENDER_CHANNELS "Sender channels are SMS, RCS, EMAIL, WHATSAPP and PUSH."
#define HINT_E164 "A phone or WhatsApp address is E.164: a plus sign and 2 to 15 digits, the first not 0."
#define HINT_EMAIL "An email address has one @, a local part of at most 64 octets and a domain of two or more labels, with no spaces."
#define HINT_RECIPIENT_FORMS "A recipient is {\"address\": ..., \"channel\": ...} or a string: \"+E.164\", \"whatsapp:+E.164\" or an email address."
#define HINT_PRIORITY "A priority is an integer from 0 to 2147483647."

/*
 * Format a context path.  Paths are short (fixed prefixes and indexes below
 * CR_MAX_RECIPIENTS), and a longer one would only be cut, never overrun.
 */
static void pathf(char *buf, size_t size, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

static void
pathf(char *buf, size_t size, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

void
cr_request_init(cr_request *req)
{
	memset(req, 0, sizeof(*req));
	req->max_listed = -1;
}

/* Report a key of obj that is not in allowed (a NULL-terminated list). */
static bool
check_keys(const cr_jv *obj, const char *const *allowed, const char *path,
		   const char *what, cr_error *err)
{
	char		ex[EXCERPT_CHARS * 4 + 8];

	for (size_t i = 0; i < obj->n_loaded; i++)
	{
		const cr_jv_member *m = &obj->members[i];
		bool		ok = false;

		for (const char *const *a = allowed; *a; a++)
			if (strlen(*a) == m->key_len && memcmp(*a, m->key, m->key_len) == 0)
				ok = true;
		if (!ok)
			return cr_fail(err, CR_ERR_INVALID, path, NULL,
						   "unknown key \"%s\" in %s",
						   cr_excerpt(ex, sizeof(ex), m->key, m->key_len, EXCERPT_CHARS),
						   what);
	}
	if (obj->n_loaded < obj->n)
		return cr_fail(err, CR_ERR_INVALID, path, NULL, "too many keys in %s", what);
	return true;
}

/* Validate address for channel ch; ctx is the path of the address. */
static bool
check_address(cr_recipient_channel ch, const char *s, size_t len,
			  const char *ctx, cr_error *err)
{
	char		ex[EXCERPT_CHARS * 4 + 8];

	switch (ch)
	{
		case CR_RCH_PHONE:
		case CR_RCH_WHATSAPP:
			if (!cr_is_e164(s, len))
				return cr_fail(err, CR_ERR_INVALID, ctx, HINT_E164,
							   "invalid E.164 address \"%s\" for channel %s",
							   cr_excerpt(ex, sizeof(ex), s, len, EXCERPT_CHARS),
							   cr_recipient_channel_name(ch));
			break;
		case CR_RCH_EMAIL:
			if (!cr_is_email(s, len))
				return cr_fail(err, CR_ERR_INVALID, ctx, HINT_EMAIL,
							   "invalid email address \"%s\"",
							   cr_excerpt(ex, sizeof(ex), s, len, EXCERPT_CHARS));
			break;
		case CR_RCH_PUSH:
			if (len == 0 || cr_utf8_chars(s, len) > CR_MAX_PUSH_CHARS)
				return cr_fail(err, CR_ERR_INVALID, ctx,
							   "A push address is a non-empty string of at most 256 characters.",
							   "invalid push address of %zu characters",
							   cr_utf8_chars(s, len));
			break;
		default:
			return cr_fail(err, CR_ERR_INVALID, ctx, NULL, "invalid recipient channel");
	}
	return true;
}

static bool
has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t		plen = strlen(prefix);

	return len >= plen && memcmp(s, prefix, plen) == 0;
}

/* A bare-string recipient: infer the channel (sql.md 4.1). */
static bool
parse_bare_recipient(const cr_jv *v, const char *ctx, cr_recipient *r,
					 cr_error *err)
{
	char		ex[EXCERPT_CHARS * 4 + 8];

	if (has_prefix(v->s, v->len, "whatsapp:") && cr_is_e164(v->s + 9, v->len - 9))
	{
		r->channel = CR_RCH_WHATSAPP;
		r->address = v->s + 9;
		r->len = v->len - 9;
		return true;
	}
	r->address = v->s;
	r->len = v->len;
	if (cr_is_e164(v->s, v->len))
	{
		r->channel = CR_RCH_PHONE;
		return true;
	}
	if (memchr(v->s, '@', v->len) != NULL)
	{
		r->channel = CR_RCH_EMAIL;
		return check_address(CR_RCH_EMAIL, v->s, v->len, ctx, err);
	}
	return cr_fail(err, CR_ERR_INVALID, ctx, HINT_RECIPIENT_FORMS,
				   "cannot infer the channel of recipient \"%s\"",
				   cr_excerpt(ex, sizeof(ex), v->s, v->len, EXCERPT_CHARS));
}

static bool
parse_object_recipient(const cr_jv *v, const char *ctx, cr_recipient *r,
					   cr_error *err)
{
	static const char *const keys[] = {"address", "channel", NULL};
	char		path[128];
	char		ex[EXCERPT_CHARS * 4 + 8];
	const cr_jv *addr,
			   *chan;
	int			ch;

	if (!check_keys(v, keys, ctx, "recipient", err))
		return false;
	chan = cr_jv_get(v, "channel");
	addr = cr_jv_get(v, "address");
	pathf(path, sizeof(path), "%s.channel", ctx);
	if (chan == NULL)
		return cr_fail(err, CR_ERR_INVALID, path, HINT_RECIPIENT_FORMS,
					   "recipient has no channel");
	if (chan->type != CR_JV_STRING)
		return cr_fail(err, CR_ERR_INVALID, path, HINT_RECIPIENT_CHANNELS,
					   "recipient channel must be a string, not %s",
					   cr_jv_type_name(chan->type));
	ch = cr_recipient_channel_from_name(chan->s, chan->len);
	if (ch < 0)
		return cr_fail(err, CR_ERR_INVALID, path, HINT_RECIPIENT_CHANNELS,
					   "invalid recipient channel \"%s\"",
					   cr_excerpt(ex, sizeof(ex), chan->s, chan->len, EXCERPT_CHARS));
	pathf(path, sizeof(path), "%s.address", ctx);
	if (addr == NULL)
		return cr_fail(err, CR_ERR_INVALID, path, HINT_RECIPIENT_FORMS,
					   "recipient has no address");
	if (addr->type != CR_JV_STRING)
		return cr_fail(err, CR_ERR_INVALID, path, NULL,
					   "recipient address must be a string, not %s",
					   cr_jv_type_name(addr->type));
	if (!check_address((cr_recipient_channel) ch, addr->s, addr->len, path, err))
		return false;
	r->channel = (cr_recipient_channel) ch;
	r->address = addr->s;
	r->len = addr->len;
	return true;
}

bool
cr_parse_recipients(const cr_jv *v, const char *path, cr_request *req,
					cr_error *err)
{
	char		ctx[128];

	req->n_recipients = 0;
	if (v == NULL || v->type == CR_JV_NULL)
		return cr_fail(err, CR_ERR_INVALID, path, HINT_RECIPIENT_FORMS,
					   "recipient addresses are required");
	if (v->type != CR_JV_ARRAY)
		return cr_fail(err, CR_ERR_INVALID, path, HINT_RECIPIENT_FORMS,
					   "recipient addresses must be an array, not %s",
					   cr_jv_type_name(v->type));
	if (v->n == 0)
		return cr_fail(err, CR_ERR_INVALID, path,
					   "Give between 1 and 100 addresses of one person.",
					   "recipient addresses must not be empty");
	if (v->n > CR_MAX_RECIPIENTS || v->n_loaded < v->n)
		return cr_fail(err, CR_ERR_INVALID, path,
					   "Give between 1 and 100 addresses of one person.",
					   "too many recipient addresses (%zu)", v->n);

	for (size_t i = 0; i < v->n; i++)
	{
		const cr_jv *e = v->items[i];
		cr_recipient r;
		bool		dup = false;

		memset(&r, 0, sizeof(r));
		pathf(ctx, sizeof(ctx), "%s[%zu]", path, i);
		if (e->type == CR_JV_STRING)
		{
			if (!parse_bare_recipient(e, ctx, &r, err))
				return false;
		}
		else if (e->type == CR_JV_OBJECT)
		{
			if (!parse_object_recipient(e, ctx, &r, err))
				return false;
		}
		else
			return cr_fail(err, CR_ERR_INVALID, ctx, HINT_RECIPIENT_FORMS,
						   "recipient must be an object or a string, not %s",
						   cr_jv_type_name(e->type));

		/* a repeated recipient counts once, at its first position */
		for (int k = 0; k < req->n_recipients && !dup; k++)
		{
			const cr_recipient *o = &req->recipients[k];

			dup = (o->channel == r.channel && o->len == r.len &&
				   memcmp(o->address, r.address, r.len) == 0);
		}
		if (dup)
			continue;
		r.position = (int) i;
		if (r.channel == CR_RCH_PHONE || r.channel == CR_RCH_WHATSAPP)
			r.geo = cr_geo_of(r.address, r.len);
		else
		{
			r.geo.code = 0;
			r.geo.area = -1;
		}
		r.hash_prefix = cr_fnv1a_update(cr_fnv1a_update(CR_FNV_OFFSET, r.address, r.len), "|", 1);
		req->recipients[req->n_recipients++] = r;
	}
	return true;
}

/* A sender channel name at ctx; returns the channel or -1 with *err set. */
static int
parse_sender_channel(const cr_jv *v, const char *ctx, const char *what,
					 cr_error *err)
{
	char		ex[EXCERPT_CHARS * 4 + 8];
	int			ch;

	if (v->type != CR_JV_STRING)
	{
		cr_fail(err, CR_ERR_INVALID, ctx, HINT_SENDER_CHANNELS,
				"%s must be a string, not %s", what, cr_jv_type_name(v->type));
		return -1;
	}
	ch = cr_sender_channel_from_name(v->s, v->len);
	if (ch < 0)
		cr_fail(err, CR_ERR_INVALID, ctx, HINT_SENDER_CHANNELS,
				"invalid sender channel \"%s\"",
				cr_excerpt(ex, sizeof(ex), v->s, v->len, EXCERPT_CHARS));
	return ch;
}

static bool
parse_filter_in(const cr_jv *v, const char *path, cr_request *req, cr_error *err)
{
	char		ctx[128];

	if (v->type != CR_JV_ARRAY)
		return cr_fail(err, CR_ERR_INVALID, path, HINT_SENDER_CHANNELS,
					   "filterIn must be an array, not %s", cr_jv_type_name(v->type));
	req->has_filter = true;
	req->filter_mask = 0;
	for (size_t i = 0; i < v->n_loaded; i++)
	{
		int			ch;

		pathf(ctx, sizeof(ctx), "%s[%zu]", path, i);
		ch = parse_sender_channel(v->items[i], ctx, "a filterIn channel", err);
		if (ch < 0)
			return false;
		if (req->filter_mask & (1u << ch))
			return cr_fail(err, CR_ERR_INVALID, ctx, "Each channel may appear once in filterIn.",
						   "duplicate channel \"%s\" in filterIn", cr_sender_channel_name(ch));
		req->filter_mask |= 1u << ch;
	}
	/* at most five distinct channels fit, so a longer array failed above */
	if (v->n_loaded < v->n)
		return cr_fail(err, CR_ERR_INVALID, path, NULL, "filterIn has too many elements");
	return true;
}

static bool
parse_priority(const cr_jv *v, const char *path, cr_request *req, cr_error *err)
{
	static const char *const keys[] = {"channel", "priority", NULL};
	char		ctx[128],
				field[160];
	char		ex[EXCERPT_CHARS * 4 + 8];

	if (v->type != CR_JV_ARRAY)
		return cr_fail(err, CR_ERR_INVALID, path, NULL,
					   "priority must be an array, not %s", cr_jv_type_name(v->type));
	for (size_t i = 0; i < v->n_loaded; i++)
	{
		const cr_jv *e = v->items[i];
		const cr_jv *chan,
				   *prio;
		int			ch;
		bool		integral;
		int64_t		n;

		pathf(ctx, sizeof(ctx), "%s[%zu]", path, i);
		if (e->type != CR_JV_OBJECT)
			return cr_fail(err, CR_ERR_INVALID, ctx,
						   "A priority entry is {\"channel\": ..., \"priority\": ...}.",
						   "priority entry must be an object, not %s", cr_jv_type_name(e->type));
		if (!check_keys(e, keys, ctx, "priority entry", err))
			return false;
		chan = cr_jv_get(e, "channel");
		prio = cr_jv_get(e, "priority");
		pathf(field, sizeof(field), "%s.channel", ctx);
		if (chan == NULL)
			return cr_fail(err, CR_ERR_INVALID, field, NULL, "priority entry has no channel");
		ch = parse_sender_channel(chan, field, "a priority channel", err);
		if (ch < 0)
			return false;
		if (req->listed_mask & (1u << ch))
			return cr_fail(err, CR_ERR_INVALID, field, "Each channel may appear once in priority.",
						   "duplicate channel \"%s\" in priority", cr_sender_channel_name(ch));
		pathf(field, sizeof(field), "%s.priority", ctx);
		if (prio == NULL)
			return cr_fail(err, CR_ERR_INVALID, field, HINT_PRIORITY, "priority entry has no priority");
		if (prio->type != CR_JV_NUMBER)
			return cr_fail(err, CR_ERR_INVALID, field, HINT_PRIORITY,
						   "priority must be an integer, not %s", cr_jv_type_name(prio->type));
		if (!cr_number_to_int64(prio->s, prio->len, &integral, &n) || n < 0 || n > INT32_MAX)
		{
			cr_excerpt(ex, sizeof(ex), prio->s, prio->len, EXCERPT_CHARS);
			if (!integral)
				return cr_fail(err, CR_ERR_INVALID, field, HINT_PRIORITY,
							   "priority %s is not an integer", ex);
			return cr_fail(err, CR_ERR_INVALID, field, HINT_PRIORITY,
						   "priority %s is out of range", ex);
		}
		req->listed_mask |= 1u << ch;
		req->listed_priority[ch] = n;
		if (n > req->max_listed)
			req->max_listed = n;
	}
	if (v->n_loaded < v->n)
		return cr_fail(err, CR_ERR_INVALID, path, NULL, "priority has too many elements");
	return true;
}

bool
cr_parse_channels(const cr_jv *v, const char *path, cr_request *req,
				  cr_error *err)
{
	static const char *const keys[] = {"filterIn", "priority", NULL};
	char		ctx[128];
	const cr_jv *f,
			   *p;

	req->has_filter = false;
	req->filter_mask = 0;
	req->listed_mask = 0;
	req->max_listed = -1;
	if (v == NULL || v->type == CR_JV_NULL)
		return true;
	if (v->type != CR_JV_OBJECT)
		return cr_fail(err, CR_ERR_INVALID, path,
					   "Channels is an object with the optional keys filterIn and priority.",
					   "channels must be an object, not %s", cr_jv_type_name(v->type));
	if (!check_keys(v, keys, path, "channels", err))
		return false;
	f = cr_jv_get(v, "filterIn");
	p = cr_jv_get(v, "priority");
	if (f)
	{
		pathf(ctx, sizeof(ctx), "%s.filterIn", path);
		if (!parse_filter_in(f, ctx, req, err))
			return false;
	}
	if (p)
	{
		pathf(ctx, sizeof(ctx), "%s.priority", path);
		if (!parse_priority(p, ctx, req, err))
			return false;
	}
	return true;
}

bool
cr_check_pool_id(const char *s, size_t len, const char *path, cr_error *err)
{
	char		ex[EXCERPT_CHARS * 4 + 8];

	if (cr_is_typeid(CR_POOL_PREFIX, s, len))
		return true;
	return cr_fail(err, CR_ERR_INVALID, path,
				   "A sender pool id is \"comms_senderpool_\" followed by 26 to 35 lower-case base32 characters.",
				   "invalid sender pool id \"%s\"",
				   cr_excerpt(ex, sizeof(ex), s, len, EXCERPT_CHARS));
}

#define HINT_SENDER_FORMS "A sender address is {\"address\", \"channel\"} with channel SMS, RCS or WHATSAPP, {\"address\", \"name\"} for email, or {\"fcm\", \"apn\"} for push."

static bool
string_member(const cr_jv *obj, const char *key, const char *path,
			  const cr_jv **out, cr_error *err)
{
	char		ctx[160];

	pathf(ctx, sizeof(ctx), "%s.%s", path, key);
	*out = cr_jv_get(obj, key);
	if (*out == NULL)
		return cr_fail(err, CR_ERR_INVALID, ctx, HINT_SENDER_FORMS, "sender address has no %s", key);
	if ((*out)->type != CR_JV_STRING)
		return cr_fail(err, CR_ERR_INVALID, ctx, HINT_SENDER_FORMS,
					   "sender %s must be a string, not %s", key, cr_jv_type_name((*out)->type));
	if ((*out)->len == 0)
		return cr_fail(err, CR_ERR_INVALID, ctx, HINT_SENDER_FORMS, "sender %s must not be empty", key);
	return true;
}

bool
cr_parse_sender_address(const cr_jv *v, const char *path,
						cr_sender_address *out, cr_error *err)
{
	static const char *const message_keys[] = {"address", "channel", NULL};
	static const char *const email_keys[] = {"address", "name", NULL};
	static const char *const push_keys[] = {"fcm", "apn", NULL};
	char		ctx[160];
	char		ex[EXCERPT_CHARS * 4 + 8];
	const cr_jv *addr,
			   *x;

	memset(out, 0, sizeof(*out));
	if (v == NULL || v->type != CR_JV_OBJECT)
		return cr_fail(err, CR_ERR_INVALID, path, HINT_SENDER_FORMS,
					   "sender address must be an object, not %s",
					   v ? cr_jv_type_name(v->type) : "missing");
	if (cr_jv_get(v, "address") == NULL)
	{
		/* the push credential form: {"fcm"?, "apn"?} */
		if (!check_keys(v, push_keys, path, "sender address", err))
			return false;
		if (v->n == 0)
			return cr_fail(err, CR_ERR_INVALID, path, HINT_SENDER_FORMS, "sender address is empty");
		for (size_t i = 0; i < v->n_loaded; i++)
		{
			const cr_jv_member *m = &v->members[i];

			pathf(ctx, sizeof(ctx), "%s.%.*s", path, (int) m->key_len, m->key);
			if (m->value->type != CR_JV_STRING ||
				!cr_is_typeid("comms_credential", m->value->s, m->value->len))
				return cr_fail(err, CR_ERR_INVALID, ctx,
							   "A push credential id looks like comms_credential_01h9krwprkeee8fzqspvwy6nq8.",
							   "invalid push credential id");
		}
		if ((x = cr_jv_get(v, "fcm")) != NULL)
		{
			out->fcm = x->s;
			out->fcm_len = x->len;
		}
		if ((x = cr_jv_get(v, "apn")) != NULL)
		{
			out->apn = x->s;
			out->apn_len = x->len;
		}
		out->channel = CR_SCH_PUSH;
		out->is_push = true;
		return true;
	}
	if (cr_jv_get(v, "name") != NULL)
	{
		if (!check_keys(v, email_keys, path, "sender address", err) ||
			!string_member(v, "address", path, &addr, err) ||
			!string_member(v, "name", path, &x, err))
			return false;
		pathf(ctx, sizeof(ctx), "%s.address", path);
		if (!cr_is_email(addr->s, addr->len))
			return cr_fail(err, CR_ERR_INVALID, ctx, HINT_EMAIL, "invalid email address \"%s\"",
						   cr_excerpt(ex, sizeof(ex), addr->s, addr->len, EXCERPT_CHARS));
		out->channel = CR_SCH_EMAIL;
		out->name = x->s;
		out->name_len = x->len;
	}
	else
	{
		int			ch;

		if (!check_keys(v, message_keys, path, "sender address", err) ||
			!string_member(v, "address", path, &addr, err))
			return false;
		pathf(ctx, sizeof(ctx), "%s.channel", path);
		x = cr_jv_get(v, "channel");
		if (x == NULL)
			return cr_fail(err, CR_ERR_INVALID, ctx, HINT_SENDER_FORMS, "sender address has no channel");
		ch = parse_sender_channel(x, ctx, "sender channel", err);
		if (ch < 0)
			return false;
		if (ch != CR_SCH_SMS && ch != CR_SCH_RCS && ch != CR_SCH_WHATSAPP)
			return cr_fail(err, CR_ERR_INVALID, ctx, HINT_SENDER_FORMS,
						   "sender address channel must be SMS, RCS or WHATSAPP, not %s",
						   cr_sender_channel_name(ch));
		out->channel = (cr_sender_channel) ch;
	}
	out->address = addr->s;
	out->address_len = addr->len;
	return true;
}

bool
cr_parse_full_request(const cr_jv *v, cr_full_request *out, cr_error *err)
{
	static const char *const keys[] = {"senderPoolId", "recipientAddresses", "channels", "senderAddresses", NULL};
	const cr_jv *pool,
			   *sender;

	memset(out, 0, sizeof(*out));
	cr_request_init(&out->req);
	if (v == NULL || v->type != CR_JV_OBJECT)
		return cr_fail(err, CR_ERR_INVALID, "$",
					   "A Resolve request is an object with recipientAddresses and optionally senderPoolId or senderAddresses, and channels.",
					   "request must be an object, not %s",
					   v ? cr_jv_type_name(v->type) : "missing");
	if (!check_keys(v, keys, "$", "request", err))
		return false;
	pool = cr_jv_get(v, "senderPoolId");
	sender = cr_jv_get(v, "senderAddresses");
	/* JSON null means absent, as SQL NULL does for the function arguments */
	if (pool && pool->type == CR_JV_NULL)
		pool = NULL;
	if (sender && sender->type == CR_JV_NULL)
		sender = NULL;
	if (pool && sender)
		return cr_fail(err, CR_ERR_INVALID, "$.senderAddresses",
					   "Give senderPoolId to resolve from a pool, or senderAddresses to resolve from one sender.",
					   "request has both senderPoolId and senderAddresses");
	if (pool)
	{
		if (pool->type != CR_JV_STRING)
			return cr_fail(err, CR_ERR_INVALID, "$.senderPoolId", NULL,
						   "senderPoolId must be a string, not %s", cr_jv_type_name(pool->type));
		if (!cr_check_pool_id(pool->s, pool->len, "$.senderPoolId", err))
			return false;
		out->has_pool = true;
		out->pool_id = pool->s;
		out->pool_id_len = pool->len;
	}
	if (!cr_parse_recipients(cr_jv_get(v, "recipientAddresses"), "$.recipientAddresses", &out->req, err))
		return false;
	if (!cr_parse_channels(cr_jv_get(v, "channels"), "$.channels", &out->req, err))
		return false;
	if (sender)
	{
		out->has_sender = true;
		if (!cr_parse_sender_address(sender, "$.senderAddresses", &out->sender, err))
			return false;
	}
	return true;
}
