/*-------------------------------------------------------------------------
 *
 * comms_resolve.h
 *	  The one private header of the PostgreSQL-facing files of comms_resolve.
 *
 * The pure resolution core lives in core/cr_core.h; this header adds what
 * the SQL glue shares: settings, the jsonb bridge, error reporting and the
 * per-statement inventory cache.
 *
 *-------------------------------------------------------------------------
 */
#ifndef COMMS_RESOLVE_H
#define COMMS_RESOLVE_H

#include "fmgr.h"
#include "utils/jsonb.h"
#include "utils/snapshot.h"

#include "core/cr_core.h"

/* guc.c */
typedef enum CrResolverKind
{
	CR_RESOLVER_LOCAL = 0,
	CR_RESOLVER_REMOTE
} CrResolverKind;

extern int	cr_guc_resolver;
extern int	cr_guc_max_results;
extern char *cr_guc_server;
extern int	cr_guc_connect_timeout;
extern int	cr_guc_request_timeout;
extern int	cr_guc_retries;
extern int	cr_guc_retry_ceiling;
extern int	cr_guc_max_response_kb;
extern bool cr_guc_reuse_connections;
extern int	cr_guc_page_size;
extern int	cr_guc_max_concurrency;
extern int	cr_guc_requests_per_second;
extern void cr_guc_init(void);

/* fdw.c and http.c: the remote resolver's client */
typedef struct CrHttpConfig
{
	char	   *server_name;
	char	   *base_url;
	char	   *user;			/* from the user mapping; never logged */
	char	   *password;		/* from the user mapping; never logged */
	long		connect_timeout_ms;
	long		request_timeout_ms;
	int			retries;
	long		retry_ceiling_ms;
	size_t		max_response_bytes;
	char	   *ca_file;
	bool		verify_tls;
} CrHttpConfig;

typedef struct CrHttpResult
{
	long		status;
	char	   *body;			/* palloc'd, NUL-terminated */
	size_t		body_len;
	int			attempts;
} CrHttpResult;

/* One (sender, recipient) pair of a Resolve response; strings palloc'd. */
typedef struct CrRemoteResult
{
	char	   *sender_id;
	char	   *display_name;	/* NULL for JSON null */
	char	   *channel;
	char	   *from_address;	/* NULL when absent (push) */
	char	   *to_address;
	char	   *to_channel;
	int32		priority;
	int			ord;			/* position in the API's answer */
} CrRemoteResult;

extern void cr_remote_config(CrHttpConfig *cfg);

/* wire.c */
extern char *cr_wire_resolve_body(const cr_request *req, const char *pool_id,
								  size_t pool_id_len,
								  const cr_sender_address *sender);
extern int	cr_wire_parse_results(const char *body, size_t len, int max_results,
								  CrRemoteResult **results);
extern void cr_wire_raise_status(const CrHttpConfig *cfg,
								 const CrHttpResult *res) pg_attribute_noreturn();

/* A Sender or SenderPool of the API, as strings (palloc'd). */
typedef struct CrInventoryRow
{
	char	   *id;
	char	   *name;			/* pools */
	char	   *display_name;	/* senders; NULL for JSON null */
	char	   *address;
	char	   *channel;
	char	   *status;
	char	   *tags;			/* JSON text of the tags object */
	char	   *created_at;		/* RFC 3339 */
	char	   *updated_at;
} CrInventoryRow;

extern int	cr_wire_parse_inventory(const char *body, size_t len,
									const char *items_key, bool pool,
									CrInventoryRow **rows, char **next);
extern char *cr_wire_search_body(const char *address, const char *channel,
								 const char *status, const char *page_token,
								 int page_size);
extern void cr_http_request(const CrHttpConfig *cfg, const char *method,
							const char *path, const char *body,
							CrHttpResult *out);
extern void cr_http_request_many(const CrHttpConfig *cfg, const char *method,
								 const char *path, char *const *bodies, int n,
								 int concurrency, int per_second,
								 bool stop_on_status, CrHttpResult *results,
								 int *failed);

/* jsonb_bridge.c */
extern const cr_jv *cr_jv_from_jsonb(Jsonb *jb);

typedef struct CrJsonbElems
{
	JsonbIterator *it;
} CrJsonbElems;

extern bool cr_jsonb_array_begin(Jsonb *jb, CrJsonbElems *e);
extern const cr_jv *cr_jsonb_array_next(CrJsonbElems *e);
extern void cr_report_error(const cr_error *err) pg_attribute_noreturn();
extern char *cr_text_excerpt(text *t);

/* inventory.c */

/*
 * Candidate senders for one statement: ACTIVATED senders of a pool, of the
 * whole inventory, or the one sender of request form B, with their output
 * datums prepared once.  Lives in a child of fn_mcxt and is reused across
 * calls of the same statement while the key and the snapshot are the same.
 */
typedef enum CrSourceKind
{
	CR_SOURCE_ALL = 0,			/* every ACTIVATED sender */
	CR_SOURCE_POOL,				/* ACTIVATED members of one pool */
	CR_SOURCE_SENDER			/* one ACTIVATED sender by channel and address */
} CrSourceKind;

typedef struct CrInventory
{
	MemoryContext mcxt;			/* owns everything below; reset on reload */
	bool		valid;
	CrSourceKind kind;
	char	   *key;			/* pool id, or address for CR_SOURCE_SENDER */
	int			key_len;
	int			key_channel;	/* CR_SOURCE_SENDER: cr_sender_channel */

	/*
	 * What decides the visibility of the rows read: the snapshot's contents
	 * and the transaction-state generation (see inventory.c).
	 */
	uint64		generation;
	TransactionId snap_xmin;
	TransactionId snap_xmax;
	CommandId	snap_curcid;
	bool		snap_suboverflowed;
	uint32		snap_xcnt;
	int32		snap_subxcnt;
	TransactionId *snap_xip;
	TransactionId *snap_subxip;

	int			n;
	cr_sender  *senders;
	int		   *index;
	cr_pool		pool;
	Datum	   *id_datum;
	Datum	   *address_datum;
	Datum	   *display_datum;
	bool	   *display_null;
} CrInventory;

extern void cr_inventory_init(void);
extern CrInventory *cr_inventory_create(MemoryContext parent);
extern void cr_inventory_load(CrInventory *inv, CrSourceKind kind,
							  const char *key, int key_len, int key_channel);

#endif							/* COMMS_RESOLVE_H */
