package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem"
	"github.com/gsmgate/gsmgate/modem/pdu"
)

// The inbox reads the modems' events on one goroutine: received parts,
// status reports and state changes.
//
// A received part is committed to the store (raw PDU kept) before the modem
// is told it may delete it (Inbound.Commit), so a crash at any instant
// leaves the part on the modem, in the store, or both. "Both" is the case the
// dedup keys exist for: a part read again is recognised by a key made of
// the receiving modem, sender, reference, sequence, time stamp and a hash of
// the PDU, and not stored twice; two identical texts sent minutes apart
// carry different time stamps and are both kept.
//
// Parts of a multipart message wait in the store (inbound_pending) until
// all have come, across restarts; at startup and periodically, groups that
// are complete (the process died between storing the last part and the
// message) are delivered, and groups older than IncompleteAfter are
// delivered as what arrived, marked incomplete.
type inbox struct {
	s       *Service
	m       Modems
	o       ModemOptions
	log     *slog.Logger
	kick    func()
	commits sync.WaitGroup
	orphans []*orphan
}

// orphan is a status report that matched no sent part yet.
type orphan struct {
	ev    *modem.StatusReport
	first time.Time
}

func newInbox(s *Service, m Modems, o ModemOptions, kick func()) *inbox {
	return &inbox{s: s, m: m, o: o, log: s.log.With("component", "inbox"), kick: kick}
}

// committer is the commit half of a modem event.
type committer interface {
	Commit(ctx context.Context) error
}

// commit lets the modem delete (or acknowledge) what is now stored. It
// runs beside the inbox: the modem may be busy sending for seconds, and the
// next event must not wait for that. A failed commit leaves the message on
// the modem; it is read again later and recognised.
func (in *inbox) commit(ctx context.Context, c committer, what string) {
	in.commits.Add(1)
	go func() {
		defer in.commits.Done()
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := c.Commit(cctx); err != nil {
			in.log.Warn("deleting a stored message from the modem failed; it will be read again and recognised", "what", what, "error", err)
		}
	}()
}

func (in *inbox) run(ctx context.Context) {
	defer in.commits.Wait()
	in.flushPending(ctx)
	every := min(in.o.IncompleteAfter/4, time.Minute)
	tick := time.NewTicker(max(every, 10*time.Millisecond))
	defer tick.Stop()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	armed := false
	events := in.m.Events()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				<-ctx.Done()
				return
			}
			in.handle(ctx, ev)
		case <-tick.C:
			in.flushPending(ctx)
		case <-retry.C:
			armed = false
			in.retryOrphans(ctx)
		}
		if len(in.orphans) > 0 && !armed {
			armed = true
			retry.Reset(100 * time.Millisecond)
		}
	}
}

func (in *inbox) handle(ctx context.Context, ev modem.Event) {
	switch e := ev.(type) {
	case *modem.Inbound:
		if err := in.inbound(ctx, e); err != nil {
			// Not committed: the part stays on the modem and is read
			// again at the next poll (released), by then perhaps with
			// room in the database again.
			in.log.Error("storing a received part failed; it stays on the modem", "modem", e.ModemID, "error", err)
			e.Release()
		}
	case *modem.StatusReport:
		in.report(ctx, e, true)
	case *modem.StateChanged:
		in.s.bus.Publish(&ModemStateChanged{At: in.s.clock.Now(), Modem: e.ModemID, State: string(e.State), Detail: e.Reason})
		in.kick()
	}
}

// dedupKey identifies a received part: a part read again has the same key,
// an identical text sent later has another time stamp.
func dedupKey(modemID string, raw []byte, msg *pdu.Message) string {
	h := sha256.Sum256(raw)
	if msg == nil {
		return "raw|" + modemID + "|" + hex.EncodeToString(h[:16])
	}
	c, _ := msg.UDH.Concat()
	return fmt.Sprintf("in|%s|%s|%d/%d/%d|%d|%s", modemID, msg.Originator.String(), c.Ref, c.Seq, c.Total,
		msg.SCTS.Unix(), hex.EncodeToString(h[:8]))
}

