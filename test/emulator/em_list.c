/*-------------------------------------------------------------------------
 *
 * em_list.c
 *	  Listing parameters, page tokens and pages of the Comms API emulator,
 *	  and the sender listings (all senders, search, members of a pool).
 *
 * Listings are ordered by id.  A page token is base64url of
 * {"f": <hash of the listing and its filters>, "a": <last id before the
 * page>}: it survives inventory changes between pages, and a listing with
 * other filters refuses it (400).  pageSize is not part of the identity, so
 * a client may change it between pages.
 *
 * Date filters are inclusive: startDate <= createdAt <= endDate.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include "em.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------
 * Listing parameters, filters and pages
 * ---------------------------------------------------------------------
 */
static void
param_context(const em_list_query *q, const char *name, char *ctx, size_t len)
{
	if (q->in_body)
		snprintf(ctx, len, "$.%s", name);
	else
		ctx[0] = '\0';
}

/* Check and convert the raw parameters; 400 in r when one is bad. */
bool
em_query_check(em_list_query *q, const char *channel, const char *status,
			   const char *page_size, em_resp *r)
{
	char		ctx[32];

	q->channel = -1;
	q->status = -1;
	if (channel)
	{
		q->channel = cr_sender_channel_from_name(channel, strlen(channel));
		if (q->channel < 0)
		{
			param_context(q, "channel", ctx, sizeof(ctx));
			em_resp_errorf(r, 400, ctx, "invalid channel \"%.20s\": expected SMS, RCS, EMAIL, WHATSAPP or PUSH", channel);
			return false;
		}
	}
	if (status)
	{
		if (q->op_status == NULL && strcmp(status, "ACTIVATED") == 0)
			q->status = 1;
		else if (q->op_status == NULL && strcmp(status, "DEACTIVATED") == 0)
			q->status = 0;
		else
		{
			param_context(q, "status", ctx, sizeof(ctx));
			em_resp_errorf(r, 400, ctx, "invalid status \"%.20s\": expected ACTIVATED or DEACTIVATED", status);
			return false;
		}
	}
	if (q->start && !em_parse_time(q->start, &q->start_ms))
	{
		em_resp_errorf(r, 400, NULL, "invalid startDate \"%.40s\": expected an ISO 8601 date-time", q->start);
		return false;
	}
	if (q->end && !em_parse_time(q->end, &q->end_ms))
	{
		em_resp_errorf(r, 400, NULL, "invalid endDate \"%.40s\": expected an ISO 8601 date-time", q->end);
		return false;
	}
	q->page_size = em_page_size;
	if (page_size)
	{
		char	   *end;
		long		v = strtol(page_size, &end, 10);

		if (*page_size < '0' || *page_size > '9' || *end != '\0' || v < 1 || v > EM_MAX_PAGE_SIZE)
		{
			param_context(q, "pageSize", ctx, sizeof(ctx));
			em_resp_errorf(r, 400, ctx, "pageSize must be an integer from 1 to %d", EM_MAX_PAGE_SIZE);
			return false;
		}
		q->page_size = (int) v;
	}
	return true;
}

/* Read the listing parameters from the query string. */
bool
em_query_from_url(struct MHD_Connection *conn, em_list_query *q, bool ops,
				  em_resp *r)
{
	const char *status;

	memset(q, 0, sizeof(*q));
	q->start = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "startDate");
	q->end = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "endDate");
	q->token = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "pageToken");
	q->operation_id = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "operationId");
	status = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "status");
	if (ops)
	{
		if (status && strcmp(status, "PROCESSING") != 0 && strcmp(status, "COMPLETED") != 0 &&
			strcmp(status, "CANCELED") != 0)
		{
			em_resp_errorf(r, 400, NULL, "invalid status \"%.20s\": expected PROCESSING, COMPLETED or CANCELED", status);
			return false;
		}
		q->op_status = status ? status : "";
		status = NULL;
	}
	if (!em_query_check(q, MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "channel"),
						status,
						MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "pageSize"), r))
		return false;
	if (q->operation_id && !cr_is_typeid(EM_OP_PREFIX, q->operation_id, strlen(q->operation_id)))
	{
		em_resp_errorf(r, 400, NULL, "invalid operationId \"%.60s\"", q->operation_id);
		return false;
	}
	return true;
}

/* The identity of a listing: what a page token is bound to. */
uint64_t
em_filter_hash(const char *kind, const char *scope, const em_list_query *q)
{
	char		buf[160];
	uint64_t	h = cr_fnv1a_update(CR_FNV_OFFSET, kind, strlen(kind) + 1);

	if (scope)
		h = cr_fnv1a_update(h, scope, strlen(scope) + 1);
	if (q->address)
		h = cr_fnv1a_update(h, q->address, strlen(q->address) + 1);
	snprintf(buf, sizeof(buf), "%d|%d|%d:%lld|%d:%lld|%s|%s",
			 q->channel, q->status,
			 q->start != NULL, (long long) q->start_ms,
			 q->end != NULL, (long long) q->end_ms,
			 q->op_status ? q->op_status : "",
			 q->operation_id ? q->operation_id : "");
	return cr_fmix64(cr_fnv1a_update(h, buf, strlen(buf)));
}

