package sim

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// NetworkOptions configures a simulated network. Zero values are usable.
type NetworkOptions struct {
	// Clock stamps messages and times status reports; default real time.
	// Pass a *FakeClock to drive it with Network.Advance.
	Clock Clock
	// Logger receives one line per command and per event; default discards.
	Logger *slog.Logger
	// SMSC is the service centre number modems report in +CSCA;
	// default "+447700900001".
	SMSC string
}

// Network is the GSM network behind the virtual modems: it accepts what they
// submit, delivers incoming SMS to them and produces status reports. It is
// safe for concurrent use.
type Network struct {
	clock Clock
	log   *slog.Logger
	smsc  string

	mu      sync.Mutex
	modems  []*Modem
	sent    []SentPart
	outcome ReportOutcome
	ref     int // concatenation reference for inbound multipart messages
}

// NewNetwork returns an empty network.
func NewNetwork(o NetworkOptions) *Network {
	n := &Network{clock: o.Clock, log: o.Logger, smsc: o.SMSC}
	if n.clock == nil {
		n.clock = realClock{}
	}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	if n.smsc == "" {
		n.smsc = "+447700900001"
	}
	n.outcome = ReportOutcome{Kind: Delivered, Delay: 2 * time.Second}
	return n
}

// Now is the network's time.
func (n *Network) Now() time.Time { return n.clock.Now() }

// Advance moves the network's FakeClock forward, delivering the status
// reports that fall due. It panics if the network was not given a *FakeClock:
// that is a mistake in the test.
func (n *Network) Advance(d time.Duration) {
	fc, ok := n.clock.(*FakeClock)
	if !ok {
		panic("sim: Network.Advance needs NetworkOptions.Clock to be a *FakeClock")
	}
	fc.Advance(d)
}

// Modems returns the modems in the order they were added.
func (n *Network) Modems() []*Modem {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*Modem(nil), n.modems...)
}

// ReportKind is what the network says about a submitted part in its status
// report.
type ReportKind int

const (
	// Delivered: one report, TP-ST 0x00 (received by the SME).
	Delivered ReportKind = iota
	// TemporaryThenDelivered: a report with TP-ST 0x21 (SME busy, SC still
	// trying) after Delay, then TP-ST 0x00 after another Delay.
	TemporaryThenDelivered
	// PermanentFailure: one report with TP-ST Status (default 0x41,
	// incompatible destination).
	PermanentFailure
	// NoReport: the network never reports, as when the recipient is off
	// until the validity period ends.
	NoReport
)

// ReportOutcome sets the status reports for the parts submitted after it.
type ReportOutcome struct {
	Kind   ReportKind
	Delay  time.Duration // on the network's clock; default 0 (due at the next Advance or at once on real time)
	Status byte          // for PermanentFailure; 0 means 0x41
}

// SetReportOutcome sets the status reports for parts submitted from now on.
func (n *Network) SetReportOutcome(o ReportOutcome) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.outcome = o
}

// SentPart is one SMS-SUBMIT the network accepted.
type SentPart struct {
	Modem    string    `json:"modem"` // the sending modem's IMEI
	MR       int       `json:"mr"`    // the message reference the modem answered with
	To       string    `json:"to"`
	Text     string    `json:"text"` // this part's text (hex for 8-bit data)
	PDU      string    `json:"pdu"`  // the TPDU as hex as the client typed it, without the SMSC prefix; its TP-MR is the client's, not MR
	Time     time.Time `json:"time"`
	Ref      int       `json:"ref,omitempty"` // concatenation reference, part number and total; 0 for a single part
	Part     int       `json:"part,omitempty"`
	Total    int       `json:"total,omitempty"`
	Report   bool      `json:"report"`              // a status report was requested
	TimedOut bool      `json:"timed_out,omitempty"` // the modem never answered the +CMGS (a SendTimeout fault) though the network got the part
	Via      string    `json:"via"`                 // the command that sent it: "+CMGS", or "+CMSS" (from storage)
}

// Sent returns every part accepted so far, oldest first.
func (n *Network) Sent() []SentPart {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]SentPart(nil), n.sent...)
}

// InboundSMS is a message a peer sends to a modem.
type InboundSMS struct {
	From string // "+447700900999", a national number, or an alphanumeric sender such as "MyBank"
	Text string
	UCS2 bool // force UCS-2 even if the text fits the GSM alphabet (it is chosen anyway when it does not)
	// Data, when not nil, is sent as 8-bit data instead of Text, with
	// application ports if DstPort or SrcPort is set (2948/9200 for WAP push).
	Data    []byte
	SrcPort int
	DstPort int
	Class   *int // message class 0-3; nil for none
	// Order lists 1-based part numbers in the order they arrive (default
	// 1..n); Drop lists parts that never arrive; Duplicate lists parts that
	// arrive twice (the copy right after the first).
	Order     []int
	Drop      []int
	Duplicate []int
	Time      time.Time // the service centre time stamp; default the network's clock
}

