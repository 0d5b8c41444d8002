// Package modem drives GSM modems that speak AT commands: it opens a port
// (a serial device, /dev/serial/by-id/..., or tcp://host:port), initialises the
// modem robustly, sends SMS parts, receives SMS and status reports, watches the
// modem's health and recovers it when it hangs, and keeps a Pool of modems
// identified by IMEI (not by tty name) so that a modem renumbered after a USB
// reset is found again and resumes.
//
// It owns the conversation with the modem and nothing else: it never stores a
// message, never decides whether a send is retried, and never deletes an
// incoming message from the modem's storage before the caller says it has been
// committed (Inbound.Commit, StatusReport.Commit). Framing AT lines is
// modem/at's job, encoding and decoding TPDUs is modem/pdu's.
//
// A gateway uses the Pool:
//
//	p := modem.NewPool(modem.PoolConfig{Modem: defaults, Scan: modem.ScanUSB}, log)
//	p.Add(modem.Config{Port: "tcp://10.0.0.5:7000", PIN: "1234"}) // configured ports, if any
//	go p.Run(ctx)
//	go func() { for ev := range p.Events() { ... ev.(*modem.Inbound).Commit(ctx) after storing ... } }()
//	m, release, err := p.Acquire(ctx, nil) // a modem that can send now
//	mr, err := m.SendPart(ctx, tpdu)       // modem.Classify(err): Temporary, Permanent, Unknown
//	release()
//
// A single modem: Open, then Run with an event channel, SendPart, Close.
//
// Store-and-send (storesend.go): where initialisation finds AT+CMGW and
// AT+CMSS (SendMode), a caller may store a part first (WritePart), commit
// its Slot, send it from storage (SendStored), and after a crash, a timeout
// or an unplug read back from the copy whether it went (ReadStored: "STO
// SENT" / "STO UNSENT"); DeleteStored removes the copy, StoredOutgoing
// lists copies left behind. A modem that refuses AT+CMGW (ErrStoreRefused)
// is switched to direct sending; a full storage refuses one part only.
package modem
