/*-------------------------------------------------------------------------
 *
 * em_pools.c
 *	  SenderPools of the Comms API emulator: list, fetch, members, the
 *	  asynchronous writes (applied at once, answered 202) and Operations.
 *
 * A create or an add of members records an Operation, COMPLETED at once,
 * whose stats count the sender references given (total), those that named
 * an existing sender (created) and the others (failed).  Updates, deletes
 * and member removals answer with the resource instead.  Handlers take
 * em_lock themselves.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include "em.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------
 * SenderPools
 * ---------------------------------------------------------------------
 */
bool
em_check_pool_id(const char *id, em_resp *r)
{
	if (cr_is_typeid(CR_POOL_PREFIX, id, strlen(id)))
		return true;
	em_resp_errorf(r, 400, NULL, "invalid sender pool id \"%.60s\"", id);
	return false;
}

void
em_list_pools(const em_list_query *q, em_resp *r)
{
	const char **ids;
	em_pool   **sel;
	int			n = 0,
				start,
				end;
	const char *op_pool = NULL;
	json_object *pagination;

	pthread_mutex_lock(&em_lock);
	if (q->operation_id)
	{
		for (int i = 0; i < em_n_ops; i++)
			if (strcmp(em_ops[i].id, q->operation_id) == 0)
				op_pool = em_ops[i].pool_id;
		if (op_pool == NULL)
			op_pool = "";		/* unknown operation: nothing matches */
	}
	ids = malloc(sizeof(char *) * (em_inv->n_pools + 1));
	sel = malloc(sizeof(em_pool *) * (em_inv->n_pools + 1));
	if (ids == NULL || sel == NULL)
		abort();
	for (int i = 0; i < em_inv->n_pools; i++)
	{
		em_pool    *p = &em_inv->pools[i];

		if ((q->start && p->created_ms < q->start_ms) ||
			(q->end && p->created_ms > q->end_ms) ||
			(op_pool && strcmp(op_pool, p->id) != 0))
			continue;
		ids[n] = p->id;
		sel[n++] = p;
	}
	if (em_paginate(ids, n, q, em_filter_hash("pools", NULL, q), &start, &end, &pagination, r))
	{
		json_object *out = json_object_new_object();
		json_object *arr = json_object_new_array_ext(end - start);

		for (int i = start; i < end; i++)
			json_object_array_add(arr, em_pool_to_json(sel[i]));
		json_object_object_add(out, "senderPools", arr);
		json_object_object_add(out, "pagination", pagination);
		em_resp_json(r, 200, out);
	}
	pthread_mutex_unlock(&em_lock);
	free(ids);
	free(sel);
}

void
em_fetch_pool(const char *id, em_resp *r)
{
	em_pool    *p;

	if (!em_check_pool_id(id, r))
		return;
	pthread_mutex_lock(&em_lock);
	p = em_find_pool(em_inv, id);
	if (p)
		em_resp_json(r, 200, em_pool_to_json(p));
	else
		em_resp_errorf(r, 404, NULL, "sender pool \"%s\" does not exist", id);
	pthread_mutex_unlock(&em_lock);
}

void
em_list_operations(const em_list_query *q, em_resp *r)
{
	const char **ids;
	int			n = 0,
				start,
				end;
	em_operation **sel;
	json_object *pagination;

	pthread_mutex_lock(&em_lock);
	ids = malloc(sizeof(char *) * (em_n_ops + 1));
	sel = malloc(sizeof(em_operation *) * (em_n_ops + 1));
	if (ids == NULL || sel == NULL)
		abort();
	for (int i = 0; i < em_n_ops; i++)
	{
		em_operation *op = &em_ops[i];

		if ((q->start && op->created_ms < q->start_ms) ||
			(q->end && op->created_ms > q->end_ms) ||
			(q->op_status[0] && strcmp(q->op_status, "COMPLETED") != 0))
			continue;
		ids[n] = op->id;
		sel[n++] = op;
	}
	if (em_paginate(ids, n, q, em_filter_hash("operations", NULL, q), &start, &end, &pagination, r))
	{
		json_object *out = json_object_new_object();
		json_object *arr = json_object_new_array_ext(end - start);

		for (int i = start; i < end; i++)
			json_object_array_add(arr, em_operation_to_json(sel[i]));
		json_object_object_add(out, "operations", arr);
		json_object_object_add(out, "pagination", pagination);
		em_resp_json(r, 200, out);
	}
	pthread_mutex_unlock(&em_lock);
	free(ids);
	free(sel);
}

void
em_fetch_operation(const char *id, em_resp *r)
{
	if (!cr_is_typeid(EM_OP_PREFIX, id, strlen(id)))
	{
		em_resp_errorf(r, 400, NULL, "invalid operation id \"%.60s\"", id);
		return;
	}
	pthread_mutex_lock(&em_lock);
	for (int i = 0; i < em_n_ops; i++)
		if (strcmp(em_ops[i].id, id) == 0)
		{
			em_resp_json(r, 200, em_operation_to_json(&em_ops[i]));
			pthread_mutex_unlock(&em_lock);
			return;
		}
	pthread_mutex_unlock(&em_lock);
	em_resp_errorf(r, 404, NULL, "operation \"%s\" does not exist", id);
}

