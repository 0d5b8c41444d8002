package sim

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ModemOptions describes one virtual modem. Zero values give a working,
// unlocked modem of the generic profile with a fresh identity.
type ModemOptions struct {
	Profile   string // "generic" (default), "sim800", "huawei" or "quectel"; see the package doc
	IMEI      string // default: a valid 15-digit IMEI unique in the network
	IMSI      string
	ICCID     string
	OwnNumber string // answered by +CNUM and used as the sender of messages to other modems
	// PIN, when set, locks the SIM at power-up; PUK unblocks it after three
	// wrong PINs (default "12345678").
	PIN string
	PUK string
	// NoSIM: the SIM is not inserted (+CME ERROR: 10, +CMS ERROR: 310).
	NoSIM bool
	// NoNetwork: not registered (+CREG: 0,0), sends fail with +CMS ERROR: 331.
	NoNetwork bool
	// NoSMSC: the SIM holds no service centre number, as some SIMs come:
	// +CSCA? reads "" and a send that names none in its PDU fails with
	// +CMS ERROR: 330 until AT+CSCA sets one.
	NoSMSC bool
	// Latency is how long a send (+CMGS, +CMSS) takes before its answer:
	// 50ms suits tests; real networks take 2-6 s (set LatencyMax for a
	// uniformly random latency between the two).
	Latency    time.Duration
	LatencyMax time.Duration
	// SMCapacity and MECapacity are the sizes of the SIM and phone message
	// storages; defaults 20 and 100.
	SMCapacity int
	MECapacity int
	// OneStorage leaves the modem with the SIM storage "SM" alone (+CPMS=?
	// offers nothing else), as modems without phone memory: incoming
	// messages and stored outgoing ones share its SMCapacity slots.
	OneStorage bool
	// Signal is the +CSQ <rssi> (0-31); default 20.
	Signal int
	// Operator is the +COPS name; default "gsmgate".
	Operator string
	// FloodInterval is the period of the huawei profile's ^RSSI/^BOOT/^MODE
	// codes; default 2s.
	FloodInterval time.Duration
	// ReportsToSR reproduces Quectel EC25/EG25 firmware with +CNMI <ds>=2:
	// a status report is stored in a separate "SR" storage but announced as
	// +CDSI: "SM",0, and AT+CMGR=0 answers a bare OK
	// (IchthysMaranatha/asterisk-chan-quectel#75). Off by default.
	ReportsToSR bool
	// BarePrompt makes the SMS prompt ">" followed by CRLF instead of "> ",
	// as some SIMCom modules send it (gammu/gammu#1176: gammu waits forever).
	BarePrompt bool
	// PTYLink, when set, is a symlink kept pointing at the current pty (as
	// a udev rule would), replaced on Replug.
	PTYLink string
}

// Faults are failures injected into a modem's next sends. Each field is
// consumed as sends happen: SendErrors[0] answers the next send, and so on.
type Faults struct {
	// SendErrors are +CMS ERROR codes for the next sends, one each
	// (TemporaryCMS and PermanentCMS list realistic ones).
	SendErrors []int
	// SendTimeouts is how many of the sends after those never get an answer
	// (the network still receives them: the outcome is unknown to the client).
	SendTimeouts int
	// Latency, when not zero, replaces ModemOptions.Latency for sends.
	Latency time.Duration
	// Garbage is how many of the next responses are preceded by a burst of
	// line noise.
	Garbage int
	// RefuseCMGW makes the modem refuse to store outgoing messages, as a
	// modem without store-and-send does: AT+CMGW (its test form too) and
	// AT+CMSS=? answer +CMS ERROR: 303 (operation not supported).
	RefuseCMGW bool
	// FullWrites is how many of the next AT+CMGW answer +CMS ERROR: 322
	// (memory full) whatever the storage holds, as a modem whose storage
	// for copies is taken by messages the client may not delete (another
	// application's drafts, say): reading or deleting others does not help.
	FullWrites int
}

