/*-------------------------------------------------------------------------
 *
 * em_api.c
 *	  The /v1 routes of the Comms API emulator, and the Senders handlers
 *	  (resolve, search, fetch); listings are in em_list.c, SenderPools in
 *	  em_pools.c.
 *
 * Resolve goes through the resolution core exactly as the extension's
 * local resolver does: the json-c request becomes a cr_jv tree (em_jv.c),
 * cr_parse_full_request validates it, the candidates are the ACTIVATED
 * senders of the pool / the account / the one form-B sender, and cr_rank
 * keeps the top 10.  Results are then returned in a shuffled order
 * (reversed by default), since the API does not promise one.
 *
 * Every handler takes em_lock while it reads or changes the inventory and
 * serializes its answer before releasing it (inventory JSON objects such as
 * tags are shared by reference).
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include "em.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A core validation error as the API's error body. */
static void
core_error(em_resp *r, const cr_error *err)
{
	int			status = err->kind == CR_ERR_UNDEFINED ? 404 : 400;

	em_resp_error(r, status, err->message, err->context);
}

/* ---------------------------------------------------------------------
 * Resolve
 * ---------------------------------------------------------------------
 */
/* One result pair of the API's Resolve response. */
static json_object *
result_json(const cr_pair *p, const cr_full_request *fr, em_sender *const *src)
{
	const cr_recipient *rc = &fr->req.recipients[p->recipient];
	const em_sender *s = src[p->sender];
	json_object *o = json_object_new_object();
	json_object *from = json_object_new_object();
	json_object *to = json_object_new_object();

	json_object_object_add(from, "senderId", json_object_new_string(s->id));
	json_object_object_add(from, "displayName",
						   s->display_name ? json_object_new_string(s->display_name) : NULL);
	json_object_object_add(from, "channel", json_object_new_string(cr_sender_channel_name(s->channel)));
	json_object_object_add(from, "address", json_object_new_string(s->address));
	json_object_object_add(to, "address", json_object_new_string_len(rc->address, (int) rc->len));
	json_object_object_add(to, "channel", json_object_new_string(cr_recipient_channel_name(rc->channel)));
	json_object_object_add(o, "from", from);
	json_object_object_add(o, "to", to);
	json_object_object_add(o, "priority", json_object_new_int(p->priority));
	return o;
}

/*
 * The core also takes bare-string recipients ("+1415...", "whatsapp:+1...",
 * "a@b.c"), an extension of the SQL functions; the API takes only
 * {"address", "channel"} objects, so a client must send those.
 */
static bool
api_recipients_only(json_object *root, em_resp *r)
{
	json_object *arr;

	if (!json_object_object_get_ex(root, "recipientAddresses", &arr) ||
		!json_object_is_type(arr, json_type_array))
		return true;
	for (size_t i = 0, n = json_object_array_length(arr); i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(arr, i), json_type_object))
		{
			char		ctx[64];

			snprintf(ctx, sizeof(ctx), "$.recipientAddresses[%zu]", i);
			em_resp_error(r, 400, "a recipient must be an object {\"address\", \"channel\"}", ctx);
			return false;
		}
	return true;
}

