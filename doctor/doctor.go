// Package doctor checks a gsmgate installation and explains each problem in
// plain words, with what to do about it: the configuration file, the data
// directory (permissions, free space), the database (bbolt's consistency
// check), each serial port (may the daemon's user open it, does another
// program hold it), each modem (does it answer AT, SIM PIN, registration,
// signal, service centre, full SIM storage) and the system clock.
//
// Each check is a function that takes what it looks at as parameters, so
// that a test can point it at a real locked database, a real pty without
// permission or a real pty nobody answers on. It never changes anything:
// it does not enter a PIN, delete a message or fix a permission.
package doctor

import (
	"fmt"
	"io"
	"strings"
)

// Level is how bad a finding is.
type Level int

const (
	OK   Level = iota // nothing to do
	Warn              // works, but worth a look
	Fail              // gsmgate cannot work properly until this is fixed
)

func (l Level) String() string {
	switch l {
	case OK:
		return "ok"
	case Warn:
		return "warning"
	default:
		return "PROBLEM"
	}
}

// Result is one finding.
type Result struct {
	Check  string // what was checked: "data directory", "port /dev/ttyUSB2"
	Level  Level
	Detail string // what was found and, for a problem, what to do
}

// Report is every finding of a run.
type Report []Result

// Failed says whether any finding is a Fail.
func (r Report) Failed() bool {
	for _, x := range r {
		if x.Level == Fail {
			return true
		}
	}
	return false
}

// Find returns the findings whose Check starts with prefix.
func (r Report) Find(prefix string) Report {
	var out Report
	for _, x := range r {
		if strings.HasPrefix(x.Check, prefix) {
			out = append(out, x)
		}
	}
	return out
}

// Print writes the report, one finding a line (details indented on the
// following lines), and a summary.
func (r Report) Print(w io.Writer) {
	warn, fail := 0, 0
	for _, x := range r {
		fmt.Fprintf(w, "[%-7s] %s: %s\n", x.Level, x.Check, x.Detail)
		switch x.Level {
		case Warn:
			warn++
		case Fail:
			fail++
		}
	}
	switch {
	case fail > 0:
		fmt.Fprintf(w, "\n%d problem(s), %d warning(s).\n", fail, warn)
	case warn > 0:
		fmt.Fprintf(w, "\nNo problems; %d warning(s).\n", warn)
	default:
		fmt.Fprintln(w, "\nEverything checked is fine.")
	}
}

func ok(check, format string, args ...any) Result {
	return Result{Check: check, Level: OK, Detail: fmt.Sprintf(format, args...)}
}
func warn(check, format string, args ...any) Result {
	return Result{Check: check, Level: Warn, Detail: fmt.Sprintf(format, args...)}
}
func fail(check, format string, args ...any) Result {
	return Result{Check: check, Level: Fail, Detail: fmt.Sprintf(format, args...)}
}
