/*-------------------------------------------------------------------------
 *
 * inventory.c
 *	  Read candidate senders from the local inventory tables, once per
 *	  statement.
 *
 * Snapshot rule (sql.md 4.5): rows are read through SPI in read-only mode,
 * which uses the calling statement's active snapshot, so a resolution sees
 * exactly what its statement sees: the caller's own uncommitted changes,
 * not other transactions' uncommitted ones.  The loaded set is kept in the
 * function's fn_extra and reused only while nothing that decides
 * visibility can have changed:
 *
 * - the source key (pool id, or form B channel and address);
 * - the contents of the active snapshot: xmin, xmax, the in-progress
 *	 transaction and subtransaction lists and the command id.  Pointer
 *	 identity is not enough: plpgsql keeps a simple expression's fn_extra
 *	 for a whole transaction, and a later statement's snapshot may live at
 *	 the same address with only its in-progress list changed;
 * - a generation counter bumped at every subtransaction abort and at every
 *	 transaction end, because rolling back a subtransaction hides its rows
 *	 without changing any snapshot field.
 *
 * So a LATERAL join over a million rows reads the pool once, and no cached
 * row is ever used under a snapshot that might see something else.
 *
 * Memory: everything lives in inv->mcxt, a child of fn_mcxt, reset on each
 * reload.  SPI results are copied out before SPI_finish.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "comms_resolve.h"

static SPIPlanPtr plan_all = NULL;
static SPIPlanPtr plan_pool = NULL;
static SPIPlanPtr plan_pool_exists = NULL;
static SPIPlanPtr plan_sender = NULL;

#define SENDER_COLUMNS "s.id, s.address, s.channel, s.display_name"
/* operators pinned to pg_catalog: the caller's search_path must not matter */
#define EQ " OPERATOR(pg_catalog.=) "

/* Prepare a statement once per backend and keep it. */
static SPIPlanPtr
prepare_kept(SPIPlanPtr *slot, const char *sql, int nargs)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};

	if (*slot == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, nargs, argtypes);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "SPI_keepplan failed");
		*slot = p;
	}
	return *slot;
}

CrInventory *
cr_inventory_create(MemoryContext parent)
{
	CrInventory *inv = MemoryContextAllocZero(parent, sizeof(CrInventory));

	inv->mcxt = AllocSetContextCreate(parent, "comms_resolve inventory",
									  ALLOCSET_SMALL_SIZES);
	return inv;
}

/* Bumped whenever our own transaction state changes visibility. */
static uint64 xact_generation = 1;

static void
on_xact(XactEvent event, void *arg)
{
	xact_generation++;
}

static void
on_subxact(SubXactEvent event, SubTransactionId mySubid,
		   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		xact_generation++;
}

/* Called once from _PG_init. */
void
cr_inventory_init(void)
{
	RegisterXactCallback(on_xact, NULL);
	RegisterSubXactCallback(on_subxact, NULL);
}

static bool
snapshot_matches(const CrInventory *inv, Snapshot snap)
{
	return inv->generation == xact_generation &&
		inv->snap_xmin == snap->xmin &&
		inv->snap_xmax == snap->xmax &&
		inv->snap_curcid == snap->curcid &&
		inv->snap_suboverflowed == snap->suboverflowed &&
		inv->snap_xcnt == snap->xcnt &&
		inv->snap_subxcnt == snap->subxcnt &&
		(snap->xcnt == 0 ||
		 memcmp(inv->snap_xip, snap->xip, sizeof(TransactionId) * snap->xcnt) == 0) &&
		(snap->subxcnt <= 0 ||
		 memcmp(inv->snap_subxip, snap->subxip, sizeof(TransactionId) * snap->subxcnt) == 0);
}

/* Remember what decides the visibility of the rows just read. */
static void
snapshot_remember(CrInventory *inv, Snapshot snap)
{
	inv->generation = xact_generation;
	inv->snap_xmin = snap->xmin;
	inv->snap_xmax = snap->xmax;
	inv->snap_curcid = snap->curcid;
	inv->snap_suboverflowed = snap->suboverflowed;
	inv->snap_xcnt = snap->xcnt;
	inv->snap_subxcnt = snap->subxcnt;
	inv->snap_xip = NULL;
	inv->snap_subxip = NULL;
	if (snap->xcnt > 0)
	{
		inv->snap_xip = MemoryContextAlloc(inv->mcxt, sizeof(TransactionId) * snap->xcnt);
		memcpy(inv->snap_xip, snap->xip, sizeof(TransactionId) * snap->xcnt);
	}
	if (snap->subxcnt > 0)
	{
		inv->snap_subxip = MemoryContextAlloc(inv->mcxt, sizeof(TransactionId) * snap->subxcnt);
		memcpy(inv->snap_subxip, snap->subxip, sizeof(TransactionId) * snap->subxcnt);
	}
}

