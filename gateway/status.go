package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem"
)

// Modems reports every modem known: from Options.ModemStatus when set,
// otherwise from the modems Run (or RunModems) drives; none before that.
func (s *Service) Modems(context.Context) []model.ModemStatus {
	if s.opt.ModemStatus != nil {
		return s.opt.ModemStatus()
	}
	if m := s.running.Load(); m != nil {
		out := ModemStatuses((*m).Modems())
		for i := range out {
			out[i].DirectFallbacks = s.fallbacks.of(out[i].Name)
		}
		return out
	}
	return nil
}

// Ready is nil when the database answers a read and a modem is registered on
// a network, otherwise the reason (for /readyz and systemd).
func (s *Service) Ready(ctx context.Context) error {
	if full, since := s.StorageFull(); full {
		return fmt.Errorf("%w (since %s): new messages are refused, incoming ones wait on the modems; free space on the appliance",
			ErrStorageFull, since.UTC().Format(time.RFC3339))
	}
	if err := s.st.View(func(*store.Tx) error { return nil }); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	ms := s.Modems(ctx)
	if len(ms) == 0 {
		return errors.New("no modem configured or found")
	}
	var states []string
	for _, m := range ms {
		if m.Registered {
			return nil
		}
		states = append(states, m.Name+": "+m.State+" ("+m.Registration+")")
	}
	return errors.New("no modem is registered on a network: " + strings.Join(states, "; "))
}

// QueueDepth is the number of message parts waiting to be sent. The outbox
// is one queue for every modem (any modem that can send takes the next
// part), so there is no per-modem figure.
func (s *Service) QueueDepth() int {
	n := 0
	_ = s.st.View(func(tx *store.Tx) error { n = tx.Stats().Queued; return nil })
	return n
}

// ModemStatuses converts a modem pool's snapshot for callers of the core.
func ModemStatuses(ss []modem.Status) []model.ModemStatus {
	out := make([]model.ModemStatus, 0, len(ss))
	for _, s := range ss {
		h := s.Health
		m := model.ModemStatus{
			Name: s.ID, Device: s.Port, IMEI: s.Info.IMEI, Model: strings.TrimSpace(s.Info.Manufacturer + " " + s.Info.Model),
			IMSI: s.Info.IMSI, ICCID: s.Info.ICCID, Number: s.Info.OwnNumber, Operator: h.Operator,
			SignalDBm: h.Signal.DBm, SignalBars: max(h.Signal.Bars, 0), Registration: h.Registration.String(),
			Registered: h.Registration.Registered(), State: string(s.State), Leased: s.Leased, LastError: s.Reason, UpdatedAt: h.At,
			SendMode:     string(s.Info.SendMode),
			Manufacturer: s.Info.Manufacturer, SIM: string(h.SIM), SMSC: s.Info.SMSC, Since: s.Since,
		}
		if m.Name == "" {
			m.Name = s.Port
		}
		out = append(out, m)
	}
	return out
}
