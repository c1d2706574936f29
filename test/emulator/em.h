/*-------------------------------------------------------------------------
 *
 * em.h
 *	  Private header of the Comms API emulator (comms_emulator).
 *
 * The emulator is one process serving the Comms API's Senders and
 * SenderPools paths under /v1 from an in-memory inventory, plus control
 * endpoints under /_emulator/ for tests (faults, request log, inventory,
 * configuration).  Resolve reuses the resolution core of src/core, so the
 * emulator and the extension's local resolver agree by construction.
 *
 * Locking: libmicrohttpd runs one thread per connection.  All shared state
 * (inventory, operations, fault rules, request log, configuration) is
 * protected by the single mutex em_lock; handlers hold it only while they
 * compute a response, never while they sleep (delays, drip).
 *
 *-------------------------------------------------------------------------
 */
#ifndef EM_H
#define EM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <microhttpd.h>

#include "cr_core.h"

#define EM_MAX_BODY (16 * 1024 * 1024)	/* request bodies above: 413 */
#define EM_MAX_PAGE_SIZE 1000
#define EM_RESOLVE_MAX_RESULTS 10
#define EM_INFO_URL "https://www.twilio.com/docs/api/errors/"

/* ---------------------------------------------------------------------
 * Responses (em_util.c)
 * ---------------------------------------------------------------------
 */
typedef struct em_resp
{
	int			status;
	char	   *body;			/* malloc'd; NULL means empty */
	size_t		len;
	char	   *location;		/* malloc'd Location header, or NULL */
	const char *allow;			/* Allow header (405), or NULL */
	bool		www_auth;		/* add WWW-Authenticate (401) */
} em_resp;

/* Serialize o (consumed) as the body of r with the given status. */
extern void em_resp_json(em_resp *r, int status, json_object *o);

/* The API's error body {"errors": [...]}; context NULL or "" means null. */
extern void em_resp_error(em_resp *r, int status, const char *message,
						  const char *context);
extern void em_resp_errorf(em_resp *r, int status, const char *context,
						   const char *fmt,...)
			__attribute__((format(printf, 4, 5)));
extern void em_resp_free(em_resp *r);

/* The Twilio-style error code used for an HTTP status. */
extern int	em_error_code(int status);
/* The standard error message of a status, for faults. */
extern const char *em_status_message(int status);

/* Serialize without escaping '/', no pretty printing; malloc'd copy. */
extern char *em_json_dup(json_object *o, size_t *len);

/* base64 (standard or url alphabet, padding optional); malloc'd, NULL if bad */
extern unsigned char *em_base64_decode(const char *s, size_t len, size_t *out_len);
/* base64url without padding; malloc'd */
extern char *em_base64url_encode(const unsigned char *s, size_t len);

/* Milliseconds since the emulator started (monotonic). */
extern int64_t em_now_ms(void);

/*
 * Sleep ms milliseconds in short slices; returns false early when the
 * emulator is stopping.
 */
extern bool em_sleep_ms(int64_t ms);
extern atomic_int em_stopping;

/*
 * Parse the body as one JSON value.  On failure fill r (400) and return
 * NULL; NULL with r->body unset is JSON null.
 */
extern json_object *em_parse_body(const char *body, size_t len, em_resp *r);

/* ---------------------------------------------------------------------
 * json-c -> cr_jv (em_jv.c)
 * ---------------------------------------------------------------------
 */
typedef struct em_arena
{
	struct arena_block *head;
} em_arena;

extern void *em_arena_alloc(em_arena *a, size_t n);
extern void em_arena_free(em_arena *a);

/*
 * The cr_jv tree of root, parsed by json-c from body; number texts as
 * PostgreSQL's numeric_out prints them.  Lives in a and in root.
 */
extern const cr_jv *em_jv_convert(em_arena *a, json_object *root,
								  const char *body, size_t len);

/* ---------------------------------------------------------------------
 * Inventory (em_inventory.c)
 * ---------------------------------------------------------------------
 */
typedef struct em_sender
{
	char	   *id;
	char	   *display_name;	/* NULL for JSON null */
	char	   *address;
	cr_sender_channel channel;
	bool		activated;
	json_object *tags;			/* an object, owned */
	char	   *created_at;		/* as given */
	char	   *updated_at;
	int64_t		created_ms;
} em_sender;

