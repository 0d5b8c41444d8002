package smsgate

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/gsmgate/gsmgate/webui/httpkit"
)

// FuzzMessageBodies feeds arbitrary bytes to the lenient decoding of
// SMSGate's message body: nothing panics, and a refusal is a catalogue error
// with a 4xx status.
func FuzzMessageBodies(f *testing.F) {
	for _, s := range []string{
		`{"phoneNumbers":["+447911123456"],"message":"hi","withDeliveryReport":true,"ttl":3600}`,
		`{"phoneNumbers":["1"],"textMessage":{"text":"hi"},"validUntil":"2030-01-01T00:00:00Z","simNumber":null}`,
		`{"phoneNumbers":"x"}`, `{`, ``, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var m Message
		if err := json.Unmarshal(body, &m); err != nil {
			var ae *httpkit.APIError
			if e := httpkit.JSONError(body, 0, err); !errors.As(e, &ae) || ae.Status < 400 || ae.Status > 499 {
				t.Fatalf("refusal %v for %q", e, body)
			}
		}
	})
}