// groupKey names the pending parts of one multipart message.
func groupKey(modemID string, msg *pdu.Message, c pdu.Concat) string {
	w := 8
	if c.Ref16 {
		w = 16
	}
	return fmt.Sprintf("%s|%s|%d|%d|%d", modemID, msg.Originator.String(), w, c.Ref, c.Total)
}

func (in *inbox) inbound(ctx context.Context, ev *modem.Inbound) error {
	key := dedupKey(ev.ModemID, ev.PDU, ev.Msg)
	msg := ev.Msg
	if msg == nil || msg.Type != pdu.TypeDeliver {
		return in.undecodable(ctx, ev, key)
	}
	c, concat := msg.UDH.Concat()
	if !concat || c.Total <= 1 {
		inc := Incoming{From: msg.Originator.String(), Modem: ev.ModemID, SCTS: msg.SCTS, Parts: 1,
			DedupKeys: []string{key}, RawPDUs: [][]byte{ev.PDU}}
		setContent(&inc, msg.Encoding, msg.Text, msg.Data)
		if inc.From == "" {
			inc.From = "unknown sender"
		}
		_, err := in.s.AcceptIncoming(ctx, inc)
		if err != nil && !errors.Is(err, ErrDuplicate) {
			return err
		}
		if errors.Is(err, ErrDuplicate) {
			in.log.Info("received part was stored before; deleting it from the modem", "modem", ev.ModemID, "key", key)
		}
		in.commit(ctx, ev, key)
		return nil
	}
	gk := groupKey(ev.ModemID, msg, c)
	part := store.InboundPart{Key: gk, Seq: c.Seq, Total: c.Total, Originator: msg.Originator.String(),
		Modem: ev.ModemID, PDU: ev.PDU, SCTS: msg.SCTS, ReceivedAt: in.s.clock.Now()}
	// A sender reuses references (8 bits wrap quickly): a part whose place
	// is taken by a different PDU starts a new message, so the old one is
	// delivered as it is first.
	var old []store.InboundPart
	if err := in.s.st.View(func(tx *store.Tx) error {
		var err error
		old, err = tx.PendingParts(gk)
		return err
	}); err != nil {
		return err
	}
	for _, p := range old {
		if p.Seq == c.Seq && string(p.PDU) != string(ev.PDU) && !in.seen(key) {
			in.log.Info("concatenation reference reused; delivering the earlier message as it is", "key", gk)
			if err := in.deliverGroup(ctx, gk, old, true); err != nil {
				return err
			}
			break
		}
	}
	dup, parts, err := in.s.st.StoreInboundPart(part, key)
	if err != nil {
		return fmt.Errorf("gateway: store part %d/%d from %s: %w", c.Seq, c.Total, part.Originator, err)
	}
	in.commit(ctx, ev, key)
	if dup {
		in.log.Info("received part was stored before; deleting it from the modem", "modem", ev.ModemID, "key", key)
		return nil
	}
	if complete(parts) {
		return in.deliverGroup(ctx, gk, parts, false)
	}
	return nil
}

func (in *inbox) seen(key string) bool {
	var ok bool
	_ = in.s.st.View(func(tx *store.Tx) error { ok = tx.SeenInbound(key); return nil })
	return ok
}

func setContent(inc *Incoming, enc pdu.Encoding, text string, data []byte) {
	inc.Encoding = enc.String()
	if enc == pdu.EightBit {
		inc.Data = append([]byte(nil), data...)
		return
	}
	inc.Text = text
}

// complete reports whether parts hold every sequence number 1..Total.
func complete(parts []store.InboundPart) bool {
	if len(parts) == 0 {
		return false
	}
	have := map[int]bool{}
	for _, p := range parts {
		have[p.Seq] = true
	}
	for i := 1; i <= parts[0].Total; i++ {
		if !have[i] {
			return false
		}
	}
	return true
}

