package webui

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/webui/api"
)

// An explicit priority and a campaign name reach the stored messages; a
// priority out of range is a 400 naming the field; SMSGate's priority is
// honoured (clamped).
func TestSendPriorityAndCampaign(t *testing.T) {
	e := newEnv(t, Options{})
	_, tok := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	r := e.do("POST", "/api/v1/messages", tok, map[string]any{"to": []string{"+447911123123", "+447911123124"}, "text": "sale", "priority": -3, "campaign": "spring"})
	if r.status != http.StatusAccepted {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var sr api.SendResponse
	r.json(t, &sr)
	for _, m := range sr.Messages {
		id, _ := model.ParseID(m.ID)
		var got model.Message
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

// A CRM pushes a group, imports contacts (a file with a bad line is
// refused whole with the line listed), previews and sends a bulk to the
// group with a template, and reads its progress; an admin manages
// opt-outs, which the bulk skips.
func TestBulkAPI(t *testing.T) {
	e := newEnv(t, Options{})
	_, tok := e.user("crm", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	_, admin := e.user("root", model.RoleAdmin, model.VisibilityAll, model.ScopeAdmin)

	bad := "number,name,team\n+447911123201,Ada Lovelace,R&D\nbanana,Nobody,x\n"
	r := e.do("POST", "/api/v1/contacts-import", tok, bad, "Content-Type", "text/csv")
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), `"line":3`) {
		t.Fatalf("import with a bad line: %d %s", r.status, r.body)
	}
	good := "number,name,team\n+447911123201,Ada Lovelace,R&D\n+447911123202,Grace Hopper,Navy\n"
	if r := e.do("POST", "/api/v1/contacts-import", tok, good, "Content-Type", "text/csv"); r.status != http.StatusOK || !strings.Contains(string(r.body), `"created":2`) {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/contacts-export", tok, nil); r.status != 200 || !strings.Contains(string(r.body), "+447911123202,Grace Hopper") {
		t.Fatalf("export: %d %s", r.status, r.body)
	}

	r = e.do("PUT", "/api/v1/groups/crm-7", tok, map[string]any{"name": "Customers", "members": []string{"+447911123201", "07911 123202", "+447911123203"}})
	if r.status != 200 {
		t.Fatalf("PUT group: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/groups/crm-7", tok, nil); r.status != 200 || !strings.Contains(string(r.body), `"+447911123202"`) {
		t.Fatalf("GET group: %d %s", r.status, r.body)
	}
	if r := e.do("PUT", "/api/v1/groups/bad", tok, map[string]any{"members": []string{"nope"}}); r.status != http.StatusBadRequest && r.status != http.StatusUnprocessableEntity {
		t.Fatalf("PUT group with a bad member: %d %s", r.status, r.body)
	}
	if r := e.do("PUT", "/api/v1/optouts/+447911123202", tok, nil); r.status != http.StatusForbidden {
		t.Fatalf("staff opt-out edit: %d", r.status)
	}
	if r := e.do("PUT", "/api/v1/optouts/+447911123202", admin, nil); r.status != 200 {
		t.Fatalf("admin opt-out: %d %s", r.status, r.body)
	}

	body := map[string]any{"groups": []string{"crm-7"}, "text": "Hi {first_name}, team {team}", "campaign": "launch"}
	r = e.do("POST", "/api/v1/bulk/preview", tok, body)
	if r.status != 200 {
		t.Fatalf("preview: %d %s", r.status, r.body)
	}
	var p struct {
		Valid    []struct{ Number, Text string }
		OptedOut []struct{ Value string } `json:"opted_out"`
		Missing  []struct {
			Value   string
			Missing []string
		}
		TotalParts int `json:"total_parts"`
	}
	r.json(t, &p)
	if len(p.Valid) != 1 || p.Valid[0].Text != "Hi Ada, team R&D" || len(p.OptedOut) != 1 || len(p.Missing) != 1 || p.Missing[0].Value != "+447911123203" || p.TotalParts != 1 {
		t.Fatalf("preview %s", r.body)
	}
	r = e.do("POST", "/api/v1/bulk", tok, body)
	if r.status != http.StatusAccepted {
		t.Fatalf("bulk: %d %s", r.status, r.body)
	}
	var sent struct {
		BatchID string `json:"batch_id"`
	}
	r.json(t, &sent)
	r = e.do("GET", "/api/v1/campaigns/"+sent.BatchID, tok, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"queued":1`) || !strings.Contains(string(r.body), `"name":"launch"`) {
		t.Fatalf("progress: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/campaigns/"+sent.BatchID+"/cancel", tok, nil); r.status != 200 || !strings.Contains(string(r.body), `"cancelled":1`) {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/optouts?format=csv", admin, nil); r.status != 200 || !strings.Contains(string(r.body), "+447911123202,") {
		t.Fatalf("opt-out export: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/api/v1/groups/crm-7", tok, nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE group: %d", r.status)
	}
	if r := e.do("GET", "/api/v1/groups/crm-7", tok, nil); r.status != http.StatusNotFound {
		t.Fatalf("deleted group: %d", r.status)
	}
}

// SMSGate's priority field is honoured: stored on the message (clamped to
// the range the gateway knows), putting it in the urgent lane.
func TestSMSGatePriorityHonoured(t *testing.T) {
	e := newEnv(t, Options{})
	_, secret := e.user("crm", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("crm-token:"+secret))
	r := e.do("POST", "/3rdparty/v1/message", "", map[string]any{"phoneNumbers": []string{"+447911123123"}, "message": "urgent", "priority": 120}, "Authorization", basic)
	if r.status != http.StatusAccepted && r.status != http.StatusOK {
		t.Fatalf("SMSGate send: %d %s", r.status, r.body)
	}
	var got model.Message
	_ = e.db.View(func(tx *store.Tx) error {
		ms, err := tx.AllMessages(store.Page{Limit: 10})
		if len(ms) > 0 {
			got = ms[0]
		}
		return err
	})
	if got.Priority != 120 || store.LaneOf(&got) != store.LaneUrgent {
		t.Fatalf("stored priority %d (lane %s); want 120, urgent", got.Priority, store.LaneOf(&got))
	}
}