static char *
make_token(uint64_t fhash, const char *after)
{
	json_object *o = json_object_new_object();
	char		hex[17];
	size_t		len;
	char	   *s,
			   *tok;

	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long) fhash);
	json_object_object_add(o, "f", json_object_new_string(hex));
	json_object_object_add(o, "a", json_object_new_string(after));
	s = em_json_dup(o, &len);
	json_object_put(o);
	tok = em_base64url_encode((const unsigned char *) s, len);
	free(s);
	return tok;
}

/* Decode a page token of this listing into *after (malloc'd). */
static bool
read_token(const em_list_query *q, uint64_t fhash, char **after, em_resp *r)
{
	unsigned char *raw;
	size_t		len;
	json_object *o,
			   *f,
			   *a;
	char		hex[17];
	char		ctx[32];

	*after = NULL;
	param_context(q, "pageToken", ctx, sizeof(ctx));
	if (q->token == NULL)
	{
		*after = strdup("");
		return true;
	}
	raw = em_base64_decode(q->token, strlen(q->token), &len);
	o = raw && strlen((char *) raw) == len ? json_tokener_parse((char *) raw) : NULL;
	free(raw);
	if (!json_object_is_type(o, json_type_object) ||
		!json_object_object_get_ex(o, "f", &f) || !json_object_is_type(f, json_type_string) ||
		!json_object_object_get_ex(o, "a", &a) || !json_object_is_type(a, json_type_string))
	{
		json_object_put(o);
		em_resp_error(r, 400, "invalid pageToken", ctx);
		return false;
	}
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long) fhash);
	if (strcmp(json_object_get_string(f), hex) != 0)
	{
		json_object_put(o);
		em_resp_error(r, 400, "pageToken belongs to a listing with other filters", ctx);
		return false;
	}
	*after = strdup(json_object_get_string(a));
	json_object_put(o);
	return true;
}

/*
 * Page over ids[0..n) (sorted): [*start, *end) is the page, *pagination its
 * metadata.
 */
bool
em_paginate(const char *const *ids, int n, const em_list_query *q,
			uint64_t fhash, int *start, int *end, json_object **pagination,
			em_resp *r)
{
	char	   *after;
	char	   *self,
			   *next = NULL;
	int			lo = 0,
				hi = n;

	if (!read_token(q, fhash, &after, r))
		return false;
	while (lo < hi)				/* first id > after */
	{
		int			mid = (lo + hi) / 2;

		if (strcmp(ids[mid], after) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*start = lo;
	*end = n - lo > q->page_size ? lo + q->page_size : n;
	self = make_token(fhash, after);
	if (*end < n)
		next = make_token(fhash, ids[*end - 1]);
	*pagination = json_object_new_object();
	json_object_object_add(*pagination, "next", next ? json_object_new_string(next) : NULL);
	json_object_object_add(*pagination, "self", json_object_new_string(self));
	free(after);
	free(self);
	free(next);
	return true;
}

static bool
sender_passes(const em_sender *s, const em_list_query *q)
{
	if (q->channel >= 0 && (int) s->channel != q->channel)
		return false;
	if (q->status >= 0 && (int) s->activated != q->status)
		return false;
	if (q->start && s->created_ms < q->start_ms)
		return false;
	if (q->end && s->created_ms > q->end_ms)
		return false;
	if (q->address && strcmp(s->address, q->address) != 0)
		return false;
	return true;
}

/* Answer a page of senders (from senders[0..n), sorted by id); holds em_lock. */
static void
sender_page(em_sender *const *senders, int n, const em_list_query *q,
			uint64_t fhash, em_resp *r)
{
	const char **ids = malloc(sizeof(char *) * (n + 1));
	int			start,
				end;
	json_object *pagination,
			   *out,
			   *arr;

	if (ids == NULL)
		abort();
	for (int i = 0; i < n; i++)
		ids[i] = senders[i]->id;
	if (em_paginate(ids, n, q, fhash, &start, &end, &pagination, r))
	{
		out = json_object_new_object();
		arr = json_object_new_array_ext(end - start);
		for (int i = start; i < end; i++)
			json_object_array_add(arr, em_sender_to_json(senders[i]));
		json_object_object_add(out, "senders", arr);
		json_object_object_add(out, "pagination", pagination);
		em_resp_json(r, 200, out);
	}
	free(ids);
}

void
em_list_senders(const em_list_query *q, const char *pool_id, em_resp *r)
{
	em_sender **sel;
	int			n = 0;

	pthread_mutex_lock(&em_lock);
	sel = malloc(sizeof(em_sender *) * (em_inv->n_senders + 1));
	if (sel == NULL)
		abort();
	if (pool_id)
	{
		em_pool    *p = em_find_pool(em_inv, pool_id);

		if (p == NULL)
		{
			em_resp_errorf(r, 404, NULL, "sender pool \"%s\" does not exist", pool_id);
			goto out;
		}
		for (int i = 0; i < p->n_members; i++)
		{
			em_sender  *s = em_find_sender(em_inv, p->members[i]);

			if (s && sender_passes(s, q))
				sel[n++] = s;
		}
	}
	else
		for (int i = 0; i < em_inv->n_senders; i++)
			if (sender_passes(&em_inv->senders[i], q))
				sel[n++] = &em_inv->senders[i];
	sender_page(sel, n, q,
				em_filter_hash(pool_id ? "pool-senders" : (q->address ? "search" : "senders"), pool_id, q), r);
out:
	pthread_mutex_unlock(&em_lock);
	free(sel);
}
