package modem

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gsmgate/gsmgate/modem/at"
	"github.com/gsmgate/gsmgate/modem/pdu"
)

// Store-and-send (TS 27.005 3.5.2 +CMSS, 3.5.3 +CMGW): a part is written to
// the modem's storage first ("STO UNSENT"), its index is committed by the
// caller, and only then is it sent from storage. The modem marks the stored
// copy "STO SENT" when the network accepted it, so after a crash of the
// caller in the middle of a send, reading the copy (+CMGR) says whether the
// part went: the part is sent or sent again, and its outcome is no longer
// unknown. The copies have a storage of their own where the modem has two
// (chooseStorage), so incoming SMS do not take their room; when it is full
// anyway the caller makes room (MakeRoom) and writes again. A modem that
// refuses +CMGW, or whose storage stays full, sends with +CMGS as before.

// SendMode says how a modem sends parts.
type SendMode string

const (
	// SendStoreAndSend: +CMGW then +CMSS; the outcome of a send cut short
	// can be read back from the stored copy.
	SendStoreAndSend SendMode = "store_and_send"
	// SendDirect: +CMGS; the outcome of a send cut short is unknown.
	SendDirect SendMode = "direct"
)

// Slot is where a part written with WritePart sits in the modem's storage.
type Slot struct {
	Storage string // +CPMS name, e.g. "SM"
	Index   int
}

func (s Slot) String() string { return fmt.Sprintf("%s/%d", s.Storage, s.Index) }

// StoredOutcome is what a stored outgoing copy says about its send.
type StoredOutcome int

const (
	// StoredGone: the slot is empty or holds another message: the copy is
	// not there, so the outcome cannot be read from it.
	StoredGone StoredOutcome = iota
	// StoredUnsent: "STO UNSENT": the part did not go.
	StoredUnsent
	// StoredSent: "STO SENT": the network accepted the part.
	StoredSent
)

func (o StoredOutcome) String() string {
	switch o {
	case StoredUnsent:
		return "unsent"
	case StoredSent:
		return "sent"
	}
	return "gone"
}

// ErrStoreRefused: the modem would not store the part (it refuses +CMGW, or
// its storage is full). Nothing was stored or sent; send it with SendPart.
var ErrStoreRefused = errors.New("modem: the modem did not store the message")

// ErrStorageFull: the storage copies are written to is full (+CMS ERROR:
// 322). It is an ErrStoreRefused; MakeRoom may free a slot for a retry.
var ErrStorageFull = fmt.Errorf("%w: its storage is full", ErrStoreRefused)

// SendMode reports how the modem sends now: store-and-send when its
// initialisation found +CMGW/+CMSS and it has not refused a write since,
// direct otherwise (and always with Config.DirectSend).
func (m *Modem) SendMode() SendMode {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.info.SendMode == "" {
		return SendDirect
	}
	return m.info.SendMode
}

// chooseSendMode probes the test forms of +CMGW and +CMSS at initialisation:
// a modem that answers both with OK stores and sends. A modem that rejects
// the test form may still accept the command; it is then used directly,
// which is the safe side.
func (m *Modem) chooseSendMode(ctx context.Context) error {
	mode := SendDirect
	if !m.cfg.DirectSend {
		mode = SendStoreAndSend
		for _, cmd := range []string{"AT+CMGW=?", "AT+CMSS=?"} {
			if _, err := m.exec(ctx, cmd); err != nil {
				if linkFailure(err) {
					return err
				}
				mode = SendDirect
				break
			}
		}
	}
	m.mu.Lock()
	m.info.SendMode = mode
	m.mu.Unlock()
	m.log.Debug("send mode", slog.String("mode", string(mode)))
	return nil
}

// writeStorage is the storage +CMGW writes to and +CMSS sends from (+CPMS
// mem2).
func (m *Modem) writeStorage() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.info.WriteStorage != "" {
		return m.info.WriteStorage
	}
	return m.info.Storage
}

