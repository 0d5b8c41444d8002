package httpkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// APIError is an error the API answers with: a stable machine code, the HTTP
// status, a sentence for people, and optional structured details. Every error
// a handler returns ends up as one (see ErrorFor), so the wire shape
// {"error": {"code", "message", "details"}} is produced in one place.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

func (e *APIError) Error() string { return "httpkit: " + e.Code + ": " + e.Message }

// With returns a copy with another message and details.
func (e *APIError) With(details any, format string, args ...any) *APIError {
	c := *e
	c.Message = fmt.Sprintf(format, args...)
	c.Details = details
	return &c
}

// Is makes errors.Is match on the code, so a copy made by With still matches
// its catalogue entry.
func (e *APIError) Is(target error) bool {
	t, ok := target.(*APIError)
	return ok && t.Code == e.Code
}

// The catalogue. Codes are part of the API contract: never rename one.
var (
	ErrBadRequest         = &APIError{Status: http.StatusBadRequest, Code: "bad_request", Message: "the request is not valid"}
	ErrInvalidJSON        = &APIError{Status: http.StatusBadRequest, Code: "invalid_json", Message: "the body is not valid JSON"}
	ErrUnknownField       = &APIError{Status: http.StatusBadRequest, Code: "unknown_field", Message: "the body has a field this route does not take"}
	ErrInvalidField       = &APIError{Status: http.StatusBadRequest, Code: "invalid_field", Message: "a field has a value this route does not take"}
	ErrInvalidNumber      = &APIError{Status: http.StatusUnprocessableEntity, Code: "invalid_number", Message: "the phone number cannot be used"}
	ErrDuplicateRecipient = &APIError{Status: http.StatusUnprocessableEntity, Code: "duplicate_recipient", Message: "the same number is given twice"}
	ErrNoRecipients       = &APIError{Status: http.StatusUnprocessableEntity, Code: "no_valid_recipients", Message: "none of the recipients can be used"}
	ErrTooManyRecipient   = &APIError{Status: http.StatusRequestEntityTooLarge, Code: "too_many_recipients", Message: "too many recipients in one request"}
	ErrTextTooLong        = &APIError{Status: http.StatusRequestEntityTooLarge, Code: "text_too_long", Message: "the text is too long"}
	ErrBodyTooLarge       = &APIError{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "the request body is too large"}
	ErrUnsupportedMedia   = &APIError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "send the body as application/json"}
	ErrUnauthorized       = &APIError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "a valid API token is required"}
	ErrForbidden          = &APIError{Status: http.StatusForbidden, Code: "forbidden", Message: "the token's scopes do not allow this"}
	ErrNotFound           = &APIError{Status: http.StatusNotFound, Code: "not_found", Message: "no such resource"}
	ErrRouteNotFound      = &APIError{Status: http.StatusNotFound, Code: "route_not_found", Message: "no such route"}
	ErrMethodNotAllowed   = &APIError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "the route does not take this method"}
	ErrConflict           = &APIError{Status: http.StatusConflict, Code: "conflict", Message: "the resource is not in a state that allows this"}
	ErrIdempotencyReuse   = &APIError{Status: http.StatusConflict, Code: "idempotency_key_reused", Message: "the Idempotency-Key was used with a different request"}
	ErrRateLimited        = &APIError{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "too many requests for this token"}
	ErrUnavailable        = &APIError{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "the gateway is not ready"}
	ErrShuttingDown       = &APIError{Status: http.StatusServiceUnavailable, Code: "shutting_down", Message: "the gateway is shutting down and takes no new work"}
	ErrStorageFull        = &APIError{Status: http.StatusInsufficientStorage, Code: "storage_full", Message: "the gateway's disk is full: nothing was stored; free space on the appliance and try again"}
	ErrInternal           = &APIError{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"}
)

// Catalogue lists every error code the API may answer with, for the OpenAPI
// document and its test.
func Catalogue() []*APIError {
	return []*APIError{
		ErrBadRequest, ErrInvalidJSON, ErrUnknownField, ErrInvalidField, ErrInvalidNumber, ErrDuplicateRecipient,
		ErrNoRecipients, ErrTooManyRecipient, ErrTextTooLong, ErrBodyTooLarge, ErrUnsupportedMedia,
		ErrUnauthorized, ErrForbidden, ErrNotFound, ErrRouteNotFound, ErrMethodNotAllowed,
		ErrConflict, ErrIdempotencyReuse, ErrRateLimited, ErrUnavailable, ErrShuttingDown, ErrStorageFull, ErrInternal,
	}
}

// ErrorFor maps any error to its APIError: catalogue entries as they are,
// the core's errors (see coreError), a cancelled request as unavailable.
// Unknown errors are internal and their text is not shown to the client (it
// is logged instead); known is false for them.
func ErrorFor(err error) (ae *APIError, known bool) {
	if errors.As(err, &ae) {
		return ae, true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return ErrUnavailable.With(nil, "the request was cancelled or timed out"), true
	}
	if ae := coreError(err); ae != nil {
		return ae, true
	}
	return ErrInternal, false
}

// ErrorBody is the JSON of an error answer.
type ErrorBody struct {
	Error *APIError `json:"error"`
}

// RetryAfter formats seconds for a Retry-After header, rounding up so a
// client that obeys it is not refused again.
func RetryAfter(secs float64) string {
	n := int(secs)
	if float64(n) < secs {
		n++
	}
	if n < 1 {
		n = 1
	}
	return strconv.Itoa(n)
}
