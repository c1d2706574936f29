/*-------------------------------------------------------------------------
 *
 * jsonb_bridge.c
 *	  Turn jsonb arguments into the core's cr_jv trees, and the core's
 *	  errors into ereport.
 *
 * The tree points into the jsonb datum (strings are not copied), so it
 * lives as long as the argument; nodes are palloc'd in the current memory
 * context, which the caller resets per call.  Conversion is bounded: only
 * MAX_DEPTH levels and the first MAX_ITEMS elements of each container are
 * converted, which is all any valid input needs (see cr_core.h), so huge or
 * deeply nested hostile input costs little.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "comms_resolve.h"

#define MAX_DEPTH 6
#define MAX_ITEMS 128

static cr_jv *jv_from_container(JsonbContainer *c, int depth);

static void
jv_from_scalar(cr_jv *out, JsonbValue *v, int depth)
{
	memset(out, 0, sizeof(*out));
	switch (v->type)
	{
		case jbvNull:
			out->type = CR_JV_NULL;
			break;
		case jbvBool:
			out->type = CR_JV_BOOL;
			out->b = v->val.boolean;
			break;
		case jbvString:
			out->type = CR_JV_STRING;
			out->s = v->val.string.val;
			out->len = v->val.string.len;
			break;
		case jbvNumeric:
			out->type = CR_JV_NUMBER;
			out->s = DatumGetCString(DirectFunctionCall1(numeric_out,
														 NumericGetDatum(v->val.numeric)));
			out->len = strlen(out->s);
			break;
		case jbvBinary:
			*out = *jv_from_container(v->val.binary.data, depth + 1);
			break;
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
	}
}

static cr_jv *
jv_from_container(JsonbContainer *c, int depth)
{
	cr_jv	   *out = palloc0(sizeof(cr_jv));
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	size_t		n = JsonContainerSize(c);
	size_t		cap = Min(n, MAX_ITEMS);
	cr_jv	  **items = NULL;
	cr_jv_member *members = NULL;
	char	   *pending_key = NULL;
	size_t		pending_len = 0;

	out->type = JsonContainerIsArray(c) ? CR_JV_ARRAY : CR_JV_OBJECT;
	out->n = n;
	if (depth > MAX_DEPTH || cap == 0)
		return out;
	if (out->type == CR_JV_ARRAY)
		items = palloc(sizeof(cr_jv *) * cap);
	else
		members = palloc(sizeof(cr_jv_member) * cap);

	it = JsonbIteratorInit(c);
	while (out->n_loaded < cap &&
		   (tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		cr_jv	   *child;

		switch (tok)
		{
			case WJB_KEY:
				pending_key = v.val.string.val;
				pending_len = v.val.string.len;
				break;
			case WJB_ELEM:
				child = palloc(sizeof(cr_jv));
				jv_from_scalar(child, &v, depth);
				items[out->n_loaded++] = child;
				break;
			case WJB_VALUE:
				child = palloc(sizeof(cr_jv));
				jv_from_scalar(child, &v, depth);
				members[out->n_loaded].key = pending_key;
				members[out->n_loaded].key_len = pending_len;
				members[out->n_loaded].value = child;
				out->n_loaded++;
				break;
			default:
				break;			/* begin/end tokens of this container */
		}
	}
	out->items = (const cr_jv *const *) items;
	out->members = members;
	return out;
}

/*
 * The cr_jv tree of a jsonb datum.  A scalar document (jsonb '"x"') is
 * returned as that scalar.
 */
const cr_jv *
cr_jv_from_jsonb(Jsonb *jb)
{
	if (JB_ROOT_IS_SCALAR(jb))
	{
		JsonbValue	v;
		cr_jv	   *out = palloc(sizeof(cr_jv));

		if (!JsonbExtractScalar(&jb->root, &v))
			elog(ERROR, "could not extract jsonb scalar");
		jv_from_scalar(out, &v, 0);
		return out;
	}
	return jv_from_container(&jb->root, 0);
}

/*
 * Walk the elements of a top-level jsonb array one at a time, converting
 * each to a cr_jv tree in the current memory context; the caller can
 * reset that context between elements.  Returns false for anything but
 * an array.
 */
bool
cr_jsonb_array_begin(Jsonb *jb, CrJsonbElems *e)
{
	JsonbValue	v;

	e->it = NULL;
	if (JB_ROOT_IS_SCALAR(jb) || !JB_ROOT_IS_ARRAY(jb))
		return false;
	e->it = JsonbIteratorInit(&jb->root);
	(void) JsonbIteratorNext(&e->it, &v, true);	/* WJB_BEGIN_ARRAY */
	return true;
}

const cr_jv *
cr_jsonb_array_next(CrJsonbElems *e)
{
	JsonbValue	v;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&e->it, &v, true)) != WJB_DONE)
		if (tok == WJB_ELEM)
		{
			cr_jv	   *out = palloc(sizeof(cr_jv));

			jv_from_scalar(out, &v, 0);
			return out;
		}
	return NULL;
}

/* Raise a core error with its SQLSTATE, the context in DETAIL, the hint. */
void
cr_report_error(const cr_error *err)
{
	int			code;

	switch (err->kind)
	{
		case CR_ERR_UNDEFINED:
			code = ERRCODE_UNDEFINED_OBJECT;
			break;
		case CR_ERR_UNSUPPORTED:
			code = ERRCODE_FEATURE_NOT_SUPPORTED;
			break;
		default:
			code = ERRCODE_INVALID_PARAMETER_VALUE;
			break;
	}
	ereport(ERROR,
			(errcode(code),
			 errmsg_internal("%s", err->message),
			 err->context[0] ? errdetail("At %s.", err->context) : 0,
			 err->hint[0] ? errhint("%s", err->hint) : 0));
	pg_unreachable();
}

/* A short, one-line excerpt of a text value for messages. */
char *
cr_text_excerpt(text *t)
{
	char	   *buf = palloc(200);

	return cr_excerpt(buf, 200, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), 40);
}
