package sim

import (
	"encoding/hex"
	"fmt"

	"strconv"
	"strings"
	"time"

	"github.com/gsmgate/gsmgate/modem/pdu"
)

// handler runs one command with the modem's lock held. Handlers that wait
// (sends) are run from finishPrompt, outside the lock.
type handler func(s *session, m *Modem, c *cmd) result

// handlers is the command table; it is never changed.
var handlers = map[string]handler{
	"E": hEcho, "V": hVerbose, "Q": hNothing, "Z": hReset, "&F": hReset, "&W": hNothing, "&C": hNothing, "&D": hNothing,
	"X": hNothing, "L": hNothing, "M": hNothing, "I": hATI,
	"+CGMI": hInfo(func(m *Modem) string { return m.prof.manufacturer }), "+GMI": hInfo(func(m *Modem) string { return m.prof.manufacturer }),
	"+CGMM": hInfo(func(m *Modem) string { return m.prof.model }), "+GMM": hInfo(func(m *Modem) string { return m.prof.model }),
	"+CGMR": hInfo(func(m *Modem) string { return m.prof.revision }), "+GMR": hInfo(func(m *Modem) string { return m.prof.revision }),
	"+CGSN": hInfo(func(m *Modem) string { return m.opts.IMEI }), "+GSN": hInfo(func(m *Modem) string { return m.opts.IMEI }),
	"+GCAP": hInfo(func(*Modem) string { return "+GCAP: +CGSM" }),
	"+CIMI": hCIMI, "+CCID": hCCID, "^ICCID": hCCID, "+QCCID": hCCID, "+CNUM": hCNUM,
	"+CMEE": hCMEE, "+CFUN": hCFUN, "+CPIN": hCPIN, "+CSQ": hCSQ, "+CREG": hCREG, "+CEREG": hCREG, "+CGREG": hCREG,
	"+COPS": hCOPS, "+CUSD": hCUSD, "^CURC": hCURC, "^PORTSEL": hPORTSEL,
	"+CMGF": hCMGF, "+CSCS": hCSCS, "+CSCA": hCSCA, "+CSMS": hCSMS, "+CPMS": hCPMS, "+CNMI": hCNMI, "+CNMA": hCNMA,
	"+CMMS": hCMMS, "+CSDH": hCSDH, "+CSMP": hCSMP, "+CMGS": hCMGS, "+CMGW": hCMGW, "+CMGL": hCMGL, "+CMGR": hCMGR, "+CMGD": hCMGD,
}

// profileOnly limits commands to the profiles that have them.
var profileOnly = map[string]string{"^ICCID": "huawei", "^CURC": "huawei", "^PORTSEL": "huawei", "+QCCID": "quectel"}

