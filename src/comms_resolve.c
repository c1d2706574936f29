/*-------------------------------------------------------------------------
 *
 * comms_resolve.c
 *	  Module magic and initialisation of comms_resolve.
 *
 * Loading needs no shared_preload_libraries: _PG_init only defines the
 * settings (see guc.c) and registers the transaction callbacks that keep
 * the inventory cache honest (see inventory.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "comms_resolve.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	cr_guc_init();
	cr_inventory_init();
}