type pinState int

const (
	simReady pinState = iota
	simPIN
	simPUK
	simBlocked
	simAbsent
)

// stored is one message in a storage.
type stored struct {
	stat   int // 0 REC UNREAD, 1 REC READ, 2 STO UNSENT, 3 STO SENT
	tpdu   []byte
	addr   string // originator or destination
	text   string
	time   time.Time
	report bool // an SMS-STATUS-REPORT
}

type storage struct {
	slots []*stored
}

func (s *storage) used() int {
	n := 0
	for _, m := range s.slots {
		if m != nil {
			n++
		}
	}
	return n
}

func (s *storage) put(m *stored) (int, bool) {
	for i, x := range s.slots {
		if x == nil {
			s.slots[i] = m
			return i + 1, true
		}
	}
	return 0, false
}

// state is the modem's settings that a reset restores.
type state struct {
	cmee, cmgf, csms, csdh int
	cmms                   int
	cscs, csca             string
	cnmi                   [5]int
	creg, cereg            int
	cfun                   int
	mem                    [3]string
	fo, vp, pid, dcs       int // +CSMP, for text-mode sends
	curc                   bool
	portsel                int
}

// Modem is one virtual modem. Its methods are safe for concurrent use.
type Modem struct {
	net  *Network
	opts ModemOptions
	prof *profile

	// cmdMu serialises commands across sessions, as a modem's one command
	// processor does: a +CMGR from a client that reconnected waits for a
	// +CMSS still running for a client that went away, so the stored
	// copy's status it reads is final.
	cmdMu sync.Mutex

	mu         sync.Mutex
	st         state
	sim        pinState
	pin        string
	pinLeft    int
	pukLeft    int
	registered bool
	signal     int
	stores     map[string]*storage
	nextMR     int
	faults     Faults
	hung       bool
	plugged    bool
	gone       chan struct{} // closed by Unplug: a send waiting out its latency gives up
	sessions   map[*session]struct{}
	held       []deliverPart // parts the network keeps until the modem can take them
	buffered   [][]byte      // URCs kept while +CNMI mode is 0
	pendingAck int
	ptyPort    *ptyPort
	ptyCtx     context.Context
	ptyPath    string
	ussd       string
}

// AddModem adds a modem to the network. The modem is powered up and
// plugged in; serve it with ServePTY, ServeTCP or Conn.
func (n *Network) AddModem(o ModemOptions) (*Modem, error) {
	p, err := lookupProfile(o.Profile)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	imei, imsi, iccid := n.identity(o.OwnNumber)
	n.mu.Unlock()
	if o.IMEI == "" {
		o.IMEI = imei
	}
	if o.IMSI == "" {
		o.IMSI = imsi
	}
	if o.ICCID == "" {
		o.ICCID = iccid
	}
	if o.PUK == "" {
		o.PUK = "12345678"
	}
	if o.SMCapacity <= 0 {
		o.SMCapacity = 20
	}
	if o.MECapacity <= 0 {
		o.MECapacity = 100
	}
	if o.Signal == 0 {
		o.Signal = 20
	}
	if o.Operator == "" {
		o.Operator = "gsmgate"
	}
	if o.FloodInterval <= 0 {
		o.FloodInterval = 2 * time.Second
	}
	o.Profile = p.name
	m := &Modem{net: n, opts: o, prof: p, plugged: true, gone: make(chan struct{}), sessions: map[*session]struct{}{},
		stores: map[string]*storage{
			"SM": {slots: make([]*stored, o.SMCapacity)},
			"ME": {slots: make([]*stored, o.MECapacity)},
		},
		registered: !o.NoNetwork, signal: o.Signal, pin: o.PIN, pinLeft: 3, pukLeft: 10, ussd: "Your balance is 12.34 GBP."}
	if o.ReportsToSR {
		m.stores["SR"] = &storage{slots: make([]*stored, 20)}
	}
	if o.OneStorage {
		delete(m.stores, "ME")
	}
	m.powerUp()
	n.mu.Lock()
	n.modems = append(n.modems, m)
	n.mu.Unlock()
	return m, nil
}