static void
api_resolve(const char *body, size_t body_len, em_resp *r)
{
	json_object *root = em_parse_body(body, body_len, r);
	em_arena	a = {NULL};
	cr_full_request *fr;
	cr_error	err;
	cr_sender  *cands = NULL;
	em_sender **src = NULL;
	int		   *index = NULL;
	int			n = 0;
	cr_pool		pool;
	cr_pair		pairs[EM_RESOLVE_MAX_RESULTS];
	int			np;
	json_object *out,
			   *results;

	if (r->body)				/* unparsable body */
		return;
	fr = malloc(sizeof(cr_full_request));
	if (fr == NULL)
		abort();
	if (!cr_parse_full_request(em_jv_convert(&a, root, body, body_len), fr, &err))
	{
		core_error(r, &err);
		goto done;
	}
	if (!api_recipients_only(root, r))
		goto done;
	if (fr->has_sender && fr->sender.is_push)
	{
		em_resp_error(r, 400, "push credential senders cannot be resolved by the emulator",
					  "$.senderAddresses");
		goto done;
	}

	pthread_mutex_lock(&em_lock);
	cands = malloc(sizeof(cr_sender) * (em_inv->n_senders + 1));
	src = malloc(sizeof(em_sender *) * (em_inv->n_senders + 1));
	index = malloc(sizeof(int) * (em_inv->n_senders + 1));
	if (cands == NULL || src == NULL || index == NULL)
		abort();
	if (fr->has_pool)
	{
		char	   *pid = strndup(fr->pool_id, fr->pool_id_len);
		em_pool    *p = em_find_pool(em_inv, pid);

		free(pid);
		if (p == NULL)
		{
			char		ex[200];

			pthread_mutex_unlock(&em_lock);
			em_resp_errorf(r, 404, "$.senderPoolId", "sender pool \"%s\" does not exist",
						   cr_excerpt(ex, sizeof(ex), fr->pool_id, fr->pool_id_len, 60));
			goto done;
		}
		for (int i = 0; i < p->n_members; i++)
		{
			em_sender  *s = em_find_sender(em_inv, p->members[i]);

			if (s && s->activated)
				src[n++] = s;
		}
	}
	else
	{
		for (int i = 0; i < em_inv->n_senders; i++)
		{
			em_sender  *s = &em_inv->senders[i];

			if (!s->activated)
				continue;
			if (fr->has_sender &&
				(s->channel != fr->sender.channel ||
				 strlen(s->address) != fr->sender.address_len ||
				 memcmp(s->address, fr->sender.address, fr->sender.address_len) != 0))
				continue;
			src[n++] = s;
		}
		if (fr->has_sender && n == 0)
		{
			char		ex[200];

			pthread_mutex_unlock(&em_lock);
			em_resp_errorf(r, 404, "$.senderAddresses", "no activated %s sender with address \"%s\"",
						   cr_sender_channel_name(fr->sender.channel),
						   cr_excerpt(ex, sizeof(ex), fr->sender.address, fr->sender.address_len, 40));
			goto done;
		}
	}
	for (int i = 0; i < n; i++)
	{
		cands[i].id = src[i]->id;
		cands[i].id_len = strlen(src[i]->id);
		cands[i].address = src[i]->address;
		cands[i].address_len = strlen(src[i]->address);
		cands[i].channel = src[i]->channel;
		cr_sender_prepare(&cands[i]);
	}
	cr_pool_build(&pool, cands, n, index);
	np = cr_rank(&fr->req, &pool, EM_RESOLVE_MAX_RESULTS, pairs, &err);
	if (np < 0)
	{
		pthread_mutex_unlock(&em_lock);
		core_error(r, &err);
		goto done;
	}
	out = json_object_new_object();
	results = json_object_new_array_ext(np);
	for (int k = 0; k < np; k++)
	{
		int			i;

		/* the API promises no order; the client must sort by priority */
		switch (em_order)
		{
			case EM_ORDER_REVERSED:
				i = np - 1 - k;
				break;
			case EM_ORDER_ROTATED:
				i = (k + 1) % np;
				break;
			default:
				i = k;
				break;
		}
		json_object_array_add(results, result_json(&pairs[i], fr, src));
	}
	json_object_object_add(out, "results", results);
	em_resp_json(r, 200, out);
	pthread_mutex_unlock(&em_lock);

done:
	free(cands);
	free(src);
	free(index);
	free(fr);
	em_arena_free(&a);
	json_object_put(root);
}

static void
api_search(const char *body, size_t body_len, em_resp *r)
{
	static const char *const keys[] = {"address", "channel", "status", "pageToken", "pageSize", NULL};
	json_object *root = em_parse_body(body, body_len, r);
	json_object *v;
	em_list_query	q;
	const char *channel = NULL,
			   *status = NULL;
	char		page_size[24];
	bool		has_page_size = false;

	if (r->body)
		return;
	memset(&q, 0, sizeof(q));
	q.in_body = true;
	if (!json_object_is_type(root, json_type_object))
	{
		em_resp_error(r, 400, "search request must be an object", "$");
		goto done;
	}
	json_object_object_foreach(root, key, val)
	{
		bool		known = false;
		char		ctx[80];

		for (int i = 0; keys[i]; i++)
			known |= strcmp(keys[i], key) == 0;
		snprintf(ctx, sizeof(ctx), "$.%.60s", key);
		if (!known)
		{
			em_resp_errorf(r, 400, ctx, "unknown key \"%.60s\" in search request", key);
			goto done;
		}
		if (strcmp(key, "pageSize") == 0)
		{
			if (!json_object_is_type(val, json_type_int))
			{
				em_resp_errorf(r, 400, ctx, "pageSize must be an integer from 1 to %d", EM_MAX_PAGE_SIZE);
				goto done;
			}
			snprintf(page_size, sizeof(page_size), "%lld", (long long) json_object_get_int64(val));
			has_page_size = true;
		}
		else if (!json_object_is_type(val, json_type_string))
		{
			em_resp_errorf(r, 400, ctx, "%s must be a string", key);
			goto done;
		}
	}
	if (!json_object_object_get_ex(root, "address", &v))
	{
		em_resp_error(r, 400, "search request has no address", "$.address");
		goto done;
	}
	q.address = json_object_get_string(v);
	if (!json_object_object_get_ex(root, "channel", &v))
	{
		em_resp_error(r, 400, "search request has no channel", "$.channel");
		goto done;
	}
	channel = json_object_get_string(v);
	if (json_object_object_get_ex(root, "status", &v))
		status = json_object_get_string(v);
	if (json_object_object_get_ex(root, "pageToken", &v))
		q.token = json_object_get_string(v);
	if (!em_query_check(&q, channel, status, has_page_size ? page_size : NULL, r))
		goto done;
	em_list_senders(&q, NULL, r);
done:
	json_object_put(root);
}

