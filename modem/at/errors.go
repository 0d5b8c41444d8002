package at

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

var (
	// ErrTimeout: a command got no final result in time. The link is then
	// resynchronised before the next command.
	ErrTimeout = errors.New("at: timeout")
	// ErrClosed: the engine is closed. Errors returned after a read or write
	// failure wrap both ErrClosed and the cause (io.EOF, a port error...).
	ErrClosed = errors.New("at: engine closed")
	// ErrError: the modem answered a plain "ERROR".
	ErrError = errors.New("at: ERROR")
	// ErrNotSupported: the modem answered "COMMAND NOT SUPPORT".
	ErrNotSupported = errors.New("at: COMMAND NOT SUPPORT")
	// ErrBadCommand: the command text given to Exec is unusable (empty, or
	// contains a line end, Ctrl-Z or ESC), or the PDU of ExecSMS is not hex.
	ErrBadCommand = errors.New("at: bad command")
)

// CMEError is a "+CME ERROR: <n>" final result (TS 27.007 §9.2). Text is the
// meaning in words: the modem's own text when it answered in verbose form
// (AT+CMEE=2), else the standard meaning of Code. Code is -1 when a verbose
// text matched no standard meaning.
type CMEError struct {
	Code int
	Text string
}

func (e *CMEError) Error() string {
	if e.Code < 0 {
		return "+CME ERROR: " + e.Text
	}
	return fmt.Sprintf("+CME ERROR: %d (%s)", e.Code, e.Text)
}

// CMSError is a "+CMS ERROR: <n>" final result (TS 27.005 §3.2.5; codes
// below 128 are TS 24.011 RP cause values, 128-255 TS 23.040 TP-FCS values).
// Text as for CMEError.
type CMSError struct {
	Code int
	Text string
}

func (e *CMSError) Error() string {
	if e.Code < 0 {
		return "+CMS ERROR: " + e.Text
	}
	return fmt.Sprintf("+CMS ERROR: %d (%s)", e.Code, e.Text)
}

// FinalError is one of the other final result codes that end a command
// unsuccessfully: NO CARRIER, BUSY, NO ANSWER, NO DIALTONE, TOO MANY PARAMETERS.
type FinalError struct {
	Result string
}

func (e *FinalError) Error() string { return "at: " + e.Result }

// cmeMeanings: TS 27.007 §9.2.1 and §9.2.2 (general and GPRS/EPS errors).
var cmeMeanings = map[int]string{
	0: "phone failure", 1: "no connection to phone", 2: "phone-adaptor link reserved",
	3: "operation not allowed", 4: "operation not supported", 5: "PH-SIM PIN required",
	6: "PH-FSIM PIN required", 7: "PH-FSIM PUK required", 10: "SIM not inserted",
	11: "SIM PIN required", 12: "SIM PUK required", 13: "SIM failure", 14: "SIM busy",
	15: "SIM wrong", 16: "incorrect password", 17: "SIM PIN2 required", 18: "SIM PUK2 required",
	20: "memory full", 21: "invalid index", 22: "not found", 23: "memory failure",
	24: "text string too long", 25: "invalid characters in text string",
	26: "dial string too long", 27: "invalid characters in dial string",
	30: "no network service", 31: "network timeout",
	32: "network not allowed - emergency calls only",
	40: "network personalization PIN required", 41: "network personalization PUK required",
	42: "network subset personalization PIN required", 43: "network subset personalization PUK required",
	44: "service provider personalization PIN required", 45: "service provider personalization PUK required",
	46: "corporate personalization PIN required", 47: "corporate personalization PUK required",
	48: "hidden key required", 49: "EAP method not supported", 50: "incorrect parameters",
	51: "command implemented but currently disabled", 52: "command aborted by user",
	53: "not attached to network due to MT functionality restrictions",
	54: "modem not allowed - MT restricted to emergency calls only",
	55: "operation not allowed because of MT functionality restrictions",
	56: "fixed dial number only allowed", 57: "temporarily out of service due to other MT usage",
	58: "language/alphabet not supported", 59: "unexpected data value", 60: "system failure",
	61: "data missing", 62: "call barred", 63: "message waiting indication subscription failure",
	100: "unknown",
	103: "illegal MS", 106: "illegal ME", 107: "GPRS services not allowed",
	108: "GPRS services and non-GPRS services not allowed", 111: "PLMN not allowed",
	112: "location area not allowed", 113: "roaming not allowed in this location area",
	114: "GPRS services not allowed in this PLMN", 115: "no suitable cells in tracking area",
	122: "congestion", 126: "insufficient resources", 127: "missing or unknown APN",
	128: "unknown PDP address or PDP type", 129: "user authentication failed",
	130: "activation rejected by GGSN, Serving GW or PDN GW", 131: "activation rejected, unspecified",
	132: "service option not supported", 133: "requested service option not subscribed",
	134: "service option temporarily out of order", 140: "feature not supported",
	148: "unspecified GPRS error", 149: "PDP authentication failure", 150: "invalid mobile class",
}

