/*-------------------------------------------------------------------------
 *
 * cr_bench_floor.c
 *	  The floor of the reporting benchmark (test/bench/reporting.sh): a
 *	  set-returning function shaped like comms_resolve.resolve() that does
 *	  no resolution work at all.
 *
 *	  cr_bench_floor(pool text, recipients jsonb, channels jsonb DEFAULT NULL,
 *	                 nrows integer DEFAULT 10)
 *	  RETURNS TABLE (sender_id text, from_address text, to_address text,
 *	                 channel text, priority integer, display_name text,
 *	                 to_channel text)
 *
 * Design: the caller says how many rows to return (nrows), because the
 * floor must return as many rows as resolve() does for the same input and
 * only the resolver can know that.  In the benchmark every customer has a
 * phone, a WhatsApp and an email recipient and the pool has far more than
 * comms_resolve.max_results reachable senders, so resolve() returns exactly
 * max_results rows per customer; reporting.sh passes that number and checks
 * that the floor's total row count equals the C resolver's.
 *
 * Per call it does what any C SRF of this shape must do and nothing more:
 * it fetches (detoasts) the pool and recipients arguments as resolve()
 * does, sets up a materialized result with InitMaterializedSRF, and puts
 * nrows tuples of constant values (text datums built once per backend)
 * into the tuplestore.  The SQL query around it - scanning customers,
 * building the jsonb array, the lateral join and the aggregate - is the
 * same as for the resolver, so the difference between the two timings is
 * the cost of the resolution itself.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(cr_bench_floor);

#define FLOOR_MAX_ROWS 1000		/* as comms_resolve.max_results' maximum */

static Datum const_text[6];

static Datum
constant_text(int i, const char *s)
{
	if (const_text[i] == (Datum) 0)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		const_text[i] = CStringGetTextDatum(s);
		MemoryContextSwitchTo(old);
	}
	return const_text[i];
}

Datum
cr_bench_floor(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		nrows = PG_ARGISNULL(3) ? 10 : PG_GETARG_INT32(3);
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};

	if (nrows < 0 || nrows > FLOOR_MAX_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nrows must be between 0 and %d", FLOOR_MAX_ROWS)));

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	/* fetch the arguments as the resolver must (no parsing) */
	if (!PG_ARGISNULL(0))
		(void) PG_GETARG_TEXT_PP(0);
	if (!PG_ARGISNULL(1))
		(void) PG_GETARG_JSONB_P(1);
	if (!PG_ARGISNULL(2))
		(void) PG_GETARG_JSONB_P(2);

	values[0] = constant_text(0, "comms_sender_01jd0000000000000000000000");
	values[1] = constant_text(1, "+14155550100");
	values[2] = constant_text(2, "+14155550199");
	values[3] = constant_text(3, "SMS");
	values[4] = Int32GetDatum(0);
	values[5] = constant_text(4, "Floor");
	values[6] = constant_text(5, "PHONE");

	for (int i = 0; i < nrows; i++)
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);

	return (Datum) 0;
}
