package api

import (
	"errors"
	"testing"

	"github.com/gsmgate/gsmgate/webui/httpkit"
)

// FuzzRequestBodies feeds arbitrary bytes to the JSON decoding and checks of
// every request body: nothing panics, and every refusal is a catalogue
// error with a 4xx status whose position lies inside the body.
func FuzzRequestBodies(f *testing.F) {
	for _, s := range []string{
		`{"to":"+447911123456","text":"hi"}`,
		`{"to":["+447911123456","07911 123457"],"text":"hi","ref":{"type":"a","id":"1"},"status_report":true,"send_at":"2030-01-01T00:00:00Z"}`,
		`{"to":5}`, `{"to":[1]}`, `{"text":"x","colour":1}`, "{\n\"to\":\n", `{} {}`, ``, `null`, `[]`, `"x"`,
		`{"name":"A","phones":[{"number":"1","label":"x"}]}`, `{"url":"http://a","events":["message.sent"],"secret":"s"}`,
		`{"name":"Ada Lovelace","first_name":"Ada","tags":["vip","london"],"fields":{"plan":"gold","renewal_2":"May"}}`,
		`{"tags":"vip"}`, `{"tags":[1]}`, `{"fields":["a"]}`, `{"fields":{"a":1}}`, `{"fields":{"Plan":"a","plan":"b"}}`,
		`{"first_name":7}`, `{"tags":null,"fields":null}`, `{"fields":{"":"x","2nd":"y","my plan":"z"}}`,
		"{\"text\":\"\xff\"}", `{"to":"1","text":"a","expires_at":"2000-01-01T00:00:00Z"}`,
	} {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		`{"phoneNumbers":["+447911123456"],"message":"hi","withDeliveryReport":true,"ttl":3600}`,
		`{"phoneNumbers":["1"],"textMessage":{"text":"hi"},"validUntil":"2030-01-01T00:00:00Z","simNumber":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(err error) {
			if err == nil {
				return
			}
			var ae *httpkit.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v (%T) is not an httpkit.APIError", err, err)
			}
			if ae.Status < 400 || ae.Status > 499 {
				t.Fatalf("status %d for %q", ae.Status, body)
			}
			if p, ok := ae.Details.(httpkit.JSONPosition); ok && (p.Offset < 0 || p.Offset > int64(len(body)) || p.Line < 1 || p.Column < 1) {
				t.Fatalf("position %+v outside a body of %d bytes", p, len(body))
			}
		}
		var sb sendBody
		err := httpkit.DecodeJSON(body, &sb)
		check(err)
		if err == nil {
			check(sb.validate())
		}
		var cb contactBody
		check(httpkit.DecodeJSON(body, &cb))
		var wb webhookBody
		check(httpkit.DecodeJSON(body, &wb))
		var cnt countBody
		check(httpkit.DecodeJSON(body, &cnt))
	})
}
