package modem

import (
	"fmt"
	"strconv"
	"strings"
)

// This file parses the information lines modems send back. Every function
// takes what a modem may send (any bytes) and returns an error rather than
// panicking; FuzzParsers feeds them garbage.

// fields splits an AT parameter list at top-level commas, keeping quoted
// strings (quotes removed) and parenthesised groups (kept with parentheses)
// whole: `0,"A,B",(1-3)` → [0, A,B, (1-3)].
func fields(s string) []string {
	var out []string
	var b strings.Builder
	inQuote, depth := false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			inQuote = !inQuote
			if depth > 0 {
				b.WriteByte(c)
			}
		case inQuote:
			b.WriteByte(c)
		case c == '(':
			depth++
			b.WriteByte(c)
		case c == ')':
			if depth > 0 {
				depth--
			}
			b.WriteByte(c)
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(b.String()))
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	out = append(out, strings.TrimSpace(b.String()))
	return out
}

// infoLine finds the first line starting with prefix ("+CSQ:") and returns
// what follows it, trimmed.
func infoLine(lines []string, prefix string) (string, bool) {
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, prefix) {
			return strings.TrimSpace(l[len(prefix):]), true
		}
	}
	return "", false
}

func atoiField(f []string, i int) (int, error) {
	if i >= len(f) {
		return 0, fmt.Errorf("field %d missing", i+1)
	}
	n, err := strconv.Atoi(strings.TrimSpace(f[i]))
	if err != nil {
		return 0, fmt.Errorf("field %d: %q is not a number", i+1, f[i])
	}
	return n, nil
}

// Signal is the received signal strength, converted from +CSQ.
type Signal struct {
	RSSI int // raw +CSQ <rssi>: 0-31, 99 = unknown
	DBm  int // dBm (-113 .. -51); 0 when unknown
	Bars int // 0-4; -1 when unknown
}

// Known reports whether the modem could measure the signal.
func (s Signal) Known() bool { return s.RSSI >= 0 && s.RSSI <= 31 }

// SignalFromCSQ converts a +CSQ <rssi> (TS 27.007 8.5) to dBm and bars.
// 0 is -113 dBm or less, 31 is -51 dBm or more, each step is 2 dB.
// Bars follow the thresholds phones commonly use: below -109 dBm (rssi < 2)
// is no usable signal; -109..-95 one bar; -93..-85 two; -83..-75 three;
// -73 and better four.
func SignalFromCSQ(rssi int) Signal {
	if rssi < 0 || rssi > 31 {
		return Signal{RSSI: 99, Bars: -1}
	}
	s := Signal{RSSI: rssi, DBm: -113 + 2*rssi}
	switch {
	case rssi < 2:
		s.Bars = 0
	case rssi < 10:
		s.Bars = 1
	case rssi < 15:
		s.Bars = 2
	case rssi < 20:
		s.Bars = 3
	default:
		s.Bars = 4
	}
	return s
}

func parseCSQ(lines []string) (Signal, error) {
	v, ok := infoLine(lines, "+CSQ:")
	if !ok {
		return Signal{}, fmt.Errorf("modem: +CSQ: no +CSQ line in %q", lines)
	}
	rssi, err := atoiField(fields(v), 0)
	if err != nil {
		return Signal{}, fmt.Errorf("modem: +CSQ: %w", err)
	}
	return SignalFromCSQ(rssi), nil
}

// Registration is the network registration state (TS 27.007 7.2 <stat>).
type Registration int

const (
	RegUnknown      Registration = iota // not yet asked, or the modem does not say
	RegNotSearching                     // not registered and not searching (radio off, no SIM)
	RegHome                             // registered, home network
	RegSearching                        // not registered, searching
	RegDenied                           // registration denied
	RegRoaming                          // registered, roaming
	RegEmergency                        // emergency calls only
)

func (r Registration) String() string {
	switch r {
	case RegNotSearching:
		return "not searching"
	case RegHome:
		return "home"
	case RegSearching:
		return "searching"
	case RegDenied:
		return "denied"
	case RegRoaming:
		return "roaming"
	case RegEmergency:
		return "emergency only"
	default:
		return "unknown"
	}
}

// Registered reports whether SMS can be sent.
func (r Registration) Registered() bool { return r == RegHome || r == RegRoaming }

