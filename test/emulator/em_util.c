/*-------------------------------------------------------------------------
 *
 * em_util.c
 *	  Responses, error bodies, JSON and base64 helpers, clocks for the
 *	  Comms API emulator.
 *
 * Everything here is reentrant; nothing touches the shared state.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include "em.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

atomic_int em_stopping = 0;

/* Duplicate the serialization of o; *len gets its length. */
char *
em_json_dup(json_object *o, size_t *len)
{
	size_t		n;
	const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	char	   *out = malloc(n + 1);

	if (out == NULL)
		abort();
	memcpy(out, s, n + 1);
	if (len)
		*len = n;
	return out;
}

/* Put o (consumed) as r's JSON body. */
void
em_resp_json(em_resp *r, int status, json_object *o)
{
	free(r->body);
	r->status = status;
	r->body = em_json_dup(o, &r->len);
	json_object_put(o);
}

int
em_error_code(int status)
{
	switch (status)
	{
		case 401:
			return 20003;		/* Twilio: authentication error */
		case 405:
			return 20004;		/* Twilio: method not allowed */
		default:
			return 20000 + status;	/* 20404, 20429, 20500, 20503, ... */
	}
}

const char *
em_status_message(int status)
{
	switch (status)
	{
		case 400:
			return "Bad request.";
		case 401:
			return "Authentication required.";
		case 403:
			return "Forbidden.";
		case 404:
			return "The resource was not found.";
		case 409:
			return "Conflict.";
		case 429:
			return "Too many requests. Please retry according to the Retry-After response header.";
		case 500:
			return "Internal server error.";
		case 502:
			return "Bad gateway.";
		case 503:
			return "Service unavailable.";
		case 504:
			return "Gateway timeout.";
		default:
			return "Error.";
	}
}

static void em_resp_error_clean(em_resp *r, int status, const char *message,
								const char *context);

/*
 * A copy of s that is valid UTF-8: malformed sequences (a quoted excerpt
 * cut mid-character, raw bytes from a query string) become '?'.
 */
static char *
utf8_clean(const char *s)
{
	size_t		len = strlen(s),
				i = 0,
				o = 0;
	char	   *out = malloc(len + 1);

	if (out == NULL)
		abort();
	while (i < len)
	{
		size_t		start = i;

		if (cr_utf8_decode(s, len, &i) < 0)
			out[o++] = '?';
		else
		{
			memcpy(out + o, s + start, i - start);
			o += i - start;
		}
	}
	out[o] = '\0';
	return out;
}

void
em_resp_error(em_resp *r, int status, const char *message, const char *context)
{
	char	   *m = utf8_clean(message);
	char	   *c = context ? utf8_clean(context) : NULL;

	em_resp_error_clean(r, status, m, c);
	free(m);
	free(c);
}

static void
em_resp_error_clean(em_resp *r, int status, const char *message, const char *context)
{
	json_object *root = json_object_new_object();
	json_object *arr = json_object_new_array();
	json_object *e = json_object_new_object();
	int			code = em_error_code(status);
	char		url[96];

	snprintf(url, sizeof(url), EM_INFO_URL "%d", code);
	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	json_object_object_add(e, "infoUrl", json_object_new_string(url));
	json_object_object_add(e, "context",
						   context && *context ? json_object_new_string(context) : NULL);
	json_object_array_add(arr, e);
	json_object_object_add(root, "errors", arr);
	em_resp_json(r, status, root);
}

void
em_resp_errorf(em_resp *r, int status, const char *context, const char *fmt,...)
{
	char		msg[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	em_resp_error(r, status, msg, context);
}

void
em_resp_free(em_resp *r)
{
	free(r->body);
	free(r->location);
	r->body = NULL;
	r->location = NULL;
}

json_object *
em_parse_body(const char *body, size_t len, em_resp *r)
{
	json_tokener *tok;
	json_object *o;
	enum json_tokener_error jerr;
	size_t		end;

	if (len == 0)
	{
		em_resp_error(r, 400, "request body is empty; a JSON body is required", NULL);
		return NULL;
	}
	if (len > INT32_MAX)
	{
		em_resp_error(r, 413, "request body is too large", NULL);
		return NULL;
	}
	tok = json_tokener_new_ex(64);
	if (tok == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, body, (int) len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue && end == len)
	{
		/* a top-level number may still continue: end the input */
		o = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	}
	if (jerr == json_tokener_continue)
		jerr = json_tokener_error_parse_eof;
	if (jerr == json_tokener_success)
	{
		/* only whitespace may follow the value */
		for (; end < len; end++)
			if (body[end] != ' ' && body[end] != '\t' && body[end] != '\n' && body[end] != '\r')
				break;
		if (end < len)
		{
			json_object_put(o);
			json_tokener_free(tok);
			em_resp_errorf(r, 400, NULL, "request body is not valid JSON: unexpected data at offset %zu", end);
			return NULL;
		}
		json_tokener_free(tok);
		return o;				/* NULL for JSON null */
	}
	json_tokener_free(tok);
	json_object_put(o);
	em_resp_errorf(r, 400, NULL, "request body is not valid JSON: %s at offset %zu",
				   json_tokener_error_desc(jerr), end);
	return NULL;
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

unsigned char *
em_base64_decode(const char *s, size_t len, size_t *out_len)
{
	unsigned char *out;
	size_t		o = 0;
	uint32_t	acc = 0;
	int			bits = 0;

	while (len > 0 && s[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return NULL;
	out = malloc(len * 3 / 4 + 1);
	if (out == NULL)
		abort();
	for (size_t i = 0; i < len; i++)
	{
		int			v = b64_value((unsigned char) s[i]);

		if (v < 0)
		{
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			out[o++] = (unsigned char) (acc >> bits);
		}
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

char *
em_base64url_encode(const unsigned char *s, size_t len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char	   *out = malloc(len * 4 / 3 + 4);
	size_t		o = 0;
	uint32_t	acc = 0;
	int			bits = 0;

	if (out == NULL)
		abort();
	for (size_t i = 0; i < len; i++)
	{
		acc = (acc << 8) | s[i];
		bits += 8;
		while (bits >= 6)
		{
			bits -= 6;
			out[o++] = alphabet[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[o++] = alphabet[(acc << (6 - bits)) & 63];
	out[o] = '\0';
	return out;
}

static struct timespec em_t0;

__attribute__((constructor))
static void
init_clock(void)
{
	clock_gettime(CLOCK_MONOTONIC, &em_t0);
}

int64_t
em_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t) (now.tv_sec - em_t0.tv_sec) * 1000 +
		(now.tv_nsec - em_t0.tv_nsec) / 1000000;
}

bool
em_sleep_ms(int64_t ms)
{
	while (ms > 0 && !em_stopping)
	{
		int64_t		slice = ms > 50 ? 50 : ms;
		struct timespec ts = {slice / 1000, (long) (slice % 1000) * 1000000L};

		nanosleep(&ts, NULL);
		ms -= slice;
	}
	return !em_stopping;
}
