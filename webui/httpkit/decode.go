package httpkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
)

// JSONPosition says where in a body a JSON problem is, for people fixing
// their client: a byte offset and the line and column it falls on.
type JSONPosition struct {
	Offset int64  `json:"offset"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Field  string `json:"field,omitempty"`
	Detail string `json:"detail,omitempty"`
}

func positionAt(body []byte, off int64) JSONPosition {
	if off > int64(len(body)) {
		off = int64(len(body))
	}
	if off < 0 {
		off = 0
	}
	before := body[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return JSONPosition{Offset: off, Line: line, Column: col}
}

// ReadBody reads a request body of at most limit bytes, checking that it is
// declared as JSON (or not declared at all, as curl -d does not).
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, ErrUnsupportedMedia.With(map[string]string{"content_type": ct},
				"send the body as application/json, not %q", ct)
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, ErrBadRequest.With(nil, "reading the body: %v", err)
	}
	if int64(len(body)) > limit {
		return nil, ErrBodyTooLarge.With(map[string]int64{"limit_bytes": limit},
			"the body is larger than %d bytes", limit)
	}
	return body, nil
}

// DecodeJSON decodes exactly one JSON value from body into dst, rejecting
// unknown fields and trailing data, and answering with where it broke.
func DecodeJSON(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return ErrInvalidJSON.With(positionAt(body, 0), "the body is empty; a JSON object is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return JSONError(body, dec.InputOffset(), err)
	}
	// One value only: "{}{}" or "{} x" is a client bug worth naming.
	var extra json.RawMessage
	off := dec.InputOffset()
	if err := dec.Decode(&extra); err != io.EOF {
		pos := positionAt(body, off)
		pos.Detail = "data after the JSON value"
		return ErrInvalidJSON.With(pos, "unexpected data after the JSON value at line %d, column %d", pos.Line, pos.Column)
	}
	return nil
}

// JSONError explains a decoding error; off is how far the decoder got.
func JSONError(body []byte, off int64, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var ae *APIError
	switch {
	case errors.As(err, &ae):
		// A field's own UnmarshalJSON (recipients, for one) answered already.
		return ae
	case errors.As(err, &se):
		// Offset counts the bytes read including the offending one.
		pos := positionAt(body, max(se.Offset-1, 0))
		pos.Detail = se.Error()
		return ErrInvalidJSON.With(pos, "malformed JSON at line %d, column %d (offset %d): %s", pos.Line, pos.Column, pos.Offset, se.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		pos := positionAt(body, int64(len(body)))
		pos.Detail = "unexpected end of input"
		return ErrInvalidJSON.With(pos, "the JSON ends early at line %d, column %d", pos.Line, pos.Column)
	case errors.As(err, &te):
		pos := positionAt(body, te.Offset)
		pos.Field = te.Field
		pos.Detail = "want " + te.Type.String() + ", got " + te.Value
		return ErrInvalidField.With(pos, "field %q at line %d, column %d: want %s, got %s", te.Field, pos.Line, pos.Column, jsonKind(te.Type.String()), te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		pos := positionAt(body, off)
		pos.Field = name
		return ErrUnknownField.With(pos, "unknown field %q at line %d", name, pos.Line)
	default:
		pos := positionAt(body, off)
		pos.Detail = err.Error()
		return ErrInvalidJSON.With(pos, "invalid JSON at line %d, column %d: %v", pos.Line, pos.Column, err)
	}
}

// jsonKind names a Go type as the JSON kind a client must send.
func jsonKind(goType string) string {
	switch {
	case goType == "string", strings.HasSuffix(goType, "Time"):
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), strings.HasPrefix(goType, "float"):
		return "a number"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	default:
		return "an object"
	}
}
