package webui

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/modem/sim"
	"github.com/gsmgate/gsmgate/webui/smsgate"
)

// TestSMSGateClient runs SMSGate's official JS client (npm
// android-sms-gateway, installed in testdata/smsgate by scripts/test.sh)
// against /3rdparty/v1 with the virtual modem behind it.
func TestSMSGateClient(t *testing.T) {
	dir, _ := filepath.Abs("testdata/smsgate")
	node, err := exec.LookPath("node")
	if _, statErr := os.Stat(filepath.Join(dir, "node_modules", "android-sms-gateway")); err != nil || statErr != nil {
		msg := "needs node and `npm ci` in webui/testdata/smsgate (scripts/test.sh does it)"
		if os.Getenv("CI") != "" || os.Getenv("GSMGATE_REQUIRE_NODE") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	e := newSimEnv(t)
	u, secret := e.user("crm", model.RoleAdmin, model.VisibilityAll, model.ScopeAdmin)
	_ = u

	var mu sync.Mutex
	var hooks []map[string]any
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var env map[string]any
		_ = json.Unmarshal(b, &env)
		mu.Lock()
		hooks = append(hooks, env)
		mu.Unlock()
	}))
	defer rcv.Close()

	// Something in the inbox for the export (not a stop word: "STOP" would opt
	// the number out of the client's two-recipient send, a bulk).
	if _, err := e.net.Inbound(e.sm, sim.InboundSMS{From: "+447911123456", Text: "Running late, sorry"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the inbound message", func() bool {
		r := e.do("GET", "/api/v1/messages", secret, nil)
		return strings.Contains(string(r.body), "Running late")
	})

	cmd := exec.Command(node, "client.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BASE="+e.ts.URL+"/3rdparty/v1", "LOGIN=crm-token", "PASSWORD="+secret,
		"TO=+447911123456", "HOOK="+rcv.URL)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("client: %v\n%s\n%s", err, out, stderr)
	}
	var res struct {
		Health  struct{ Status string }
		Sent    smsgate.State
		State   smsgate.State
		Hook    smsgate.Webhook
		Hooks   []smsgate.Webhook
		Devices []struct {
			ID, Name string
		}
		Exported      map[string]int
		HooksAfter    []smsgate.Webhook
		WrongPassword any
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"health pass", res.Health.Status == "pass"},
		{"send: 2 recipients, one failed", len(res.Sent.Recipients) == 2 && res.Sent.Recipients[1].State == "Failed" && res.Sent.Recipients[1].Error != nil},
		{"send: first pending", res.Sent.Recipients[0].PhoneNumber == "+447911123456" && res.Sent.Recipients[0].State == "Pending"},
		{"state: sent or delivered", res.State.ID == res.Sent.ID && (res.State.State == "Sent" || res.State.State == "Delivered")},
		{"webhook registered", res.Hook.ID != "" && res.Hook.Event == "sms:received" && res.Hook.URL == rcv.URL},
		{"webhook listed", len(res.Hooks) == 1 && res.Hooks[0].ID == res.Hook.ID},
		{"a device", len(res.Devices) == 1 && res.Devices[0].ID != ""},
		{"export found the message", res.Exported["messages"] == 1},
		{"webhook deleted", len(res.HooksAfter) == 0},
		{"wrong password refused", res.WrongPassword == float64(401)},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: %s", c.name, out)
		}
	}
	waitFor(t, "the exported sms:received webhook", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, h := range hooks {
			if p, ok := h["payload"].(map[string]any); ok && h["event"] == "sms:received" && p["message"] == "Running late, sorry" {
				return true
			}
		}
		return false
	})
}
