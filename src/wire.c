/*-------------------------------------------------------------------------
 *
 * wire.c
 *	  The Comms API's wire format, with json-c: Resolve request bodies built
 *	  from a parsed request, Resolve responses validated against the API's
 *	  shape, and error responses turned into SQLSTATEs.
 *
 * json-c allocates with malloc, outside PostgreSQL's memory contexts, so
 * every function here keeps a simple discipline: build or parse, copy what
 * is needed into palloc'd memory, json_object_put, and only then ereport.
 * Nothing between json-c allocation and release can raise an error except
 * through that path.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <json-c/json.h>

/*
 * No utils/builtins.h here: its json_object() function would clash with
 * json-c's json_object type.
 */
#include "comms_resolve.h"

/* ---------------------------------------------------------------------
 * Request bodies
 * ---------------------------------------------------------------------
 */

static json_object *
jstr(const char *s, size_t len)
{
	return json_object_new_string_len(s, (int) len);
}

/* add key -> value, tolerating a NULL value (counted as out of memory) */
static bool
put(json_object *obj, const char *key, json_object *value)
{
	if (obj == NULL || value == NULL)
	{
		json_object_put(value);
		return false;
	}
	return json_object_object_add(obj, key, value) == 0;
}

static bool
append(json_object *arr, json_object *value)
{
	if (arr == NULL || value == NULL)
	{
		json_object_put(value);
		return false;
	}
	return json_object_array_add(arr, value) == 0;
}

/*
 * The Resolve request body for a parsed request: recipients as API objects
 * (bare strings normalised, repeats dropped), channel controls rebuilt from
 * what was parsed, and either the pool id or the sender address.
 * Returns palloc'd JSON text.
 */
char *
cr_wire_resolve_body(const cr_request *req, const char *pool_id,
					 size_t pool_id_len, const cr_sender_address *sender)
{
	json_object *root = json_object_new_object();
	json_object *arr = json_object_new_array();
	bool		ok = (root != NULL && arr != NULL);
	char	   *out = NULL;

	if (ok && pool_id)
		ok = put(root, "senderPoolId", jstr(pool_id, pool_id_len));
	for (int i = 0; ok && i < req->n_recipients; i++)
	{
		const cr_recipient *r = &req->recipients[i];
		json_object *o = json_object_new_object();

		ok = put(o, "address", jstr(r->address, r->len)) &&
			put(o, "channel", json_object_new_string(cr_recipient_channel_name(r->channel))) &&
			append(arr, o);
		if (!ok && o)
			json_object_put(o);
	}
	if (ok)
	{
		ok = put(root, "recipientAddresses", arr);
		arr = NULL;
	}
	if (ok && (req->has_filter || req->listed_mask))
	{
		json_object *ch = json_object_new_object();

		if (req->has_filter)
		{
			json_object *f = json_object_new_array();

			for (int c = 0; f && c < CR_SCH_COUNT; c++)
				if (req->filter_mask & (1u << c))
					append(f, json_object_new_string(cr_sender_channel_name(c)));
			ok = put(ch, "filterIn", f);
		}
		if (ok && req->listed_mask)
		{
			json_object *p = json_object_new_array();

			for (int c = 0; ok && p && c < CR_SCH_COUNT; c++)
				if (req->listed_mask & (1u << c))
				{
					json_object *e = json_object_new_object();

					ok = put(e, "channel", json_object_new_string(cr_sender_channel_name(c))) &&
						put(e, "priority", json_object_new_int64(req->listed_priority[c])) &&
						append(p, e);
				}
			ok = ok && put(ch, "priority", p);
		}
		ok = ok && put(root, "channels", ch);
	}
	if (ok && sender)
	{
		json_object *s = json_object_new_object();

		if (sender->is_push)
		{
			if (sender->fcm)
				ok = put(s, "fcm", jstr(sender->fcm, sender->fcm_len));
			if (ok && sender->apn)
				ok = put(s, "apn", jstr(sender->apn, sender->apn_len));
		}
		else if (sender->channel == CR_SCH_EMAIL)
			ok = put(s, "address", jstr(sender->address, sender->address_len)) &&
				put(s, "name", jstr(sender->name, sender->name_len));
		else
			ok = put(s, "address", jstr(sender->address, sender->address_len)) &&
				put(s, "channel", json_object_new_string(cr_sender_channel_name(sender->channel)));
		ok = ok && put(root, "senderAddresses", s);
	}
	if (ok)
	{
		const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);

		if (text)
			out = pstrdup(text);
	}
	json_object_put(arr);
	json_object_put(root);
	if (out == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory building a request to the Comms API")));
	return out;
}