// regFromStat maps a 27.007 <stat> to a Registration. 6/7 are "SMS only"
// (home/roaming) on LTE and 9/10 "CSFB not preferred": all can carry SMS.
func regFromStat(stat int) Registration {
	switch stat {
	case 0:
		return RegNotSearching
	case 1, 6, 9:
		return RegHome
	case 2:
		return RegSearching
	case 3:
		return RegDenied
	case 5, 7, 10:
		return RegRoaming
	case 8:
		return RegEmergency
	default:
		return RegUnknown
	}
}

// parseReg parses the read response of +CREG?, +CGREG? or +CEREG?:
// "<n>,<stat>[,<lac>,<ci>[,<AcT>]]".
//
// The answer is "<n>,<stat>[,<lac>,<ci>...]". A registration report
// ("<stat>[,<lac>,<ci>...]", with +CREG=1/2 on) that arrives while the query
// runs is handed to the query by modem/at (same name, read form), before or
// after the answer: it is told apart by having no second field or a quoted
// one (the location), and skipped.
func parseReg(lines []string, prefix string) (Registration, error) {
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		raw := strings.Split(l[len(prefix):], ",")
		if len(raw) < 2 || strings.HasPrefix(strings.TrimSpace(raw[1]), `"`) {
			continue // a report, not the answer
		}
		stat, err := strconv.Atoi(strings.TrimSpace(raw[1]))
		if err != nil {
			return RegUnknown, fmt.Errorf("modem: %s stat %q: %w", prefix, raw[1], err)
		}
		return regFromStat(stat), nil
	}
	return RegUnknown, fmt.Errorf("modem: %s no answer line in %q", prefix, lines)
}

