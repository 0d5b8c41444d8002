package gateway

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem/pdu"
	"golang.org/x/text/unicode/norm"
)

// OptOutOptions configure opt-out by SMS. The zero value of a field means
// its default.
type OptOutOptions struct {
	// Disabled turns off reading stop and start words (opt-outs can still
	// be edited by admins and are still honoured).
	Disabled bool
	// StopWords opt the sender out of bulk sends when texted alone (case
	// and accents ignored; default STOP, UNSUBSCRIBE, STOPALL, END, QUIT,
	// CANCEL).
	StopWords []string
	// StartWords opt the sender back in (default START, UNSTOP).
	StartWords []string
	// StopReply and StartReply confirm the change to the sender, once.
	StopReply  string
	StartReply string
}

// Default opt-out words and replies.
var (
	defaultStopWords  = []string{"STOP", "UNSUBSCRIBE", "STOPALL", "END", "QUIT", "CANCEL"}
	defaultStartWords = []string{"START", "UNSTOP"}
)

const (
	defaultStopReply  = "You will get no more bulk messages from us. Reply START to receive them again."
	defaultStartReply = "You will receive our bulk messages again. Reply STOP to stop them."
)

func (o *OptOutOptions) defaults() {
	if len(o.StopWords) == 0 {
		o.StopWords = defaultStopWords
	}
	if len(o.StartWords) == 0 {
		o.StartWords = defaultStartWords
	}
	if o.StopReply == "" {
		o.StopReply = defaultStopReply
	}
	if o.StartReply == "" {
		o.StartReply = defaultStartReply
	}
}

// keyword reduces a received text to the word it would be as a stop or
// start word: surrounding spaces and punctuation dropped, accents removed
// (NFD, then combining marks left out), upper case. "Stop!" and " stöp "
// are STOP; "please stop" is not a word at all.
func keyword(text string) string {
	t := strings.TrimFunc(text, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) })
	if t == "" || len(t) > 40 {
		return ""
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(t) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsSpace(r):
			return "" // more than one word
		default:
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// optOutWord says whether text is a stop word (stop true) or a start word
// (start true).
func (s *Service) optOutWord(text string) (word string, stop, start bool) {
	if s.opt.OptOut.Disabled {
		return "", false, false
	}
	w := keyword(text)
	if w == "" {
		return "", false, false
	}
	for _, x := range s.opt.OptOut.StopWords {
		if keyword(x) == w {
			return w, true, false
		}
	}
	for _, x := range s.opt.OptOut.StartWords {
		if keyword(x) == w {
			return w, false, true
		}
	}
	return "", false, false
}

// applyOptOutWord runs inside the transaction that stores an incoming
// message m: a stop word opts the number out, a start word back in, and
// a change (not a repeat) is confirmed to the sender by a reply queued in
// the same transaction, so it is confirmed exactly once even across a
// crash. It returns the confirmation (zero ID: none).
func (s *Service) applyOptOutWord(tx *store.Tx, m *model.Message, now time.Time) (model.Message, error) {
	word, stop, start := s.optOutWord(m.Text)
	if !stop && !start {
		return model.Message{}, nil
	}
	was := tx.OptedOut(m.Number)
	var reply string
	switch {
	case stop && !was:
		if err := tx.PutOptOut(&model.OptOut{Number: m.Number, At: now, Source: "sms", Keyword: word}); err != nil {
			return model.Message{}, err
		}
		reply = s.opt.OptOut.StopReply
	case start && was:
		if err := tx.DeleteOptOut(m.Number); err != nil {
			return model.Message{}, err
		}
		reply = s.opt.OptOut.StartReply
	default:
		return model.Message{}, nil // a repeat: already so, already confirmed
	}
	s.log.Info("opt-out changed by SMS", "number", m.Number, "word", word, "opted_out", stop)
	addr, err := pdu.ParseAddress(m.Number)
	if err != nil || !strings.HasPrefix(m.Number, "+") {
		return model.Message{}, nil // an alphanumeric sender cannot be answered
	}
	count := pdu.CountText(reply, s.opt.Segment)
	return s.insertOutgoing(tx, outgoing{due: now, now: now}, m.Number, addr, reply, count)
}

// requireAdmin fails unless viewer is an enabled admin.
func (s *Service) requireAdmin(viewer model.ID) error {
	return s.st.View(func(tx *store.Tx) error {
		u, err := s.viewer(tx, viewer)
		if err != nil {
			return err
		}
		if u.Role != model.RoleAdmin {
			return ErrForbidden
		}
		return nil
	})
}

// OptOuts lists the opted-out numbers in number order (admins only).
func (s *Service) OptOuts(ctx context.Context, viewer model.ID) ([]model.OptOut, error) {
	if err := s.requireAdmin(viewer); err != nil {
		return nil, err
	}
	var out []model.OptOut
	err := s.st.View(func(tx *store.Tx) error {
		return tx.OptOuts(func(o model.OptOut) bool { out = append(out, o); return ctx.Err() == nil })
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: opt-outs: %w", err)
	}
	return out, ctxErr(ctx)
}

// SetOptOut opts number out of bulk sends (out true) or back in, as an
// admin's edit. Nothing is sent to the number.
func (s *Service) SetOptOut(ctx context.Context, viewer model.ID, number string, out bool) (string, error) {
	if err := s.requireAdmin(viewer); err != nil {
		return "", err
	}
	n, err := s.NormalizeNumber(number)
	if err != nil {
		return "", invalid("number", err.Error())
	}
	err = s.st.Update(func(tx *store.Tx) error {
		if out {
			if tx.OptedOut(n) {
				return nil
			}
			return tx.PutOptOut(&model.OptOut{Number: n, At: s.clock.Now(), Source: "admin"})
		}
		if err := tx.DeleteOptOut(n); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("gateway: set opt-out %s: %w", n, err)
	}
	return n, nil
}

// ExportOptOuts writes the opt-outs as CSV (number, opted_out_at, source,
// keyword) with a header row (admins only).
func (s *Service) ExportOptOuts(ctx context.Context, viewer model.ID, w io.Writer) error {
	list, err := s.OptOuts(ctx, viewer)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"number", "opted_out_at", "source", "keyword"})
	for _, o := range list {
		_ = cw.Write([]string{o.Number, o.At.UTC().Format(time.RFC3339), o.Source, o.Keyword})
	}
	cw.Flush()
	return cw.Error()
}