/* Copy the SPI result rows (id, address, channel, display_name) into inv. */
static void
copy_rows(CrInventory *inv)
{
	SPITupleTable *tt = SPI_tuptable;
	uint64		nrows = SPI_processed;
	MemoryContext old = MemoryContextSwitchTo(inv->mcxt);

	if (nrows > (uint64) (MaxAllocSize / sizeof(cr_sender)))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many senders to resolve from: %llu",
						(unsigned long long) nrows)));
	inv->n = (int) nrows;
	inv->senders = palloc0(sizeof(cr_sender) * Max(nrows, 1));
	inv->index = palloc(sizeof(int) * Max(nrows, 1));
	inv->id_datum = palloc(sizeof(Datum) * Max(nrows, 1));
	inv->address_datum = palloc(sizeof(Datum) * Max(nrows, 1));
	inv->display_datum = palloc(sizeof(Datum) * Max(nrows, 1));
	inv->display_null = palloc(sizeof(bool) * Max(nrows, 1));

	for (uint64 i = 0; i < nrows; i++)
	{
		HeapTuple	tup = tt->vals[i];
		bool		isnull;
		text	   *id,
				   *addr,
				   *chan;
		Datum		d;
		int			ch;
		cr_sender  *s = &inv->senders[i];

		id = DatumGetTextPCopy(SPI_getbinval(tup, tt->tupdesc, 1, &isnull));
		addr = DatumGetTextPCopy(SPI_getbinval(tup, tt->tupdesc, 2, &isnull));
		chan = DatumGetTextPP(SPI_getbinval(tup, tt->tupdesc, 3, &isnull));
		ch = cr_sender_channel_from_name(VARDATA_ANY(chan), VARSIZE_ANY_EXHDR(chan));
		if (ch < 0)
			elog(ERROR, "sender has an invalid channel");	/* CHECK forbids it */
		d = SPI_getbinval(tup, tt->tupdesc, 4, &isnull);
		inv->display_null[i] = isnull;
		inv->display_datum[i] = isnull ? (Datum) 0 : PointerGetDatum(DatumGetTextPCopy(d));

		inv->id_datum[i] = PointerGetDatum(id);
		inv->address_datum[i] = PointerGetDatum(addr);
		s->id = VARDATA(id);
		s->id_len = VARSIZE(id) - VARHDRSZ;
		s->address = VARDATA(addr);
		s->address_len = VARSIZE(addr) - VARHDRSZ;
		s->channel = (cr_sender_channel) ch;
		cr_sender_prepare(s);
	}
	cr_pool_build(&inv->pool, inv->senders, inv->n, inv->index);
	MemoryContextSwitchTo(old);
}

/*
 * Make inv hold the candidates of the given source as the active snapshot
 * sees them, reading them only when the cached set does not match.
 * CR_SOURCE_POOL raises 42704 for a pool that does not exist, and
 * CR_SOURCE_SENDER for a sender that does not exist or is deactivated.
 */
void
cr_inventory_load(CrInventory *inv, CrSourceKind kind, const char *key,
				  int key_len, int key_channel)
{
	Snapshot	snap = GetActiveSnapshot();
	Datum		args[2];
	int			rc;

	if (inv->valid && inv->kind == kind && snapshot_matches(inv, snap) &&
		inv->key_len == key_len && inv->key_channel == key_channel &&
		(key_len == 0 || memcmp(inv->key, key, key_len) == 0))
		return;

	inv->valid = false;
	MemoryContextReset(inv->mcxt);

	if ((rc = SPI_connect()) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(rc));

	switch (kind)
	{
		case CR_SOURCE_ALL:
			prepare_kept(&plan_all,
						 "SELECT " SENDER_COLUMNS " FROM comms_resolve.senders s"
						 " WHERE s.status" EQ "'ACTIVATED'", 0);
			rc = SPI_execute_plan(plan_all, NULL, NULL, true, 0);
			break;
		case CR_SOURCE_POOL:
			args[0] = PointerGetDatum(cstring_to_text_with_len(key, key_len));
			prepare_kept(&plan_pool_exists,
						 "SELECT 1 FROM comms_resolve.sender_pools WHERE id" EQ "$1", 1);
			rc = SPI_execute_plan(plan_pool_exists, args, NULL, true, 1);
			if (rc != SPI_OK_SELECT)
				elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
			if (SPI_processed == 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_OBJECT),
						 errmsg("sender pool \"%.*s\" does not exist", key_len, key),
						 errdetail("At $.senderPoolId."),
						 errhint("Pools are rows of comms_resolve.sender_pools.")));
			prepare_kept(&plan_pool,
						 "SELECT " SENDER_COLUMNS " FROM comms_resolve.sender_pool_senders m"
						 " JOIN comms_resolve.senders s ON s.id" EQ "m.sender_id"
						 " WHERE m.sender_pool_id" EQ "$1 AND s.status" EQ "'ACTIVATED'", 1);
			rc = SPI_execute_plan(plan_pool, args, NULL, true, 0);
			break;
		case CR_SOURCE_SENDER:
			args[0] = PointerGetDatum(cstring_to_text(cr_sender_channel_name(key_channel)));
			args[1] = PointerGetDatum(cstring_to_text_with_len(key, key_len));
			prepare_kept(&plan_sender,
						 "SELECT " SENDER_COLUMNS " FROM comms_resolve.senders s"
						 " WHERE s.channel" EQ "$1 AND s.address" EQ "$2"
						 " AND s.status" EQ "'ACTIVATED'", 2);
			rc = SPI_execute_plan(plan_sender, args, NULL, true, 0);
			if (rc == SPI_OK_SELECT && SPI_processed == 0)
			{
				char		ex[200];

				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_OBJECT),
						 errmsg("no activated %s sender with address \"%s\"",
								cr_sender_channel_name(key_channel),
								cr_excerpt(ex, sizeof(ex), key, key_len, 40)),
						 errdetail("At $.senderAddresses."),
						 errhint("Senders are rows of comms_resolve.senders with status ACTIVATED.")));
			}
			break;
	}
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));

	copy_rows(inv);
	SPI_finish();

	inv->key = MemoryContextAlloc(inv->mcxt, key_len + 1);
	memcpy(inv->key, key, key_len);
	inv->key[key_len] = '\0';
	inv->key_len = key_len;
	inv->key_channel = key_channel;
	inv->kind = kind;
	snapshot_remember(inv, snap);
	inv->valid = true;
}
