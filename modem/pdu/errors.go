package pdu

import (
	"errors"
	"fmt"
)

// Errors a caller can test for with errors.Is.
var (
	// ErrUnderflow: the PDU ends before a field does.
	ErrUnderflow = errors.New("pdu ends early")
	// ErrInvalid: a field holds a value the spec does not allow.
	ErrInvalid = errors.New("invalid value")
	// ErrUnsupported: a well-formed feature this package does not decode
	// (compressed text, a reserved coding group).
	ErrUnsupported = errors.New("unsupported")
	// ErrTrailing: octets remain after the user data (strict mode only).
	ErrTrailing = errors.New("trailing octets")
	// ErrEncoding: the text cannot be written in the requested alphabet.
	ErrEncoding = errors.New("text not representable")
)

// DecodeError says which field of a PDU could not be decoded and at which
// octet offset (counted from the first octet given to Decode, so including
// the SMSC prefix when there is one).
type DecodeError struct {
	Field  string
	Offset int
	Err    error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("pdu: decode %s at octet %d: %v", e.Field, e.Offset, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

func decErr(field string, off int, err error) error {
	return &DecodeError{Field: field, Offset: off, Err: err}
}