// Inbound sends an SMS to the modem, cut into as many SMS-DELIVER parts as
// it needs, and returns the number of parts the message has.
func (n *Network) Inbound(to *Modem, sms InboundSMS) (int, error) {
	if to == nil {
		return 0, errors.New("sim: inbound: no modem")
	}
	if sms.From == "" {
		return 0, errors.New("sim: inbound: no sender")
	}
	n.mu.Lock()
	n.ref = n.ref%255 + 1
	ref := n.ref
	n.mu.Unlock()
	t := sms.Time
	if t.IsZero() {
		t = n.clock.Now()
	}
	class := -1
	if sms.Class != nil {
		class = *sms.Class
	}
	parts := buildDeliver(deliverSpec{From: sms.From, Text: sms.Text, UCS2: sms.UCS2, Data: sms.Data,
		SrcPort: sms.SrcPort, DstPort: sms.DstPort, Ref: ref, Time: t, Class: class})
	order := sms.Order
	if len(order) == 0 {
		for i := range parts {
			order = append(order, i+1)
		}
	}
	for _, p := range order {
		if p < 1 || p > len(parts) {
			return 0, fmt.Errorf("sim: inbound: order names part %d of %d", p, len(parts))
		}
		if contains(sms.Drop, p) {
			continue
		}
		to.receive(parts[p-1])
		if contains(sms.Duplicate, p) {
			to.receive(parts[p-1])
		}
	}
	n.log.Info("sim: inbound", "to", to.opts.OwnNumber, "from", sms.From, "parts", len(parts))
	return len(parts), nil
}

// InboundTo is Inbound to the modem whose OwnNumber is number.
func (n *Network) InboundTo(number string, sms InboundSMS) (int, error) {
	m := n.byNumber(number)
	if m == nil {
		return 0, fmt.Errorf("sim: inbound: no modem has number %q", number)
	}
	return n.Inbound(m, sms)
}

func (n *Network) byNumber(number string) *Modem {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, m := range n.modems {
		if m.opts.OwnNumber == number {
			return m
		}
	}
	return nil
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// accept records a submitted part and schedules its status report. It
// returns the part as recorded.
func (n *Network) accept(from *Modem, via string, mr int, tpdu []byte, s *submit, timedOut bool) SentPart {
	now := n.clock.Now()
	p := SentPart{Modem: from.opts.IMEI, MR: mr, To: s.To, Text: s.Text, PDU: strings.ToUpper(hex.EncodeToString(tpdu)),
		Time: now, Ref: s.Ref, Part: s.Part, Total: s.Total, Report: s.SRR, TimedOut: timedOut, Via: via}
	n.mu.Lock()
	n.sent = append(n.sent, p)
	out := n.outcome
	n.mu.Unlock()
	n.log.Info("sim: submitted", "modem", from.opts.IMEI, "mr", mr, "to", s.To, "part", s.Part, "total", s.Total)

	// A message to another virtual modem is delivered to it, sender and all.
	if peer := n.byNumber(s.To); peer != nil {
		sender := from.opts.OwnNumber
		if sender == "" {
			sender = "+447700900000"
		}
		peer.receive(deliverFromSubmit(sender, s, now))
	}
	if !s.SRR || out.Kind == NoReport {
		return p
	}
	report := func(st byte) func() {
		return func() {
			dt := n.clock.Now()
			from.statusReport(report{tpdu: buildStatusReport(mr, s.To, now, dt, st), mr: mr, recipient: s.To, scts: now, dt: dt, status: st})
		}
	}
	switch out.Kind {
	case Delivered:
		n.clock.AfterFunc(out.Delay, report(0x00))
	case TemporaryThenDelivered:
		n.clock.AfterFunc(out.Delay, report(0x21))
		n.clock.AfterFunc(2*out.Delay, report(0x00))
	case PermanentFailure:
		st := out.Status
		if st == 0 {
			st = 0x41
		}
		n.clock.AfterFunc(out.Delay, report(st))
	}
	return p
}

// deliverFromSubmit turns a submitted part into the SMS-DELIVER its
// recipient gets, keeping the header, coding and user data.
func deliverFromSubmit(from string, s *submit, t time.Time) deliverPart {
	fo := byte(0x04)
	if len(s.UDH) > 0 {
		fo |= 0x40
	}
	tp := []byte{fo}
	tp = append(tp, encodeAddress(from)...)
	tp = append(tp, 0, s.DCS)
	tp = append(tp, encodeSCTS(t)...)
	if alphabet(s.DCS) == 0 {
		skip, fill := 0, 0
		if len(s.UDH) > 0 {
			skip = (len(s.UDH)*8 + 6) / 7
			fill = skip*7 - len(s.UDH)*8
		}
		tp = append(tp, byte(skip+len(s.UD)))
		tp = append(tp, s.UDH...)
		tp = append(tp, pack7(s.UD, fill)...)
	} else {
		tp = append(tp, byte(len(s.UDH)+len(s.UD)))
		tp = append(tp, s.UDH...)
		tp = append(tp, s.UD...)
	}
	return deliverPart{TPDU: tp, From: from, Text: s.Text, Time: t, Part: max(s.Part, 1), Total: max(s.Total, 1)}
}