// WritePart stores one SMS-SUBMIT TPDU as "STO UNSENT" with AT+CMGW and
// returns its slot. Nothing is sent. ErrStoreRefused (wrapped) means the
// modem answered with an error: send with SendPart instead; when the refusal
// is not "memory full" (ErrStorageFull), the modem is switched to direct
// sending until it is initialised again. Any other error is a *SendError of
// class Temporary (the part was not sent).
//
// The copy goes to the storage chosen for copies at initialisation, never
// to the one incoming messages fill (see chooseStorage): when it is full,
// the caller makes room (stale copies, MakeRoom) and tries once more.
func (m *Modem) WritePart(ctx context.Context, tpdu []byte) (Slot, error) {
	if st, reason := m.State(); st != StateReady {
		err := fmt.Errorf("%w: %s (%s)", ErrNotReady, st, reason)
		return Slot{}, &SendError{Class: Temporary, Code: -1, Reason: err.Error(), Err: err}
	}
	hexPDU, n := pdu.WithSMSC(m.smsc, tpdu)
	storage := m.writeStorage()
	lines, err := m.eng.ExecSMS(ctx, fmt.Sprintf("AT+CMGW=%d,2", n), hexPDU, m.cfg.SendTimeout)
	if err != nil {
		if linkFailure(err) {
			m.kickProbe()
			// The copy may or may not have been written; it was not sent.
			return Slot{}, &SendError{Class: Temporary, Code: -1, Reason: "no answer to AT+CMGW; not sent", Err: err}
		}
		var cms *at.CMSError
		if errors.As(err, &cms) && cms.Code == 322 {
			return Slot{}, fmt.Errorf("%w (%s): %w", ErrStorageFull, storage, err)
		}
		m.mu.Lock()
		m.info.SendMode = SendDirect
		m.mu.Unlock()
		m.log.Warn("modem refuses AT+CMGW; sending directly with AT+CMGS from now on", slog.Any("error", err))
		return Slot{}, fmt.Errorf("%w: %w", ErrStoreRefused, err)
	}
	idx, err := parseIndexLine(lines, "+CMGW:")
	if err != nil {
		return Slot{}, &SendError{Class: Temporary, Code: -1, Reason: err.Error(), Err: err}
	}
	return Slot{Storage: storage, Index: idx}, nil
}

// MakeRoom frees a slot in the storage copies are written to, after
// WritePart found it full: it has the run loop read the storages now and
// deliver the incoming messages waiting there (their consumer commits them,
// and the commit deletes them: nothing is deleted that was not stored), and
// waits until that storage has a free slot, at most Config.RoomWait. It
// returns nil when there is room, an error wrapping ErrStorageFull when
// there still is none. Outgoing copies are not touched: which of them are
// stale only the caller knows (delete those with DeleteStored first).
//
// On a modem with one storage the network may fill a freed slot with an SMS
// it held at once; the storage is then still full and the part goes by
// AT+CMGS.
func (m *Modem) MakeRoom(ctx context.Context) error {
	storage := m.writeStorage()
	select {
	case <-m.roomCh: // a deletion seen before this look
	default:
	}
	wait := time.NewTimer(m.cfg.RoomWait)
	defer wait.Stop()
	kicked := false
	for {
		used, total, err := m.room(ctx, storage)
		if err != nil {
			return fmt.Errorf("modem: make room in %s: %w", storage, err)
		}
		if used < total {
			return nil
		}
		if !kicked {
			kicked = true
			m.log.Info("storage for outgoing copies is full; reading the messages in it", slog.String("storage", storage), slog.Int("used", used), slog.Int("total", total))
			select {
			case m.sweepCh <- struct{}{}:
			default:
			}
		}
		select {
		case <-m.roomCh:
		case <-wait.C:
			return fmt.Errorf("%w (%s): no slot was freed within %s", ErrStorageFull, storage, m.cfg.RoomWait)
		case <-ctx.Done():
			return ctx.Err()
		case <-m.eng.Done():
			return fmt.Errorf("modem: make room in %s: %w", storage, ErrClosed)
		}
	}
}

// room reads how many slots of storage are used, of how many (+CPMS with
// storage as mem1; mem2 and mem3 unchanged).
func (m *Modem) room(ctx context.Context, storage string) (used, total int, err error) {
	m.storeMu.Lock()
	defer m.storeMu.Unlock()
	lines, err := m.exec(ctx, fmt.Sprintf(`AT+CPMS="%s"`, storage))
	if err != nil {
		return 0, 0, err
	}
	m.mem1 = storage
	return parseCPMSSet(lines)
}