/* Record a completed operation (holds em_lock); answer 202 with it. */
static void
answer_operation(const char *pool_id, int total, int created, em_resp *r)
{
	em_operation *op;
	char		now[32];
	json_object *out = json_object_new_object();

	if (em_n_ops == em_cap_ops)
	{
		em_cap_ops = em_cap_ops ? em_cap_ops * 2 : 16;
		em_ops = realloc(em_ops, sizeof(em_operation) * em_cap_ops);
		if (em_ops == NULL)
			abort();
	}
	op = &em_ops[em_n_ops++];	/* new ids sort last: em_ops stays in id order */
	em_now_rfc3339(now);
	op->id = em_new_id(EM_OP_PREFIX);
	op->pool_id = strdup(pool_id);
	op->total = total;
	op->created = created;
	op->failed = total - created;
	op->created_at = strdup(now);
	if (!em_parse_time(now, &op->created_ms))
		op->created_ms = 0;
	if (asprintf(&r->location, "%s/SenderPools/Operations/%s", em_base_url, op->id) < 0)
		abort();
	json_object_object_add(out, "operationId", json_object_new_string(op->id));
	json_object_object_add(out, "operationLocation", json_object_new_string(r->location));
	em_resp_json(r, 202, out);
}

static void
answer_resource(const char *id, const char *location_path, em_resp *r)
{
	json_object *out = json_object_new_object();

	if (asprintf(&r->location, "%s%s", em_base_url, location_path) < 0)
		abort();
	json_object_object_add(out, "resourceId", json_object_new_string(id));
	json_object_object_add(out, "resourceLocation", json_object_new_string(r->location));
	em_resp_json(r, 202, out);
}

/*
 * Check an array of {"senderId"} (min..10000 items) at context path; the
 * well-formed ids stay in the array for the caller.
 */
static bool
check_sender_refs(json_object *arr, const char *path, size_t min, em_resp *r)
{
	size_t		n;
	char		ctx[96];

	if (!json_object_is_type(arr, json_type_array))
	{
		em_resp_errorf(r, 400, path, "senders must be an array of {\"senderId\"} objects, not %s",
					   json_type_to_name(json_object_get_type(arr)));
		return false;
	}
	n = json_object_array_length(arr);
	if (n < min || n > 10000)
	{
		em_resp_errorf(r, 400, path, "senders must have %zu to 10000 items, not %zu", min, n);
		return false;
	}
	for (size_t i = 0; i < n; i++)
	{
		json_object *e = json_object_array_get_idx(arr, i);
		json_object *id;

		snprintf(ctx, sizeof(ctx), "%s[%zu]", path, i);
		if (!json_object_is_type(e, json_type_object) || json_object_object_length(e) != 1 ||
			!json_object_object_get_ex(e, "senderId", &id))
		{
			em_resp_error(r, 400, "a sender reference is an object {\"senderId\": ...}", ctx);
			return false;
		}
		snprintf(ctx, sizeof(ctx), "%s[%zu].senderId", path, i);
		if (!json_object_is_type(id, json_type_string) ||
			!cr_is_typeid(CR_SENDER_PREFIX, json_object_get_string(id), (size_t) json_object_get_string_len(id)))
		{
			em_resp_error(r, 400, "invalid sender id", ctx);
			return false;
		}
	}
	return true;
}

/* Add the referenced senders that exist; returns how many did. */
static int
add_refs(em_pool *p, json_object *arr)
{
	int			created = 0;
	size_t		n = arr ? json_object_array_length(arr) : 0;

	for (size_t i = 0; i < n; i++)
	{
		json_object *id;

		json_object_object_get_ex(json_object_array_get_idx(arr, i), "senderId", &id);
		if (em_find_sender(em_inv, json_object_get_string(id)))
		{
			em_pool_add_member(p, json_object_get_string(id));
			created++;
		}
	}
	return created;
}

/* The body of a create or update: checked name, senders and tags. */
static bool
check_pool_body(json_object *root, bool create, json_object **name,
				json_object **senders, json_object **tags, em_resp *r)
{
	*name = *senders = *tags = NULL;
	if (!json_object_is_type(root, json_type_object))
	{
		em_resp_error(r, 400, "the request body must be an object", "$");
		return false;
	}
	json_object_object_foreach(root, key, val)
	{
		char		ctx[80];

		snprintf(ctx, sizeof(ctx), "$.%.60s", key);
		if (strcmp(key, "name") == 0)
		{
			if (!json_object_is_type(val, json_type_string))
			{
				em_resp_error(r, 400, "name must be a string", ctx);
				return false;
			}
			*name = val;
		}
		else if (strcmp(key, "tags") == 0)
		{
			if (!em_check_tags(val, ctx, r))
				return false;
			*tags = val;
		}
		else if (create && strcmp(key, "senders") == 0)
		{
			if (!check_sender_refs(val, ctx, 0, r))
				return false;
			*senders = val;
		}
		else
		{
			em_resp_errorf(r, 400, ctx, "unknown key \"%.60s\"", key);
			return false;
		}
	}
	return true;
}