/* ---------------------------------------------------------------------
 * Responses
 * ---------------------------------------------------------------------
 */

/*
 * Strict UTF-8 (no overlong forms, surrogates, or code points past
 * U+10FFFF) and, with no_nul, no NUL character: what text can hold.
 */
static bool
valid_text(const char *s, size_t len, bool no_nul)
{
	size_t		i = 0;

	while (i < len)
	{
		long		cp = cr_utf8_decode(s, len, &i);

		if (cp < 0 || (no_nul && cp == 0))
			return false;
	}
	return true;
}

/* Every key and string in v, decoded, is valid text (no NUL). */
static bool
strings_ok(json_object *v, int depth)
{
	if (depth > 64)
		return false;
	switch (json_object_get_type(v))
	{
		case json_type_string:
			return valid_text(json_object_get_string(v), json_object_get_string_len(v), true);
		case json_type_array:
			for (size_t i = 0; i < json_object_array_length(v); i++)
				if (!strings_ok(json_object_array_get_idx(v, i), depth + 1))
					return false;
			return true;
		case json_type_object:
			{
				json_object_object_foreach(v, key, val)
				{
					if (!valid_text(key, strlen(key), true) || !strings_ok(val, depth + 1))
						return false;
				}
				return true;
			}
		default:
			return true;
	}
}

/*
 * Parse body as one JSON document: valid UTF-8, nothing after it.  Returns
 * NULL (and a reason) when it is not.
 */
