/*
 * test_common.h
 *	  Shared helpers of the cmocka unit tests of the resolution core:
 *	  a small arena-backed builder of cr_jv trees and error assertions.
 */
#ifndef TEST_COMMON_H
#define TEST_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cr_core.h"

/* ---------------------------------------------------------------------
 * cr_jv builder.  Nodes and copied strings live in one static arena that
 * jv_reset() empties (tests call it first; the group setup calls it too).
 * ---------------------------------------------------------------------
 */
typedef struct jkv
{
	const char *key;
	const cr_jv *value;
} jkv;

extern void jv_reset(void);
extern const cr_jv *jnull(void);
extern const cr_jv *jbool(bool b);
extern const cr_jv *jnum(const char *text);
extern const cr_jv *jstr(const char *s);	/* copied into the arena */
extern const cr_jv *jstrn(const char *s, size_t len);
extern const cr_jv *jarr_v(const cr_jv *const *items, size_t n);
extern const cr_jv *jobj_v(const jkv *kv, size_t n);
/* A copy of a container claiming true_n elements (only n_loaded converted). */
extern const cr_jv *jtruncated(const cr_jv *container, size_t true_n);
/* Copy bytes into the arena (stable storage for generated strings). */
extern const char *jdup(const char *s, size_t len);

#define JARR(...) \
	jarr_v((const cr_jv *const[]){__VA_ARGS__}, \
		   sizeof((const cr_jv *const[]){__VA_ARGS__}) / sizeof(const cr_jv *))
#define JARR0() jarr_v(NULL, 0)
#define JOBJ(...) \
	jobj_v((const jkv[]){__VA_ARGS__}, sizeof((const jkv[]){__VA_ARGS__}) / sizeof(jkv))
#define JOBJ0() jobj_v(NULL, 0)
/* {"address": a, "channel": c} */
#define JREC(a, c) JOBJ({"address", jstr(a)}, {"channel", jstr(c)})
/* {"channel": ch, "priority": <number text pr>} */
#define JPRIO(ch, pr) JOBJ({"channel", jstr(ch)}, {"priority", jnum(pr)})

/* ---------------------------------------------------------------------
 * Error assertions
 * ---------------------------------------------------------------------
 */

/* Strict UTF-8 validity. */
extern bool utf8_valid(const char *s, size_t len);

/* Message and hint follow the conventions of cr_core.h. */
extern void check_error_text_at(const cr_error *err, const char *file, int line);
#define check_error_text(err) check_error_text_at((err), __FILE__, __LINE__)

/* expr must fail with exactly this kind and context. */
#define assert_fails(expr, err, kind_, ctx_) \
	do { \
		memset(&(err), 0x55, sizeof(err)); \
		if (expr) \
			fail_msg("%s:%d: expected failure of %s", __FILE__, __LINE__, #expr); \
		if ((err).kind != (kind_) || strcmp((err).context, (ctx_)) != 0) \
			fail_msg("%s:%d: %s: got kind %d context \"%.96s\" (message \"%.192s\"); " \
					 "expected kind %d context \"%s\"", __FILE__, __LINE__, #expr, \
					 (int) (err).kind, (err).context, (err).message, \
					 (int) (kind_), (ctx_)); \
		check_error_text(&(err)); \
	} while (0)

/* expr must succeed. */
#define assert_ok(expr, err) \
	do { \
		memset(&(err), 0, sizeof(err)); \
		if (!(expr)) \
			fail_msg("%s:%d: %s failed: kind %d context \"%.96s\" message \"%.192s\"", \
					 __FILE__, __LINE__, #expr, (int) (err).kind, (err).context, \
					 (err).message); \
	} while (0)

/* Test tables of each file, run as one cmocka group by test_main.c. */
extern const struct CMUnitTest validate_tests[];
extern const size_t validate_tests_count;
extern const struct CMUnitTest request_tests[];
extern const size_t request_tests_count;
extern const struct CMUnitTest rank_tests[];
extern const size_t rank_tests_count;

#endif							/* TEST_COMMON_H */
