/*-------------------------------------------------------------------------
 *
 * em_faults.c
 *	  Fault rules of the Comms API emulator and the responses they shape:
 *	  error statuses, Retry-After, delays, dropped connections, garbage,
 *	  truncated, oversize (generated lazily), dripped and literal bodies.
 *
 * Rules are appended by POST /_emulator/faults and cleared by DELETE; a
 * rule's index (its position since the last clear) is what the request log
 * reports.  A /v1 request is taken by the first matching rule that is not
 * used up: while that rule still has requests to skip, the request passes
 * untouched, otherwise the rule applies and counts down its "times".
 * The rule list is protected by em_lock (callers hold it).
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include "em.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct em_rule
{
	char	   *method;			/* NULL: any */
	char	   *path;			/* NULL: any */
	bool		prefix;			/* path ended with '*' (stripped) */
	int64_t		skip;			/* requests still to let through */
	int64_t		times;			/* applications left; -1 forever */
	int64_t		applied;
	json_object *spec;			/* the rule as given, for GET */
	em_fault	action;
} em_rule;

static em_rule *rules;
static int	n_rules;
static int	cap_rules;

static const char garbage[] =
"\x00\x01\x02garbage\xff\xfe<html><body>502 not json</body></html>{\"results\": [";

void
em_fault_free(em_fault *f)
{
	free(f->literal);
	f->literal = NULL;
}

void
em_faults_clear(void)
{
	for (int i = 0; i < n_rules; i++)
	{
		free(rules[i].method);
		free(rules[i].path);
		json_object_put(rules[i].spec);
		em_fault_free(&rules[i].action);
	}
	free(rules);
	rules = NULL;
	n_rules = cap_rules = 0;
}

/* An integer member within [lo, hi]; absent leaves *out unchanged. */
static bool
int_member(json_object *o, const char *key, int64_t lo, int64_t hi,
		   int64_t *out, const char *ctx, em_resp *r)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return true;
	if (!json_object_is_type(v, json_type_int) ||
		json_object_get_int64(v) < lo || json_object_get_int64(v) > hi)
	{
		em_resp_errorf(r, 400, ctx, "%s must be an integer from %lld to %lld", key,
					   (long long) lo, (long long) hi);
		return false;
	}
	*out = json_object_get_int64(v);
	return true;
}

