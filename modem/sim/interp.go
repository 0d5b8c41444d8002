package sim

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// op is the form of an extended command (TS 27.007 §4.1).
type op int

const (
	opExec  op = iota // AT+CMD
	opSet             // AT+CMD=...
	opQuery           // AT+CMD?
	opTest            // AT+CMD=?
)

// param is one comma-separated parameter.
type param struct {
	v      string
	quoted bool
}

// cmd is one command of a command line.
type cmd struct {
	name   string // upper case: "E", "&F", "S0", "+CMGS", "^CURC"
	op     op
	num    int  // basic commands: the number after the letter
	hasNum bool // basic commands: a number was given
	params []param
}

func (c *cmd) p(i int) (param, bool) {
	if i < len(c.params) && (c.params[i].v != "" || c.params[i].quoted) {
		return c.params[i], true
	}
	return param{}, false
}

// intParam reads parameter i as an integer, def if absent.
func (c *cmd) intParam(i, def int) (int, bool) {
	p, ok := c.p(i)
	if !ok {
		return def, true
	}
	if p.quoted {
		return 0, false
	}
	n, err := strconv.Atoi(p.v)
	return n, err == nil
}

// result is what a command produced.
type result struct {
	lines   []string
	err     *atError
	prompt  *prompt // enter the SMS prompt; remaining commands are dropped
	silence bool    // no final result code at all (a send that times out)
	aborted bool    // a send the unplug ended: the network never got it
	after   []string
}

func ok(lines ...string) result { return result{lines: lines} }
func fail(e *atError) result    { return result{err: e} }

// prompt is an open "> " prompt: what the client types until Ctrl-Z.
type prompt struct {
	kind   string // "+CMGS" or "+CMGW"
	length int    // PDU mode: the TPDU length announced
	text   bool   // text mode
	da     string // text mode: destination
	stat   int    // +CMGW: the status to store with
	buf    []byte
}

// modes is the session's ATE and ATV settings.
func (s *session) modes() (echo, verbose bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.echo, s.verbose
}

// input handles one byte from the client.
func (s *session) input(c byte) {
	m := s.m
	m.mu.Lock()
	hung := m.hung
	m.mu.Unlock()
	if hung {
		return
	}
	if s.prompt != nil {
		s.promptInput(c)
		return
	}
	echo, _ := s.modes()
	if echo {
		s.emit([]byte{c})
	}
	switch c {
	case '\r':
		line := string(s.line)
		s.line = s.line[:0]
		s.execLine(line)
	case '\n', 0:
	case 0x08, 0x7f:
		if len(s.line) > 0 {
			s.line = s.line[:len(s.line)-1]
		}
	default:
		if len(s.line) < 4096 {
			s.line = append(s.line, c)
		}
		// "A/" repeats the last command line at once, without a CR.
		if len(s.line) == 2 && (s.line[0] == 'a' || s.line[0] == 'A') && s.line[1] == '/' {
			s.line = s.line[:0]
			s.execLine(s.lastLine)
		}
	}
}

// execLine runs a command line.
func (s *session) execLine(line string) {
	line = strings.TrimSpace(line)
	// Text before "AT" is line noise a modem ignores.
	i := indexAT(line)
	if i < 0 {
		return
	}
	line = line[i:]
	s.lastLine = line
	s.setBusy(true)
	s.m.net.log.Debug("sim: command", "modem", s.m.opts.IMEI, "line", line)
	cmds, err := parseLine(line[2:])
	var out []string // info blocks, one per command
	var final string
	var after []string
	if err != nil {
		final = s.errLine(err)
	} else {
		for _, c := range cmds {
			r := s.dispatch(c)
			if r.silence { // a +CMSS whose answer is lost: nothing more comes
				s.setBusy(false)
				return
			}
			if len(r.lines) > 0 {
				out = append(out, strings.Join(r.lines, "\r\n"))
			}
			after = append(after, r.after...)
			if r.err != nil {
				final = s.errLine(r.err)
				break
			}
			if r.prompt != nil {
				s.writeInfo(out)
				s.prompt = r.prompt
				s.emit(s.m.promptBytes())
				return // still busy: URCs wait until the send is answered
			}
		}
	}
	if final == "" {
		final = "OK"
	}
	s.writeInfo(out)
	s.writeFinal(final)
	for _, a := range after {
		s.emit([]byte("\r\n" + a + "\r\n"))
	}
	s.setBusy(false)
}

func (s *session) errLine(e *atError) string {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return e.line(s.m.st.cmee, s.m.prof)
}

func (s *session) writeInfo(blocks []string) {
	s.m.mu.Lock()
	if s.m.hung { // hung while the command ran (a send's latency): no answer
		s.m.mu.Unlock()
		return
	}
	g := s.m.faults.Garbage
	if g > 0 {
		s.m.faults.Garbage--
	}
	s.m.mu.Unlock()
	if g > 0 {
		s.emit([]byte("\r\n\xff\x00~#\xfe$@!\x80\x1b[0m\r\n"))
	}
	_, v := s.modes()
	for _, b := range blocks {
		if v {
			s.emit([]byte("\r\n" + b + "\r\n"))
		} else {
			s.emit([]byte(b + "\r\n"))
		}
	}
}

// numeric result codes for ATV0.
var numericCodes = map[string]string{"OK": "0", "ERROR": "4", "NO CARRIER": "3"}