static void
fetch_sender(const char *id, em_resp *r)
{
	em_sender  *s;

	if (!cr_is_typeid(CR_SENDER_PREFIX, id, strlen(id)))
	{
		em_resp_errorf(r, 400, NULL, "invalid sender id \"%.60s\"", id);
		return;
	}
	pthread_mutex_lock(&em_lock);
	s = em_find_sender(em_inv, id);
	if (s)
		em_resp_json(r, 200, em_sender_to_json(s));
	else
		em_resp_errorf(r, 404, NULL, "sender \"%s\" does not exist", id);
	pthread_mutex_unlock(&em_lock);
}

/* ---------------------------------------------------------------------
 * Routing
 * ---------------------------------------------------------------------
 */
/* Does the request method select a handler for want (HEAD acts as GET)? */
static bool
method_is(const char *method, const char *want)
{
	return strcmp(method, want) == 0 ||
		(strcmp(want, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

void
em_api_handle(struct MHD_Connection *conn, const char *method, const char *path,
			  const char *body, size_t body_len, em_resp *r)
{
	char	   *copy = strdup(path);
	char	   *seg[8];
	int			n = 0;
	const char *allow = NULL;
	em_list_query	q;
	char	   *save = NULL;

	/* path is "/v1/..."; split what follows into segments */
	for (char *t = strtok_r(copy + 3, "/", &save); t && n < 8; t = strtok_r(NULL, "/", &save))
		seg[n++] = t;
	if (path[3] != '/' || path[strlen(path) - 1] == '/' || strstr(path, "//") || n == 0 || n > 5)
		n = 0;

#define ROUTE(m, allowed) (allow = (allowed), method_is(method, (m)))

	if (n == 1 && strcmp(seg[0], "Senders") == 0)
	{
		if (ROUTE("GET", "GET") && em_query_from_url(conn, &q, false, r))
			em_list_senders(&q, NULL, r);
	}
	else if (n == 2 && strcmp(seg[0], "Senders") == 0 && strcmp(seg[1], "Search") == 0)
	{
		if (ROUTE("POST", "POST"))
			api_search(body, body_len, r);
	}
	else if (n == 2 && strcmp(seg[0], "Senders") == 0 && strcmp(seg[1], "Resolve") == 0)
	{
		if (ROUTE("POST", "POST"))
			api_resolve(body, body_len, r);
	}
	else if (n == 2 && strcmp(seg[0], "Senders") == 0)
	{
		if (ROUTE("GET", "GET"))
			fetch_sender(seg[1], r);
	}
	else if (n == 1 && strcmp(seg[0], "SenderPools") == 0)
	{
		if (ROUTE("GET", "GET, POST"))
		{
			if (em_query_from_url(conn, &q, false, r))
				em_list_pools(&q, r);
		}
		else if (ROUTE("POST", "GET, POST"))
			em_create_pool(body, body_len, r);
	}
	else if (n == 2 && strcmp(seg[0], "SenderPools") == 0 && strcmp(seg[1], "Operations") == 0)
	{
		if (ROUTE("GET", "GET") && em_query_from_url(conn, &q, true, r))
			em_list_operations(&q, r);
	}
	else if (n == 3 && strcmp(seg[0], "SenderPools") == 0 && strcmp(seg[1], "Operations") == 0)
	{
		if (ROUTE("GET", "GET"))
			em_fetch_operation(seg[2], r);
	}
	else if (n == 2 && strcmp(seg[0], "SenderPools") == 0)
	{
		if (ROUTE("GET", "GET, PATCH, DELETE"))
			em_fetch_pool(seg[1], r);
		else if (ROUTE("PATCH", "GET, PATCH, DELETE"))
			em_update_pool(seg[1], body, body_len, r);
		else if (ROUTE("DELETE", "GET, PATCH, DELETE"))
			em_delete_pool(seg[1], r);
	}
	else if (n == 3 && strcmp(seg[0], "SenderPools") == 0 && strcmp(seg[2], "Senders") == 0)
	{
		if (ROUTE("GET", "GET, POST"))
		{
			if (em_check_pool_id(seg[1], r) && em_query_from_url(conn, &q, false, r))
				em_list_senders(&q, seg[1], r);
		}
		else if (ROUTE("POST", "GET, POST"))
			em_add_members(seg[1], body, body_len, r);
	}
	else if (n == 4 && strcmp(seg[0], "SenderPools") == 0 && strcmp(seg[2], "Senders") == 0)
	{
		if (ROUTE("DELETE", "DELETE"))
			em_remove_member(seg[1], seg[3], r);
	}
	else
		em_resp_errorf(r, 404, NULL, "no such resource: %.200s", path);
#undef ROUTE

	if (r->body == NULL && r->status == 0)
	{
		/* a known path, but no handler for the method */
		em_resp_errorf(r, 405, NULL, "method %s is not allowed on %.200s", method, path);
		r->allow = allow;
	}
	free(copy);
}
