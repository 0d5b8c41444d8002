package httpkit

import (
	"errors"
	"strings"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/webhook"
)

// fieldCode maps the core's field error codes to the catalogue.
func fieldCode(f gateway.FieldError) *APIError {
	switch f.Code {
	case gateway.CodeTooManyRecipients:
		return ErrTooManyRecipient
	case gateway.CodeTextTooLong:
		return ErrTextTooLong
	case gateway.CodeDuplicateRecipient:
		return ErrDuplicateRecipient
	case gateway.CodeInvalidNumber:
		return ErrInvalidNumber
	case gateway.CodeInvalid:
		return ErrInvalidField
	case "":
		if f.Field == "to" || f.Field == "number" || f.Field == "phones" {
			return ErrInvalidNumber
		}
	}
	return ErrInvalidField
}

// RecipientError is a recipient that could not be used, or one sent with a
// warning, as the APIs show it.
type RecipientError struct {
	Index  int    `json:"index"`
	To     string `json:"to"`
	Code   string `json:"code"`
	Reason string `json:"message"`
}

// RecipientErrors converts the core's per-recipient field errors.
func RecipientErrors(fs []gateway.FieldError) []RecipientError {
	out := make([]RecipientError, 0, len(fs))
	for _, f := range fs {
		code := f.Code
		if code == "" {
			code = ErrInvalidNumber.Code
		}
		out = append(out, RecipientError{Index: f.Index, To: f.Value, Code: code, Reason: f.Reason})
	}
	return out
}

// coreError maps the core's errors to the catalogue (nil: not one of them).
func coreError(err error) *APIError {
	var ve *gateway.ValidationError
	var re *gateway.RecipientsError
	switch {
	case errors.As(err, &re):
		return ErrNoRecipients.With(RecipientErrors(re.Rejected), "none of the %d recipients can be used", len(re.Rejected))
	case errors.As(err, &ve):
		f := ve.Fields[0]
		if len(ve.Fields) == 1 {
			return fieldCode(f).With(ve.Fields, "%s: %s", f.Field, f.Reason)
		}
		return fieldCode(f).With(ve.Fields, "%s", strings.TrimPrefix(ve.Error(), "gateway: invalid request: "))
	case errors.Is(err, gateway.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, gateway.ErrIdempotencyConflict):
		return ErrIdempotencyReuse
	case errors.Is(err, gateway.ErrConflict):
		return ErrConflict.With(nil, "%s", strings.TrimPrefix(err.Error(), "gateway: conflict: "))
	case errors.Is(err, gateway.ErrForbidden):
		return ErrForbidden
	case errors.Is(err, gateway.ErrUnauthorized):
		return ErrUnauthorized
	case errors.Is(err, gateway.ErrExists):
		return ErrConflict.With(nil, "already exists")
	case errors.Is(err, gateway.ErrStorageFull):
		return ErrStorageFull
	}
	var ie *webhook.InvalidError
	if errors.As(err, &ie) {
		return ErrInvalidField.With(map[string]string{"field": ie.Field}, "%s: %s", ie.Field, ie.Msg)
	}
	return nil
}
