package gateway

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/modem/sim"
)

func TestKeyword(t *testing.T) {
	cases := []struct{ in, want string }{
		{"STOP", "STOP"}, {"stop", "STOP"}, {" Stop! ", "STOP"}, {"stöp", "STOP"}, {"STÔP.", "STOP"},
		{"please stop", ""}, {"stop now", ""}, {"", ""}, {"!!!", ""}, {"Désabonner", "DESABONNER"},
		{"unstop", "UNSTOP"}, {strings.Repeat("x", 50), ""},
	}
	for _, tc := range cases {
		if got := keyword(tc.in); got != tc.want {
			t.Errorf("keyword(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestOptOutAndResumeBySMS: a stop word texted to the second SIM opts the
// number out of bulk sends and is confirmed once, from that SIM; a bulk
// skips it with the reason while a one-to-one message still goes; a start
// word (any case) resumes, confirmed once.
func TestOptOutAndResumeBySMS(t *testing.T) {
	r := newMRig(t, 2, "pty", sim.ModemOptions{})
	r.start(ModemOptions{})
	ctx := context.Background()
	second := r.sims[1].IMEI()
	inbound := func(text string, n int) {
		t.Helper()
		if _, err := r.net.Inbound(r.sims[1], sim.InboundSMS{From: recipient, Text: text}); err != nil {
			t.Fatal(err)
		}
		r.waitFor("the incoming "+text, func() bool { return len(r.incoming()) == n })
	}
	confirmations := func(want int) []string {
		t.Helper()
		var got []string
		r.waitFor("confirmations", func() bool {
			got = got[:0]
			for _, p := range r.net.Sent() {
				if p.To == recipient && (p.Text == defaultStopReply || p.Text == defaultStartReply) {
					got = append(got, p.Text+"@"+p.Modem)
				}
			}
			return len(got) >= want
		})
		return got
	}
	inbound("Stop!", 1)
	if got := confirmations(1); got[0] != defaultStopReply+"@"+second {
		t.Fatalf("confirmation %q; want the stop reply from the SIM written to (%s)", got[0], second)
	}
	inbound("STÖP", 2)
	list, err := r.s.OptOuts(ctx, r.user.ID)
	if err != nil || len(list) != 1 || list[0].Number != recipient || list[0].Source != "sms" || list[0].Keyword != "STOP" {
		t.Fatalf("opt-outs %+v, %v", list, err)
	}

	res := r.sendReq(SendRequest{To: []string{recipient, "+447911123402"}, Text: "offer"})
	if len(res.Messages) != 1 || len(res.Rejected) != 1 || res.Rejected[0].Reason != ReasonOptedOut || res.Rejected[0].Index != 0 {
		t.Fatalf("bulk: %d messages, rejected %+v; want the opted-out number skipped with its reason", len(res.Messages), res.Rejected)
	}
	one := r.send("about your order", false, recipient)[0]
	r.waitState(one.ID, model.StateSent)
	if got := confirmations(1); len(got) != 1 {
		t.Fatalf("the repeated stop word was confirmed again: %v", got)
	}

	inbound("unstop", 3)
	if got := confirmations(2); got[1] != defaultStartReply+"@"+second {
		t.Fatalf("confirmations %v; want the start reply", got)
	}
	if list, _ := r.s.OptOuts(ctx, r.user.ID); len(list) != 0 {
		t.Fatalf("still opted out after START: %+v", list)
	}
	res = r.sendReq(SendRequest{To: []string{recipient, "+447911123402"}, Text: "offer again"})
	if len(res.Messages) != 2 {
		t.Fatalf("bulk after START: %d messages, rejected %+v", len(res.Messages), res.Rejected)
	}
}

// TestOptOutAdminEdits: admins list, set, clear and export opt-outs; staff
// may not.
func TestOptOutAdminEdits(t *testing.T) {
	e := newEnv(t, Options{DefaultCountry: "GB"})
	admin := e.user("root", model.RoleAdmin, model.VisibilityAll, false)
	staff := e.user("bob", model.RoleStaff, model.VisibilityAll, false)
	ctx := context.Background()
	if _, err := e.s.SetOptOut(ctx, staff.ID, "07911123401", true); !errors.Is(err, ErrForbidden) {
		t.Fatalf("staff edit: %v, want ErrForbidden", err)
	}
	n, err := e.s.SetOptOut(ctx, admin.ID, "07911123401", true)
	if err != nil || n != "+447911123401" {
		t.Fatalf("SetOptOut: %q %v", n, err)
	}
	if _, err := e.s.SetOptOut(ctx, admin.ID, "not a number", true); err == nil {
		t.Fatal("a bad number was accepted")
	}
	var buf bytes.Buffer
	if err := e.s.ExportOptOuts(ctx, admin.ID, &buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || lines[0] != "number,opted_out_at,source,keyword" || !strings.HasPrefix(lines[1], "+447911123401,") || !strings.Contains(lines[1], ",admin,") {
		t.Fatalf("export:\n%s", buf.String())
	}
	if _, err := e.s.SetOptOut(ctx, admin.ID, "+447911123401", false); err != nil {
		t.Fatal(err)
	}
	if list, _ := e.s.OptOuts(ctx, admin.ID); len(list) != 0 {
		t.Fatalf("after clearing: %+v", list)
	}
}