typedef struct em_pool
{
	char	   *id;
	char	   *name;
	json_object *tags;
	char	   *created_at;
	char	   *updated_at;
	int64_t		created_ms;
	char	  **members;		/* sender ids, sorted, distinct, owned */
	int			n_members;
	int			cap_members;
} em_pool;

typedef struct em_inventory
{
	em_sender  *senders;		/* sorted by id */
	int			n_senders;
	em_pool    *pools;			/* sorted by id */
	int			n_pools;
	int			cap_pools;
} em_inventory;

typedef struct em_operation
{
	char	   *id;
	char	   *pool_id;		/* the pool it created or changed */
	int			total;
	int			created;
	int			failed;
	char	   *created_at;
	int64_t		created_ms;
} em_operation;

/* Parse and check a whole inventory; NULL with a message in err. */
extern em_inventory *em_inventory_from_json(json_object *root, char *err,
											size_t errlen);
extern em_inventory *em_inventory_load_file(const char *path, char *err,
											size_t errlen);
extern void em_inventory_free(em_inventory *inv);
extern json_object *em_inventory_to_json(const em_inventory *inv);

extern json_object *em_sender_to_json(const em_sender *s);
extern json_object *em_pool_to_json(const em_pool *p);
extern json_object *em_operation_to_json(const em_operation *op);

extern em_sender *em_find_sender(const em_inventory *inv, const char *id);
extern em_pool *em_find_pool(const em_inventory *inv, const char *id);
/* Insert a new, empty pool (id must be new); returns it. */
extern em_pool *em_pool_insert(em_inventory *inv, const char *id,
							   const char *name, json_object *tags,
							   const char *now);
extern void em_pool_delete(em_inventory *inv, em_pool *p);
/* Add a member (no-op when already there); remove one (false if absent). */
extern void em_pool_add_member(em_pool *p, const char *sender_id);
extern bool em_pool_remove_member(em_pool *p, const char *sender_id);
extern bool em_pool_has_member(const em_pool *p, const char *sender_id);

/* RFC 3339 date-time (or a bare date) to ms since the epoch. */
extern bool em_parse_time(const char *s, int64_t *ms);
/* Current UTC time as "YYYY-MM-DDTHH:MM:SSZ"; out holds 32 bytes. */
extern void em_now_rfc3339(char *out);
/* A new TypeID "<prefix>_<26 chars>" (UUIDv7, monotonic); malloc'd. */
extern char *em_new_id(const char *prefix);

/*
 * Check an API Tags object (at most 10 pairs, key 1..128 and value 1..256
 * characters of [a-zA-Z0-9._~-]); on failure fill r (400) with context.
 */
extern bool em_check_tags(json_object *tags, const char *context, em_resp *r);

/* ---------------------------------------------------------------------
 * Shared state (comms_emulator.c), under em_lock
 * ---------------------------------------------------------------------
 */
extern pthread_mutex_t em_lock;
extern em_inventory *em_inv;
extern em_operation *em_ops;
extern int	em_n_ops;
extern int	em_cap_ops;
extern int	em_page_size;
extern char em_base_url[128];	/* "http://127.0.0.1:PORT/v1" */

typedef enum em_result_order
{
	EM_ORDER_REVERSED = 0,
	EM_ORDER_ROTATED,
	EM_ORDER_RANKED
} em_result_order;
extern em_result_order em_order;

#define EM_OP_PREFIX "comms_operation"

/* ---------------------------------------------------------------------
 * The /v1 API (em_api.c); called without em_lock held
 * ---------------------------------------------------------------------
 */
extern void em_api_handle(struct MHD_Connection *conn, const char *method,
						  const char *path, const char *body, size_t body_len,
						  em_resp *r);

/* ---------------------------------------------------------------------
 * Listings (em_list.c)
 * ---------------------------------------------------------------------
 */
typedef struct em_list_query
{
	int			channel;		/* -1: any */
	int			status;			/* -1: any, 1 ACTIVATED, 0 DEACTIVATED */
	const char *start;			/* startDate as given, or NULL */
	const char *end;			/* endDate as given, or NULL */
	int64_t		start_ms;
	int64_t		end_ms;
	const char *token;			/* pageToken, or NULL */
	int			page_size;
	const char *op_status;		/* Operations listing: status or "" */
	const char *operation_id;	/* SenderPools listing */
	const char *address;		/* Search */
	bool		in_body;		/* error contexts are $.name (Search) */
} em_list_query;