// betterReg picks the more useful of two registration states: a modem
// registered on EPS only (LTE) is registered even if +CREG says searching.
func betterReg(a, b Registration) Registration {
	rank := func(r Registration) int {
		switch r {
		case RegHome:
			return 6
		case RegRoaming:
			return 5
		case RegSearching:
			return 4
		case RegDenied:
			return 3
		case RegEmergency:
			return 2
		case RegNotSearching:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// parseCOPS parses "+COPS: <mode>[,<format>,<oper>[,<AcT>]]" and returns the
// operator ("" when not registered).
func parseCOPS(lines []string) (string, error) {
	v, ok := infoLine(lines, "+COPS:")
	if !ok {
		return "", fmt.Errorf("modem: +COPS: no +COPS line in %q", lines)
	}
	f := fields(v)
	if len(f) < 3 {
		return "", nil
	}
	return f[2], nil
}

// SIMState is what +CPIN? says.
type SIMState string

const (
	SIMUnknown SIMState = ""
	SIMReady   SIMState = "READY"
	SIMPIN     SIMState = "SIM PIN"
	SIMPUK     SIMState = "SIM PUK"
	SIMAbsent  SIMState = "NOT INSERTED"
	SIMFailed  SIMState = "FAILURE"
)

func parseCPIN(lines []string) (SIMState, error) {
	v, ok := infoLine(lines, "+CPIN:")
	if !ok {
		return SIMUnknown, fmt.Errorf("modem: +CPIN: no +CPIN line in %q", lines)
	}
	return SIMState(strings.ToUpper(strings.Trim(v, `" `))), nil
}

// parseStorageList parses +CPMS=? : `("SM","ME"),("SM","ME"),("SM")` into one
// list per memory (mem1 read/delete, mem2 write/send, mem3 receive). Some
// modems omit the parentheses when each memory offers a single storage.
func parseStorageList(lines []string) ([][]string, error) {
	v, ok := infoLine(lines, "+CPMS:")
	if !ok {
		return nil, fmt.Errorf("modem: +CPMS=?: no +CPMS line in %q", lines)
	}
	var out [][]string
	for _, g := range fields(v) {
		g = strings.TrimSuffix(strings.TrimPrefix(g, "("), ")")
		var mems []string
		for _, m := range fields(g) {
			m = strings.Trim(m, `" `)
			if m != "" {
				mems = append(mems, m)
			}
		}
		out = append(out, mems)
	}
	if len(out) == 0 || len(out[0]) == 0 {
		return nil, fmt.Errorf("modem: +CPMS=?: no storages in %q", v)
	}
	return out, nil
}

// parseCPMSSet parses the answer to AT+CPMS="X",...: "+CPMS: u1,t1,u2,t2,u3,t3"
// and returns mem1's use. It also accepts the read form `"SM",u1,t1,...`.
func parseCPMSSet(lines []string) (used, total int, err error) {
	v, ok := infoLine(lines, "+CPMS:")
	if !ok {
		return 0, 0, fmt.Errorf("modem: +CPMS: no +CPMS line in %q", lines)
	}
	f := fields(v)
	if len(f) > 0 {
		if _, e := strconv.Atoi(f[0]); e != nil {
			f = f[1:] // read form: storage name first
		}
	}
	if used, err = atoiField(f, 0); err != nil {
		return 0, 0, fmt.Errorf("modem: +CPMS: %w", err)
	}
	if total, err = atoiField(f, 1); err != nil {
		return 0, 0, fmt.Errorf("modem: +CPMS: %w", err)
	}
	return used, total, nil
}

// intSet is a set of small integers parsed from "(0-2)" or "(0,1,3)" or "2".
type intSet map[int]bool

func parseIntSet(s string) (intSet, error) {
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "("), ")")
	set := intSet{}
	if strings.TrimSpace(s) == "" {
		return set, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil {
			return nil, fmt.Errorf("%q is not a number or range", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil {
				return nil, fmt.Errorf("%q is not a range", part)
			}
		}
		if b < a || b-a > 255 {
			return nil, fmt.Errorf("%q is not a sensible range", part)
		}
		for i := a; i <= b; i++ {
			set[i] = true
		}
	}
	return set, nil
}

// parseCNMITest parses +CNMI=? : "(0-2),(0-3),(0,2),(0-2),(0,1)" into the
// supported values of <mode>,<mt>,<bm>,<ds>,<bfr>.
func parseCNMITest(lines []string) ([]intSet, error) {
	v, ok := infoLine(lines, "+CNMI:")
	if !ok {
		return nil, fmt.Errorf("modem: +CNMI=?: no +CNMI line in %q", lines)
	}
	var out []intSet
	for i, g := range fields(v) {
		s, err := parseIntSet(g)
		if err != nil {
			return nil, fmt.Errorf("modem: +CNMI=? parameter %d: %w", i+1, err)
		}
		out = append(out, s)
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("modem: +CNMI=?: too few parameters in %q", v)
	}
	return out, nil
}

// cnmiCandidates lists +CNMI settings to try, best first, restricted to what
// the modem says it supports (all of the static list when it did not say).
// Preferred: <mt>=1 (store and indicate with +CMTI: the message stays on the
// modem until we commit and delete it) and <ds>=2 (status reports stored,
// +CDSI) or 1 (+CDS); <mode>=2 buffers indications while the link is busy.
func cnmiCandidates(sup []intSet) []string {
	ok := func(i, v int) bool {
		if i >= len(sup) {
			return v == 0
		}
		return sup[i][v]
	}
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, mt := range []int{1, 2} {
		for _, mode := range []int{2, 1, 3} {
			for _, ds := range []int{2, 1, 0} {
				if sup != nil && !(ok(0, mode) && ok(1, mt) && ok(3, ds)) {
					continue
				}
				switch {
				case sup == nil || len(sup) >= 5 && sup[4][0]:
					add(fmt.Sprintf("%d,%d,0,%d,0", mode, mt, ds))
				case len(sup) >= 5 && sup[4][1]:
					add(fmt.Sprintf("%d,%d,0,%d,1", mode, mt, ds))
				default:
					add(fmt.Sprintf("%d,%d,0,%d", mode, mt, ds))
				}
			}
		}
	}
	// Fallbacks in case the modem's =? answer was wrong (it happens).
	for _, s := range []string{"2,1,0,2,0", "2,1,0,1,0", "1,1,0,2,0", "1,1,0,1,0", "2,1,0,0,0", "1,1", "2,1"} {
		add(s)
	}
	return out
}

// storedSMS is one message listed by +CMGL or read by +CMGR.
type storedSMS struct {
	Index int
	Stat  int // 0 received unread, 1 received read, 2 stored unsent, 3 stored sent
	PDU   string
}

// parseCMGL parses "+CMGL: <index>,<stat>,[<alpha>],<length>" lines each
// followed by a PDU line. Entries it cannot parse are skipped and counted in
// the returned error (the others are still returned).
func parseCMGL(lines []string) ([]storedSMS, error) {
	var out []storedSMS
	var bad int
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(l, "+CMGL:") {
			continue
		}
		f := fields(strings.TrimSpace(l[len("+CMGL:"):]))
		idx, err1 := atoiField(f, 0)
		stat, err2 := atoiField(f, 1)
		if err1 != nil || err2 != nil || i+1 >= len(lines) || strings.HasPrefix(strings.TrimSpace(lines[i+1]), "+CMGL:") {
			bad++
			continue
		}
		i++
		out = append(out, storedSMS{Index: idx, Stat: stat, PDU: strings.TrimSpace(lines[i])})
	}
	if bad > 0 {
		return out, fmt.Errorf("modem: +CMGL: %d entries unreadable", bad)
	}
	return out, nil
}

// parseCMGR parses "+CMGR: <stat>,[<alpha>],<length>" followed by the PDU.
// An empty slot answers OK with no +CMGR line: ok is false then.
func parseCMGR(lines []string) (s storedSMS, ok bool, err error) {
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "+CMGR:") {
			continue
		}
		stat, err := atoiField(fields(strings.TrimSpace(l[len("+CMGR:"):])), 0)
		if err != nil {
			return s, false, fmt.Errorf("modem: +CMGR: %w", err)
		}
		if i+1 >= len(lines) {
			return s, false, fmt.Errorf("modem: +CMGR: PDU line missing")
		}
		return storedSMS{Stat: stat, PDU: strings.TrimSpace(lines[i+1])}, true, nil
	}
	return s, false, nil
}

