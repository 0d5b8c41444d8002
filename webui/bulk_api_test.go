package webui

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gsmgate/gsmgate/gateway/store"
)

// An explicit priority and a campaign name reach the stored messages; a
// priority out of range is a 400 naming the field; SMSGate's priority is
// honoured (clamped).
func TestSendPriorityAndCampaign(t *testing.T) {
	e := newEnv(t, Options{})
	_, tok := e.user("alice", store.RoleStaff, store.VisibilityAll, store.ScopeSend, store.ScopeRead)
	r := e.do("POST", "/api/v1/messages", tok, map[string]any{"to": []string{"+447911123123", "+447911123124"}, "text": "sale", "priority": -3, "campaign": "spring"})
	if r.status != http.StatusAccepted {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var sr sendResponse
	r.json(t, &sr)
	for _, m := range sr.Messages {
		id, _ := store.ParseID(m.ID)
		var got store.Message
		_ = e.db.View(func(tx *store.Tx) error { got, _ = tx.Message(id); return nil })
		if got.Priority != -3 || got.Campaign != "spring" || store.LaneOf(&got) != store.LaneLow {
			t.Errorf("stored priority %d campaign %q lane %s", got.Priority, got.Campaign, store.LaneOf(&got))
		}
	}
	r = e.do("POST", "/api/v1/messages", tok, map[string]any{"to": "+447911123123", "text": "x", "priority": 300})
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "priority") {
		t.Fatalf("priority 300: %d %s", r.status, r.body)
	}
}