// deliverGroup joins the pending parts under key and stores the message,
// deleting the pending parts in the same transaction.
func (in *inbox) deliverGroup(ctx context.Context, key string, parts []store.InboundPart, incomplete bool) error {
	if len(parts) == 0 {
		return nil
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Seq < parts[j].Seq })
	var msgs []*pdu.Message
	var raws [][]byte
	for _, p := range parts {
		raws = append(raws, p.PDU)
		m, err := pdu.Decode(p.PDU, pdu.DecodeOptions{Direction: pdu.MT, SMSC: true})
		if err != nil {
			in.log.Warn("a stored part no longer decodes; left out", "key", key, "seq", p.Seq, "error", err)
			continue
		}
		msgs = append(msgs, m)
	}
	inc := Incoming{From: parts[0].Originator, Modem: parts[0].Modem, PendingKey: key, RawPDUs: raws,
		Parts: len(msgs), Incomplete: incomplete}
	if inc.From == "" {
		inc.From = "unknown sender"
	}
	if j, err := pdu.Join(msgs); err == nil {
		setContent(&inc, j.Encoding, j.Text, j.Data)
		inc.SCTS, inc.Parts = j.SCTS, j.Parts
		inc.Incomplete = inc.Incomplete || !j.Complete
	} else {
		// Parts that disagree (a broken sender): keep what each says.
		in.log.Warn("parts do not join; storing them side by side", "key", key, "error", err)
		var b strings.Builder
		for _, m := range msgs {
			b.WriteString(m.Text)
		}
		inc.Text, inc.Encoding, inc.Incomplete = b.String(), "mixed", true
	}
	m, err := in.s.AcceptIncoming(ctx, inc)
	if err != nil {
		return err
	}
	if inc.Incomplete {
		in.log.Info("multipart message delivered incomplete", "message", m.ID, "from", m.Number, "parts", inc.Parts, "of", parts[0].Total)
	}
	return nil
}

// undecodable stores a PDU that cannot be read as an SMS-DELIVER as data,
// so that nothing the network delivered is thrown away.
func (in *inbox) undecodable(ctx context.Context, ev *modem.Inbound, key string) error {
	why := "not an SMS-DELIVER"
	if ev.DecodeErr != nil {
		why = ev.DecodeErr.Error()
	} else if ev.Msg != nil {
		why = fmt.Sprintf("unexpected message type %v", ev.Msg.Type)
	}
	inc := Incoming{From: "unknown sender", Modem: ev.ModemID, Text: "[unreadable SMS: " + why + "]",
		Data: ev.PDU, Encoding: "raw", Parts: 1, DedupKeys: []string{key}, RawPDUs: [][]byte{ev.PDU}}
	if ev.Msg != nil && ev.Msg.Originator.String() != "" {
		inc.From = ev.Msg.Originator.String()
	}
	_, err := in.s.AcceptIncoming(ctx, inc)
	if err != nil && !errors.Is(err, ErrDuplicate) {
		return err
	}
	in.log.Warn("stored an unreadable PDU as data", "modem", ev.ModemID, "reason", why)
	in.commit(ctx, ev, key)
	return nil
}

// flushPending delivers pending groups that are complete (the process died,
// or the store failed, between storing the last part and the message) or
// waited longer than IncompleteAfter (what arrived, marked incomplete).
func (in *inbox) flushPending(ctx context.Context) {
	var keys map[string]time.Time
	if err := in.s.st.View(func(tx *store.Tx) error {
		var err error
		keys, err = tx.PendingKeys()
		return err
	}); err != nil {
		in.log.Error("listing pending parts failed", "error", err)
		return
	}
	now := in.s.clock.Now()
	for key, first := range keys {
		old := now.Sub(first) >= in.o.IncompleteAfter
		var parts []store.InboundPart
		if err := in.s.st.View(func(tx *store.Tx) error {
			var err error
			parts, err = tx.PendingParts(key)
			return err
		}); err != nil {
			in.log.Error("reading pending parts failed", "key", key, "error", err)
			continue
		}
		done := complete(parts)
		if !done && !old {
			continue
		}
		if err := in.deliverGroup(ctx, key, parts, !done); err != nil {
			in.log.Error("delivering pending parts failed", "key", key, "error", err)
		}
	}
}
