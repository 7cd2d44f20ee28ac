/* The error object: formatting a message, adding context while unwinding. */
#define ERROR_DEFINITIONS
#include "base/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int error_return(const struct error *err)
{
	return err->code > 0 ? -err->code : -EINVAL;
}

int error_set(struct error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (code < 0)
		code = -code;
	err->code = code ? code : EINVAL;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return error_return(err);
}

int error_set_errno(struct error *err, int code, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (code < 0)
		code = -code;
	err->code = code ? code : EINVAL;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	len = strlen(err->message);
	snprintf(err->message + len, sizeof(err->message) - len, ": %s", strerror(err->code));
	return error_return(err);
}

int error_prefix(struct error *err, const char *fmt, ...)
{
	char context[ERROR_MESSAGE_MAX];
	size_t clen, mlen;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(context, sizeof(context), fmt, ap);
	va_end(ap);
	clen = strlen(context);
	if (clen + 2 >= sizeof(err->message))
		clen = sizeof(err->message) - 3;
	mlen = strnlen(err->message, sizeof(err->message) - 1);
	if (clen + 2 + mlen >= sizeof(err->message))
		mlen = sizeof(err->message) - 1 - clen - 2;
	memmove(err->message + clen + 2, err->message, mlen);
	memcpy(err->message, context, clen);
	memcpy(err->message + clen, ": ", 2);
	err->message[clen + 2 + mlen] = '\0';
	return error_return(err);
}

void error_clear(struct error *err)
{
	err->code = 0;
	err->message[0] = '\0';
}