// identity is a default IMEI, IMSI and ICCID for a new modem with number
// (may be ""). n.mu held. With a number they are derived from it, so that
// modems of separate networks (two `gsmgate sim` processes, each with its
// own --number) still differ: the pool recognises a modem by its IMEI and
// refuses a second port with the same one as "another port of the same
// modem". Without a number they come from the modem's index. Either way
// they are unique within the network: a collision moves to the next
// candidate.
func (n *Network) identity(number string) (imei, imsi, iccid string) {
	taken := func(v string) bool {
		for _, m := range n.modems {
			if m.opts.IMEI == v {
				return true
			}
		}
		return false
	}
	for try := 0; ; try++ {
		var serial uint64
		if digits := onlyDigits(number); digits != "" {
			h := fnv.New64a()
			fmt.Fprintf(h, "%s/%d", digits, try)
			serial = h.Sum64() % 1_000_000
		} else {
			serial = uint64(len(n.modems) + 1 + try)
		}
		imei = luhn(fmt.Sprintf("35693803%06d", serial))
		if !taken(imei) {
			return imei, fmt.Sprintf("2341599%08d", serial), luhn(fmt.Sprintf("894411%012d", serial))
		}
	}
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// luhn appends the Luhn check digit (IMEIs and ICCIDs carry one).
func luhn(s string) string {
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if (len(s)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return s + strconv.Itoa((10-sum%10)%10)
}

// powerUp sets the state a modem has after power-up or a reset. m.mu held
// or the modem not yet shared.
func (m *Modem) powerUp() {
	m.st = state{cmee: 0, cmgf: 0, cscs: m.prof.defaultCSCS, csca: m.net.smsc, cnmi: [5]int{1, 0, 0, 0, 0},
		cfun: 1, mem: [3]string{"SM", "SM", "SM"}, fo: 17, vp: 167, curc: true}
	if m.opts.NoSMSC {
		m.st.csca = ""
	}
	m.pendingAck = 0
	m.buffered = nil
	// The tries left and a PUK or blocked state live on the SIM, not in
	// the modem: a power cycle, reset or replug does not give them back.
	switch {
	case m.opts.NoSIM:
		m.sim = simAbsent
	case m.sim == simPUK || m.sim == simBlocked:
	case m.pin != "":
		m.sim = simPIN
	default:
		m.sim = simReady
	}
}

// Options returns the modem's options with defaults filled in (its IMEI,
// IMSI, ICCID and profile name).
func (m *Modem) Options() ModemOptions { return m.opts }

// IMEI is the modem's IMEI.
func (m *Modem) IMEI() string { return m.opts.IMEI }

// SetFaults replaces the faults waiting for the modem's next sends.
func (m *Modem) SetFaults(f Faults) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f.SendErrors = append([]int(nil), f.SendErrors...)
	m.faults = f
}

// Hang makes the modem stop answering (true) — it swallows every byte and
// says nothing — or recover (false).
func (m *Modem) Hang(hung bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hung = hung
}

// SetNetwork registers the modem (true) or loses the network (false),
// sending +CREG/+CEREG codes to clients that asked for them.
func (m *Modem) SetNetwork(up bool) {
	m.mu.Lock()
	m.registered = up
	m.regURCs()
	m.mu.Unlock()
	if up {
		m.flushHeld()
	}
}

// SetSignal sets the +CSQ <rssi> (0-31, 99 unknown).
func (m *Modem) SetSignal(rssi int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.signal = rssi
}

// SetUSSDAnswer sets the text the network answers any +CUSD request with.
func (m *Modem) SetUSSDAnswer(text string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ussd = text
}

// InjectGarbage writes raw bytes to every client now, as line noise would.
func (m *Modem) InjectGarbage(b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for s := range m.sessions {
		s.raw(append([]byte(nil), b...))
	}
}

// StoredMessage is a message in one of the modem's storages.
type StoredMessage struct {
	Storage string // "SM" or "ME"
	Index   int
	Stat    int // 0 REC UNREAD, 1 REC READ, 2 STO UNSENT, 3 STO SENT
	Report  bool
	Addr    string
	Text    string
	TPDU    []byte
}

// Stored lists the messages in the modem's storages, by storage then index.
func (m *Modem) Stored() []StoredMessage {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []StoredMessage
	names := []string{"ME", "SM", "SR"}
	for _, name := range names {
		if m.stores[name] == nil {
			continue
		}
		for i, s := range m.stores[name].slots {
			if s != nil {
				out = append(out, StoredMessage{Storage: name, Index: i + 1, Stat: s.stat, Report: s.report, Addr: s.addr, Text: s.text, TPDU: s.tpdu})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Storage > out[j].Storage })
	return out
}

// Held is how many incoming parts the network is keeping for the modem
// because it could not take them (storage full, no SIM, radio off, unplugged).
func (m *Modem) Held() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.held)
}

