package webui

import (
	"strings"
	"testing"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/webui/api"
)

// TestRequestDefects: answers found wrong by exercising the API. Each row
// is one: whitespace-only text was sent; a query that is not URL encoding
// listed from the top; a duplicate recipient was called an invalid number;
// an error repeated itself.
func TestRequestDefects(t *testing.T) {
	e := newEnv(t, Options{})
	_, tok := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	for _, c := range []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"whitespace text", "POST", "/api/v1/messages", map[string]any{"to": "+447911123451", "text": " \n\t "}, 400, "invalid_field"},
		{"bad cursor on messages", "GET", "/api/v1/messages?cursor=%%%", nil, 400, "invalid_field"},
		{"bad cursor on conversations", "GET", "/api/v1/conversations?cursor=%%%", nil, 400, "invalid_field"},
		{"bad cursor on failures", "GET", "/api/v1/failures?cursor=%%%", nil, 400, "invalid_field"},
		{"bad cursor on notifications", "GET", "/api/v1/notifications?cursor=%%%", nil, 400, "invalid_field"},
		{"cursor not ours", "GET", "/api/v1/conversations?cursor=*", nil, 400, "invalid_field"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, tok, c.body)
			if r.status != c.status || r.errCode(t) != c.code {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, c.status, c.code)
			}
		})
	}

	t.Run("duplicate recipient", func(t *testing.T) {
		r := e.do("POST", "/api/v1/messages", tok, map[string]any{"to": []string{"+447911123451", "07911 123451"}, "text": "hi"})
		var sr api.SendResponse
		r.json(t, &sr)
		if r.status != 202 || len(sr.Errors) != 1 || sr.Errors[0].Index != 1 || sr.Errors[0].Code != "duplicate_recipient" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})

	t.Run("errors say it once", func(t *testing.T) {
		for _, path := range []string{"/api/v1/contacts/12", "/api/v1/contacts/+999123"} {
			r := e.do("GET", path, tok, nil)
			body := string(r.body)
			if r.errCode(t) != "invalid_number" || strings.Count(body, "not a") > 1 || strings.Count(body, "phone number") > 1 {
				t.Errorf("%s: %s", path, body)
			}
		}
		r := e.do("POST", "/api/v1/messages", tok, map[string]any{"to": "abc", "text": "hi"})
		if r.errCode(t) != "no_valid_recipients" || strings.Count(string(r.body), "sender name") != 1 {
			t.Errorf("send: %s", r.body)
		}
	})
}

// TestContactRefRoundTrip: the CRM reference a contact is stored with comes
// back under the name it was sent as, "ref".
func TestContactRefRoundTrip(t *testing.T) {
	e := newEnv(t, Options{})
	_, tok := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	put := e.do("PUT", "/api/v1/contacts/+447911123451", tok, map[string]any{"name": "Ann", "ref": map[string]string{"type": "lead", "id": "42"}})
	get := e.do("GET", "/api/v1/contacts/+447911123451", tok, nil)
	for _, r := range []resp{put, get} {
		var cv api.ContactView
		r.json(t, &cv)
		if r.status != 200 || cv.Ref == nil || cv.Ref.Type != "lead" || cv.Ref.ID != "42" || strings.Contains(string(r.body), `"crm"`) {
			t.Errorf("%d %s", r.status, r.body)
		}
	}
}