/* Check and convert channel, status and pageSize (raw text or NULL). */
extern bool em_query_check(em_list_query *q, const char *channel,
						   const char *status, const char *page_size,
						   em_resp *r);
/* Read a listing's parameters from the query string (ops: Operations). */
extern bool em_query_from_url(struct MHD_Connection *conn, em_list_query *q,
							  bool ops, em_resp *r);
/* The identity of a listing (kind, scope, filters): what tokens bind to. */
extern uint64_t em_filter_hash(const char *kind, const char *scope,
							   const em_list_query *q);
/*
 * The page [*start, *end) of ids[0..n) (sorted) that q's token asks for,
 * and its {"next", "self"} metadata; 400 in r for a bad token.
 */
extern bool em_paginate(const char *const *ids, int n, const em_list_query *q,
						uint64_t fhash, int *start, int *end,
						json_object **pagination, em_resp *r);
/* A page of senders: all, of a pool (404 if unknown), or a search. */
extern void em_list_senders(const em_list_query *q, const char *pool_id,
							em_resp *r);

/* ---------------------------------------------------------------------
 * SenderPools and Operations (em_pools.c); they take em_lock
 * ---------------------------------------------------------------------
 */
extern bool em_check_pool_id(const char *id, em_resp *r);
extern void em_list_pools(const em_list_query *q, em_resp *r);
extern void em_fetch_pool(const char *id, em_resp *r);
extern void em_list_operations(const em_list_query *q, em_resp *r);
extern void em_fetch_operation(const char *id, em_resp *r);
extern void em_create_pool(const char *body, size_t len, em_resp *r);
extern void em_update_pool(const char *pool_id, const char *body, size_t len,
						   em_resp *r);
extern void em_delete_pool(const char *pool_id, em_resp *r);
extern void em_add_members(const char *pool_id, const char *body, size_t len,
						   em_resp *r);
extern void em_remove_member(const char *pool_id, const char *sender_id,
							 em_resp *r);

/* ---------------------------------------------------------------------
 * Faults (em_faults.c)
 * ---------------------------------------------------------------------
 */
typedef enum em_body_kind
{
	EM_BODY_NONE = 0,			/* the real response (or an error body) */
	EM_BODY_GARBAGE,
	EM_BODY_TRUNCATED,
	EM_BODY_OVERSIZE,
	EM_BODY_DRIP,
	EM_BODY_EMPTY,
	EM_BODY_LITERAL
} em_body_kind;

/* What a rule does to one request (a copy, so rules may be cleared). */
typedef struct em_fault
{
	int			index;			/* rule index, -1 when none applies */
	int			status;			/* 0: not set */
	int			retry_after;	/* -1: not set */
	int64_t		delay_ms;
	em_body_kind body;
	char	   *literal;		/* EM_BODY_LITERAL, malloc'd */
	size_t		literal_len;
	uint64_t	bytes;			/* EM_BODY_OVERSIZE */
	int64_t		interval_ms;	/* EM_BODY_DRIP: between bytes */
	bool		drop;
} em_fault;

/* Append rules from a JSON array; 400 in r on error. Caller holds em_lock. */
extern bool em_faults_add(json_object *arr, em_resp *r, int *first, int *count);
extern void em_faults_clear(void);
extern json_object *em_faults_to_json(void);

/*
 * Take the first matching rule for a request (caller holds em_lock); fills
 * *f (f->index -1 when the request passes untouched).
 */
extern void em_faults_take(const char *method, const char *path, em_fault *f);
extern void em_fault_free(em_fault *f);

/* Does the fault replace the response rather than decorate the real one? */
extern bool em_fault_synthesizes(const em_fault *f);

/*
 * Build the MHD response for a request to uri (path and query): the real
 * response r (may be empty when the fault synthesizes) transformed by f.
 * Returns the response and its status.  Consumes r.
 */
extern struct MHD_Response *em_fault_response(const em_fault *f, em_resp *r,
											  const char *uri, int *status);

#endif							/* EM_H */
