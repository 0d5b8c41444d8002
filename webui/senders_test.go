package webui

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/webui/api"
)

// TestEverySenderIsAConversation: an SMS from a short code, an
// alphanumeric sender or a number in a range the numbering plan does not
// list is stored, listed, and its conversation opens; a reply goes to the
// short code and the unlisted number (with a warning), and is refused for
// the sender name with a reason that says why.
func TestEverySenderIsAConversation(t *testing.T) {
	e := newEnv(t, Options{})
	_, tok := e.user("root", model.RoleAdmin, model.VisibilityAll, model.ScopeAdmin)
	senders := []string{"80010", "MyBank", "+447700900555"}
	for _, from := range senders {
		if _, err := e.svc.AcceptIncoming(context.Background(), gateway.Incoming{From: from, Text: "hello from " + from}); err != nil {
			t.Fatalf("incoming from %s: %v", from, err)
		}
	}
	var cl api.List[api.ConversationView]
	e.do("GET", "/api/v1/conversations?all=true", tok, nil).json(t, &cl)
	listed := map[string]bool{}
	for _, c := range cl.Items {
		listed[c.Number] = true
	}
	for _, from := range senders {
		t.Run(from, func(t *testing.T) {
			if !listed[from] {
				t.Fatalf("%s not listed: %+v", from, cl.Items)
			}
			r := e.do("GET", "/api/v1/conversations/"+url.PathEscape(from)+"/messages", tok, nil)
			var th api.List[api.MessageView]
			r.json(t, &th)
			if r.status != 200 || len(th.Items) != 1 || th.Items[0].Text != "hello from "+from {
				t.Fatalf("thread: %d %s", r.status, r.body)
			}
		})
	}

	for _, c := range []struct {
		to, code, warning string
		status            int
	}{
		{"80010", "", "", 202},
		{"+447700900555", "", "unknown_number_range", 202},
		{"MyBank", "no_valid_recipients", "", 422},
	} {
		t.Run("reply to "+c.to, func(t *testing.T) {
			r := e.do("POST", "/api/v1/messages", tok, map[string]any{"to": c.to, "text": "re"})
			if r.status != c.status {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if c.code != "" {
				if r.errCode(t) != c.code || !strings.Contains(string(r.body), "alphanumeric") {
					t.Fatalf("refusal %s does not say why", r.body)
				}
				return
			}
			var sr api.SendResponse
			r.json(t, &sr)
			if len(sr.Messages) != 1 || sr.Messages[0].To != c.to {
				t.Fatalf("sent %s", r.body)
			}
			if (c.warning == "") != (len(sr.Warnings) == 0) || (c.warning != "" && sr.Warnings[0].Code != c.warning) {
				t.Errorf("warnings %+v, want %q", sr.Warnings, c.warning)
			}
		})
	}
}