void
em_create_pool(const char *body, size_t len, em_resp *r)
{
	json_object *root = em_parse_body(body, len, r);
	json_object *name,
			   *senders,
			   *tags;
	char	   *id;
	char		now[32];
	em_pool    *p;

	if (r->body)
		return;
	if (check_pool_body(root, true, &name, &senders, &tags, r))
	{
		pthread_mutex_lock(&em_lock);
		id = em_new_id(CR_POOL_PREFIX);
		em_now_rfc3339(now);
		p = em_pool_insert(em_inv, id, name ? json_object_get_string(name) : "", tags, now);
		answer_operation(id, senders ? (int) json_object_array_length(senders) : 0,
						 add_refs(p, senders), r);
		pthread_mutex_unlock(&em_lock);
		free(id);
	}
	json_object_put(root);
}

void
em_update_pool(const char *pool_id, const char *body, size_t len, em_resp *r)
{
	json_object *root;
	json_object *name,
			   *senders,
			   *tags;
	em_pool    *p;
	char	   *path;

	if (!em_check_pool_id(pool_id, r))
		return;
	root = em_parse_body(body, len, r);
	if (r->body)
		return;
	if (check_pool_body(root, false, &name, &senders, &tags, r))
	{
		pthread_mutex_lock(&em_lock);
		p = em_find_pool(em_inv, pool_id);
		if (p == NULL)
			em_resp_errorf(r, 404, NULL, "sender pool \"%s\" does not exist", pool_id);
		else
		{
			char		now[32];

			em_now_rfc3339(now);
			if (name)
			{
				free(p->name);
				p->name = strdup(json_object_get_string(name));
			}
			if (tags)
			{
				json_object_put(p->tags);
				p->tags = json_object_get(tags);
			}
			free(p->updated_at);
			p->updated_at = strdup(now);
			if (asprintf(&path, "/SenderPools/%s", pool_id) < 0)
				abort();
			answer_resource(pool_id, path, r);
			free(path);
		}
		pthread_mutex_unlock(&em_lock);
	}
	json_object_put(root);
}

void
em_delete_pool(const char *pool_id, em_resp *r)
{
	em_pool    *p;
	char	   *path;

	if (!em_check_pool_id(pool_id, r))
		return;
	pthread_mutex_lock(&em_lock);
	p = em_find_pool(em_inv, pool_id);
	if (p == NULL)
		em_resp_errorf(r, 404, NULL, "sender pool \"%s\" does not exist", pool_id);
	else
	{
		em_pool_delete(em_inv, p);
		if (asprintf(&path, "/SenderPools/%s", pool_id) < 0)
			abort();
		answer_resource(pool_id, path, r);
		free(path);
	}
	pthread_mutex_unlock(&em_lock);
}

void
em_add_members(const char *pool_id, const char *body, size_t len, em_resp *r)
{
	json_object *root;
	em_pool    *p;

	if (!em_check_pool_id(pool_id, r))
		return;
	root = em_parse_body(body, len, r);
	if (r->body)
		return;
	if (check_sender_refs(root, "$", 1, r))
	{
		pthread_mutex_lock(&em_lock);
		p = em_find_pool(em_inv, pool_id);
		if (p == NULL)
			em_resp_errorf(r, 404, NULL, "sender pool \"%s\" does not exist", pool_id);
		else
		{
			char		now[32];

			em_now_rfc3339(now);
			free(p->updated_at);
			p->updated_at = strdup(now);
			answer_operation(pool_id, (int) json_object_array_length(root), add_refs(p, root), r);
		}
		pthread_mutex_unlock(&em_lock);
	}
	json_object_put(root);
}

void
em_remove_member(const char *pool_id, const char *sender_id, em_resp *r)
{
	em_pool    *p;
	char	   *path;

	if (!em_check_pool_id(pool_id, r))
		return;
	if (!cr_is_typeid(CR_SENDER_PREFIX, sender_id, strlen(sender_id)))
	{
		em_resp_errorf(r, 400, NULL, "invalid sender id \"%.60s\"", sender_id);
		return;
	}
	pthread_mutex_lock(&em_lock);
	p = em_find_pool(em_inv, pool_id);
	if (p == NULL)
		em_resp_errorf(r, 404, NULL, "sender pool \"%s\" does not exist", pool_id);
	else if (!em_pool_remove_member(p, sender_id))
		em_resp_errorf(r, 404, NULL, "sender \"%s\" is not in sender pool \"%s\"", sender_id, pool_id);
	else
	{
		char		now[32];

		em_now_rfc3339(now);
		free(p->updated_at);
		p->updated_at = strdup(now);
		if (asprintf(&path, "/SenderPools/%s/Senders/%s", pool_id, sender_id) < 0)
			abort();
		answer_resource(sender_id, path, r);
		free(path);
	}
	pthread_mutex_unlock(&em_lock);
}