func (s *session) dispatch(c *cmd) result {
	m := s.m
	m.cmdMu.Lock()
	defer m.cmdMu.Unlock()
	if c.name == "+CMSS" { // a send: it waits, so it runs outside the lock
		return hCMSS(s, m, c)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	h, found := handlers[c.name]
	if p, only := profileOnly[c.name]; only && p != m.prof.name {
		found = false
	}
	if !found {
		if strings.HasPrefix(c.name, "S") && len(c.name) > 1 {
			if c.op == opQuery {
				return ok("000")
			}
			return ok()
		}
		return fail(errUnknown)
	}
	return h(s, m, c)
}

func hNothing(*session, *Modem, *cmd) result { return ok() }

func hEcho(s *session, _ *Modem, c *cmd) result {
	if c.num > 1 {
		return fail(errSyntax)
	}
	s.mu.Lock()
	s.echo = c.num == 1
	s.mu.Unlock()
	return ok()
}

func hVerbose(s *session, _ *Modem, c *cmd) result {
	if c.num > 1 {
		return fail(errSyntax)
	}
	s.mu.Lock()
	s.verbose = c.num == 1 // a missing value is 0 (V.250 §5.3.1)
	s.mu.Unlock()
	return ok()
}

// hReset is ATZ and AT&F: settings back to power-up values, echo on.
func hReset(s *session, m *Modem, _ *cmd) result {
	sim, pinLeft, pukLeft := m.sim, m.pinLeft, m.pukLeft
	m.powerUp()
	m.sim, m.pinLeft, m.pukLeft = sim, pinLeft, pukLeft // a soft reset does not lock the SIM again
	s.mu.Lock()
	s.echo, s.verbose = true, true
	s.mu.Unlock()
	return ok()
}

func hATI(_ *session, m *Modem, _ *cmd) result { return ok(m.prof.ati(m)...) }

func hInfo(f func(*Modem) string) handler {
	return func(_ *session, m *Modem, c *cmd) result {
		if c.op == opTest {
			return ok()
		}
		if c.op != opExec {
			return fail(errSyntax)
		}
		return ok(f(m))
	}
}

// simErrors are the +CME (TS 27.007 §9.2) and +CMS (TS 27.005 §3.2.5)
// codes of a SIM that is not ready; a blocked SIM reads as a SIM failure.
var simErrors = map[pinState]struct{ cme, cms int }{
	simAbsent:  {cmeSIMNotInserted, cmsSIMNotInserted},
	simPIN:     {cmeSIMPINRequired, cmsSIMPINRequired},
	simPUK:     {cmeSIMPUKRequired, cmsSIMPUKRequired},
	simBlocked: {cmeSIMFailure, cmsSIMFailure},
}

// simCME checks the SIM for a 27.007 command.
func (m *Modem) simCME() *atError {
	if e, bad := simErrors[m.sim]; bad {
		return cme(e.cme)
	}
	return nil
}

// simCMS checks the SIM for a 27.005 command.
func (m *Modem) simCMS() *atError {
	if e, bad := simErrors[m.sim]; bad {
		return cms(e.cms)
	}
	return nil
}

func hCIMI(_ *session, m *Modem, c *cmd) result {
	if c.op == opTest {
		return ok()
	}
	if e := m.simCME(); e != nil {
		return fail(e)
	}
	return ok(m.opts.IMSI)
}

func hCCID(_ *session, m *Modem, c *cmd) result {
	if c.op == opTest {
		return ok()
	}
	if m.sim == simAbsent {
		return fail(cme(cmeSIMNotInserted))
	}
	prefix := m.prof.ccid
	switch c.name {
	case "^ICCID":
		prefix = "^ICCID: "
	case "+QCCID":
		prefix = "+QCCID: "
	}
	return ok(prefix + m.opts.ICCID)
}

func hCNUM(_ *session, m *Modem, c *cmd) result {
	if c.op == opTest {
		return ok()
	}
	if e := m.simCME(); e != nil {
		return fail(e)
	}
	if m.opts.OwnNumber == "" {
		return ok()
	}
	toa := 129
	if strings.HasPrefix(m.opts.OwnNumber, "+") {
		toa = 145
	}
	return ok(fmt.Sprintf("+CNUM: ,\"%s\",%d", m.opts.OwnNumber, toa))
}

// intSetting implements the common pattern of a numeric setting with a
// range: =? lists it, ? shows it, = sets it.
func intSetting(c *cmd, name string, v *int, lo, hi int, e *atError) result {
	switch c.op {
	case opTest:
		return ok(fmt.Sprintf("%s: (%d-%d)", name, lo, hi))
	case opQuery:
		return ok(fmt.Sprintf("%s: %d", name, *v))
	case opSet:
		n, good := c.intParam(0, 0)
		if !good || n < lo || n > hi || len(c.params) > 1 {
			return fail(e)
		}
		*v = n
		return ok()
	}
	return ok()
}

func hCMEE(_ *session, m *Modem, c *cmd) result {
	if c.op == opExec {
		m.st.cmee = 0
		return ok()
	}
	return intSetting(c, "+CMEE", &m.st.cmee, 0, 2, cme(cmeIncorrectParams))
}

func hCFUN(s *session, m *Modem, c *cmd) result {
	switch c.op {
	case opTest:
		return ok("+CFUN: (0,1,4),(0,1)")
	case opQuery:
		return ok(fmt.Sprintf("+CFUN: %d", m.st.cfun))
	case opSet:
		fun, good := c.intParam(0, 1)
		rst, good2 := c.intParam(1, 0)
		if !good || !good2 || (fun != 0 && fun != 1 && fun != 4) || rst < 0 || rst > 1 {
			return fail(cme(cmeIncorrectParams))
		}
		if rst == 1 {
			if fun != 1 {
				return fail(cme(cmeNotAllowed))
			}
			m.pendingAck = 0
			m.powerUp()
			s.mu.Lock()
			s.echo, s.verbose = true, true
			s.mu.Unlock()
			r := ok()
			r.after = append(r.after, m.prof.boot...)
			return r
		}
		if fun == 4 {
			fun = 0
		}
		m.st.cfun = fun
		m.regURCs()
		if fun == 1 {
			go m.flushHeld()
		}
		return ok()
	}
	return fail(errSyntax)
}

func hCPIN(_ *session, m *Modem, c *cmd) result {
	switch c.op {
	case opTest:
		return ok()
	case opQuery:
		switch m.sim {
		case simAbsent:
			return fail(cme(cmeSIMNotInserted))
		case simPIN:
			return ok("+CPIN: SIM PIN")
		case simPUK:
			return ok("+CPIN: SIM PUK")
		case simBlocked:
			return fail(cme(cmeSIMFailure))
		}
		return ok("+CPIN: READY")
	case opSet:
		code, _ := c.p(0)
		switch m.sim {
		case simAbsent:
			return fail(cme(cmeSIMNotInserted))
		case simBlocked:
			return fail(cme(cmeSIMFailure))
		case simReady:
			return fail(cme(cmeNotAllowed))
		case simPIN:
			if code.v != m.pin {
				m.pinLeft--
				if m.pinLeft <= 0 {
					m.sim = simPUK
				}
				return fail(cme(cmeIncorrectPasswd))
			}
			m.sim = simReady
			m.pinLeft = 3 // a right PIN gives the tries back
		case simPUK:
			newPIN, has := c.p(1)
			if !has {
				return fail(cme(cmeSIMPUKRequired))
			}
			if code.v != m.opts.PUK {
				m.pukLeft--
				if m.pukLeft <= 0 {
					m.sim = simBlocked
				}
				return fail(cme(cmeIncorrectPasswd))
			}
			m.pin = newPIN.v
			m.sim = simReady
			m.pinLeft, m.pukLeft = 3, 10
		}
		r := ok()
		r.after = append(r.after, m.prof.afterPIN...)
		go m.flushHeld()
		return r
	}
	return fail(errSyntax)
}

func hCSQ(_ *session, m *Modem, c *cmd) result {
	if c.op == opTest {
		return ok("+CSQ: (0-31,99),(0-7,99)")
	}
	if c.op != opExec {
		return fail(errSyntax)
	}
	if m.regStat() != 1 {
		return ok("+CSQ: 99,99")
	}
	return ok(fmt.Sprintf("+CSQ: %d,99", m.signal))
}

func hCREG(_ *session, m *Modem, c *cmd) result {
	v := &m.st.creg
	if c.name == "+CEREG" {
		v = &m.st.cereg
	}
	switch c.op {
	case opQuery:
		stat := m.regStat()
		if *v == 2 && stat == 1 {
			if c.name == "+CEREG" {
				return ok(fmt.Sprintf("+CEREG: 2,%d,\"00A1\",\"00000B2C\",7", stat))
			}
			return ok(fmt.Sprintf("%s: 2,%d,\"00A1\",\"0B2C\"", c.name, stat))
		}
		return ok(fmt.Sprintf("%s: %d,%d", c.name, *v, stat))
	case opExec:
		*v = 0
		return ok()
	}
	return intSetting(c, c.name, v, 0, 2, cme(cmeIncorrectParams))
}

func hCOPS(_ *session, m *Modem, c *cmd) result {
	switch c.op {
	case opTest:
		if m.regStat() != 1 {
			return ok("+COPS: ,,(0-4),(0-2)")
		}
		return ok(fmt.Sprintf("+COPS: (2,\"%s\",\"%s\",\"23415\",2),,(0-4),(0-2)", m.opts.Operator, m.opts.Operator))
	case opQuery:
		if m.regStat() != 1 {
			return ok("+COPS: 0")
		}
		return ok(fmt.Sprintf("+COPS: 0,0,\"%s\",2", m.opts.Operator))
	case opSet:
		mode, good := c.intParam(0, 0)
		if !good || mode < 0 || mode > 4 {
			return fail(cme(cmeIncorrectParams))
		}
		return ok()
	}
	return ok()
}

func hCUSD(_ *session, m *Modem, c *cmd) result {
	switch c.op {
	case opTest:
		return ok("+CUSD: (0,1,2)")
	case opQuery:
		return ok("+CUSD: 1")
	case opSet:
		n, good := c.intParam(0, 0)
		if !good || n < 0 || n > 2 {
			return fail(cme(cmeIncorrectParams))
		}
		str, has := c.p(1)
		if !has {
			return ok()
		}
		if e := m.simCME(); e != nil {
			return fail(e)
		}
		if m.regStat() != 1 {
			return fail(cme(cmeNoNetwork))
		}
		answer := m.ussd
		if m.st.cscs == "UCS2" {
			answer = strings.ToUpper(hex.EncodeToString(toUCS2(answer)))
		}
		_ = str
		r := ok()
		r.after = []string{fmt.Sprintf("+CUSD: 0,\"%s\",15", answer)}
		return r
	}
	return ok()
}

func hCURC(_ *session, m *Modem, c *cmd) result {
	switch c.op {
	case opQuery:
		return ok(fmt.Sprintf("^CURC: %d", boolToInt(m.st.curc)))
	case opSet:
		n, good := c.intParam(0, 0)
		if !good || n < 0 || n > 1 {
			return fail(errSyntax)
		}
		m.st.curc = n == 1
	}
	return ok()
}

// hPORTSEL picks the port unsolicited codes go to on a Huawei stick;
// gammu's Huawei support sets it after ^CURC=0. One port here, so only the
// setting is kept.
func hPORTSEL(_ *session, m *Modem, c *cmd) result {
	return intSetting(c, "^PORTSEL", &m.st.portsel, 0, 1, errSyntax)
}

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func hCMGF(_ *session, m *Modem, c *cmd) result {
	if c.op == opTest {
		return ok("+CMGF: (0,1)")
	}
	if c.op == opExec {
		m.st.cmgf = 0
		return ok()
	}
	return intSetting(c, "+CMGF", &m.st.cmgf, 0, 1, cms(cmsOpNotSupported))
}

// hCMMS keeps the SMS link open between sends (TS 27.005 §3.5.6); gammu
// sets it before sending. A Huawei E1752 refuses it with +CMS ERROR: 500
// (gammu/gammu#138).
func hCMMS(_ *session, m *Modem, c *cmd) result {
	if m.prof.noCMMS {
		return fail(cms(cmsUnknown))
	}
	return intSetting(c, "+CMMS", &m.st.cmms, 0, 2, cms(cmsOpNotSupported))
}

func hCSDH(_ *session, m *Modem, c *cmd) result {
	return intSetting(c, "+CSDH", &m.st.csdh, 0, 1, cms(cmsOpNotSupported))
}

func hCSCS(_ *session, m *Modem, c *cmd) result {
	switch c.op {
	case opTest:
		return ok("+CSCS: (\"IRA\",\"GSM\",\"UCS2\")")
	case opQuery:
		return ok(fmt.Sprintf("+CSCS: \"%s\"", m.st.cscs))
	case opSet:
		p, _ := c.p(0)
		v := strings.ToUpper(p.v)
		switch v {
		case "IRA", "GSM", "UCS2":
			m.st.cscs = v
			return ok()
		}
		return fail(cme(cmeNotSupported))
	}
	return ok()
}

func hCSCA(_ *session, m *Modem, c *cmd) result {
	if e := m.simCMS(); e != nil && c.op != opTest {
		return fail(e)
	}
	switch c.op {
	case opQuery:
		toa := 129
		if strings.HasPrefix(m.st.csca, "+") {
			toa = 145
		}
		return ok(fmt.Sprintf("+CSCA: \"%s\",%d", m.st.csca, toa))
	case opSet:
		p, has := c.p(0)
		if !has || isAlphanumeric(p.v) {
			return fail(cms(cmsOpNotAllowed))
		}
		m.st.csca = p.v
	}
	return ok()
}

func hCSMS(_ *session, m *Modem, c *cmd) result {
	switch c.op {
	case opTest:
		return ok("+CSMS: (0,1)")
	case opQuery:
		return ok(fmt.Sprintf("+CSMS: %d,1,1,1", m.st.csms))
	case opSet:
		n, good := c.intParam(0, 0)
		if !good || n < 0 || n > 1 {
			return fail(cms(cmsOpNotSupported))
		}
		m.st.csms = n
		return ok("+CSMS: 1,1,1")
	}
	return fail(errSyntax)
}

func (m *Modem) cpmsLine(prefix bool) string {
	var parts []string
	for _, name := range m.st.mem {
		st := m.stores[name]
		if prefix {
			parts = append(parts, fmt.Sprintf("\"%s\",%d,%d", name, st.used(), len(st.slots)))
		} else {
			parts = append(parts, fmt.Sprintf("%d,%d", st.used(), len(st.slots)))
		}
	}
	return "+CPMS: " + strings.Join(parts, ",")
}

func hCPMS(_ *session, m *Modem, c *cmd) result {
	if c.op == opTest {
		if m.opts.OneStorage {
			return ok(`+CPMS: ("SM"),("SM"),("SM")`)
		}
		if m.opts.ReportsToSR {
			return ok(`+CPMS: ("SM","ME","SR"),("SM","ME"),("SM","ME")`)
		}
		return ok(`+CPMS: ("SM","ME"),("SM","ME"),("SM","ME")`)
	}
	if e := m.simCMS(); e != nil {
		return fail(e)
	}
	switch c.op {
	case opQuery:
		return ok(m.cpmsLine(true))
	case opSet:
		if len(c.params) == 0 || len(c.params) > 3 {
			return fail(cms(cmsOpNotSupported))
		}
		mem := m.st.mem
		for i, p := range c.params {
			v := strings.ToUpper(p.v)
			if v == "" {
				continue
			}
			if _, has := m.stores[v]; !has || v == "SR" && i > 0 {
				return fail(cms(cmsOpNotSupported))
			}
			mem[i] = v
		}
		m.st.mem = mem
		return ok(m.cpmsLine(false))
	}
	return fail(errSyntax)
}

func hCNMI(_ *session, m *Modem, c *cmd) result {
	switch c.op {
	case opTest:
		return ok(m.prof.cnmiTest)
	case opQuery:
		v := m.st.cnmi
		return ok(fmt.Sprintf("+CNMI: %d,%d,%d,%d,%d", v[0], v[1], v[2], v[3], v[4]))
	case opSet:
		if len(c.params) > 5 {
			return fail(cms(m.prof.cnmiError))
		}
		v := m.st.cnmi
		for i := range c.params {
			n, good := c.intParam(i, v[i])
			if !good || !containsInt(m.prof.cnmiRanges[i], n) {
				return fail(cms(m.prof.cnmiError))
			}
			v[i] = n
		}
		m.st.cnmi = v
		if v[0] != 0 {
			buf := m.buffered
			m.buffered = nil
			if v[4] == 0 {
				for _, b := range buf {
					for s := range m.sessions {
						s.urc(b)
					}
				}
			}
		}
		return ok()
	}
	return ok()
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func hCNMA(_ *session, m *Modem, c *cmd) result {
	if c.op == opTest {
		return ok("+CNMA: (0-2)")
	}
	if m.st.csms != 1 || m.pendingAck == 0 {
		return fail(cms(cmsNoCNMAExpected))
	}
	m.pendingAck--
	return ok()
}

func hCSMP(_ *session, m *Modem, c *cmd) result {
	switch c.op {
	case opQuery:
		return ok(fmt.Sprintf("+CSMP: %d,%d,%d,%d", m.st.fo, m.st.vp, m.st.pid, m.st.dcs))
	case opSet:
		vals := []*int{&m.st.fo, &m.st.vp, &m.st.pid, &m.st.dcs}
		for i, p := range c.params {
			if i >= len(vals) {
				return fail(cms(cmsInvalidTextParam))
			}
			if p.v == "" {
				continue
			}
			n, err := strconv.Atoi(p.v)
			if err != nil || n < 0 || n > 255 {
				return fail(cms(cmsInvalidTextParam))
			}
			*vals[i] = n
		}
	}
	return ok()
}

// sendReady checks that a send can be attempted. m.mu held.
func (m *Modem) sendReady() *atError {
	if e := m.simCMS(); e != nil {
		return e
	}
	if m.regStat() != 1 {
		return cms(cmsNoNetwork)
	}
	return nil
}

func hCMGS(_ *session, m *Modem, c *cmd) result {
	if c.op == opTest {
		return ok()
	}
	if c.op != opSet {
		return fail(errSyntax)
	}
	if e := m.simCMS(); e != nil {
		return fail(e)
	}
	if m.st.cmgf == 1 {
		p, has := c.p(0)
		if !has || (m.prof.quotedNumber && !p.quoted) {
			return fail(errSyntax)
		}
		return result{prompt: &prompt{kind: "+CMGS", text: true, da: p.v}}
	}
	n, good := c.intParam(0, -1)
	if !good || n < 7 || n > 164 {
		return fail(cms(cmsInvalidPDUParam))
	}
	return result{prompt: &prompt{kind: "+CMGS", length: n}}
}

func hCMGW(_ *session, m *Modem, c *cmd) result {
	if m.faults.RefuseCMGW {
		return fail(cms(cmsOpNotSupported))
	}
	if c.op == opTest {
		return ok()
	}
	if e := m.simCMS(); e != nil {
		return fail(e)
	}
	if m.st.cmgf == 1 {
		p, has := c.p(0)
		if has && m.prof.quotedNumber && !p.quoted {
			return fail(errSyntax)
		}
		stat := 2
		if s, has := c.p(2); has {
			if n := textStat(s.v); n >= 0 && n <= 3 {
				stat = n
			}
		}
		return result{prompt: &prompt{kind: "+CMGW", text: true, da: p.v, stat: stat}}
	}
	n, good := c.intParam(0, -1)
	stat, good2 := c.intParam(1, 2)
	if !good || !good2 || n < 7 || n > 164 || stat < 0 || stat > 3 {
		return fail(cms(cmsInvalidPDUParam))
	}
	return result{prompt: &prompt{kind: "+CMGW", length: n, stat: stat}}
}

// finishPrompt runs what was typed after "> ", outside the modem's lock.
func (s *session) finishPrompt(p *prompt) result {
	m := s.m
	var tpdu []byte
	var sub *submit
	smsc := false // the PDU names its service centre
	if p.text {
		m.mu.Lock()
		text := string(p.buf)
		if m.st.cscs == "UCS2" {
			if b, err := hex.DecodeString(text); err == nil {
				text = fromUCS2(b)
			}
		}
		var err error
		tpdu, sub, err = buildSubmit(p.da, text, byte(m.st.fo))
		m.mu.Unlock()
		if err != nil {
			return fail(cms(cmsInvalidTextParam))
		}
	} else {
		var err error
		tpdu, smsc, err = parseHexPDU(string(p.buf), p.length)
		if err == nil {
			sub, err = acceptSubmit(tpdu)
		}
		if err != nil {
			m.net.log.Info("sim: bad pdu", "modem", m.opts.IMEI, "error", err)
			return fail(cms(cmsInvalidPDUParam))
		}
	}
	if p.kind == "+CMGW" {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.faults.FullWrites > 0 {
			m.faults.FullWrites--
			return fail(cms(cmsMemoryFull))
		}
		idx, good := m.stores[m.st.mem[1]].put(&stored{stat: p.stat, tpdu: tpdu, addr: sub.To, text: sub.Text, time: m.net.clock.Now()})
		if !good {
			return fail(cms(cmsMemoryFull))
		}
		return ok(fmt.Sprintf("+CMGW: %d", idx))
	}
	return m.send(tpdu, sub, "+CMGS", smsc)
}

// acceptSubmit is the network's reading of an SMS-SUBMIT: modem/pdu
// decides whether it is valid and what it says (the text recorded in
// Sent), the sim's own decoder supplies the raw user data it forwards to
// another virtual modem. A PDU the codec cannot read is refused as a real
// modem refuses a malformed one (+CMS ERROR: 304).
func acceptSubmit(tpdu []byte) (*submit, error) {
	msg, err := pdu.Decode(tpdu, pdu.DecodeOptions{Direction: pdu.MO})
	if err != nil {
		return nil, err
	}
	if msg.Type != pdu.TypeSubmit {
		return nil, fmt.Errorf("not an SMS-SUBMIT: %v", msg.Type)
	}
	sub, err := decodeSubmit(tpdu)
	if err != nil {
		return nil, err
	}
	sub.To = msg.Destination.String()
	sub.MR = msg.MR
	sub.SRR = msg.StatusReport
	if msg.Encoding == pdu.EightBit {
		sub.Text = hex.EncodeToString(msg.Data)
	} else {
		sub.Text = msg.Text
	}
	if c, ok := msg.UDH.Concat(); ok {
		sub.Ref, sub.Part, sub.Total = int(c.Ref), c.Seq, c.Total
	}
	if p, ok := msg.UDH.Ports(); ok {
		sub.SrcPort, sub.DstPort = p.Source, p.Destination
	}
	return sub, nil
}

// send submits one part to the network, applying latency and faults.
// smsc says whether the PDU named its service centre; without one the
// +CSCA number is used, and with none set the modem cannot send.
func (m *Modem) send(tpdu []byte, sub *submit, name string, smsc bool) result {
	m.mu.Lock()
	if e := m.sendReady(); e != nil {
		m.mu.Unlock()
		return fail(e)
	}
	if !smsc && m.st.csca == "" {
		m.mu.Unlock()
		return fail(cms(cmsSMSCUnknown))
	}
	lat := m.sendLatency()
	var injected int
	timeout := false
	switch {
	case len(m.faults.SendErrors) > 0:
		injected = m.faults.SendErrors[0]
		m.faults.SendErrors = m.faults.SendErrors[1:]
	case m.faults.SendTimeouts > 0:
		m.faults.SendTimeouts--
		timeout = true
	}
	mr := m.nextMR
	if injected == 0 {
		m.nextMR = (m.nextMR + 1) % 256
	}
	gone := m.gone
	m.mu.Unlock()
	if lat > 0 {
		t := time.NewTimer(lat)
		defer t.Stop()
		select {
		case <-t.C:
		case <-gone:
			// Pulled out mid-send: the port is gone, nobody hears an
			// answer, and the network never got the part.
			m.net.log.Info("sim: send aborted by unplug", "modem", m.opts.IMEI)
			return result{silence: true, aborted: true}
		}
	}
	if injected != 0 {
		m.net.log.Info("sim: send failed by fault", "modem", m.opts.IMEI, "cms", injected)
		return fail(cms(injected))
	}
	m.net.accept(m, name, mr, tpdu, sub, timeout)
	if timeout {
		return result{silence: true}
	}
	return ok(fmt.Sprintf("%s: %d", name, mr))
}

// buildSubmit builds the SMS-SUBMIT a text-mode +CMGS stands for.
func buildSubmit(da, text string, fo byte) ([]byte, *submit, error) {
	sub := &submit{To: da, Text: text, SRR: fo&0x20 != 0}
	fo = fo&^0x03 | 0x01
	tp := []byte{fo, 0}
	tp = append(tp, encodeAddress(da)...)
	if sept, good := toGSM7(text); good {
		if len(sept) > 160 {
			return nil, nil, fmt.Errorf("text of %d septets", len(sept))
		}
		sub.UD = sept
		tp = append(tp, 0, 0)
		if fo&0x18 == 0x10 {
			tp = append(tp, 167)
		}
		tp = append(tp, byte(len(sept)))
		tp = append(tp, pack7(sept, 0)...)
	} else {
		u := toUCS2(text)
		if len(u) > 140 {
			return nil, nil, fmt.Errorf("text of %d octets", len(u))
		}
		sub.DCS = 8
		sub.UD = u
		tp = append(tp, 0, 8)
		if fo&0x18 == 0x10 {
			tp = append(tp, 167)
		}
		tp = append(tp, byte(len(u)))
		tp = append(tp, u...)
	}
	return tp, sub, nil
}

func hCMSS(_ *session, m *Modem, c *cmd) result {
	m.mu.Lock()
	if c.op == opTest {
		refuse := m.faults.RefuseCMGW
		m.mu.Unlock()
		if refuse {
			return fail(cms(cmsOpNotSupported))
		}
		return ok()
	}
	if e := m.simCMS(); e != nil {
		m.mu.Unlock()
		return fail(e)
	}
	idx, good := c.intParam(0, -1)
	st := m.stores[m.st.mem[1]]
	if !good || idx < 1 || idx > len(st.slots) || st.slots[idx-1] == nil || st.slots[idx-1].stat < 2 {
		m.mu.Unlock()
		return fail(cms(cmsInvalidIndex))
	}
	msg := st.slots[idx-1]
	tpdu := append([]byte(nil), msg.tpdu...)
	m.mu.Unlock()
	if da, has := c.p(1); has {
		// A new destination replaces the stored one.
		s0, err := decodeSubmit(tpdu)
		if err == nil {
			_, n, _ := decodeAddress(tpdu[2:])
			tpdu = append(append(append([]byte{}, tpdu[:2]...), encodeAddress(da.v)...), tpdu[2+n:]...)
			_ = s0
		}
	}
	sub, err := acceptSubmit(tpdu)
	if err != nil {
		return fail(cms(cmsInvalidPDUParam))
	}
	r := m.send(tpdu, sub, "+CMSS", false)
	if r.err == nil && !r.aborted {
		m.mu.Lock()
		msg.stat = 3
		m.mu.Unlock()
	}
	return r
}

var textStats = []string{"REC UNREAD", "REC READ", "STO UNSENT", "STO SENT", "ALL"}

func textStat(s string) int {
	for i, t := range textStats {
		if strings.EqualFold(s, t) {
			return i
		}
	}
	return -1
}

// textTime formats a time as text mode shows it: "yy/MM/dd,hh:mm:ss±zz".
func textTime(t time.Time) string {
	_, off := t.Zone()
	q := off / 900
	sign := "+"
	if q < 0 {
		sign, q = "-", -q
	}
	return t.Format("06/01/02,15:04:05") + fmt.Sprintf("%s%02d", sign, q)
}

func hexUpper(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// pduLines renders a stored message in PDU mode: the header after which
// the SMSC and TPDU follow.
func (m *Modem) pduBody(msg *stored) string {
	return hexUpper(append(encodeSCA(m.st.csca), msg.tpdu...))
}

func (m *Modem) textHeader(msg *stored) (string, string) {
	if msg.report {
		return msg.text, ""
	}
	body := msg.text
	if m.st.cscs == "UCS2" {
		body = hexUpper(toUCS2(body))
	}
	if msg.stat >= 2 {
		return fmt.Sprintf("\"%s\",\"%s\",", textStats[msg.stat], msg.addr), body
	}
	return fmt.Sprintf("\"%s\",\"%s\",,\"%s\"", textStats[msg.stat], msg.addr, textTime(msg.time)), body
}

func hCMGL(_ *session, m *Modem, c *cmd) result {
	if c.op == opTest {
		if m.st.cmgf == 1 {
			return ok(`+CMGL: ("REC UNREAD","REC READ","STO UNSENT","STO SENT","ALL")`)
		}
		return ok("+CMGL: (0-4)")
	}
	if e := m.simCMS(); e != nil {
		return fail(e)
	}
	want := 0
	if p, has := c.p(0); has {
		if m.st.cmgf == 1 {
			if want = textStat(p.v); want < 0 || !p.quoted {
				return fail(cms(cmsInvalidTextParam))
			}
		} else {
			n, err := strconv.Atoi(p.v)
			if err != nil || p.quoted || n < 0 || n > 4 {
				return fail(cms(cmsInvalidPDUParam))
			}
			want = n
		}
	}
	var lines []string
	for i, msg := range m.stores[m.st.mem[0]].slots {
		if msg == nil || (want != 4 && msg.stat != want) {
			continue
		}
		if m.st.cmgf == 1 {
			h, body := m.textHeader(msg)
			if msg.report {
				lines = append(lines, fmt.Sprintf("+CMGL: %d,\"%s\",%s", i+1, textStats[msg.stat], h))
			} else {
				lines = append(lines, fmt.Sprintf("+CMGL: %d,%s", i+1, h), body)
			}
		} else {
			lines = append(lines, fmt.Sprintf("+CMGL: %d,%d,,%d", i+1, msg.stat, len(msg.tpdu)), m.pduBody(msg))
		}
		if msg.stat == 0 {
			msg.stat = 1
		}
	}
	return ok(lines...)
}

func hCMGR(_ *session, m *Modem, c *cmd) result {
	if c.op == opTest {
		return ok()
	}
	if e := m.simCMS(); e != nil {
		return fail(e)
	}
	idx, good := c.intParam(0, -1)
	if good && idx == 0 && m.opts.ReportsToSR {
		return ok() // the EC25 answers the index it announced with nothing
	}
	st := m.stores[m.st.mem[0]]
	if !good || idx < 1 || idx > len(st.slots) || st.slots[idx-1] == nil {
		return fail(cms(cmsInvalidIndex))
	}
	msg := st.slots[idx-1]
	var lines []string
	if m.st.cmgf == 1 {
		h, body := m.textHeader(msg)
		if msg.report {
			lines = []string{fmt.Sprintf("+CMGR: \"%s\",%s", textStats[msg.stat], h)}
		} else {
			lines = []string{"+CMGR: " + h, body}
		}
	} else {
		lines = []string{fmt.Sprintf("+CMGR: %d,,%d", msg.stat, len(msg.tpdu)), m.pduBody(msg)}
	}
	if msg.stat == 0 {
		msg.stat = 1
	}
	return ok(lines...)
}

func hCMGD(_ *session, m *Modem, c *cmd) result {
	if e := m.simCMS(); e != nil && c.op != opTest {
		return fail(e)
	}
	st := m.stores[m.st.mem[0]]
	if c.op == opTest {
		var used []string
		for i, msg := range st.slots {
			if msg != nil {
				used = append(used, strconv.Itoa(i+1))
			}
		}
		return ok(fmt.Sprintf("+CMGD: (%s),(0-4)", strings.Join(used, ",")))
	}
	if c.op != opSet {
		return fail(errSyntax)
	}
	idx, good := c.intParam(0, 0)
	flag, good2 := c.intParam(1, 0)
	if !good || !good2 || flag < 0 || flag > 4 {
		return fail(cms(cmsOpNotSupported))
	}
	freed := false
	if flag == 0 {
		if idx < 1 || idx > len(st.slots) {
			return fail(cms(cmsInvalidIndex))
		}
		freed = st.slots[idx-1] != nil
		st.slots[idx-1] = nil
	} else {
		// <delflag> 1: read; 2: read and sent; 3: read, sent and unsent; 4: all.
		for i, msg := range st.slots {
			if msg == nil {
				continue
			}
			del := msg.stat == 1 || flag >= 2 && msg.stat == 3 || flag >= 3 && msg.stat == 2 || flag == 4
			if del {
				st.slots[i] = nil
				freed = true
			}
		}
	}
	if freed && len(m.held) > 0 {
		go m.flushHeld()
	}
	return ok()
}
