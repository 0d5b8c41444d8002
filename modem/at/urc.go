package at

import (
	"strings"
	"time"
)

// URC is one unsolicited result code.
type URC struct {
	// Prefix is the registered name, upper case, without a colon:
	// "+CMTI", "+CMT", "RING", "^RSSI", "CALL READY".
	Prefix string
	// Line is the whole first line, e.g. `+CMTI: "SM",3`. For +CUSD whose
	// quoted text spans lines, those lines joined by "\n".
	Line string
	// Extra holds the following lines the registry says belong to it, e.g.
	// the PDU line of +CMT, +CDS and +CBM. It may be shorter than registered
	// if a final result code arrived instead (a confused modem).
	Extra []string
	// Time is when its first line was read.
	Time time.Time
}

// defaultURCs is the registry: name → number of lines including the first.
// Names without a colon in the line (RING, RDY) match the whole line.
var defaultURCs = map[string]int{
	"+CMT": 2, "+CDS": 2, "+CBM": 2,
	"+CMTI": 1, "+CDSI": 1, "+CBMI": 1,
	"+CREG": 1, "+CEREG": 1, "+CGREG": 1, "+C5GREG": 1,
	"RING": 1, "+CRING": 1, "+CLIP": 1, "+CCWA": 1, "+CUSD": 1,
	"+CIEV": 1, "+CPIN": 1, "+CFUN": 1, "+CGEV": 1, "+CTZV": 1, "+CTZE": 1, "+CTZU": 1,
	"^RSSI": 1, "^HCSQ": 1, "^BOOT": 1, "^MODE": 1, "^SRVST": 1, "^SIMST": 1, "^STIN": 1,
	"+QIND": 1, "+QUSIM": 1, "RDY": 1, "CALL READY": 1, "SMS READY": 1, "PB DONE": 1,
	"NORMAL POWER DOWN": 1, "POWERED DOWN": 1, "*PSUTTZ": 1, "DST": 1, "+PACSP": 1,
}

// quotedURCs may carry a quoted text with line ends in it (USSD menus):
// lines up to the closing quote, at most maxQuotedLines more, are joined into
// URC.Line with "\n".
var quotedURCs = map[string]bool{"+CUSD": true}

const maxQuotedLines = 32

func normName(p string) string {
	return strings.ToUpper(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(p), ":")))
}

// lineName is the name a line would be registered under: the text before
// the first ':' for "+CMTI: ..." forms, else the whole line.
func lineName(line string) string {
	if i := strings.IndexByte(line, ':'); i > 0 {
		return strings.ToUpper(strings.TrimSpace(line[:i]))
	}
	return strings.ToUpper(line)
}

// cmdPart is one command of a (possibly ';'-chained) command line.
type cmdPart struct {
	name string // "+CREG" (upper case), "" for basic commands like ATE0
	set  bool   // "+X=<value>" form (not "=?")
}

// parseCmd splits "AT+CREG?;+CSQ" into its extended-command names and forms.
func parseCmd(cmd string) []cmdPart {
	s := strings.TrimSpace(cmd)
	if len(s) >= 2 && strings.EqualFold(s[:2], "AT") {
		s = s[2:]
	}
	var parts []cmdPart
	for _, el := range strings.Split(s, ";") {
		el = strings.TrimSpace(el)
		if el == "" || !strings.ContainsRune("+^$%#*", rune(el[0])) {
			continue
		}
		i := 1
		for i < len(el) && (isAlnum(el[i]) || el[i] == '_') {
			i++
		}
		rest := el[i:]
		parts = append(parts, cmdPart{
			name: strings.ToUpper(el[:i]),
			set:  strings.HasPrefix(rest, "=") && !strings.HasPrefix(rest, "=?"),
		})
	}
	return parts
}

func isAlnum(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z'
}
