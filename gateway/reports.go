package gateway

import (
	"context"
	"strings"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem"
	"github.com/gsmgate/gsmgate/modem/pdu"
)

// Status reports. A report names the modem that sent the part, the message
// reference the network gave it (8 bits, so it wraps every 256 parts) and
// the recipient; it is matched to the most recent part sent by that modem
// with that reference to that recipient within ReportWindow. A final report
// marks the part delivered or failed (with TP-ST's meaning in words); the
// message rolls up from its parts: delivered when all are, failed when one
// fails. A report that the SC is still trying changes nothing.
//
// A report can overtake the commit of its part's MR (the network answers
// fast), so one that matches nothing is kept on the modem and tried again
// for OrphanWait before it is dropped.

// report handles one status report; fresh is false when it is an orphan
// tried again. It reports whether the report is done with.
func (in *inbox) report(ctx context.Context, ev *modem.StatusReport, fresh bool) bool {
	if ev.Msg == nil {
		in.log.Warn("unreadable status report; deleted", "modem", ev.ModemID, "error", ev.DecodeErr)
		in.commit(ctx, ev, "status report")
		return true
	}
	meaning, final, _ := pdu.StatusText(ev.Status)
	recipient := ev.Recipient
	if !strings.HasPrefix(recipient, "+") {
		if n, err := in.s.NormalizeNumber(recipient); err == nil {
			recipient = n
		} else {
			recipient = ""
		}
	}
	since := in.s.clock.Now().Add(-in.o.ReportWindow)
	var found bool
	var cs []change
	err := in.s.st.Update(func(tx *store.Tx) error {
		found, cs = false, nil
		d, ok, err := tx.FindByMR(ev.ModemID, ev.MR, recipient, since)
		if err != nil || !ok {
			return err
		}
		found = true
		if !final {
			return nil
		}
		delivered := pdu.ClassifyStatus(ev.Status) == pdu.StatusDelivered
		switch d.Part.State {
		case model.StateDelivered, model.StateFailed:
			return nil // read again after a crash: already recorded
		}
		reason := "not delivered: " + meaning
		m, err := tx.MarkStatus(d.Message.ID, d.Part.Seq, delivered, reason)
		if err != nil {
			return err
		}
		cs = append(cs, change{d.Message.State, m})
		return nil
	})
	if err != nil {
		in.log.Error("recording a status report failed; it stays on the modem", "modem", ev.ModemID, "mr", ev.MR, "error", err)
		return false
	}
	if !found {
		if fresh {
			in.orphans = append(in.orphans, &orphan{ev: ev, first: in.s.clock.Now()})
		}
		return false
	}
	for _, c := range cs {
		in.s.PublishStatus(c.prev, c.m)
	}
	in.commit(ctx, ev, "status report")
	return true
}

// retryOrphans tries the unmatched reports again and drops those that
// waited OrphanWait.
func (in *inbox) retryOrphans(ctx context.Context) {
	keep := in.orphans[:0]
	now := in.s.clock.Now()
	for _, o := range in.orphans {
		if in.report(ctx, o.ev, false) {
			continue
		}
		if now.Sub(o.first) >= in.o.OrphanWait {
			in.log.Warn("status report matches no sent part; deleted", "modem", o.ev.ModemID, "mr", o.ev.MR, "recipient", o.ev.Recipient)
			in.commit(ctx, o.ev, "status report")
			continue
		}
		keep = append(keep, o)
	}
	in.orphans = keep
}