// cmsMeanings: TS 24.011 table 8.4 (RP cause, 0-127), TS 23.040 §9.2.3.22
// (TP-FCS, 128-255) and TS 27.005 §3.2.5 (300-500).
var cmsMeanings = map[int]string{
	1: "unassigned (unallocated) number", 8: "operator determined barring", 10: "call barred",
	17: "network failure", 21: "short message transfer rejected", 22: "memory capacity exceeded",
	27: "destination out of service", 28: "unidentified subscriber", 29: "facility rejected",
	30: "unknown subscriber", 38: "network out of order", 41: "temporary failure", 42: "congestion",
	47: "resources unavailable, unspecified", 50: "requested facility not subscribed",
	69: "requested facility not implemented", 81: "invalid short message transfer reference value",
	95: "invalid message, unspecified", 96: "invalid mandatory information",
	97: "message type non-existent or not implemented",
	98: "message not compatible with short message protocol state",
	99: "information element non-existent or not implemented", 111: "protocol error, unspecified",
	127: "interworking, unspecified",
	128: "telematic interworking not supported", 129: "short message type 0 not supported",
	130: "cannot replace short message", 143: "unspecified TP-PID error",
	144: "data coding scheme (alphabet) not supported", 145: "message class not supported",
	159: "unspecified TP-DCS error", 160: "command cannot be actioned", 161: "command unsupported",
	175: "unspecified TP-Command error", 176: "TPDU not supported", 192: "SC busy",
	193: "no SC subscription", 194: "SC system failure", 195: "invalid SME address",
	196: "destination SME barred", 197: "SM rejected - duplicate SM", 198: "TP-VPF not supported",
	199: "TP-VP not supported", 208: "(U)SIM SMS storage full", 209: "no SMS storage capability in (U)SIM",
	210: "error in MS", 211: "memory capacity exceeded", 212: "(U)SIM Application Toolkit busy",
	213: "(U)SIM data download error", 255: "unspecified error cause",
	300: "ME failure", 301: "SMS service of ME reserved", 302: "operation not allowed",
	303: "operation not supported", 304: "invalid PDU mode parameter", 305: "invalid text mode parameter",
	310: "(U)SIM not inserted", 311: "(U)SIM PIN required", 312: "PH-(U)SIM PIN required",
	313: "(U)SIM failure", 314: "(U)SIM busy", 315: "(U)SIM wrong", 316: "(U)SIM PUK required",
	317: "(U)SIM PIN2 required", 318: "(U)SIM PUK2 required", 320: "memory failure",
	321: "invalid memory index", 322: "memory full", 330: "SMSC address unknown",
	331: "no network service", 332: "network timeout", 340: "no +CNMA acknowledgement expected",
	500: "unknown error",
}

// CMEMeaning returns the TS 27.007 meaning of a +CME ERROR code in words;
// codes without a standard meaning get a descriptive fallback, never "".
func CMEMeaning(code int) string {
	if m, ok := cmeMeanings[code]; ok {
		return m
	}
	switch {
	case code >= 256:
		return "manufacturer specific error " + strconv.Itoa(code)
	case code < 0:
		return "unknown error"
	}
	return "reserved error code " + strconv.Itoa(code)
}

// CMSMeaning returns the meaning of a +CMS ERROR code in words (TS 24.011
// RP causes, TS 23.040 TP-FCS values, TS 27.005 codes); never "".
func CMSMeaning(code int) string {
	if m, ok := cmsMeanings[code]; ok {
		return m
	}
	switch {
	case code < 0:
		return "unknown error"
	case code < 128:
		// TS 24.011 §8.2.5.4: unknown RP causes are treated as 41/111 class;
		// say what it is rather than guessing.
		return "network cause " + strconv.Itoa(code)
	case code < 256:
		return "TP-FCS error " + strconv.Itoa(code)
	case code >= 512:
		return "manufacturer specific error " + strconv.Itoa(code)
	}
	return "reserved error code " + strconv.Itoa(code)
}

// cmeByText maps verbose texts (lower case) to codes, including common
// vendor spellings, so "+CME ERROR: SIM PIN required" gets Code 11.
var cmeByText = reverse(cmeMeanings, map[string]int{
	"incorrect parameters": 50, "invalid index": 21, "sim pin required": 11,
	"sim not inserted": 10, "operation not allowed": 3, "unknown error": 100,
	"no network service": 30, "sim busy": 14, "sim puk required": 12,
})

var cmsByText = reverse(cmsMeanings, map[string]int{
	"sim not inserted": 310, "sim pin required": 311, "sim busy": 314,
	"sim failure": 313, "sim puk required": 316, "unknown error": 500,
})

func reverse(m map[int]string, extra map[string]int) map[string]int {
	r := make(map[string]int, len(m)+len(extra))
	for code, text := range m {
		t := strings.ToLower(text)
		if old, dup := r[t]; !dup || code < old {
			r[t] = code
		}
	}
	for t, code := range extra {
		r[t] = code
	}
	return r
}

// parseCode reads the argument of "+CME ERROR: x": a number, or a verbose
// text looked up in byText (Code -1 when unknown).
func parseCode(arg string, meaning func(int) string, byText map[string]int) (int, string) {
	arg = strings.TrimSpace(arg)
	if n, err := strconv.Atoi(arg); err == nil && n >= 0 {
		return n, meaning(n)
	}
	if code, ok := byText[strings.ToLower(arg)]; ok {
		return code, arg
	}
	if arg == "" {
		return -1, "unknown error"
	}
	return -1, arg
}

// parseFinal reports whether line is a final result code and, if so, the
// error it stands for (nil for OK).
func parseFinal(line string) (bool, error) {
	switch line {
	case "OK":
		return true, nil
	case "ERROR":
		return true, ErrError
	case "COMMAND NOT SUPPORT":
		return true, ErrNotSupported
	case "NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE", "TOO MANY PARAMETERS":
		return true, &FinalError{Result: line}
	}
	if rest, ok := strings.CutPrefix(line, "+CME ERROR:"); ok {
		code, text := parseCode(rest, CMEMeaning, cmeByText)
		return true, &CMEError{Code: code, Text: text}
	}
	if rest, ok := strings.CutPrefix(line, "+CMS ERROR:"); ok {
		code, text := parseCode(rest, CMSMeaning, cmsByText)
		return true, &CMSError{Code: code, Text: text}
	}
	return false, nil
}
