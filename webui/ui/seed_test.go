package ui_test

import (
	"context"
	"github.com/gsmgate/gsmgate/gateway/model"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/modem/sim"
)

// send sends text from user u to the numbers through the core, as the
// API or the UI would.
func (s *stack) send(t *testing.T, u model.User, text string, to ...string) []gateway.Accepted {
	t.Helper()
	res, err := s.svc.Send(context.Background(), gateway.SendRequest{UserID: u.ID, To: to, Text: text, StatusReport: true})
	if err != nil {
		t.Fatal(err)
	}
	return res.Messages
}

// inbound makes the simulated network deliver an SMS from number to the
// virtual modem, and waits until the gateway stored it.
func (s *stack) inbound(t *testing.T, from, text string) {
	t.Helper()
	if _, err := s.net.Inbound(s.sm, sim.InboundSMS{From: from, Text: text}); err != nil {
		t.Fatal(err)
	}
}

// waitState waits until message id reaches state (read as an admin would).
func (s *stack) waitState(t *testing.T, viewer model.User, id model.ID, state model.State) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		d, err := s.svc.Message(context.Background(), viewer.ID, id)
		if err == nil && d.State == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s is %s (%v), want %s", id, d.State, err, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitThread waits until the viewer's thread with number holds n messages.
func (s *stack) waitThread(t *testing.T, viewer model.User, number string, n int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		tp, err := s.svc.Thread(context.Background(), viewer.ID, number, gateway.Page{Limit: 500})
		if err == nil && len(tp.Messages) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("thread %s has %d messages (%v), want %d", number, len(tp.Messages), err, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *stack) contact(t *testing.T, in gateway.ContactInput) {
	t.Helper()
	if _, err := s.svc.UpsertContact(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

var _ = model.RoleStaff
