package modem

import (
	"context"
	"sync"
	"time"

	"github.com/gsmgate/gsmgate/modem/pdu"
)

// Event is what a running modem reports: *Inbound, *StatusReport or
// *StateChanged. Consumers switch on the type.
type Event interface {
	// Source is the ID (IMEI) of the modem the event comes from.
	Source() string
}

// receipt is the commit half of an event whose message still sits in the
// modem (in a storage, or unacknowledged after +CMT/+CDS).
type receipt struct {
	mu      sync.Mutex
	done    bool
	commit  func(ctx context.Context) error
	release func()
}

// Release tells the modem the caller could not store the message (its
// database is full, say): it stays on the modem and is delivered again by
// the next storage poll, rather than after Config.RedeliverAfter. A message
// delivered directly (+CMT) is repeated by the network instead.
func (r *receipt) Release() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.done && r.release != nil {
		r.release()
	}
}

// Commit tells the modem the message is safely stored by the caller: only
// now is it deleted from the modem's storage (AT+CMGD) or acknowledged to the
// network (AT+CNMA). Until then it stays on the modem and is delivered again
// by a later storage poll or after a restart, so consumers must tolerate a
// repeat (same ModemID, Storage, Index and PDU). Committing twice is
// harmless; a failed commit may be retried.
//
// A direct delivery (+CMT/+CDS with +CSMS=1) must be committed within a few
// seconds, before the network's acknowledgement timer runs out; if it is not,
// the network delivers it again later.
func (r *receipt) Commit(ctx context.Context) error {
	if r == nil || r.commit == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return nil
	}
	if err := r.commit(ctx); err != nil {
		return err
	}
	r.done = true
	return nil
}

// Inbound is an SMS-DELIVER (one part of a message) received by a modem.
//
// The same part can be delivered more than once, and the consumer must
// drop repeats: a part delivered but not yet committed is delivered again
// by a later poll (after RedeliverAfter), after the modem is unplugged and
// replugged or the program restarts (it is still in storage), and by the
// network for a direct delivery whose +CNMA never came. A repeat has the
// same ModemID and byte-identical PDU (Storage and Index are those of the
// slot it is read from, "" and -1 for a direct delivery). For a key, use ModemID with the PDU, or
// with Msg's Originator, SCTS and UDH.Concat() (reference, total, sequence)
// plus a hash of the user data: two different parts never share those.
type Inbound struct {
	ModemID string // IMEI of the receiving modem
	Port    string
	// Storage and Index say where the message sits on the modem ("SM", 3);
	// Storage is "" and Index -1 for a direct delivery (+CMT).
	Storage string
	Index   int
	// PDU is the raw PDU as the modem gave it, SMSC prefix included: store
	// it, it is the truth when decoding improves.
	PDU []byte
	// Msg is the decoded PDU; nil when DecodeErr says why it could not be
	// decoded (the raw PDU is still delivered, and must still be committed).
	Msg       *pdu.Message
	DecodeErr error
	Received  time.Time
	receipt
}

// Source implements Event.
func (e *Inbound) Source() string { return e.ModemID }

// StatusReport is an SMS-STATUS-REPORT for a part this modem sent: match it
// by (ModemID, MR, Recipient) to the part's +CMGS reference.
type StatusReport struct {
	ModemID   string
	Port      string
	Storage   string // "SR", "SM", ... or "" for a direct +CDS
	Index     int
	PDU       []byte
	MR        int
	Recipient string // E.164 "+digits" when international
	// Status is TP-ST; pdu.StatusText(Status) gives its meaning and whether
	// it is final.
	Status    byte
	Msg       *pdu.Message
	DecodeErr error
	Received  time.Time
	receipt
}

// Source implements Event.
func (e *StatusReport) Source() string { return e.ModemID }

// StateChanged reports a modem's new state and, in words, why.
type StateChanged struct {
	ModemID string
	Port    string
	State   State
	Reason  string
	At      time.Time
}

// Source implements Event.
func (e *StateChanged) Source() string { return e.ModemID }

// State is where a modem is in its life.
type State string

const (
	StateOpening      State = "opening"      // port opened, initialising
	StateReady        State = "ready"        // initialised and registered: can send
	StateNoNetwork    State = "no network"   // initialised, not registered (searching, denied)
	StateRecovering   State = "recovering"   // stopped answering; recovery steps under way
	StateDisconnected State = "disconnected" // link lost (unplugged); the pool looks for it by IMEI
	StateFailed       State = "failed"       // needs a person: no SIM, SIM locked, wrong PIN
	StateClosed       State = "closed"
)
