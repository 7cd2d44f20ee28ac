/* The error object every fallible function fills: a negative errno travels in
 * the return value, the message that names the path, key or syscall travels
 * here, and callers prepend context while unwinding. */
#pragma once

#include <stddef.h>

#define ERROR_MESSAGE_MAX 2048

struct error {
	int code; /* positive errno, 0 when unset */
	char message[ERROR_MESSAGE_MAX];
};

/* Records code and message; returns -code (or -EINVAL when code is 0) so the
 * idiom is `return error_set(err, errno, "open %s", path);`. */
int error_set(struct error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prepends "context: " to the existing message; returns -err->code. */
int error_prefix(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* error_set with ": strerror(code)" appended. */
int error_set_errno(struct error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void error_clear(struct error *err);

#if defined(__clang_analyzer__) && !defined(ERROR_DEFINITIONS)
/* The analyzer reads one file at a time: tell it that these functions return
 * a negative errno, as error_return() in error.c guarantees. */
static inline int error_negative(int r)
{
	if (r >= 0)
		__builtin_unreachable();
	return r;
}
#define error_set(...)	     error_negative(error_set(__VA_ARGS__))
#define error_set_errno(...) error_negative(error_set_errno(__VA_ARGS__))
#define error_prefix(...)    error_negative(error_prefix(__VA_ARGS__))
#endif