// SendStored sends the part stored at slot with AT+CMSS and returns its
// message reference. Errors are *SendError as SendPart's; after one, the
// copy still says whether the part went (ReadStored).
func (m *Modem) SendStored(ctx context.Context, slot Slot) (int, error) {
	if st, reason := m.State(); st != StateReady {
		err := fmt.Errorf("%w: %s (%s)", ErrNotReady, st, reason)
		return 0, &SendError{Class: Temporary, Code: -1, Reason: err.Error(), Err: err}
	}
	if err := ctx.Err(); err != nil {
		return 0, &SendError{Class: Temporary, Code: -1, Reason: "cancelled before sending", Err: err}
	}
	if slot.Storage != m.writeStorage() {
		// +CMSS sends from mem2; a slot elsewhere (written before a
		// re-initialisation chose another storage) cannot be sent from.
		err := fmt.Errorf("modem: slot %s is not in the send storage %s", slot, m.writeStorage())
		return 0, &SendError{Class: Temporary, Code: -1, Reason: err.Error(), Err: err}
	}
	lines, err := m.execT(ctx, fmt.Sprintf("AT+CMSS=%d", slot.Index), m.cfg.SendTimeout)
	if err != nil {
		se := classifyCause(err)
		if linkFailure(err) {
			m.kickProbe()
		}
		return 0, se
	}
	mr, err := parseIndexLine(lines, "+CMSS:")
	if err != nil || mr > 255 {
		err = fmt.Errorf("modem: +CMSS: bad message reference in %q", lines)
		return 0, &SendError{Class: Unknown, Code: -1, Reason: err.Error(), Err: err}
	}
	return mr, nil
}

// ReadStored reads the copy at slot and says whether tpdu went: the slot
// must hold an outgoing message whose TPDU equals tpdu (the MR octet
// excepted: some modems write the reference they used into the copy),
// else the outcome is StoredGone.
func (m *Modem) ReadStored(ctx context.Context, slot Slot, tpdu []byte) (StoredOutcome, error) {
	s, ok, err := m.read(ctx, slot.Storage, slot.Index)
	if err != nil {
		return StoredGone, err
	}
	if !ok || (s.Stat != 2 && s.Stat != 3) || !sameSubmit(s.PDU, tpdu) {
		return StoredGone, nil
	}
	if s.Stat == 3 {
		return StoredSent, nil
	}
	return StoredUnsent, nil
}

// StoredOutgoing lists the outgoing copies ("STO UNSENT" and "STO SENT") in
// every storage the modem polls, for sweeping copies left behind by a crash.
func (m *Modem) StoredOutgoing(ctx context.Context) ([]Slot, error) {
	var out []Slot
	for _, storage := range m.Info().Storages {
		list, err := m.list(ctx, storage)
		if err != nil {
			return out, err
		}
		for _, s := range list {
			if s.Stat == 2 || s.Stat == 3 {
				out = append(out, Slot{Storage: storage, Index: s.Index})
			}
		}
	}
	return out, nil
}

// DeleteStored deletes the copy at slot (AT+CMGD).
func (m *Modem) DeleteStored(ctx context.Context, slot Slot) error {
	return m.Delete(ctx, slot.Storage, slot.Index)
}

// sameSubmit reports whether the hex PDU read from storage (with its SMSC
// prefix) is the SMS-SUBMIT tpdu, ignoring TP-MR.
func sameSubmit(hexPDU string, tpdu []byte) bool {
	b, err := hex.DecodeString(strings.TrimSpace(hexPDU))
	if err != nil || len(b) == 0 {
		return false
	}
	n := int(b[0]) // SMSC information length
	if 1+n > len(b) {
		return false
	}
	got := b[1+n:]
	if len(got) != len(tpdu) || len(got) < 2 {
		return false
	}
	return got[0] == tpdu[0] && bytes.Equal(got[2:], tpdu[2:])
}

// parseIndexLine parses "<prefix> <n>[,...]" (+CMGW: <index>, +CMSS: <mr>).
func parseIndexLine(lines []string, prefix string) (int, error) {
	v, ok := infoLine(lines, prefix)
	if !ok {
		return 0, fmt.Errorf("modem: no %s line in %q", prefix, lines)
	}
	n, err := atoiField(fields(v), 0)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("modem: %s bad number %q", prefix, v)
	}
	return n, nil
}

// LinkLost reports whether a send error means the link to the modem went
// away (closed, unplugged) rather than the modem answering or timing out:
// the modem, when it is back, still knows what became of a stored copy.
func LinkLost(err error) bool {
	return errors.Is(err, at.ErrClosed) || errors.Is(err, ErrClosed)
}