static json_object *
parse_document(const char *body, size_t len, const char **why)
{
	json_tokener *tok;
	json_object *obj;

	*why = NULL;
	/* json-c's own UTF-8 check lets overlong forms and surrogates through */
	if (!valid_text(body, len, true))
	{
		*why = "not valid UTF-8";
		return NULL;
	}
	tok = json_tokener_new_ex(64);
	if (tok == NULL)
	{
		*why = "out of memory";
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, body, (int) len);
	if (json_tokener_get_error(tok) != json_tokener_success)
	{
		*why = json_tokener_error_desc(json_tokener_get_error(tok));
		json_object_put(obj);
		obj = NULL;
	}
	else if (json_tokener_get_parse_end(tok) != len)
	{
		*why = "text after the JSON document";
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/* A string member copied to palloc; NULL when absent or of another type. */
static char *
member_string(json_object *obj, const char *key, bool *present, bool *is_null)
{
	json_object *v;
	const char *s;
	int			len;

	*present = json_object_object_get_ex(obj, key, &v);
	*is_null = *present && v == NULL;
	if (!*present || v == NULL || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	len = json_object_get_string_len(v);
	if (!valid_text(s, len, true))
		return NULL;			/* a NUL or a bad \u escape cannot become text */
	return pnstrdup(s, len);
}

static int
cmp_priority(const void *a, const void *b)
{
	const CrRemoteResult *x = (const CrRemoteResult *) a;
	const CrRemoteResult *y = (const CrRemoteResult *) b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return x->ord - y->ord;		/* stable: the API's order among equals */
}

/*
 * Validate a Resolve response body and return its results sorted by
 * priority (stable) in *results, cut to max_results; returns their number.
 * A body that is not the API's shape raises 08P01 naming the first
 * offending element.
 */
int
cr_wire_parse_results(const char *body, size_t len, int max_results,
					  CrRemoteResult **results)
{
	const char *why = NULL;
	char		where[64] = "$";
	json_object *root = parse_document(body, len, &why);
	json_object *arr = NULL;
	CrRemoteResult *out = NULL;
	int			n = 0;

	if (root == NULL)
		goto fail;
	if (!json_object_is_type(root, json_type_object) ||
		!json_object_object_get_ex(root, "results", &arr) ||
		!json_object_is_type(arr, json_type_array))
	{
		why = "no results array";
		goto fail;
	}
	n = (int) json_object_array_length(arr);
	out = palloc0(sizeof(CrRemoteResult) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		json_object *item = json_object_array_get_idx(arr, i);
		json_object *from,
				   *to,
				   *prio;
		CrRemoteResult *r = &out[i];
		bool		present,
					is_null;
		int64		p;

		r->ord = i;
		snprintf(where, sizeof(where), "$.results[%d]", i);
		if (!json_object_is_type(item, json_type_object) ||
			!json_object_object_get_ex(item, "from", &from) ||
			!json_object_object_get_ex(item, "to", &to) ||
			!json_object_object_get_ex(item, "priority", &prio) ||
			!json_object_is_type(from, json_type_object) ||
			!json_object_is_type(to, json_type_object))
		{
			why = "a result is not {from, to, priority}";
			goto fail;
		}
		if (!json_object_is_type(prio, json_type_int) ||
			(p = json_object_get_int64(prio)) < 0 || p > PG_INT32_MAX)
		{
			snprintf(where, sizeof(where), "$.results[%d].priority", i);
			why = "priority is not an integer from 0 to 2147483647";
			goto fail;
		}
		r->priority = (int32) p;

		snprintf(where, sizeof(where), "$.results[%d].from", i);
		r->sender_id = member_string(from, "senderId", &present, &is_null);
		if (r->sender_id == NULL || r->sender_id[0] == '\0')
		{
			why = "senderId is missing or not a string";
			goto fail;
		}
		r->display_name = member_string(from, "displayName", &present, &is_null);
		if (!present || (!is_null && r->display_name == NULL))
		{
			why = "displayName is missing or neither a string nor null";
			goto fail;
		}
		r->channel = member_string(from, "channel", &present, &is_null);
		if (r->channel == NULL || cr_sender_channel_from_name(r->channel, strlen(r->channel)) < 0)
		{
			why = "channel is not a sender channel";
			goto fail;
		}
		r->from_address = member_string(from, "address", &present, &is_null);
		if (present && r->from_address == NULL)
		{
			why = "address is not a string";
			goto fail;
		}

		snprintf(where, sizeof(where), "$.results[%d].to", i);
		r->to_address = member_string(to, "address", &present, &is_null);
		r->to_channel = member_string(to, "channel", &present, &is_null);
		if (r->to_address == NULL)
		{
			why = "address is missing or not a string";
			goto fail;
		}
		if (r->to_channel == NULL || cr_recipient_channel_from_name(r->to_channel, strlen(r->to_channel)) < 0)
		{
			why = "channel is not a recipient channel";
			goto fail;
		}
	}
	json_object_put(root);
	qsort(out, n, sizeof(CrRemoteResult), cmp_priority);
	*results = out;
	return Min(n, max_results);

fail:
	json_object_put(root);
	ereport(ERROR,
			(errcode(ERRCODE_PROTOCOL_VIOLATION),
			 errmsg("malformed response from the Comms API"),
			 errdetail_internal("At %s: %s.", where, why ? why : "unexpected shape")));
	pg_unreachable();
}

/* ---------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------
 */

/*
 * Raise the error for a non-2xx answer, with the API's own code, message
 * and context (from its errors[] body, when it has one) in DETAIL.
 */
void
cr_wire_raise_status(const CrHttpConfig *cfg, const CrHttpResult *res)
{
	const char *why;
	json_object *root = parse_document(res->body, res->body_len, &why);
	json_object *errors,
			   *first,
			   *v;
	int64		code = 0;
	char		message[256] = "";
	char		context[128] = "";
	char		detail[512];
	int			sqlstate;
	const char *what;

	if (root && json_object_object_get_ex(root, "errors", &errors) &&
		json_object_is_type(errors, json_type_array) &&
		json_object_array_length(errors) > 0 &&
		(first = json_object_array_get_idx(errors, 0)) != NULL &&
		json_object_is_type(first, json_type_object))
	{
		if (json_object_object_get_ex(first, "code", &v) && json_object_is_type(v, json_type_int))
			code = json_object_get_int64(v);
		if (json_object_object_get_ex(first, "message", &v) && json_object_is_type(v, json_type_string))
			cr_excerpt(message, sizeof(message), json_object_get_string(v),
					   json_object_get_string_len(v), 200);
		if (json_object_object_get_ex(first, "context", &v) && json_object_is_type(v, json_type_string))
			cr_excerpt(context, sizeof(context), json_object_get_string(v),
					   json_object_get_string_len(v), 100);
	}
	json_object_put(root);

	switch (res->status)
	{
		case 400:
			sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
			what = "the Comms API rejected the request";
			break;
		case 401:
			sqlstate = ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
			what = "the Comms API did not accept the credentials";
			break;
		case 403:
			sqlstate = ERRCODE_INSUFFICIENT_PRIVILEGE;
			what = "the Comms API refused access";
			break;
		case 404:
			sqlstate = ERRCODE_UNDEFINED_OBJECT;
			what = "the Comms API found no such object";
			break;
		case 409:
			sqlstate = ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
			what = "the Comms API reported a conflict";
			break;
		case 429:
			sqlstate = ERRCODE_CONFIGURATION_LIMIT_EXCEEDED;
			what = "the Comms API is limiting the request rate";
			break;
		case 500:
			sqlstate = ERRCODE_SYSTEM_ERROR;
			what = "the Comms API failed with an internal error";
			break;
		case 503:
			sqlstate = ERRCODE_CANNOT_CONNECT_NOW;
			what = "the Comms API is unavailable";
			break;
		default:
			sqlstate = ERRCODE_PROTOCOL_VIOLATION;
			what = (res->status >= 300 && res->status < 400) ?
				"the Comms API answered with a redirect, which is not followed" :
				"unexpected HTTP status from the Comms API";
			break;
	}
	if (message[0])
		snprintf(detail, sizeof(detail), "HTTP %ld, API error %lld: %s%s%s%s",
				 res->status, (long long) code, message,
				 context[0] ? " (at " : "", context, context[0] ? ")" : "");
	else
		snprintf(detail, sizeof(detail), "HTTP %ld.", res->status);
	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("%s", what),
			 errdetail_internal("%s", detail),
			 (res->status == 429 || res->status == 503) ?
			 errhint("Still answered after %d attempts; the retries are set by the option retries of server \"%s\" or comms_resolve.retries.",
					 res->attempts, cfg->server_name) :
			 res->status == 401 ?
			 errhint("Check the user mapping of the current role on server \"%s\".", cfg->server_name) : 0));
}

/* ---------------------------------------------------------------------
 * Inventory objects: Sender and SenderPool, single or in pages
 * ---------------------------------------------------------------------
 */

static int
digits(const char *s, int n)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/*
 * RFC 3339 date-time, as the API writes createdAt and updatedAt, with
 * every field in range, so that timestamptz_in takes it.
 */
static bool
is_rfc3339(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	size_t		i;
	int			y,
				mo,
				d;

	if (s == NULL || strlen(s) < sizeof(shape) - 1)
		return false;
	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') :
			!(s[i] == shape[i] || (shape[i] == 'T' && (s[i] == 't' || s[i] == ' '))))
			return false;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
		(mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) ||
		digits(s + 11, 2) > 23 || digits(s + 14, 2) > 59 || digits(s + 17, 2) > 60)
		return false;
	if (s[i] == '.')
	{
		if (!(s[++i] >= '0' && s[i] <= '9'))
			return false;
		while (s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (s[i] == 'Z' || s[i] == 'z')
		return s[i + 1] == '\0';
	return (s[i] == '+' || s[i] == '-') &&
		s[i + 1] >= '0' && s[i + 1] <= '9' && s[i + 2] >= '0' && s[i + 2] <= '9' &&
		s[i + 3] == ':' && s[i + 4] >= '0' && s[i + 4] <= '9' &&
		s[i + 5] >= '0' && s[i + 5] <= '9' && s[i + 6] == '\0' &&
		digits(s + i + 1, 2) <= 15 && digits(s + i + 4, 2) <= 59;
}

/*
 * Copy one Sender (pool false) or SenderPool (pool true) object into *row;
 * returns NULL, or why it is not the API's shape.
 */
static const char *
inventory_row(json_object *o, bool pool, CrInventoryRow *row)
{
	bool		present,
				is_null;
	json_object *tags;
	const char *text;

	memset(row, 0, sizeof(*row));
	if (!json_object_is_type(o, json_type_object))
		return "not an object";
	row->id = member_string(o, "id", &present, &is_null);
	if (row->id == NULL ||
		!cr_is_typeid(pool ? CR_POOL_PREFIX : CR_SENDER_PREFIX, row->id, strlen(row->id)))
		return "id is missing or not a valid id";
	if (!json_object_object_get_ex(o, "tags", &tags) || !json_object_is_type(tags, json_type_object))
		return "tags is missing or not an object";
	if (!strings_ok(tags, 0))
		return "tags hold a string that is not valid text";
	text = json_object_to_json_string_ext(tags, JSON_C_TO_STRING_PLAIN);
	if (text == NULL)
		return "out of memory";
	row->tags = pstrdup(text);
	row->created_at = member_string(o, "createdAt", &present, &is_null);
	row->updated_at = member_string(o, "updatedAt", &present, &is_null);
	if (!is_rfc3339(row->created_at) || !is_rfc3339(row->updated_at))
		return "createdAt or updatedAt is not an RFC 3339 date-time";
	if (pool)
	{
		row->name = member_string(o, "name", &present, &is_null);
		if (row->name == NULL)
			return "name is missing or not a string";
		return NULL;
	}
	row->display_name = member_string(o, "displayName", &present, &is_null);
	if (!present || (!is_null && row->display_name == NULL))
		return "displayName is missing or neither a string nor null";
	row->address = member_string(o, "address", &present, &is_null);
	if (row->address == NULL || row->address[0] == '\0')
		return "address is missing or not a string";
	row->channel = member_string(o, "channel", &present, &is_null);
	if (row->channel == NULL || cr_sender_channel_from_name(row->channel, strlen(row->channel)) < 0)
		return "channel is not a sender channel";
	row->status = member_string(o, "status", &present, &is_null);
	if (row->status == NULL ||
		(strcmp(row->status, "ACTIVATED") != 0 && strcmp(row->status, "DEACTIVATED") != 0))
		return "status is not ACTIVATED or DEACTIVATED";
	return NULL;
}

/*
 * Parse a page {"<items_key>": [...], "pagination": {"next", "self"}} of
 * Senders or SenderPools; or, with items_key NULL, one object.  Returns the
 * rows (palloc'd) and their number; *next gets the next page token, or
 * NULL on the last page.  Raises 08P01 for anything else.
 */
int
cr_wire_parse_inventory(const char *body, size_t len, const char *items_key,
						bool pool, CrInventoryRow **rows, char **next)
{
	const char *why = NULL;
	char		where[64] = "$";
	json_object *root = parse_document(body, len, &why);
	json_object *arr,
			   *pag,
			   *nx;
	int			n = 0;
	CrInventoryRow *out = NULL;

	*next = NULL;
	if (root == NULL)
		goto fail;
	if (items_key == NULL)
	{
		out = palloc(sizeof(CrInventoryRow));
		if ((why = inventory_row(root, pool, out)) != NULL)
			goto fail;
		json_object_put(root);
		*rows = out;
		return 1;
	}
	if (!json_object_is_type(root, json_type_object) ||
		!json_object_object_get_ex(root, items_key, &arr) ||
		!json_object_is_type(arr, json_type_array))
	{
		snprintf(where, sizeof(where), "$.%s", items_key);
		why = "no array of items";
		goto fail;
	}
	if (!json_object_object_get_ex(root, "pagination", &pag) ||
		!json_object_is_type(pag, json_type_object) ||
		!json_object_object_get_ex(pag, "next", &nx) ||
		!(nx == NULL || json_object_is_type(nx, json_type_string)))
	{
		snprintf(where, sizeof(where), "$.pagination");
		why = "no pagination.next token or null";
		goto fail;
	}
	if (nx != NULL)
	{
		if (json_object_get_string_len(nx) == 0 ||
			json_object_get_string_len(nx) > 4096)
		{
			snprintf(where, sizeof(where), "$.pagination.next");
			why = "an empty or oversized page token";
			goto fail;
		}
		*next = pstrdup(json_object_get_string(nx));
	}
	n = (int) json_object_array_length(arr);
	out = palloc(sizeof(CrInventoryRow) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		snprintf(where, sizeof(where), "$.%s[%d]", items_key, i);
		if ((why = inventory_row(json_object_array_get_idx(arr, i), pool, &out[i])) != NULL)
			goto fail;
	}
	json_object_put(root);
	*rows = out;
	return n;

fail:
	json_object_put(root);
	ereport(ERROR,
			(errcode(ERRCODE_PROTOCOL_VIOLATION),
			 errmsg("malformed response from the Comms API"),
			 errdetail_internal("At %s: %s.", where, why ? why : "unexpected shape")));
	pg_unreachable();
}

/* The Search request body {"address", "channel", "status"?, "pageToken"?, "pageSize"}. */
char *
cr_wire_search_body(const char *address, const char *channel, const char *status,
					const char *page_token, int page_size)
{
	json_object *root = json_object_new_object();
	bool		ok = root != NULL &&
		put(root, "address", json_object_new_string(address)) &&
		put(root, "channel", json_object_new_string(channel)) &&
		(status == NULL || put(root, "status", json_object_new_string(status))) &&
		(page_token == NULL || put(root, "pageToken", json_object_new_string(page_token))) &&
		put(root, "pageSize", json_object_new_int(page_size));
	char	   *out = NULL;

	if (ok)
	{
		const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);

		if (text)
			out = pstrdup(text);
	}
	json_object_put(root);
	if (out == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory building a request to the Comms API")));
	return out;
}