// canReceive: m.mu held.
func (m *Modem) canReceive() bool {
	return m.plugged && m.sim == simReady && m.st.cfun == 1 && m.registered
}

// receive takes an SMS-DELIVER from the network.
func (m *Modem) receive(p deliverPart) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.canReceive() || !m.deliverLocked(p) {
		m.held = append(m.held, p)
	}
}

// deliverLocked stores or routes a part per +CNMI; false if it could not be
// taken (storage full). m.mu held.
func (m *Modem) deliverLocked(p deliverPart) bool {
	mt := m.st.cnmi[1]
	class := -1
	if len(p.TPDU) > 0 {
		if dcs, ok := deliverDCS(p.TPDU); ok && dcs&0xD0 == 0x10 {
			class = int(dcs & 3)
		}
	}
	if mt == 2 && class != 2 || mt == 3 && class == 3 {
		if m.st.cmgf == 1 {
			m.urc(fmt.Sprintf("+CMT: \"%s\",,\"%s\"\r\n%s", p.From, textTime(p.Time), p.Text))
		} else {
			m.urc(fmt.Sprintf("+CMT: ,%d\r\n%s", len(p.TPDU), hexUpper(append(encodeSCA(m.st.csca), p.TPDU...))))
		}
		if m.st.csms == 1 {
			m.pendingAck++
		}
		return true
	}
	mem := m.st.mem[2]
	idx, ok := m.stores[mem].put(&stored{stat: 0, tpdu: p.TPDU, addr: p.From, text: p.Text, time: p.Time})
	if !ok {
		m.net.log.Info("sim: storage full, message held by the network", "modem", m.opts.IMEI, "storage", mem)
		return false
	}
	if mt == 1 || mt == 2 || mt == 3 {
		m.urc(fmt.Sprintf("+CMTI: \"%s\",%d", mem, idx))
	}
	return true
}

// deliverDCS finds TP-DCS in an SMS-DELIVER.
func deliverDCS(tp []byte) (byte, bool) {
	if len(tp) < 3 {
		return 0, false
	}
	i := 1 + 2 + (int(tp[1])+1)/2 + 1
	if i >= len(tp) {
		return 0, false
	}
	return tp[i], true
}

// report is an SMS-STATUS-REPORT and the fields text mode shows.
type report struct {
	tpdu      []byte
	mr        int
	recipient string
	scts, dt  time.Time
	status    byte
}