func (s *session) writeFinal(final string) {
	s.m.mu.Lock()
	hung := s.m.hung
	s.m.mu.Unlock()
	if hung {
		return
	}
	_, v := s.modes()
	if v {
		s.emit([]byte("\r\n" + final + "\r\n"))
		return
	}
	if n, ok := numericCodes[final]; ok {
		s.emit([]byte(n + "\r"))
		return
	}
	s.emit([]byte(final + "\r\n"))
}

// promptInput collects what is typed after "> ".
func (s *session) promptInput(c byte) {
	p := s.prompt
	echo, _ := s.modes()
	switch c {
	case 0x1A: // Ctrl-Z: send
		s.prompt = nil
		s.m.cmdMu.Lock()
		r := s.finishPrompt(p)
		s.m.cmdMu.Unlock()
		if r.silence {
			s.setBusy(false)
			return
		}
		final := "OK"
		if r.err != nil {
			final = s.errLine(r.err)
		}
		if len(r.lines) > 0 {
			s.writeInfo([]string{strings.Join(r.lines, "\r\n")})
		}
		s.writeFinal(final)
		s.setBusy(false)
	case 0x1B: // ESC: cancel
		s.prompt = nil
		s.writeFinal("OK")
		s.setBusy(false)
	case '\r':
		if p.text {
			p.buf = append(p.buf, '\n')
			s.emit(s.m.promptBytes())
		}
	case '\n':
	default:
		if len(p.buf) < 2048 {
			p.buf = append(p.buf, c)
		}
		// TS 27.005 §3.5.1 and §4.3: echoing what is typed after the
		// prompt, text or PDU, is controlled by ATE like a command line.
		if echo {
			s.emit([]byte{c})
		}
	}
}

// parseLine splits what follows "AT" into commands.
func parseLine(s string) ([]*cmd, *atError) {
	var cmds []*cmd
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ';' || c == ' ':
			i++
			continue
		case strings.IndexByte("+^$%*#!", c) >= 0:
			j := i + 1
			for j < len(s) && (isAlnum(s[j]) || s[j] == '_') {
				j++
			}
			x := &cmd{name: strings.ToUpper(s[i:j])}
			rest := s[j:]
			switch {
			case strings.HasPrefix(rest, "=?"):
				x.op = opTest
				j += 2
			case strings.HasPrefix(rest, "="):
				x.op = opSet
				j++
				k := j
				inQ := false
				for k < len(s) && (inQ || s[k] != ';') {
					if s[k] == '"' {
						inQ = !inQ
					}
					k++
				}
				x.params = splitParams(s[j:k])
				j = k
			case strings.HasPrefix(rest, "?"):
				x.op = opQuery
				j++
			}
			cmds = append(cmds, x)
			i = j
		case isAlpha(c) || c == '&':
			j := i + 1
			if c == '&' {
				if j >= len(s) || !isAlpha(s[j]) {
					return nil, errSyntax
				}
				j++
			}
			x := &cmd{name: strings.ToUpper(s[i:j])}
			if x.name == "S" {
				k := j
				for k < len(s) && isDigit(s[k]) {
					k++
				}
				x.name = "S" + s[j:k]
				j = k
				switch {
				case strings.HasPrefix(s[j:], "?"):
					x.op = opQuery
					j++
				case strings.HasPrefix(s[j:], "="):
					x.op = opSet
					j++
					k := j
					for k < len(s) && isDigit(s[k]) {
						k++
					}
					x.num, _ = strconv.Atoi(s[j:k])
					x.hasNum = true
					j = k
				}
			} else {
				k := j
				for k < len(s) && isDigit(s[k]) {
					k++
				}
				if k > j {
					x.num, _ = strconv.Atoi(s[j:k])
					x.hasNum = true
				}
				j = k
			}
			cmds = append(cmds, x)
			i = j
		default:
			return nil, errSyntax
		}
	}
	return cmds, nil
}

func splitParams(s string) []param {
	var out []param
	var cur strings.Builder
	inQ, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			inQ = !inQ
			quoted = true
		case c == ',' && !inQ:
			out = append(out, param{v: strings.TrimSpace(cur.String()), quoted: quoted})
			cur.Reset()
			quoted = false
		default:
			cur.WriteByte(c)
		}
	}
	v := cur.String()
	if !quoted {
		v = strings.TrimSpace(v)
	}
	return append(out, param{v: v, quoted: quoted})
}

// indexAT finds "AT" in any case, byte-wise (ToUpper would change the
// length of a line holding invalid UTF-8).
func indexAT(s string) int {
	for i := 0; i+1 < len(s); i++ {
		if (s[i]|0x20) == 'a' && (s[i+1]|0x20) == 't' {
			return i
		}
	}
	return -1
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }

// promptBytes is the SMS prompt: "\r\n> " as TS 27.005 §3.5.1 has it, or
// with BarePrompt ">" then CRLF, as a SIMCom SIM7670G sends (gammu/gammu#1176).
func (m *Modem) promptBytes() []byte {
	if m.opts.BarePrompt {
		return []byte("\r\n>\r\n")
	}
	return []byte("\r\n> ")
}

// sendLatency is how long the next send takes. m.mu held.
func (m *Modem) sendLatency() time.Duration {
	if m.faults.Latency > 0 {
		return m.faults.Latency
	}
	d := m.opts.Latency
	if m.opts.LatencyMax > d {
		d += rand.N(m.opts.LatencyMax - d)
	}
	return d
}