// parseCMGS parses "+CMGS: <mr>[,<scts>]".
func parseCMGS(lines []string) (int, error) {
	v, ok := infoLine(lines, "+CMGS:")
	if !ok {
		return 0, fmt.Errorf("modem: +CMGS: no message reference in %q", lines)
	}
	mr, err := atoiField(fields(v), 0)
	if err != nil || mr < 0 || mr > 255 {
		return 0, fmt.Errorf("modem: +CMGS: bad message reference %q", v)
	}
	return mr, nil
}

// parseIndication parses the body of +CMTI/+CDSI: `"SM",3`.
func parseIndication(body string) (storage string, index int, err error) {
	f := fields(body)
	if len(f) < 2 {
		return "", 0, fmt.Errorf("modem: indication %q: want storage and index", body)
	}
	index, err = atoiField(f, 1)
	if err != nil || index < 0 {
		return "", 0, fmt.Errorf("modem: indication %q: bad index", body)
	}
	return strings.ToUpper(f[0]), index, nil
}

// parseCSMS parses "+CSMS: <mt>,<mo>,<bm>" (set) or "+CSMS: <service>,<mt>,<mo>,<bm>" (read).
func parseCSMSMT(lines []string) (mt bool, err error) {
	v, ok := infoLine(lines, "+CSMS:")
	if !ok {
		return false, fmt.Errorf("modem: +CSMS: no +CSMS line in %q", lines)
	}
	f := fields(v)
	i := 0
	if len(f) >= 4 {
		i = 1
	}
	n, err := atoiField(f, i)
	if err != nil {
		return false, fmt.Errorf("modem: +CSMS: %w", err)
	}
	return n == 1, nil
}

// parseCNUM returns the first number +CNUM lists: `+CNUM: "Own","+491701234567",145`.
func parseCNUM(lines []string) string {
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "+CNUM:") {
			continue
		}
		f := fields(strings.TrimSpace(l[len("+CNUM:"):]))
		if len(f) >= 2 && f[1] != "" {
			num := f[1]
			if len(f) >= 3 && f[2] == "145" && !strings.HasPrefix(num, "+") {
				num = "+" + num
			}
			return num
		}
	}
	return ""
}

// parseDigits returns the first run of identity characters found after an
// optional "+XXX:" prefix and quotes: for IMEI, IMSI and ICCID answers that
// differ between vendors ("+CGSN: 8665...", "8665...", `+QCCID: 8949...F`).
func parseDigits(lines []string, minLen int) (string, bool) {
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if _, after, ok := strings.Cut(l, ":"); ok {
			l = after
		}
		l = strings.Trim(strings.TrimSpace(l), `"`)
		var b strings.Builder
		for _, c := range l {
			if c >= '0' && c <= '9' || c == 'F' || c == 'f' {
				b.WriteRune(c)
				continue
			}
			break
		}
		d := strings.TrimRight(strings.ToUpper(b.String()), "F")
		if len(d) >= minLen {
			return d, true
		}
	}
	return "", false
}

// firstText returns the first non-empty line without a "+XXX:" prefix, for
// +CGMI/+CGMM/+CGMR whose answers vary by vendor.
func firstText(lines []string, prefix string) string {
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, prefix) {
			l = strings.TrimSpace(l[len(prefix):])
		}
		return strings.Trim(l, `"`)
	}
	return ""
}