// statusReport takes an SMS-STATUS-REPORT from the network and routes it
// per +CNMI <ds>.
func (m *Modem) statusReport(r report) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.canReceive() {
		return // the network gives up on reports it cannot deliver
	}
	switch m.st.cnmi[3] {
	case 1:
		if m.st.cmgf == 1 {
			m.urc("+CDS: " + r.textFields())
		} else {
			m.urc(fmt.Sprintf("+CDS: %d\r\n%s", len(r.tpdu), hexUpper(append(encodeSCA(m.st.csca), r.tpdu...))))
		}
		if m.st.csms == 1 {
			m.pendingAck++
		}
	case 2:
		msg := &stored{stat: 0, tpdu: r.tpdu, report: true, addr: r.recipient, text: r.textFields(), time: r.dt}
		if m.opts.ReportsToSR {
			if _, ok := m.stores["SR"].put(msg); ok {
				m.urc(`+CDSI: "SM",0`)
			}
			return
		}
		mem := m.st.mem[2]
		if idx, ok := m.stores[mem].put(msg); ok {
			m.urc(fmt.Sprintf("+CDSI: \"%s\",%d", mem, idx))
		}
	}
}

// textFields is a report as text mode shows it (TS 27.005 §3.4.1):
// <fo>,<mr>,<ra>,<tora>,<scts>,<dt>,<st>.
func (r report) textFields() string {
	toa := 129
	if strings.HasPrefix(r.recipient, "+") {
		toa = 145
	}
	return fmt.Sprintf("6,%d,\"%s\",%d,\"%s\",\"%s\",%d", r.mr, r.recipient, toa, textTime(r.scts), textTime(r.dt), r.status)
}

// flushHeld retries the parts the network kept, as it does when the modem
// signals memory available (SMMA) or comes back.
func (m *Modem) flushHeld() {
	m.mu.Lock()
	defer m.mu.Unlock()
	held := m.held
	m.held = nil
	for i, p := range held {
		if !m.canReceive() || !m.deliverLocked(p) {
			m.held = append(m.held, held[i:]...)
			return
		}
	}
}

// urc sends an unsolicited result code to every client, or buffers it while
// +CNMI mode is 0. m.mu held.
func (m *Modem) urc(text string) {
	if m.hung {
		return
	}
	b := []byte("\r\n" + text + "\r\n")
	if m.st.cnmi[0] == 0 {
		m.buffered = append(m.buffered, b)
		return
	}
	for s := range m.sessions {
		s.urc(b)
	}
}

// regURCs announces the registration state. Location (n=2) comes only
// with a registered state: a modem that lost the network reports "+CREG: 2"
// (searching) with no cell. m.mu held.
func (m *Modem) regURCs() {
	stat := m.regStat()
	registered := stat == 1 || stat == 5
	switch {
	case m.st.creg == 2 && registered:
		m.urc(fmt.Sprintf("+CREG: %d,\"00A1\",\"0B2C\"", stat))
	case m.st.creg > 0:
		m.urc(fmt.Sprintf("+CREG: %d", stat))
	}
	switch {
	case m.st.cereg == 2 && registered:
		m.urc(fmt.Sprintf("+CEREG: %d,\"00A1\",\"00000B2C\",7", stat))
	case m.st.cereg > 0:
		m.urc(fmt.Sprintf("+CEREG: %d", stat))
	}
}

// regStat is the <stat> of +CREG: 1 registered home, 0 not searching. m.mu held.
func (m *Modem) regStat() int {
	if m.registered && m.st.cfun == 1 && m.sim == simReady {
		return 1
	}
	if m.st.cfun == 1 && m.sim == simReady {
		return 2 // searching
	}
	return 0
}

// Conn connects a client to the modem in memory (no pty, no socket), for
// tests of code that takes an io.ReadWriteCloser.
func (m *Modem) Conn(ctx context.Context) (net.Conn, error) {
	a, b := net.Pipe()
	if err := m.attach(ctx, b); err != nil {
		a.Close()
		b.Close()
		return nil, err
	}
	return a, nil
}

// errUnplugged is returned when serving a modem that is unplugged.
var errUnplugged = errors.New("sim: modem is unplugged")
