package at

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// secretCmds are commands whose parameters are PINs, PUKs or passwords.
// Everything after their '=' up to the line end is redacted, in both
// directions (a modem with echo on sends the PIN back).
var secretCmds = []string{"+CPIN=", "+CPIN2=", "+CPWD=", "+CLCK="}

const maxSecretLen = 7

// redactor rewrites a byte stream, replacing each parameter of a secret
// command with "****". It is streaming: the command name may be split across
// reads.
type redactor struct {
	tail    []byte // last bytes of the current line, upper case
	active  bool   // inside the parameters of a secret command
	inParam bool   // "****" already written for the current parameter
}

func (r *redactor) apply(p []byte) []byte {
	out := make([]byte, 0, len(p)+8)
	for _, b := range p {
		if b == '\r' || b == '\n' || b == 0x1a || b == 0x1b {
			r.tail, r.active, r.inParam = r.tail[:0], false, false
			out = append(out, b)
			continue
		}
		if r.active {
			if b == '"' || b == ',' || b == ';' {
				r.inParam = false
				out = append(out, b)
			} else if !r.inParam {
				out = append(out, "****"...)
				r.inParam = true
			}
			continue
		}
		out = append(out, b)
		u := b
		if u >= 'a' && u <= 'z' {
			u -= 'a' - 'A'
		}
		r.tail = append(r.tail, u)
		if len(r.tail) > maxSecretLen {
			r.tail = r.tail[len(r.tail)-maxSecretLen:]
		}
		for _, s := range secretCmds {
			if len(r.tail) >= len(s) && string(r.tail[len(r.tail)-len(s):]) == s {
				r.active, r.inParam = true, false
				break
			}
		}
	}
	return out
}

// redact returns s with secrets replaced, for logs and error messages.
func redact(s string) string {
	var r redactor
	return string(r.apply([]byte(s)))
}

// tracer writes every byte both ways: one line per read or write,
// "2006-01-02T15:04:05.000000Z <- "\r\nOK\r\n"" (<- from the modem, -> to it).
type tracer struct {
	mu      sync.Mutex
	w       io.Writer
	in, out redactor
}

func (t *tracer) log(dir string, p []byte) {
	if t == nil || len(p) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	r := &t.in
	if dir == "->" {
		r = &t.out
	}
	// Errors of the trace writer are deliberately ignored: tracing must never
	// break the modem link.
	_, _ = fmt.Fprintf(t.w, "%s %s %q\n", time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"), dir, r.apply(p))
}