static bool
parse_rule(json_object *o, int i, em_rule *rule, em_resp *r)
{
	static const char *const keys[] = {"method", "path", "skip", "times", "status",
		"retryAfter", "delayMs", "body", "bytes", "intervalMs", "drop", NULL};
	char		ctx[48];
	json_object *v;
	int64_t		x;

	memset(rule, 0, sizeof(*rule));
	rule->times = 1;
	rule->action.retry_after = -1;
	rule->action.bytes = 50 * 1024 * 1024;
	rule->action.interval_ms = 500;
	snprintf(ctx, sizeof(ctx), "$[%d]", i);
	if (!json_object_is_type(o, json_type_object))
	{
		em_resp_error(r, 400, "a fault rule must be an object", ctx);
		return false;
	}
	json_object_object_foreach(o, key, val)
	{
		bool		known = false;

		(void) val;
		for (int k = 0; keys[k]; k++)
			known |= strcmp(keys[k], key) == 0;
		if (!known)
		{
			em_resp_errorf(r, 400, ctx, "unknown fault rule key \"%.40s\"", key);
			return false;
		}
	}
	if (json_object_object_get_ex(o, "method", &v))
	{
		if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
		{
			em_resp_error(r, 400, "method must be a non-empty string", ctx);
			return false;
		}
		rule->method = strdup(json_object_get_string(v));
		for (char *p = rule->method; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p -= 'a' - 'A';
	}
	if (json_object_object_get_ex(o, "path", &v))
	{
		size_t		len;

		if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
		{
			em_resp_error(r, 400, "path must be a non-empty string", ctx);
			return false;
		}
		rule->path = strdup(json_object_get_string(v));
		len = strlen(rule->path);	/* 0 when the path starts with \u0000 */
		if (len > 0 && rule->path[len - 1] == '*')
		{
			rule->prefix = true;
			rule->path[len - 1] = '\0';
		}
	}
	if (!int_member(o, "skip", 0, INT64_MAX, &rule->skip, ctx, r) ||
		!int_member(o, "times", -1, INT64_MAX, &rule->times, ctx, r))
		return false;
	x = 0;
	if (!int_member(o, "status", 100, 599, &x, ctx, r))
		return false;
	rule->action.status = (int) x;
	x = -1;
	if (!int_member(o, "retryAfter", 0, 86400 * 365, &x, ctx, r))
		return false;
	rule->action.retry_after = (int) x;
	if (!int_member(o, "delayMs", 0, 86400 * 1000, &rule->action.delay_ms, ctx, r))
		return false;
	if (!int_member(o, "intervalMs", 0, 60 * 1000, &rule->action.interval_ms, ctx, r))
		return false;
	x = rule->action.bytes;
	if (!int_member(o, "bytes", 0, INT64_MAX / 2, &x, ctx, r))
		return false;
	rule->action.bytes = (uint64_t) x;
	if (json_object_object_get_ex(o, "drop", &v))
	{
		if (!json_object_is_type(v, json_type_boolean))
		{
			em_resp_error(r, 400, "drop must be a boolean", ctx);
			return false;
		}
		rule->action.drop = json_object_get_boolean(v);
	}
	if (json_object_object_get_ex(o, "body", &v) && v != NULL)
	{
		static const struct
		{
			const char *name;
			em_body_kind kind;
		}			kinds[] = {
			{"garbage", EM_BODY_GARBAGE}, {"truncated", EM_BODY_TRUNCATED},
			{"oversize", EM_BODY_OVERSIZE}, {"drip", EM_BODY_DRIP}, {"empty", EM_BODY_EMPTY},
		};

		rule->action.body = EM_BODY_LITERAL;
		if (json_object_is_type(v, json_type_string))
		{
			for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
				if (strcmp(json_object_get_string(v), kinds[k].name) == 0)
					rule->action.body = kinds[k].kind;
			if (rule->action.body == EM_BODY_LITERAL)
			{
				rule->action.literal_len = (size_t) json_object_get_string_len(v);
				rule->action.literal = malloc(rule->action.literal_len + 1);
				if (rule->action.literal == NULL)
					abort();
				memcpy(rule->action.literal, json_object_get_string(v), rule->action.literal_len + 1);
			}
		}
		else					/* a JSON value: sent as its serialization */
			rule->action.literal = em_json_dup(v, &rule->action.literal_len);
	}
	rule->spec = json_object_get(o);
	return true;
}

bool
em_faults_add(json_object *arr, em_resp *r, int *first, int *count)
{
	int			n;
	em_rule    *fresh;

	if (!json_object_is_type(arr, json_type_array))
	{
		em_resp_error(r, 400, "the body must be a JSON array of fault rules", "$");
		return false;
	}
	n = (int) json_object_array_length(arr);
	fresh = calloc(n ? n : 1, sizeof(em_rule));
	if (fresh == NULL)
		abort();
	for (int i = 0; i < n; i++)
	{
		if (!parse_rule(json_object_array_get_idx(arr, i), i, &fresh[i], r))
		{
			for (int k = 0; k <= i; k++)
			{
				free(fresh[k].method);
				free(fresh[k].path);
				json_object_put(fresh[k].spec);
				em_fault_free(&fresh[k].action);
			}
			free(fresh);
			return false;
		}
	}
	if (n_rules + n > cap_rules)
	{
		cap_rules = (n_rules + n) * 2;
		rules = realloc(rules, sizeof(em_rule) * cap_rules);
		if (rules == NULL)
			abort();
	}
	*first = n_rules;
	*count = n;
	for (int i = 0; i < n; i++)
	{
		fresh[i].action.index = n_rules;
		rules[n_rules++] = fresh[i];
	}
	free(fresh);
	return true;
}

json_object *
em_faults_to_json(void)
{
	json_object *arr = json_object_new_array();

	for (int i = 0; i < n_rules; i++)
	{
		json_object *o = json_object_new_object();

		json_object_object_add(o, "index", json_object_new_int(i));
		json_object_object_add(o, "rule", json_object_get(rules[i].spec));
		json_object_object_add(o, "skipLeft", json_object_new_int64(rules[i].skip));
		json_object_object_add(o, "timesLeft", json_object_new_int64(rules[i].times));
		json_object_object_add(o, "applied", json_object_new_int64(rules[i].applied));
		json_object_array_add(arr, o);
	}
	return arr;
}

static bool
rule_matches(const em_rule *rule, const char *method, const char *path)
{
	if (rule->method && strcasecmp(rule->method, method) != 0)
		return false;
	if (rule->path)
	{
		if (rule->prefix)
			return strncmp(path, rule->path, strlen(rule->path)) == 0;
		return strcmp(path, rule->path) == 0;
	}
	return true;
}

void
em_faults_take(const char *method, const char *path, em_fault *f)
{
	memset(f, 0, sizeof(*f));
	f->index = -1;
	f->retry_after = -1;
	for (int i = 0; i < n_rules; i++)
	{
		em_rule    *rule = &rules[i];

		if (rule->times == 0 || !rule_matches(rule, method, path))
			continue;
		if (rule->skip > 0)
		{
			rule->skip--;
			return;
		}
		if (rule->times > 0)
			rule->times--;
		rule->applied++;
		*f = rule->action;
		if (f->literal)
		{
			f->literal = malloc(rule->action.literal_len + 1);
			if (f->literal == NULL)
				abort();
			memcpy(f->literal, rule->action.literal, rule->action.literal_len + 1);
		}
		return;
	}
}

bool
em_fault_synthesizes(const em_fault *f)
{
	if (f->index < 0)
		return false;
	return f->drop || f->status >= 400 ||
		f->body == EM_BODY_GARBAGE || f->body == EM_BODY_OVERSIZE ||
		f->body == EM_BODY_EMPTY || f->body == EM_BODY_LITERAL;
}

/* ---------------------------------------------------------------------
 * Streamed bodies
 * ---------------------------------------------------------------------
 */
typedef struct em_stream
{
	em_body_kind kind;
	char	   *buf;
	size_t		len;			/* bytes of buf */
	size_t		cut;			/* truncated: bytes sent before closing */
	uint64_t	total;			/* oversize: bytes to generate */
	int64_t		interval_ms;	/* drip: pause before each byte but the first */
} em_stream;

static void
stream_free(void *cls)
{
	em_stream  *s = cls;

	free(s->buf);
	free(s);
}

#define OVERSIZE_HEAD "{\"results\":[],\"padding\":\""
#define OVERSIZE_TAIL "\"}"

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	em_stream  *s = cls;

	switch (s->kind)
	{
		case EM_BODY_DRIP:
			if (pos >= s->len)
				return MHD_CONTENT_READER_END_OF_STREAM;
			if (pos > 0 && !em_sleep_ms(s->interval_ms))
				return MHD_CONTENT_READER_END_WITH_ERROR;
			buf[0] = s->buf[pos];
			return 1;
		case EM_BODY_TRUNCATED:
			if (pos >= s->cut)
				return MHD_CONTENT_READER_END_WITH_ERROR;	/* closes the connection */
			if (max > s->cut - pos)
				max = s->cut - pos;
			memcpy(buf, s->buf + pos, max);
			return (ssize_t) max;
		case EM_BODY_OVERSIZE:
			{
				const uint64_t head = sizeof(OVERSIZE_HEAD) - 1,
							tail = sizeof(OVERSIZE_TAIL) - 1;
				bool		framed = s->total >= head + tail;

				if (pos >= s->total)
					return MHD_CONTENT_READER_END_OF_STREAM;
				if (max > s->total - pos)
					max = (size_t) (s->total - pos);
				for (size_t i = 0; i < max; i++)
				{
					uint64_t	p = pos + i;

					if (!framed)
						buf[i] = ' ';
					else if (p < head)
						buf[i] = OVERSIZE_HEAD[p];
					else if (p >= s->total - tail)
						buf[i] = OVERSIZE_TAIL[p - (s->total - tail)];
					else
						buf[i] = 'x';
				}
				return (ssize_t) max;
			}
		default:
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
}

static struct MHD_Response *
stream_response(em_body_kind kind, em_resp *r, const em_fault *f)
{
	em_stream  *s = calloc(1, sizeof(em_stream));
	uint64_t	announced;

	if (s == NULL)
		abort();
	s->kind = kind;
	s->buf = r->body;
	s->len = r->len;
	r->body = NULL;
	switch (kind)
	{
		case EM_BODY_TRUNCATED:
			/* announce more than will ever come, then close mid-body */
			s->cut = s->len / 2;
			if (s->cut == 0 && s->len > 0)
				s->cut = 1;
			announced = s->len + 1024;
			break;
		case EM_BODY_OVERSIZE:
			s->total = f->bytes;
			announced = f->bytes;
			break;
		default:
			s->interval_ms = f->interval_ms;
			announced = s->len;
			break;
	}
	return MHD_create_response_from_callback(announced, 16 * 1024, stream_read, s, stream_free);
}

struct MHD_Response *
em_fault_response(const em_fault *f, em_resp *r, const char *uri, int *status)
{
	struct MHD_Response *resp;
	em_body_kind kind = f->index >= 0 ? f->body : EM_BODY_NONE;

	if (em_fault_synthesizes(f))
	{
		int			st = f->status ? f->status : 200;

		em_resp_free(r);
		r->allow = NULL;
		r->www_auth = false;
		r->status = st;
		r->len = 0;
		switch (kind)
		{
			case EM_BODY_GARBAGE:
				r->len = sizeof(garbage) - 1;
				r->body = malloc(r->len);
				if (r->body == NULL)
					abort();
				memcpy(r->body, garbage, r->len);
				break;
			case EM_BODY_LITERAL:
				r->len = f->literal_len;
				r->body = malloc(r->len + 1);
				if (r->body == NULL)
					abort();
				memcpy(r->body, f->literal, r->len);
				break;
			case EM_BODY_EMPTY:
			case EM_BODY_OVERSIZE:
				break;
			default:			/* an error status with its standard body */
				em_resp_error(r, st, em_status_message(st), NULL);
				break;
		}
	}
	else if (f->index >= 0 && f->status)
		r->status = f->status;

	/*
	 * A redirect points back at the same URL, so a client that followed it
	 * would show up in the request log.
	 */
	if (f->index >= 0 && r->status >= 300 && r->status < 400 && r->location == NULL)
	{
		size_t		root = strlen(em_base_url) - strlen("/v1");

		if (asprintf(&r->location, "%.*s%s", (int) root, em_base_url, uri) < 0)
			abort();
	}
	*status = r->status;
	if (kind == EM_BODY_DRIP || kind == EM_BODY_TRUNCATED || kind == EM_BODY_OVERSIZE)
		resp = stream_response(kind, r, f);
	else if (r->body == NULL || r->len == 0)
		resp = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
	else
	{
		resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
		r->body = NULL;
	}
	if (resp == NULL)
		abort();
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (r->location)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
	if (r->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	if (r->www_auth)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
								"Basic realm=\"Comms API emulator\"");
	if (f->index >= 0 && f->retry_after >= 0)
	{
		char		ra[24];

		snprintf(ra, sizeof(ra), "%d", f->retry_after);
		MHD_add_response_header(resp, "Retry-After", ra);
	}
	em_resp_free(r);
	return resp;
}
